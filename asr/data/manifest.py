"""JSON-lines manifests: one utterance a line.

Required fields are ``audio_filepath``, ``duration`` (seconds) and ``text``;
``offset``, ``speaker``, ``id`` and ``words`` (a list of ``{word, start, end}``)
are optional. A row written by ``asr shard`` has ``archive_offset`` and
``archive_size`` too: its audio is that byte range of ``audio_filepath``, a tar
shard. Each row's audio is an ``AudioSource``, which alone knows how to read it.
Relative audio paths are relative to the manifest file. Bad rows are skipped
and counted, never fatal, so one broken line loses one utterance.
"""

from __future__ import annotations

import json
import logging
import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from asr.audio import AudioSource
from asr.outputs import atomic_write

log = logging.getLogger(__name__)


class ManifestError(ValueError):
    """A manifest file cannot be read at all."""


@dataclass(frozen=True)
class Utterance:
    """One manifest row: its audio (path resolved), its duration in seconds as the manifest says, its text."""

    audio: AudioSource
    duration: float
    text: str
    speaker: str | None = None
    id: str | None = None
    words: tuple[dict[str, Any], ...] | None = None

    @property
    def audio_filepath(self) -> str:
        """The audio file, as the manifest names it (resolved)."""
        return self.audio.path


@dataclass
class Manifest:
    """The good rows of a manifest and what was wrong with the others."""

    path: str
    utterances: list[Utterance]
    skipped: list[tuple[int, str]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.utterances)

    @property
    def total_duration(self) -> float:
        return sum(u.duration for u in self.utterances)


def _parse_row(row: Any, base: Path) -> Utterance:
    if not isinstance(row, dict):
        raise ValueError("row is not a JSON object")
    missing = [k for k in ("audio_filepath", "duration", "text") if k not in row]
    if missing:
        raise ValueError(f"missing field(s) {', '.join(missing)}")
    path, text = row["audio_filepath"], row["text"]
    if not isinstance(path, str) or not path:
        raise ValueError("audio_filepath is not a non-empty string")
    if not isinstance(text, str):
        raise ValueError("text is not a string")
    duration, offset = _number(row, "duration"), _number(row, "offset", 0.0)
    if not duration > 0 or offset < 0:
        raise ValueError(f"bad duration {duration} or offset {offset}")
    words = _words(row.get("words"))
    # a segment (a row with an offset, 0 included) is read for its duration; a whole file or shard member to
    # its end (its duration may be rounded)
    span = duration if "offset" in row else None
    audio = AudioSource(str(base / path) if not os.path.isabs(path) else path, offset, span, _byte_range(row))
    speaker, id_ = (None if row.get(key) is None else str(row[key]) for key in ("speaker", "id"))
    return Utterance(audio, duration, text, speaker, id_, words)


def _number(row: dict[str, Any], key: str, default: float | None = None) -> float:
    """A finite number field (JSON allows NaN and Infinity, which pass every comparison test wrongly)."""
    value = row.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"{key} {value!r} is not a number")
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"{key} {value!r} is not a number") from None
    if not math.isfinite(number):
        raise ValueError(f"{key} {value!r} is not a finite number")
    return number


def _words(words: Any) -> tuple[dict[str, Any], ...] | None:
    """Reference word times: each ``{word, start, end}`` with finite times, ``0 <= start <= end``."""
    if words is None:
        return None
    if not isinstance(words, list):
        raise ValueError("words is not a list")
    for word in words:
        if not isinstance(word, dict) or not isinstance(word.get("word"), str):
            raise ValueError(f"words entry {word!r} is not a {{word, start, end}} object")
        start, end = _number(word, "start"), _number(word, "end")
        if not 0 <= start <= end:
            raise ValueError(f"word {word['word']!r} has start {start} and end {end}")
    return tuple(words)


def _byte_range(row: dict[str, Any]) -> tuple[int, int] | None:
    """A shard row's ``(archive_offset, archive_size)``; None for a row whose audio is a whole file."""
    if "archive_offset" not in row and "archive_size" not in row:
        return None
    start, size = row.get("archive_offset"), row.get("archive_size")
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (start, size)) or start < 0 or size < 1:
        raise ValueError(f"bad archive_offset {start!r} or archive_size {size!r}")
    return start, size


def read_manifest(path: str | os.PathLike) -> Manifest:
    """Read a manifest, skipping (and logging) rows that are malformed."""
    path = Path(path)
    try:
        lines = path.read_bytes().splitlines()  # decoded line by line: one bad byte loses one row
    except OSError as e:
        raise ManifestError(f"{path}: cannot read manifest: {e}") from e
    base = path.resolve().parent
    utterances, skipped = [], []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            utterances.append(_parse_row(json.loads(line.decode("utf-8")), base))
        except ValueError as e:  # json.JSONDecodeError and UnicodeDecodeError are ValueErrors
            skipped.append((number, str(e)))
    if skipped:
        first = "; ".join(f"line {n}: {why}" for n, why in skipped[:3])
        log.warning("%s: skipped %d bad row(s) of %d (%s)", path, len(skipped), len(skipped) + len(utterances), first)
    return Manifest(str(path), utterances, skipped)


def read_manifests(paths: str | os.PathLike | Sequence[str | os.PathLike]) -> Manifest:
    """One manifest, or several read as one: training on a mix of corpora."""
    if isinstance(paths, (str, os.PathLike)):
        return read_manifest(paths)
    parts = [read_manifest(path) for path in paths]
    if not parts:
        raise ManifestError("an empty list of manifests")
    return Manifest(
        " + ".join(part.path for part in parts),
        [utt for part in parts for utt in part.utterances],
        [(line, f"{part.path}: {why}") for part in parts for line, why in part.skipped],
    )


def write_manifest(path: str | os.PathLike, rows: Iterable[dict[str, Any]]) -> int:
    """Write rows as JSON lines (atomically); audio paths inside the manifest's folder become relative."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    base = path.resolve().parent
    count = 0
    with atomic_write(path) as f:
        for row in rows:
            row = dict(row)
            audio = Path(row["audio_filepath"]).resolve()
            if audio.is_relative_to(base):
                row["audio_filepath"] = str(audio.relative_to(base))
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
    return count
