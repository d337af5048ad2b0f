"""Decoders turn CTC log-probabilities into label sequences; words.py turns those into timed words."""

from asr.decoding.base import Decoder, Hypothesis
from asr.decoding.beam import BeamSearchDecoder, BeamSearchOptions, DecoderFileError, write_lexicon
from asr.decoding.greedy import GreedyDecoder
from asr.decoding.words import Word, words_from_alignment
from asr.text.tokenizer import Tokenizer

__all__ = [
    "BeamSearchDecoder",
    "BeamSearchOptions",
    "Decoder",
    "DecoderFileError",
    "GreedyDecoder",
    "Hypothesis",
    "Word",
    "build_decoder",
    "words_from_alignment",
    "write_lexicon",
]


def build_decoder(config: dict, tokenizer: Tokenizer | None = None) -> Decoder:
    """A decoder from the ``decoder`` config section: ``type: greedy`` or ``type: beam`` (which needs the tokenizer)."""
    kind = config.get("type", "greedy")
    if kind == "greedy":
        return GreedyDecoder()
    if kind == "beam":
        if tokenizer is None:
            raise ValueError("the beam decoder needs the model's tokenizer")
        return BeamSearchDecoder(tokenizer, BeamSearchOptions.from_config(config))
    raise ValueError(f"unknown decoder type {kind!r} (available: greedy, beam)")
