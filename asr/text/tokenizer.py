"""Tokenizers map normalized text to CTC label ids (0 is always the blank)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

BLANK_ID = 0


class TokenizerError(ValueError):
    """Text cannot be encoded with this tokenizer's vocabulary."""


class CharTokenizer:
    """Characters (letters, apostrophe, space) seen in the training text."""

    kind = "char"

    def __init__(self, symbols: Iterable[str]):
        self.symbols = list(symbols)
        if len(set(self.symbols)) != len(self.symbols) or any(len(s) != 1 for s in self.symbols):
            raise TokenizerError(f"character vocabulary must be distinct single characters: {self.symbols!r}")
        self._ids = {s: i + 1 for i, s in enumerate(self.symbols)}

    @classmethod
    def build(cls, texts: Iterable[str]) -> CharTokenizer:
        """Vocabulary of every character in ``texts`` (already normalized), space first."""
        chars = set()
        for text in texts:
            chars.update(text)
        chars.discard(" ")
        if not chars:
            raise TokenizerError("cannot build a character vocabulary from empty training text")
        return cls([" ", *sorted(chars)])

    @property
    def vocab_size(self) -> int:
        """Number of output classes, blank included."""
        return len(self.symbols) + 1

    def encode(self, text: str) -> list[int]:
        try:
            return [self._ids[c] for c in text]
        except KeyError:
            unknown = sorted({c for c in text if c not in self._ids})
            raise TokenizerError(f"characters outside the vocabulary: {''.join(unknown)!r}") from None

    def decode(self, ids: Iterable[int]) -> str:
        """Text of label ids (blank and unknown ids are ignored)."""
        n = len(self.symbols)
        return "".join(self.symbols[i - 1] for i in ids if 0 < i <= n).strip()

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "symbols": list(self.symbols)}


def tokenizer_from_dict(data: dict[str, Any]) -> CharTokenizer:
    """Rebuild a tokenizer saved with ``to_dict`` (stored inside model files)."""
    if data.get("kind") != "char":
        raise TokenizerError(f"unknown tokenizer kind {data.get('kind')!r}")
    return CharTokenizer(data["symbols"])
