"""A Kaldi data directory to one manifest.

Reads ``wav.scp`` (``<recording-id> <audio path>``), ``text``
(``<utterance-id> <transcript>``), and when present ``segments``
(``<utterance-id> <recording-id> <start> <end>``, seconds; end -1 is the
recording's end) and ``utt2spk`` (``<utterance-id> <speaker-id>``). Without
``segments`` each utterance id is a recording id.

Each ``text`` line that does not become a row counts as one skipped row, also
when the cause is a malformed or unsupported line of another file (named by
file and line): command pipes in ``wav.scp`` (``sox ... |``) are not run.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from asr.corpora.common import ImportResult, ManifestBuilder, layout_error

log = logging.getLogger(__name__)

_EXPECTED = "a Kaldi data directory: wav.scp and text, optionally segments and utt2spk"
T = TypeVar("T")


@dataclass(frozen=True)
class _Unusable:
    """A table line that cannot be used: where it is and why."""

    why: str


def prepare_kaldi(
    data_dir: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    name: str | None = None,
    audio_root: str | os.PathLike | None = None,
) -> ImportResult:
    """Write ``out_dir/<name>.jsonl`` (default name: the data directory's), with offsets from ``segments``.

    Relative paths in ``wav.scp`` are read from ``audio_root`` (default: the
    current directory, as Kaldi's own tools do). Raises LayoutError when
    ``wav.scp`` or ``text`` is missing.
    """
    data_dir = Path(data_dir)
    missing = [f for f in ("wav.scp", "text") if not (data_dir / f).is_file()]
    if missing:
        raise layout_error(data_dir, f"no {' and no '.join(missing)}", _EXPECTED)
    name = name or data_dir.resolve().name
    audio_root = Path(audio_root or os.getcwd())
    builder = ManifestBuilder([name])

    def recording(value: str) -> Path:
        if not value:
            raise ValueError("expected '<recording-id> <audio path>'")
        if value.endswith("|"):
            raise ValueError(f"command pipe {value!r} is not run (unsupported): write its audio to a file")
        return audio_root / value

    def table(file: str, parse: Callable[[str], T]) -> dict[str, T | _Unusable]:
        return _read_table(builder, data_dir / file, parse) if (data_dir / file).is_file() else {}

    recordings = table("wav.scp", recording)
    segments = table("segments", _segment)
    speakers = table("utt2spk", _speaker)
    has_segments = (data_dir / "segments").is_file()
    for where, utt_id, text in builder.table(data_dir / "text"):
        try:
            recording_id, segment = _lookup(segments, utt_id, "segments") if has_segments else (utt_id, None)
            audio = _lookup(recordings, recording_id, "wav.scp")
            speaker = _lookup(speakers, utt_id, "utt2spk") if utt_id in speakers else None
        except ValueError as e:
            builder.skip(where, str(e))
            continue
        builder.add(name, where, audio, text, utt_id=utt_id, speaker=speaker, segment=segment)
    return builder.write(out_dir)


def _read_table(builder: ManifestBuilder, path: Path, parse: Callable[[str], T]) -> dict[str, T | _Unusable]:
    """Key -> parsed value (or why its line is unusable) for each line of a Kaldi table; the first of repeats wins."""
    table: dict[str, T | _Unusable] = {}
    for where, key, value in builder.table(path):
        if key in table:
            log.warning("%s: %r appears again; its first line is kept", where, key)
            continue
        try:
            table[key] = parse(value)
        except ValueError as e:
            table[key] = _Unusable(f"{where}: {e}")
    return table


def _lookup(table: dict[str, T | _Unusable], key: str, file: str) -> T:
    """The entry for ``key``; ValueError saying why when it is absent or its line was unusable."""
    value = table.get(key)
    if value is None:
        raise ValueError(f"{key!r} has no line in {file}")
    if isinstance(value, _Unusable):
        raise ValueError(value.why)
    return value


def _segment(value: str) -> tuple[str, tuple[float, float | None]]:
    """``<recording-id> <start> <end>`` -> (recording id, (start, end or None for the recording's end))."""
    fields = value.split()
    try:
        if len(fields) != 3:
            raise ValueError
        start, end = float(fields[1]), float(fields[2])
    except ValueError:
        raise ValueError(f"expected '<utterance-id> <recording-id> <start> <end>', got {value!r}") from None
    if start < 0 or (end != -1 and end <= start):
        raise ValueError(f"need 0 <= start < end (or end -1), got start {start}, end {end}")
    return fields[0], (start, None if end == -1 else end)


def _speaker(value: str) -> str:
    if len(value.split()) != 1:
        raise ValueError(f"expected '<utterance-id> <speaker-id>', got {value!r}")
    return value
