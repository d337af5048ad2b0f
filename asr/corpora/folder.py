"""A plain folder of audio files with same-named ``.txt`` transcripts to one manifest.

Subfolders are searched too; ``a/b.flac`` is transcribed by ``a/b.txt`` and
gets the id ``a/b``. Audio without a transcript is skipped and counted.
"""

from __future__ import annotations

import os
from pathlib import Path

from asr.corpora.common import ImportResult, ManifestBuilder, layout_error

AUDIO_SUFFIXES = (".wav", ".flac", ".mp3", ".ogg", ".opus", ".m4a", ".aac", ".wma", ".aiff", ".aif")
_EXPECTED = f"a folder of audio files ({', '.join(AUDIO_SUFFIXES)}), each with a same-named .txt transcript beside it"


def prepare_folder(root: str | os.PathLike, out_dir: str | os.PathLike, *, name: str | None = None) -> ImportResult:
    """Write ``out_dir/<name>.jsonl`` (default name: the folder's) for the transcribed audio under ``root``.

    Raises LayoutError when there is no audio file, or no audio file has a transcript.
    """
    root = Path(root)
    audio = sorted(p for p in root.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES and p.is_file())
    if not audio:
        raise layout_error(root, "no audio file", _EXPECTED)
    if not any(p.with_suffix(".txt").is_file() for p in audio):
        raise layout_error(root, f"no .txt transcript beside any of {len(audio)} audio file(s)", _EXPECTED)
    name = name or root.resolve().name
    builder = ManifestBuilder([name])
    for path in audio:
        transcript = path.with_suffix(".txt")
        try:
            text = transcript.read_text(encoding="utf-8")
        except FileNotFoundError:
            builder.skip(str(path), f"no transcript {transcript.name} beside it")
            continue
        except (OSError, UnicodeDecodeError) as e:
            builder.skip(str(transcript), f"cannot read transcript ({e})")
            continue
        builder.add(name, str(transcript), path, text, utt_id=path.relative_to(root).with_suffix("").as_posix())
    return builder.write(out_dir)
