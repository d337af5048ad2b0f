"""What every corpus importer shares: the wrong-layout error, reading line-based files, and building manifests.

An importer reads a corpus where it lies (the audio is not copied) and hands each
utterance to a :class:`ManifestBuilder`, which normalizes the transcript, reads
the duration from the audio header, and skips, logs (with file and line) and
counts every row that cannot be used, so one bad row never stops an import.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from asr.audio import AudioError, AudioSource
from asr.data.manifest import write_manifest
from asr.text import UnspellableError, normalize_text

log = logging.getLogger(__name__)

SPLITS = ("train", "dev", "test")  # the splits a corpus is prepared into, one manifest each

# How far (seconds) a segment may run past the end of its recording and be cut
# there, as Kaldi's extract-segments allows (--max-overshoot, default 0.5).
MAX_OVERSHOOT = 0.5


class LayoutError(ValueError):
    """A corpus folder is not in the layout its importer reads; the message says what was expected and found."""


def layout_error(root: Path, missing: str, expected: str) -> LayoutError:
    """The error for ``root``: what is missing, the layout expected, and what the folder holds instead."""
    return LayoutError(f"{missing} under {root}; expected {expected}; found {_describe(root)}")


def _describe(folder: Path) -> str:
    """A short listing of what ``folder`` holds, for error messages."""
    if not folder.exists():
        return "no such folder"
    if not folder.is_dir():
        return "a file, not a folder"
    names = sorted(p.name + "/" * p.is_dir() for p in folder.iterdir() if not p.name.startswith("."))
    if not names:
        return "an empty folder"
    more = f" and {len(names) - 8} more" if len(names) > 8 else ""
    return ", ".join(names[:8]) + more


@dataclass(frozen=True)
class WrittenManifest:
    """One manifest an import wrote."""

    path: Path
    utterances: int
    hours: float


@dataclass(frozen=True)
class ImportResult:
    """The manifests of one import, by name, and how many bad rows were skipped."""

    manifests: dict[str, WrittenManifest]
    skipped: int

    @property
    def utterances(self) -> int:
        return sum(m.utterances for m in self.manifests.values())


def _duration(audio: Path) -> float | str:
    """A recording's length in seconds from its header, or why it cannot be used."""
    try:
        length = AudioSource(str(audio)).seconds()
    except AudioError as e:
        return str(e)
    return length if length > 0 else f"{audio}: contains no samples"


class ManifestBuilder:
    """Collects the rows of an import's manifests; bad rows are skipped, logged with where they are, and counted."""

    def __init__(self, names: Iterable[str]) -> None:
        self.rows: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
        self.skipped = 0
        self._progress = tqdm(desc="importing", unit="utt", disable=None)
        self._duration = functools.lru_cache(maxsize=1024)(_duration)  # the segments of a recording come together

    def skip(self, where: str, why: str) -> None:
        """Count and log one bad row; ``where`` names its file (and line)."""
        self.skipped += 1
        self._progress.update()
        log.warning("%s: skipped: %s", where, why)

    def lines(self, path: Path) -> Iterator[tuple[str, str]]:
        """``(where, line)`` for each non-blank line of a UTF-8 text file; undecodable lines are skipped."""
        with path.open("rb") as f:
            for number, raw in enumerate(f, start=1):
                where = f"{path}:{number}"
                try:
                    line = raw.decode("utf-8").rstrip("\r\n")
                except UnicodeDecodeError as e:
                    self.skip(where, f"line is not UTF-8 ({e})")
                    continue
                if line.strip():
                    yield where, line

    def table(self, path: Path) -> Iterator[tuple[str, str, str]]:
        """``(where, key, rest)`` for each line of a ``key value...`` file (Kaldi tables, LibriSpeech transcripts)."""
        for where, line in self.lines(path):
            key, *rest = line.split(maxsplit=1)
            yield where, key, rest[0].strip() if rest else ""

    def add(
        self,
        name: str,
        where: str,
        audio: str | os.PathLike,
        text: str,
        *,
        utt_id: str | None = None,
        speaker: str | None = None,
        segment: tuple[float, float | None] | None = None,
        language: str = "en",
    ) -> None:
        """Add an utterance to manifest ``name``, or skip it if its transcript is empty, has a number whose
        reading is unclear (numbers are spelled in ``language``), or its audio is unusable.

        The duration comes from the audio header (no decoding). ``segment`` is
        ``(start, end)`` seconds within the recording, ``end`` None for its end;
        it becomes the row's ``offset`` and ``duration``.
        """
        try:
            text = normalize_text(text, language)
        except UnspellableError as e:
            self.skip(where, f"transcript: {e}")
            return
        if not text:
            self.skip(where, "empty transcript after normalization")
            return
        audio = Path(os.path.abspath(audio))
        length = self._duration(audio)
        if isinstance(length, str):
            self.skip(where, length)
            return
        row: dict[str, Any] = {"audio_filepath": str(audio)}
        if segment is not None:
            start, end = segment
            end = length if end is None else end
            if start >= length or end > length + MAX_OVERSHOOT:
                self.skip(where, f"segment {start}-{end} s lies outside {audio} ({length:.3f} s long)")
                return
            row["offset"] = start
            length = min(end, length) - start
        row.update(duration=round(length, 4), text=text)
        if speaker is not None:
            row["speaker"] = speaker
        if utt_id is not None:
            row["id"] = utt_id
        self.rows[name].append(row)
        self._progress.update()

    def write(self, out_dir: str | os.PathLike) -> ImportResult:
        """Write each manifest as ``out_dir/<name>.jsonl``; audio under ``out_dir`` gets paths relative to it."""
        self._progress.close()
        manifests = {}
        for name, rows in self.rows.items():
            path = Path(out_dir) / f"{name}.jsonl"
            write_manifest(path, rows)
            manifests[name] = WrittenManifest(path, len(rows), sum(row["duration"] for row in rows) / 3600)
            log.info("%s: %d utterances, %.2f h", path, len(rows), manifests[name].hours)
        if self.skipped:
            log.warning("skipped %d bad row(s), each named above", self.skipped)
        return ImportResult(manifests, self.skipped)
