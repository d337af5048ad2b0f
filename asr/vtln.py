"""Vocal tract length normalization (VTLN) at decoding time: one warp of the mel axis per speaker, chosen
without references, as the warp under which the model's output frames are least uncertain.

A voice whose vocal tract is shorter than the training speakers' puts every formant higher; compressing its
log-mel axis (``Frontend.warp`` below 1) moves them back to where the model learnt them. Each factor is tried
on all of a speaker's audio (one forward pass per factor) and the one with the lowest mean entropy of the
output frames wins; only that one is decoded. Every frame counts, blanks included, so a warp cannot win by
dropping the words the model is unsure of. Only factors of 1 or less are tried: on the digits recipe's
cross-speaker protocol, with two seeds, that gave a lower dev error rate than also trying factors above 1
(recipes/digits/README.md).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch

from asr.audio import AudioSource
from asr.results import Transcript

if TYPE_CHECKING:  # the engine is given, not imported
    from asr.inference import Posteriors, Transcriber

FACTORS = (1.0, 0.95, 0.9, 0.85)  # no warp first: a tie keeps it


@dataclass(frozen=True)
class WarpChoice:
    """The warp chosen for one speaker and the mean output-frame entropy (nats) under each factor tried."""

    factor: float
    entropy: dict[float, float]

    @property
    def measured(self) -> bool:
        """Whether any factor was scored on output frames; not when none of the speaker's audio could be read,
        and ``factor`` is then only the first factor tried."""
        return any(math.isfinite(value) for value in self.entropy.values())


def mean_frame_entropy(posteriors: Sequence[Posteriors]) -> float:
    """Mean entropy (nats) of the output distribution over all frames of ``posteriors``; inf without frames."""
    frames = [p.log_probs for p in posteriors if p.error is None and p.log_probs.numel()]
    if not frames:
        return float("inf")
    return float(torch.special.entr(torch.cat(frames).float().exp()).sum(-1).mean())  # entr(0) = 0


def transcribe_warped(
    transcriber: Transcriber, sources: Sequence[AudioSource], factors: Sequence[float] = FACTORS
) -> tuple[WarpChoice, list[Transcript]]:
    """One speaker's ``sources`` under each warp of ``factors``; the transcripts under the warp with the lowest
    mean output-frame entropy, and that choice. ValueError for a model without a PyTorch frontend (an ONNX
    export) or a factor outside (0.5, 2)."""
    frontend = getattr(transcriber.recognizer, "frontend", None)
    if frontend is None or not hasattr(frontend, "warp"):
        raise ValueError("vocal tract length normalization needs a PyTorch model file (model.pt), not an export")
    if not factors or any(not 0.5 < f < 2.0 for f in factors):
        raise ValueError(f"warp factors must lie between 0.5 and 2, got {list(factors)}")
    entropy: dict[float, float] = {}
    chosen = factors[0]
    kept: list[Posteriors] = []  # only the best pass's posteriors are held, not one list per factor
    try:
        for factor in factors:
            frontend.warp = factor
            posteriors = list(transcriber.posteriors(sources))
            entropy[factor] = mean_frame_entropy(posteriors)
            if factor == factors[0] or entropy[factor] < entropy[chosen]:  # equals keep the factor tried first
                chosen, kept = factor, posteriors
    finally:
        frontend.warp = 1.0
    return WarpChoice(chosen, entropy), [transcriber.decode(p) for p in kept]
