"""Transcript normalization shared by importers, LM building, training and scoring."""

from __future__ import annotations

import re
import unicodedata

from asr.text.numbers import UnspellableError, spell_numbers

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'"})
_NOT_WORD = re.compile(r"[^\w']|_")
_SPACES = re.compile(r"\s+")

# What normalize_text does, for reports that score normalized text.
DESCRIPTION = "NFKC, lowercase, numbers spelled out (num2words), punctuation removed, apostrophes kept inside words"

__all__ = ["DESCRIPTION", "UnspellableError", "normalize_text"]


def normalize_text(text: str, language: str = "en") -> str:
    """Unify apostrophes, spell numbers out, lowercase, turn punctuation into spaces, squeeze whitespace.

    Letters of any script are kept; the tokenizer decides which are in its vocabulary.
    Quotes around words (``'hello'``) are dropped, apostrophes inside words (``don't``) are kept.
    A number whose reading is ambiguous (``1/2``) raises ``UnspellableError``: the caller
    reports the row instead of changing its words silently.
    """
    text = spell_numbers(unicodedata.normalize("NFKC", text).translate(_APOSTROPHES), language).lower()
    text = _NOT_WORD.sub(" ", text)
    words = (w.strip("'") for w in _SPACES.split(text))
    return " ".join(w for w in words if w)
