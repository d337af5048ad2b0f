"""CTC beam search with torchaudio's flashlight decoder, optionally with a KenLM n-gram LM and a lexicon.

Flashlight names the blank ``-`` and the word separator ``|``; our tokenizer's
blank (id 0) and space map to them, so flashlight's token ids are our ids.

Without a lexicon the search is over tokens and an LM scores tokens (a
character LM whose "words" are characters and ``|``). With a lexicon the search
only forms lexicon words and the LM scores words; the lexicon is a file, or a list
of words (``decoder.words``) spelled with the model's tokens, which a model file
can carry as its default decoder. Lexicon lines spell a word
with tokens and no trailing ``|`` (``three t h r e e``): the model emits no space
after the last word, and flashlight drops a final word whose spelling demands one.
"""

from __future__ import annotations

import math
import os
import platform
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:
    from flashlight.lib.text.decoder.kenlm import KenLM
    from torchaudio.models.decoder import CTCDecoder, CTCHypothesis

from asr.config import ConfigError, check_type
from asr.decoding.base import Hypothesis
from asr.outputs import atomic_write
from asr.text.tokenizer import Tokenizer, TokenizerError, WordTokenizer

BLANK_TOKEN = "-"
WORD_TOKEN = "|"
ARPA_HEADER = "\\data\\"
KENLM_BINARY_MAGIC = b"mmap lm "
LM_SPECIAL_WORDS = frozenset({"<s>", "</s>", "<unk>"})


class DecoderUnavailableError(ValueError):
    """Beam search cannot run here: the flashlight-text package is missing (it has no wheels past Python 3.12)."""


def _flashlight() -> tuple:
    """torchaudio's ``ctc_decoder`` and flashlight's ``KenLM`` and ``Dictionary``, imported when a beam search is built,
    so that everything else works where flashlight-text cannot be installed."""
    try:
        from flashlight.lib.text.decoder.kenlm import KenLM
        from flashlight.lib.text.dictionary import Dictionary
        from torchaudio.models.decoder import ctc_decoder
    except (ImportError, RuntimeError) as e:
        raise DecoderUnavailableError(
            f"decoder=beam needs the flashlight-text package, which is not installed (it has wheels for "
            f"Python 3.10-3.12; this is {platform.python_version()}): pip install flashlight-text"
        ) from e
    return ctc_decoder, KenLM, Dictionary


class DecoderFileError(ConfigError):
    """A language model or lexicon file is missing or malformed."""


@dataclass
class BeamSearchOptions:
    """The ``decoder`` config section for ``type: beam`` (conf/decoder/beam.yaml); a named file must exist."""

    type: str = "beam"
    beam_size: int = 50  # hypotheses kept after each frame
    beam_threshold: float = 50.0  # drop hypotheses scoring this far below the best
    beam_size_token: int | None = None  # tokens tried per frame; None: every token
    lm: str | None = None  # ARPA or KenLM binary file; None: no LM
    lm_weight: float = 1.0  # alpha: LM log-probability weight
    word_score: float = 0.0  # beta: bonus per word (per token without a lexicon)
    unk_score: float = -math.inf  # score of a word outside the lexicon; -inf forbids them
    sil_score: float = 0.0  # score of a word separator
    lexicon: str | None = None  # file of "word w o r d" lines; None: lexicon-free (an LM then scores tokens)
    words: list[str] | None = None  # the only words to output, spelled with the model's tokens (kept in model files)
    nbest: int = 1  # hypotheses kept per utterance (decode returns the best)

    def __post_init__(self) -> None:
        check_type("decoder", self.type, "beam")
        for name in ("lm", "lexicon"):
            path = getattr(self, name)
            if path is not None and not Path(path).is_file():
                raise DecoderFileError(f"decoder.{name}={path}: no such file")
        if self.words is not None and (self.lexicon is not None or not self.words):
            raise ConfigError("decoder.words: give a non-empty list of words, or decoder.lexicon (a file), not both")
        if self.beam_size < 1 or self.nbest < 1:
            raise ConfigError(f"decoder.beam_size={self.beam_size}, decoder.nbest={self.nbest}: expected 1 or more")


def flashlight_tokens(tokenizer: Tokenizer) -> list[str]:
    """Flashlight's token list in our id order: the blank becomes ``-`` and the space ``|``.

    Word labels have no space between them; flashlight still needs a separator, so
    ``|`` is appended after the model's labels, an id the model never emits.
    """
    clashes = {BLANK_TOKEN, WORD_TOKEN} & set(tokenizer.symbols)
    if clashes:
        raise TokenizerError(f"tokenizer symbols {sorted(clashes)} are reserved by the flashlight decoder")
    if isinstance(tokenizer, WordTokenizer):
        return [BLANK_TOKEN, *tokenizer.symbols, WORD_TOKEN]
    if " " not in tokenizer.symbols:
        raise TokenizerError("beam search needs a tokenizer with a space symbol to separate words")
    return [BLANK_TOKEN] + [WORD_TOKEN if s == " " else s for s in tokenizer.symbols]


def write_lexicon(words: Iterable[str], tokenizer: Tokenizer, path: str | os.PathLike) -> None:
    """Write a flashlight lexicon (``word w o r d`` a line) for ``words``, spelled with ``tokenizer``.

    Raises TokenizerError naming every word the tokenizer cannot spell.
    """
    tokens = flashlight_tokens(tokenizer)
    lines, bad = [], []
    for word in dict.fromkeys(words):
        try:
            ids = tokenizer.encode(word) if word.split() == [word] else []
        except TokenizerError:
            ids = []
        if ids:
            lines.append(f"{word} {' '.join(tokens[i] for i in ids)}\n")
        else:
            bad.append(word)
    if bad:
        raise TokenizerError(f"cannot spell these lexicon words with the tokenizer: {bad}")
    with atomic_write(path) as f:
        f.write("".join(lines))


def read_lexicon(path: str | os.PathLike, tokens: list[str]) -> dict[str, list[list[int]]]:
    """Spellings (token ids) of each word of a lexicon file, checked against ``tokens``."""
    index = {t: i for i, t in enumerate(tokens) if t not in (BLANK_TOKEN, WORD_TOKEN)}
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise DecoderFileError(f"{path}: cannot read lexicon: {getattr(e, 'strerror', None) or e}") from e
    spellings: dict[str, list[list[int]]] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        word, *spelling = line.split()
        if not spelling:
            raise DecoderFileError(f"{path}: line {number}: expected 'word t o k e n s', got {line!r}")
        if {BLANK_TOKEN, WORD_TOKEN} & set(spelling):
            raise DecoderFileError(
                f"{path}: line {number}: spell words without {BLANK_TOKEN!r} or {WORD_TOKEN!r}"
                " (the decoder places word separators itself)"
            )
        unknown = [t for t in spelling if t not in index]
        if unknown:
            raise DecoderFileError(f"{path}: line {number}: tokens {unknown} are not in the model's vocabulary")
        spellings.setdefault(word, []).append([index[t] for t in spelling])
    if not spellings:
        raise DecoderFileError(f"{path}: lexicon has no words")
    return spellings


def _lm_format(path: str | os.PathLike) -> str:
    """``arpa`` or ``binary`` (KenLM); fails clearly for anything else, as flashlight's own errors are obscure."""
    try:
        with open(path, "rb") as f:
            head = f.read(4096)
    except OSError as e:
        raise DecoderFileError(f"{path}: cannot read language model: {e.strerror}") from e
    if head.startswith(KENLM_BINARY_MAGIC):
        return "binary"
    first = next((line.strip() for line in head.splitlines() if line.strip()), b"")
    if first != ARPA_HEADER.encode():
        raise DecoderFileError(
            f"{path}: not an ARPA file (first line should be {ARPA_HEADER}) nor a KenLM binary; got {first[:60]!r}"
        )
    return "arpa"


def _arpa_unigrams(path: str | os.PathLike) -> set[str]:
    """The words of an ARPA file's 1-gram section."""
    words, inside = set(), False
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.strip()
            if line.startswith("\\"):
                if inside:
                    break
                inside = line == "\\1-grams:"
            elif inside and len(line.split()) > 1:
                words.add(line.split()[1])
    return words


def _check_token_lm(path: str, tokens: list[str]) -> None:
    """Without a lexicon the LM's words must be our tokens; a word LM would score every token as unknown.

    Only an ARPA file's vocabulary can be listed cheaply; a binary is taken on trust.
    """
    words = _arpa_unigrams(path) - LM_SPECIAL_WORDS
    if not words <= set(tokens):
        example = sorted(words - set(tokens))[:3]
        raise DecoderFileError(
            f"{path}: a word-level LM (words like {example}) needs a lexicon (decoder.lexicon); "
            f"lexicon-free decoding takes an LM over tokens with {WORD_TOKEN!r} between words"
        )


def _language_model(path: str | None, tokens: list[str], lexicon: str | None) -> str | KenLM | None:
    """``ctc_decoder``'s ``lm``: the path of a word LM (read over the lexicon's words) or a token LM over our ids.

    Lexicon-free, flashlight hands token ids to the LM, but torchaudio would build
    that LM's dictionary in hash order, not token order; it is built here instead.
    """
    if path is None:
        return None
    if _lm_format(path) == "arpa" and not lexicon:
        _check_token_lm(path, tokens)
    if lexicon:
        return path
    _, kenlm, dictionary = _flashlight()
    return kenlm(path, dictionary(tokens))


def _spelled_path(
    tokens: list[int], frames: list[int], words: list[str], spellings: dict[str, list[list[int]]], space: int
) -> tuple[list[int], list[int]]:
    """The tokens and frames of a lexicon search's path, rebuilt so that they spell its words.

    Flashlight returns the words it formed and the frame path behind them, whose
    tokens can differ from the words' spellings: two words joined with no ``|``
    between them, or a doubled letter emitted on adjacent frames with no blank,
    which the path collapses (``thre`` for ``three``). The text must be the words,
    so the tokens are their spellings with one separator between words; a token
    keeps the frame of the path token it matches, a letter missing from the path
    the frame before it. A word with no spelling (``<unk>``) leaves the path as it is.
    """
    rebuilt, timed, i = [], [], 0
    for k, word in enumerate(words):
        gap = None
        while i < len(tokens) and tokens[i] == space:
            gap, i = frames[i], i + 1
        if word not in spellings:
            return tokens, frames
        spelling = next((s for s in spellings[word] if tokens[i : i + len(s)] == s), spellings[word][0])
        here = frames[min(i, len(frames) - 1)]
        if k:
            rebuilt.append(space)
            timed.append(here if gap is None else gap)
        for token in spelling:
            if i < len(tokens) and tokens[i] == token:
                here, i = frames[i], i + 1
            rebuilt.append(token)
            timed.append(here)
    return rebuilt, timed


def _flashlight_decoder(tokens: list[str], lexicon: str | None, options: BeamSearchOptions) -> CTCDecoder:
    """torchaudio's flashlight decoder over ``tokens``, with ``lexicon`` (a file) and the options' LM."""
    ctc_decoder, _, _ = _flashlight()
    try:
        return ctc_decoder(
            lexicon=lexicon,
            tokens=tokens,
            lm=_language_model(options.lm, tokens, lexicon),
            nbest=options.nbest,
            beam_size=options.beam_size,
            beam_size_token=options.beam_size_token,
            beam_threshold=options.beam_threshold,
            lm_weight=options.lm_weight,
            word_score=options.word_score,
            unk_score=options.unk_score,
            sil_score=options.sil_score,
            blank_token=BLANK_TOKEN,
            sil_token=WORD_TOKEN,
        )
    except RuntimeError as e:  # KenLM's load errors surface as RuntimeError
        if not options.lm:
            raise
        why = " ".join(line.strip() for line in str(e).splitlines() if line.strip())  # KenLM's whole message
        raise DecoderFileError(f"{options.lm}: cannot load language model: {why}") from e


class BeamSearchDecoder:
    """CTC prefix beam search (flashlight), with an optional n-gram LM and lexicon; see ``BeamSearchOptions``."""

    def __init__(self, tokenizer: Tokenizer, options: BeamSearchOptions | None = None):
        self.options = options = options or BeamSearchOptions()
        tokens = flashlight_tokens(tokenizer)
        self.space = tokens.index(WORD_TOKEN)
        self.separates_words = tokenizer.separator_id is not None  # word labels need no separator between them
        with tempfile.TemporaryDirectory() as scratch:  # flashlight reads a lexicon only from a file
            lexicon = options.lexicon
            if options.words is not None:
                lexicon = os.path.join(scratch, "lexicon.txt")
                write_lexicon(options.words, tokenizer, lexicon)
            self.spellings = read_lexicon(lexicon, tokens) if lexicon else None
            self._decoder = _flashlight_decoder(tokens, lexicon, options)

    def decode(self, log_probs: torch.Tensor, lengths: torch.Tensor) -> list[Hypothesis]:
        """Best hypothesis for each utterance of a (B, T, V) batch of CTC log-probabilities."""
        return [best[0] if best else Hypothesis([], [], -math.inf) for best in self.decode_nbest(log_probs, lengths)]

    def decode_nbest(self, log_probs: torch.Tensor, lengths: torch.Tensor) -> list[list[Hypothesis]]:
        """Up to ``nbest`` hypotheses for each utterance, best first."""
        emissions = log_probs.detach().float().cpu().contiguous()
        results = self._decoder(emissions, lengths.detach().cpu().to(torch.int32))
        return [[self._hypothesis(h) for h in nbest] for nbest in results]

    def _hypothesis(self, hyp: CTCHypothesis) -> Hypothesis:
        # Flashlight brackets its frame labels with a "|" before the first frame and after the last,
        # so timestep t is frame t - 1; those edge separators (and any real ones) are dropped.
        tokens, frames = hyp.tokens.tolist(), (hyp.timesteps - 1).tolist()
        first = next((i for i, t in enumerate(tokens) if t != self.space), len(tokens))
        last = max((i + 1 for i, t in enumerate(tokens) if t != self.space), default=first)
        tokens, frames = tokens[first:last], frames[first:last]
        if self.spellings is not None and self.separates_words:
            tokens, frames = _spelled_path(tokens, frames, hyp.words, self.spellings, self.space)
        return Hypothesis(tokens, frames, float(hyp.score))
