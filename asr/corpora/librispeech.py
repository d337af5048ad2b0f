"""LibriSpeech (openslr.org/12) to one manifest per subset.

Layout: ``<root>/<subset>/<speaker>/<chapter>/<speaker>-<chapter>-<utt>.flac``
beside ``<speaker>-<chapter>.trans.txt``, whose lines are ``<utt-id> <TRANSCRIPT>``.
The archives unpack into a ``LibriSpeech/`` folder; either it or its parent can be the root.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from asr.corpora.common import ImportResult, ManifestBuilder, layout_error

SUBSETS = (
    "train-clean-100",
    "train-clean-360",
    "train-other-500",
    "dev-clean",
    "dev-other",
    "test-clean",
    "test-other",
)
_EXPECTED = (
    "the LibriSpeech layout <root>/<subset>/<speaker>/<chapter>/<speaker>-<chapter>.trans.txt "
    "beside <speaker>-<chapter>-<utt>.flac"
)


def prepare_librispeech(
    root: str | os.PathLike, out_dir: str | os.PathLike, *, subsets: Sequence[str] | None = None
) -> ImportResult:
    """Write ``out_dir/<subset>.jsonl`` for each of ``subsets`` (default: every standard subset under ``root``).

    Rows carry the utterance id and the speaker id. Raises LayoutError when a
    subset folder is missing or holds no ``*/*/*.trans.txt``.
    """
    root = Path(root)
    wanted = list(subsets) if subsets else list(SUBSETS)
    if not any((root / s).is_dir() for s in wanted) and (root / "LibriSpeech").is_dir():
        root = root / "LibriSpeech"
    if not subsets:
        wanted = [s for s in SUBSETS if (root / s).is_dir()]
        if not wanted:
            raise layout_error(root, f"no subset folder ({', '.join(SUBSETS)})", _EXPECTED)
    transcripts = {}
    for subset in wanted:
        transcripts[subset] = sorted((root / subset).glob("*/*/*.trans.txt"))
        if not transcripts[subset]:
            raise layout_error(root, f"no {subset}/<speaker>/<chapter>/*.trans.txt", _EXPECTED)
    builder = ManifestBuilder(wanted)
    for subset, files in transcripts.items():
        for trans in files:
            speaker, chapter = trans.parent.parent.name, trans.parent.name
            for where, utt_id, text in builder.table(trans):
                if not utt_id.startswith(f"{speaker}-{chapter}-"):
                    builder.skip(where, f"utterance id {utt_id!r} is not of speaker {speaker}, chapter {chapter}")
                    continue
                builder.add(subset, where, trans.parent / f"{utt_id}.flac", text, utt_id=utt_id, speaker=speaker)
    return builder.write(out_dir)
