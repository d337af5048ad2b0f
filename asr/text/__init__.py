"""Transcript normalization and tokenizers."""

from asr.text.normalize import normalize_text
from asr.text.tokenizer import CharTokenizer, TokenizerError, tokenizer_from_dict

__all__ = ["CharTokenizer", "TokenizerError", "normalize_text", "tokenizer_from_dict"]
