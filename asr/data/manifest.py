"""JSON-lines manifests: one utterance a line.

Required fields are ``audio_filepath``, ``duration`` (seconds) and ``text``;
``offset``, ``speaker``, ``id`` and ``words`` (a list of ``{word, start, end}``)
are optional. Relative audio paths are relative to the manifest file. Bad rows
are skipped and counted, never fatal, so one broken line loses one utterance.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


class ManifestError(ValueError):
    """A manifest file cannot be read at all."""


@dataclass(frozen=True)
class Utterance:
    """One manifest row, with its audio path resolved."""

    audio_filepath: str
    duration: float
    text: str
    offset: float = 0.0
    speaker: str | None = None
    id: str | None = None
    words: tuple[dict[str, Any], ...] | None = None


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
    try:
        duration = float(row["duration"])
        offset = float(row.get("offset", 0.0))
    except (TypeError, ValueError):
        raise ValueError("duration/offset is not a number") from None
    if not duration > 0 or offset < 0:
        raise ValueError(f"bad duration {duration} or offset {offset}")
    words = row.get("words")
    return Utterance(
        audio_filepath=str(base / path) if not os.path.isabs(path) else path,
        duration=duration,
        text=text,
        offset=offset,
        speaker=None if row.get("speaker") is None else str(row["speaker"]),
        id=None if row.get("id") is None else str(row["id"]),
        words=tuple(words) if isinstance(words, list) else None,
    )


def read_manifest(path: str | os.PathLike) -> Manifest:
    """Read a manifest, skipping (and logging) rows that are malformed."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise ManifestError(f"{path}: cannot read manifest: {e}") from e
    base = path.resolve().parent
    utterances, skipped = [], []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            utterances.append(_parse_row(json.loads(line), base))
        except ValueError as e:  # json.JSONDecodeError is a ValueError
            skipped.append((number, str(e)))
    if skipped:
        first = "; ".join(f"line {n}: {why}" for n, why in skipped[:3])
        log.warning("%s: skipped %d bad row(s) of %d (%s)", path, len(skipped), len(skipped) + len(utterances), first)
    return Manifest(str(path), utterances, skipped)


def write_manifest(path: str | os.PathLike, rows: Iterable[dict[str, Any]]) -> int:
    """Write rows as JSON lines; audio paths inside the manifest's folder become relative."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    base = path.resolve().parent
    count = 0
    with path.open("w", encoding="utf-8") as f:
        for row in rows:
            row = dict(row)
            audio = Path(row["audio_filepath"]).resolve()
            if audio.is_relative_to(base):
                row["audio_filepath"] = str(audio.relative_to(base))
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
    return count
