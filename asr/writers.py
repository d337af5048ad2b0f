"""Transcript writers: plain text, JSON lines (with timed words), SRT and WebVTT subtitles."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import TextIO

from asr.results import Transcript, Word

MAX_CUE_CHARS = 42  # one subtitle line, as broadcast guidelines recommend
MAX_CUE_SECONDS = 6.0
MAX_CUE_GAP = 1.0  # a longer pause starts a new cue


def cues(words: Sequence[Word]) -> list[list[Word]]:
    """Group words into subtitle cues: split at long pauses, long lines and long durations."""
    groups: list[list[Word]] = []
    for word in words:
        if groups:
            cue = groups[-1]
            text = len(" ".join(w.word for w in cue)) + 1 + len(word.word)
            if (
                word.start - cue[-1].end <= MAX_CUE_GAP
                and text <= MAX_CUE_CHARS
                and word.end - cue[0].start <= MAX_CUE_SECONDS
            ):
                cue.append(word)
                continue
        groups.append([word])
    return groups


def _timestamp(seconds: float, separator: str) -> str:
    millis = max(0, round(seconds * 1000))
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def write_srt(result: Transcript, out: TextIO) -> None:
    for number, cue in enumerate(cues(result.words), start=1):
        span = f"{_timestamp(cue[0].start, ',')} --> {_timestamp(cue[-1].end, ',')}"
        out.write(f"{number}\n{span}\n{' '.join(w.word for w in cue)}\n\n")


def write_vtt(result: Transcript, out: TextIO) -> None:
    out.write("WEBVTT\n\n")
    for cue in cues(result.words):
        span = f"{_timestamp(cue[0].start, '.')} --> {_timestamp(cue[-1].end, '.')}"
        out.write(f"{span}\n{' '.join(w.word for w in cue)}\n\n")


def write_text(result: Transcript, out: TextIO) -> None:
    out.write(result.text + "\n")


def jsonl_row(result: Transcript) -> dict:
    """The JSON-lines record of a transcript: path, duration, text and words with times and confidence."""
    words = [
        {"word": w.word, "start": round(w.start, 3), "end": round(w.end, 3), "confidence": round(w.confidence, 4)}
        for w in result.words
    ]
    return {
        "audio_filepath": result.source.path,
        "duration": round(result.duration, 3),
        "text": result.text,
        "words": words,
    }


def write_jsonl(result: Transcript, out: TextIO) -> None:
    out.write(json.dumps(jsonl_row(result), ensure_ascii=False) + "\n")


WRITERS: dict[str, Callable[[Transcript, TextIO], None]] = {
    "text": write_text,
    "jsonl": write_jsonl,
    "srt": write_srt,
    "vtt": write_vtt,
}
