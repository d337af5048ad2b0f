"""Transcript normalization and tokenizers."""

from asr.text.normalize import UnspellableError, normalize_text
from asr.text.tokenizer import (
    CharTokenizer,
    SentencePieceTokenizer,
    Tokenizer,
    TokenizerError,
    WordTokenizer,
    build_tokenizer,
    tokenizer_from_dict,
)

__all__ = [
    "CharTokenizer",
    "SentencePieceTokenizer",
    "Tokenizer",
    "TokenizerError",
    "UnspellableError",
    "WordTokenizer",
    "build_tokenizer",
    "normalize_text",
    "tokenizer_from_dict",
]
