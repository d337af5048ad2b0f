"""Tokenizers map normalized text to CTC label ids (0 is always the blank)."""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import sentencepiece as spm

from asr.config import ConfigError, check_type, structured

BLANK_ID = 0
SENTENCEPIECE_MODEL_TYPES = ("unigram", "bpe")
_MAX_PIECES = re.compile(r"value <= (\d+)")
_WORD_BOUNDARY = "\u2581"  # SentencePiece's "▁", marking a piece that begins a word


class TokenizerError(ValueError):
    """Text cannot be encoded with this tokenizer's vocabulary."""


class _UnitTokenizer:
    """A vocabulary of text units (characters or words), one label each: what the two share."""

    kind: str
    joiner: str  # between units in text: "" for characters, " " for words
    _unit_name: str  # what a unit is called in messages

    def __init__(self, symbols: Iterable[str]):
        self.symbols = list(symbols)
        if len(set(self.symbols)) != len(self.symbols) or not all(self._is_unit(s) for s in self.symbols):
            raise TokenizerError(f"{self.kind} vocabulary must be distinct {self._unit_name}s: {self.symbols!r}")
        self._ids = {s: i + 1 for i, s in enumerate(self.symbols)}

    @staticmethod
    def _is_unit(symbol: str) -> bool:
        raise NotImplementedError

    def _units(self, text: str) -> list[str]:
        raise NotImplementedError

    @property
    def vocab_size(self) -> int:
        """Number of output classes, blank included."""
        return len(self.symbols) + 1

    def encode(self, text: str) -> list[int]:
        units = self._units(text)
        try:
            return [self._ids[u] for u in units]
        except KeyError:
            unknown = sorted({u for u in units if u not in self._ids})
            raise TokenizerError(f"{self._unit_name}s outside the vocabulary: {self._show(unknown)}") from None

    def _show(self, units: list[str]) -> str:
        return repr(self.joiner.join(units))

    def decode(self, ids: Iterable[int]) -> str:
        """Text of label ids (blank and unknown ids are ignored)."""
        n = len(self.symbols)
        return self.joiner.join(self.symbols[i - 1] for i in ids if 0 < i <= n).strip()

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "symbols": list(self.symbols)}


class CharTokenizer(_UnitTokenizer):
    """Characters (letters, apostrophe, space) seen in the training text."""

    kind = "char"
    joiner = ""
    _unit_name = "character"

    @staticmethod
    def _is_unit(symbol: str) -> bool:
        return len(symbol) == 1

    def _units(self, text: str) -> list[str]:
        return list(text)

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
    def separator_id(self) -> int | None:
        """The id of the space between words (None when the vocabulary has none)."""
        return self._ids.get(" ")

    def starts_word(self, token: int) -> bool:
        """Characters never begin a word by themselves: words are split at the separator."""
        return False


class WordTokenizer(_UnitTokenizer):
    """Whole words of the training text, one label each: for closed vocabularies (digits, commands).

    CTC over words cannot misspell: every output is a training word. Words are
    joined by a space, which is not a label.
    """

    kind = "word"
    joiner = " "
    _unit_name = "word"
    separator_id = None

    @staticmethod
    def _is_unit(symbol: str) -> bool:
        return bool(symbol) and symbol.split() == [symbol]

    def _units(self, text: str) -> list[str]:
        return text.split()

    def _show(self, units: list[str]) -> str:
        return repr(units[:10])

    @classmethod
    def build(cls, texts: Iterable[str]) -> WordTokenizer:
        """Vocabulary of every word in ``texts`` (already normalized), sorted."""
        words = set()
        for text in texts:
            words.update(text.split())
        if not words:
            raise TokenizerError("cannot build a word vocabulary from empty training text")
        return cls(sorted(words))

    def starts_word(self, token: int) -> bool:
        """Every label is a word of its own."""
        return 0 < token <= len(self.symbols)


class SentencePieceTokenizer:
    """Subword pieces learned from the training text by SentencePiece (unigram or BPE).

    The trained model (a serialized protobuf) travels inside the model file, so
    decoding needs nothing else. SentencePiece's ids shift up by one to keep 0 for
    the CTC blank. Text is taken as already normalized (identity normalization), so
    ``decode(encode(text)) == text``; words never share a piece.
    """

    kind = "sentencepiece"

    def __init__(self, model_proto: bytes):
        self.model_proto = bytes(model_proto)
        self._sp = spm.SentencePieceProcessor(model_proto=self.model_proto)
        self.symbols = [self._sp.id_to_piece(i) for i in range(self._sp.get_piece_size())]

    @classmethod
    def train(cls, texts: Iterable[str], vocab_size: int, model_type: str) -> SentencePieceTokenizer:
        """Learn ``vocab_size`` pieces (the unknown piece included, the blank not) from normalized ``texts``.

        Raises TokenizerError for empty text, an unknown ``model_type`` or more pieces than the text supports.
        """
        if model_type not in SENTENCEPIECE_MODEL_TYPES:
            raise TokenizerError(f"unknown SentencePiece model_type {model_type!r} (use {SENTENCEPIECE_MODEL_TYPES})")
        sentences = [t for t in texts if t.strip()]
        if not sentences:
            raise TokenizerError("cannot train a SentencePiece vocabulary on empty training text")
        model = io.BytesIO()
        try:
            spm.SentencePieceTrainer.train(
                sentence_iterator=iter(sentences),
                model_writer=model,
                vocab_size=vocab_size,
                model_type=model_type,
                character_coverage=1.0,  # every training character gets a piece: no unknowns in training text
                normalization_rule_name="identity",
                bos_id=-1,  # CTC has no sentence start/end symbols
                eos_id=-1,
                num_threads=1,  # the same pieces on every run and every DDP rank
                minloglevel=2,
            )
        except RuntimeError as e:
            limit = _MAX_PIECES.search(str(e))
            if limit is None:
                raise TokenizerError(f"SentencePiece training failed: {str(e).strip()}") from e
            raise TokenizerError(
                f"the training text supports at most {limit.group(1)} {model_type} pieces, {vocab_size} were asked for"
            ) from None
        return cls(model.getvalue())

    @property
    def vocab_size(self) -> int:
        """Number of output classes, blank included."""
        return len(self.symbols) + 1

    @property
    def separator_id(self) -> int | None:
        """The id of the bare word-boundary piece ``▁``, which SentencePiece emits before some words."""
        piece = self._sp.piece_to_id(_WORD_BOUNDARY)
        return None if piece == self._sp.unk_id() else piece + 1

    def starts_word(self, token: int) -> bool:
        """Whether ``token`` is a piece that opens a word (``▁the``)."""
        return 0 < token <= len(self.symbols) and self.symbols[token - 1].startswith(_WORD_BOUNDARY)

    def encode(self, text: str) -> list[int]:
        ids = self._sp.encode(text)
        unknown = self._sp.unk_id()
        if unknown in ids:
            chars = sorted({c for c in text if c != " " and self._sp.piece_to_id(c) == unknown})
            raise TokenizerError(f"characters outside the vocabulary: {''.join(chars)!r}")
        return [i + 1 for i in ids]

    def decode(self, ids: Iterable[int]) -> str:
        """Text of label ids (blank and unknown ids are ignored)."""
        n = len(self.symbols)
        return self._sp.decode([i - 1 for i in ids if 0 < i <= n]).strip()

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "model_proto": self.model_proto}


Tokenizer = CharTokenizer | SentencePieceTokenizer | WordTokenizer


@dataclass
class CharTokenizerConfig:
    """The ``tokenizer`` config section for characters of the normalized training text (conf/tokenizer/char.yaml)."""

    type: str = "char"

    def __post_init__(self) -> None:
        check_type("tokenizer", self.type, "char")


@dataclass
class SentencePieceConfig:
    """The ``tokenizer`` config section for SentencePiece subwords (conf/tokenizer/sentencepiece.yaml)."""

    type: str = "sentencepiece"
    vocab_size: int = 256  # pieces, the unknown piece included (the model outputs one more class, the blank)
    model_type: str = "unigram"  # or bpe

    def __post_init__(self) -> None:
        check_type("tokenizer", self.type, "sentencepiece")
        if self.model_type not in SENTENCEPIECE_MODEL_TYPES:
            raise ConfigError(
                f"tokenizer.model_type={self.model_type}: unknown SentencePiece model_type "
                f"(use {' or '.join(SENTENCEPIECE_MODEL_TYPES)})"
            )


@dataclass
class WordTokenizerConfig:
    """The ``tokenizer`` config section for whole words of the training text (conf/tokenizer/word.yaml)."""

    type: str = "word"

    def __post_init__(self) -> None:
        check_type("tokenizer", self.type, "word")


TokenizerConfig = CharTokenizerConfig | SentencePieceConfig | WordTokenizerConfig
TOKENIZER_SCHEMAS: dict[str, type] = {
    "char": CharTokenizerConfig,
    "sentencepiece": SentencePieceConfig,
    "word": WordTokenizerConfig,
}


def tokenizer_config(values: Mapping[str, Any]) -> TokenizerConfig:
    """A ``tokenizer`` section checked against its type's schema."""
    kind = values.get("type", CharTokenizer.kind)
    if kind not in TOKENIZER_SCHEMAS:
        raise TokenizerError(f"unknown tokenizer type {kind!r} (use one of {', '.join(TOKENIZER_SCHEMAS)})")
    return structured(TOKENIZER_SCHEMAS[kind], values, "tokenizer.")


def build_tokenizer(config: TokenizerConfig | Mapping[str, Any], texts: Iterable[str]) -> Tokenizer:
    """The tokenizer the ``tokenizer`` config section asks for, built from normalized training ``texts``."""
    if isinstance(config, Mapping):
        config = tokenizer_config(config)
    if isinstance(config, SentencePieceConfig):
        return SentencePieceTokenizer.train(texts, config.vocab_size, config.model_type)
    if isinstance(config, WordTokenizerConfig):
        return WordTokenizer.build(texts)
    return CharTokenizer.build(texts)


def tokenizer_from_dict(data: dict[str, Any]) -> Tokenizer:
    """Rebuild a tokenizer saved with ``to_dict`` (stored inside model files)."""
    kind = data.get("kind")
    if kind == CharTokenizer.kind:
        return CharTokenizer(data["symbols"])
    if kind == SentencePieceTokenizer.kind:
        return SentencePieceTokenizer(data["model_proto"])
    if kind == WordTokenizer.kind:
        return WordTokenizer(data["symbols"])
    raise TokenizerError(f"unknown tokenizer kind {kind!r}")
