"""Decoders turn CTC log-probabilities into label sequences; words.py turns those into timed words."""

from collections.abc import Mapping
from typing import Any

from asr.config import check_decoder
from asr.decoding.base import Decoder, Hypothesis
from asr.decoding.beam import BeamSearchDecoder, BeamSearchOptions, DecoderFileError, write_lexicon
from asr.decoding.greedy import GreedyConfig, GreedyDecoder
from asr.decoding.words import words_from_alignment
from asr.text.tokenizer import Tokenizer

__all__ = [
    "BeamSearchDecoder",
    "BeamSearchOptions",
    "Decoder",
    "DecoderFileError",
    "GreedyConfig",
    "GreedyDecoder",
    "Hypothesis",
    "build_decoder",
    "words_from_alignment",
    "write_lexicon",
]


def build_decoder(
    config: GreedyConfig | BeamSearchOptions | Mapping[str, Any], tokenizer: Tokenizer | None = None
) -> Decoder:
    """A decoder from the ``decoder`` config section (checked against its type's schema); beam search
    needs the tokenizer."""
    if isinstance(config, Mapping):
        config = check_decoder(config)
    if isinstance(config, GreedyConfig):
        return GreedyDecoder()
    if tokenizer is None:
        raise ValueError("the beam decoder needs the model's tokenizer")
    return BeamSearchDecoder(tokenizer, config)
