"""What transcription gives back: a ``Transcript`` of timed ``Word``s, or the error that kept a source from it.

Writers, scoring and word timing read these without importing the inference engine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # only named in annotations: writing results needs no audio reading
    from asr.audio import AudioSource


@dataclass(frozen=True)
class Word:
    """A decoded word, its time span in seconds and a confidence in [0, 1]."""

    word: str
    start: float
    end: float
    confidence: float


@dataclass(frozen=True)
class Transcript:
    """The result for one source: its text and timed words, or the error that kept it from being transcribed."""

    source: AudioSource
    text: str = ""
    words: list[Word] = field(default_factory=list)
    duration: float = 0.0
    error: str | None = None
