"""The interface every decoder implements."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import torch


@dataclass
class Hypothesis:
    """A decoded label sequence; ``frames[i]`` is the output frame where ``tokens[i]`` was emitted."""

    tokens: list[int]
    frames: list[int]
    score: float


class Decoder(Protocol):
    def decode(self, log_probs: torch.Tensor, lengths: torch.Tensor) -> list[Hypothesis]:
        """Best hypothesis for each utterance of a (B, T, V) batch of CTC log-probabilities."""
        ...
