"""Decoders turn CTC log-probabilities into label sequences."""

from asr.decoding.base import Decoder, Hypothesis
from asr.decoding.greedy import GreedyDecoder

__all__ = ["Decoder", "GreedyDecoder", "Hypothesis", "build_decoder"]


def build_decoder(config: dict) -> Decoder:
    """A decoder from the ``decoder`` config section (``type: greedy``)."""
    kind = config.get("type", "greedy")
    if kind == "greedy":
        return GreedyDecoder()
    raise ValueError(f"unknown decoder type {kind!r} (available: greedy)")
