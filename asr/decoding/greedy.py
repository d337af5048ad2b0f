"""Greedy (best path) CTC decoding: argmax per frame, collapse repeats, drop blanks."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from asr.config import check_type
from asr.decoding.base import Hypothesis
from asr.text.tokenizer import BLANK_ID


@dataclass
class GreedyConfig:
    """The ``decoder`` config section for best-path decoding (conf/decoder/greedy.yaml): it takes no settings."""

    type: str = "greedy"

    def __post_init__(self) -> None:
        check_type("decoder", self.type, "greedy")


class GreedyDecoder:
    """Batched best-path decoding; the score is the best path's total log-probability."""

    def decode(self, log_probs: torch.Tensor, lengths: torch.Tensor) -> list[Hypothesis]:
        best, ids = log_probs.detach().max(dim=-1)  # (B, T)
        steps = torch.arange(ids.shape[1], device=ids.device)
        valid = steps[None, :] < lengths.to(ids.device)[:, None]
        previous = torch.nn.functional.pad(ids[:, :-1], (1, 0), value=BLANK_ID)
        emit = valid & (ids != BLANK_ID) & (ids != previous)
        scores = (best * valid).sum(dim=1).tolist()
        ids, emit = ids.cpu(), emit.cpu()
        hyps = []
        for b in range(ids.shape[0]):
            frames = emit[b].nonzero().squeeze(1)
            hyps.append(Hypothesis(ids[b, frames].tolist(), frames.tolist(), scores[b]))
        return hyps
