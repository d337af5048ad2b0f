"""Transcript normalization shared by training, decoding and scoring."""

from __future__ import annotations

import re
import unicodedata

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'"})
_NOT_WORD = re.compile(r"[^\w']|[\d_]")
_SPACES = re.compile(r"\s+")


def normalize_text(text: str) -> str:
    """Lowercase, unify apostrophes, turn punctuation and digits into spaces, squeeze whitespace.

    Letters of any script are kept; the tokenizer decides which are in its vocabulary.
    Quotes around words (``'hello'``) are dropped, apostrophes inside words (``don't``) are kept.
    """
    text = unicodedata.normalize("NFKC", text).translate(_APOSTROPHES).lower()
    text = _NOT_WORD.sub(" ", text)
    words = (w.strip("'") for w in _SPACES.split(text))
    return " ".join(w for w in words if w)
