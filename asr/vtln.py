"""Vocal tract length normalization (VTLN) at decoding time: one warp of the mel axis per speaker, chosen
without references, as the warp the model is most confident under.

A voice whose vocal tract is shorter or longer than the training speakers' puts every formant higher or
lower; stretching its log-mel axis (``Frontend.warp``) moves them back to where the model learnt them.
Each factor is tried on all of a speaker's audio, and the one whose transcripts have the highest mean
word confidence wins: the maximum-likelihood choice of classic VTLN, with the model's own confidence
standing in for the likelihood. It costs one decoding pass per factor tried.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from asr.audio import AudioSource
from asr.results import Transcript

if TYPE_CHECKING:  # the engine is given, not imported
    from asr.inference import Transcriber

FACTORS = (1.0, 0.95, 1.05, 0.9, 1.1, 0.85, 1.15)  # nearest to no warp first: a tie keeps the smaller warp


@dataclass(frozen=True)
class WarpChoice:
    """The warp chosen for one speaker and the mean word confidence under each factor tried."""

    factor: float
    confidence: dict[float, float]


def mean_confidence(transcripts: Sequence[Transcript]) -> float:
    """Mean over the transcripts that have words of their mean word confidence; 0 when none has a word."""
    means = [sum(w.confidence for w in t.words) / len(t.words) for t in transcripts if t.words]
    return sum(means) / len(means) if means else 0.0


def transcribe_warped(
    transcriber: Transcriber, sources: Sequence[AudioSource], factors: Sequence[float] = FACTORS
) -> tuple[WarpChoice, list[Transcript]]:
    """One speaker's ``sources``, transcribed under each warp of ``factors``; the transcripts under the warp
    with the highest mean word confidence, and that choice. ValueError for a model without a PyTorch frontend
    (an ONNX export) or a factor outside (0.5, 2)."""
    frontend = getattr(transcriber.recognizer, "frontend", None)
    if frontend is None or not hasattr(frontend, "warp"):
        raise ValueError("vocal tract length normalization needs a PyTorch model file (model.pt), not an export")
    if not factors or any(not 0.5 < f < 2.0 for f in factors):
        raise ValueError(f"warp factors must lie between 0.5 and 2, got {list(factors)}")
    runs: dict[float, list[Transcript]] = {}
    try:
        for factor in factors:
            frontend.warp = factor
            runs[factor] = list(transcriber.transcribe(sources))
    finally:
        frontend.warp = 1.0
    confidence = {factor: mean_confidence(transcripts) for factor, transcripts in runs.items()}
    chosen = max(runs, key=confidence.__getitem__)  # the first of equals: the factor tried first
    return WarpChoice(chosen, confidence), runs[chosen]
