"""N-gram language models in ARPA format, built from text with interpolated modified Kneser-Ney.

The pure-Python builder follows Chen & Goodman (1998) as KenLM's ``lmplz`` does, so that a
user without the KenLM binaries still gets a model the decoders (KenLM, flashlight) load:

- every non-empty normalized line is one sentence ``<s> w1 ... wk </s>``;
- the highest order uses raw counts; lower orders use continuation counts (how many distinct
  words precede the n-gram), except n-grams starting with ``<s>``, which nothing can precede
  and which keep their raw counts;
- each order has three discounts D1, D2, D3+ estimated from its count-of-counts n1..n4:
  ``Y = n1 / (n1 + 2 n2)``, ``Dk = k - (k + 1) Y n(k+1) / nk``;
- ``p(w|h) = (a(hw) - D(a(hw))) / a(h.) + gamma(h) p(w|h')`` with
  ``gamma(h) = sum_w D(a(hw)) / a(h.)``, recursing down to a uniform distribution over the
  vocabulary (every seen word, ``</s>`` and ``<unk>``, not ``<s>``); ``gamma(h)`` is the ARPA
  backoff weight of ``h``, so every context's distribution sums to one. ``<unk>`` gets only
  its share of the uniform mass, as in KenLM, and ``<s>`` is never predicted (log10 -99).

When an order's count-of-counts cannot give discounts with ``0 < Dk < k`` (tiny or artificial
text, where some ``nk`` is zero), that order uses :data:`FALLBACK_DISCOUNTS` and a warning says so.

Any order from 1 up is written; KenLM, and so the flashlight decoder, loads order 2 and up.
"""

from __future__ import annotations

import io
import logging
import math
import os
import shutil
import subprocess
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal, TextIO

from asr.outputs import atomic_write
from asr.text import UnspellableError, normalize_text

log = logging.getLogger(__name__)

BOS, EOS, UNK = "<s>", "</s>", "<unk>"
FALLBACK_DISCOUNTS = (0.5, 1.0, 1.5)
"""D1, D2, D3+ used when an order's discounts cannot be estimated: KenLM's ``--discount_fallback`` defaults."""

Ngram = tuple[str, ...]
UseLmplz = Literal["auto", "never", "always"]


class LMBuildError(ValueError):
    """Text or settings from which no language model can be built."""


@dataclass(frozen=True)
class Discounts:
    """Modified Kneser-Ney discounts of one order, and whether they were estimated from the counts."""

    d1: float
    d2: float
    d3: float
    estimated: bool = True

    def __call__(self, count: int) -> float:
        """The discount subtracted from an n-gram seen ``count`` times."""
        return self.d1 if count == 1 else self.d2 if count == 2 else self.d3


@dataclass(frozen=True)
class LMSummary:
    """What a build produced: n-grams per order (as in the ARPA header) and the lines it used."""

    order: int
    ngram_counts: tuple[int, ...]
    lines: int
    empty_lines: int
    backend: Literal["python", "lmplz"]
    discounts: tuple[Discounts, ...] = ()  # per order; empty when lmplz built the model

    def __str__(self) -> str:
        counts = ", ".join(f"{n}-grams {c}" for n, c in enumerate(self.ngram_counts, start=1))
        return (
            f"{self.order}-gram model by {self.backend}: {counts}; "
            f"{self.lines} lines used, {self.empty_lines} skipped (no words after normalization, "
            "or a number whose reading is unclear, each logged)"
        )


def normalized_sentences(lines: Iterable[str]) -> tuple[list[tuple[str, ...]], int]:
    """Normalize each line into words; return the non-empty sentences and how many lines were skipped:
    those with no words, and those with a number whose reading is unclear (logged, with the number)."""
    sentences, empty = [], 0
    for number, line in enumerate(lines, start=1):
        try:
            words = tuple(normalize_text(line).split())
        except UnspellableError as e:
            log.warning("LM text line %d: skipped: %s", number, e)
            words = ()
        if words:
            sentences.append(words)
        else:
            empty += 1
    return sentences, empty


def kneser_ney_counts(sentences: Iterable[tuple[str, ...]], order: int) -> list[Counter[Ngram]]:
    """Counts by order (index 0 holds unigrams): raw at the highest order and for ``<s>``-initial
    n-grams, continuation counts (distinct preceding words) elsewhere."""
    padded = [(BOS, *words, EOS) for words in sentences]
    counts: list[Counter[Ngram]] = [Counter() for _ in range(order)]
    counts[-1] = Counter(ngram for s in padded for ngram in zip(*(s[i:] for i in range(order))))
    for n in range(order - 1, 0, -1):
        # No suffix ng[1:] starts with <s>, so adding the raw <s>-initial counts sets them.
        counts[n - 1] = Counter(ngram[1:] for ngram in counts[n])
        counts[n - 1].update(s[:n] for s in padded if len(s) >= n)
    return counts


def estimate_discounts(count_of_counts: Mapping[int, int], order: int = 0) -> Discounts:
    """D1, D2, D3+ from how many n-grams have count 1..4; the fallback when that is undefined or out of range.

    ``order`` only names the n-grams in the warning.
    """
    n = [count_of_counts.get(k, 0) for k in range(5)]
    if 0 in n[1:4]:
        reason = f"count-of-counts n1..n3 = {n[1:4]} include a zero"
    else:
        y = n[1] / (n[1] + 2 * n[2])
        found = tuple(k - (k + 1) * y * n[k + 1] / n[k] for k in (1, 2, 3))
        if all(0 < d < k for k, d in zip((1, 2, 3), found)):
            return Discounts(*found)
        reason = f"estimated discounts {', '.join(f'{d:.3f}' for d in found)} are not within (0, k)"
    log.warning(
        "%d-grams: %s (small or artificial text?); using fallback discounts D1=%g D2=%g D3+=%g",
        order,
        reason,
        *FALLBACK_DISCOUNTS,
    )
    return Discounts(*FALLBACK_DISCOUNTS, estimated=False)


def _predicted(counts: Counter[Ngram]) -> Iterable[tuple[Ngram, int]]:
    """The n-grams whose last word is predicted: all but the unigram ``<s>``."""
    return ((ngram, c) for ngram, c in counts.items() if ngram != (BOS,))


def _context_totals(counts: Counter[Ngram], discounts: Discounts) -> dict[Ngram, tuple[int, float]]:
    """Per context h: the total count a(h.) and the discounted mass sum_w D(a(hw))."""
    total: defaultdict[Ngram, int] = defaultdict(int)
    mass: defaultdict[Ngram, float] = defaultdict(float)
    for ngram, c in _predicted(counts):
        total[ngram[:-1]] += c
        mass[ngram[:-1]] += discounts(c)
    return {h: (total[h], mass[h]) for h in total}


def interpolate(
    counts: list[Counter[Ngram]], discounts: list[Discounts]
) -> tuple[list[dict[Ngram, float]], dict[Ngram, float]]:
    """Interpolated probabilities by order (``<s>`` at 0, ``<unk>`` added) and backoff weights by context."""
    uniform = 1.0 / len(counts[0])  # the vocabulary: all unigrams but <s>, plus <unk>
    probs: list[dict[Ngram, float]] = []
    backoffs: dict[Ngram, float] = {}
    for n, (order_counts, d) in enumerate(zip(counts, discounts)):
        totals = _context_totals(order_counts, d)
        order_probs = {}
        for ngram, c in _predicted(order_counts):
            total, mass = totals[ngram[:-1]]
            lower = probs[n - 1][ngram[1:]] if n else uniform
            order_probs[ngram] = (c - d(c)) / total + mass / total * lower
        backoffs.update((h, mass / total) for h, (total, mass) in totals.items())
        probs.append(order_probs)
    probs[0][(BOS,)] = 0.0
    probs[0][(UNK,)] = backoffs.pop(()) * uniform
    return probs, backoffs


def _log10(p: float) -> str:
    return "-99" if p == 0.0 else f"{math.log10(p):.7g}"


def _write_arpa_sections(out: TextIO, probs: list[dict[Ngram, float]], backoffs: dict[Ngram, float]) -> None:
    """The ARPA text: counts header, then each order's n-grams sorted, with backoffs below the top order."""
    out.write("\\data\\\n")
    for n, order_probs in enumerate(probs, start=1):
        out.write(f"ngram {n}={len(order_probs)}\n")
    for n, order_probs in enumerate(probs, start=1):
        out.write(f"\n\\{n}-grams:\n")
        with_backoff = n < len(probs)
        for ngram in sorted(order_probs):
            line = f"{_log10(order_probs[ngram])}\t{' '.join(ngram)}"
            if with_backoff:
                line += f"\t{_log10(backoffs.get(ngram, 1.0))}"
            out.write(line + "\n")
    out.write("\n\\end\\\n")


def _check_order(order: int) -> None:
    if not isinstance(order, int) or order < 1:
        raise LMBuildError(f"order must be a positive integer, not {order!r}")


KENLM_MAX_ORDER = 6  # the highest order the KenLM inside flashlight-text (the beam decoder's) is compiled for


def _sentences_or_error(lines: Iterable[str]) -> tuple[list[tuple[str, ...]], int]:
    sentences, empty = normalized_sentences(lines)
    if not sentences:
        raise LMBuildError(f"no words to build a language model from ({empty} lines, all empty after normalization)")
    return sentences, empty


def _write_model(sentences: list[tuple[str, ...]], empty: int, out: TextIO, order: int) -> LMSummary:
    """Count, discount, interpolate and write: the pure-Python builder on normalized sentences."""
    counts = kneser_ney_counts(sentences, order)
    discounts = [
        estimate_discounts(Counter(c for _, c in _predicted(order_counts)), n)
        for n, order_counts in enumerate(counts, start=1)
    ]
    probs, backoffs = interpolate(counts, discounts)
    _write_arpa_sections(out, probs, backoffs)
    return LMSummary(order, tuple(map(len, probs)), len(sentences), empty, "python", tuple(discounts))


def write_arpa(lines: Iterable[str], out: TextIO, order: int = 3) -> LMSummary:
    """Write an interpolated modified Kneser-Ney ARPA model of ``lines`` (one sentence each) to ``out``."""
    _check_order(order)
    return _write_model(*_sentences_or_error(lines), out, order)


def build_arpa(lines: Iterable[str], order: int = 3) -> str:
    """The ARPA text of an interpolated modified Kneser-Ney model of ``lines``; see :func:`write_arpa`."""
    out = io.StringIO()
    write_arpa(lines, out, order)
    return out.getvalue()


def arpa_header_counts(path: str | os.PathLike) -> tuple[int, ...]:
    """The n-gram counts an ARPA file's ``\\data\\`` header declares, by order."""
    counts = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("ngram "):
                counts.append(int(line.split("=", 1)[1]))
            elif line.rstrip().endswith("-grams:"):
                break
    return tuple(counts)


def _find_lmplz(use_lmplz: UseLmplz) -> str | None:
    """The lmplz executable to use, or None for the pure-Python builder."""
    if use_lmplz not in ("auto", "never", "always"):
        raise LMBuildError(f"use_lmplz must be auto, never or always, not {use_lmplz!r}")
    found = shutil.which("lmplz") if use_lmplz != "never" else None
    if use_lmplz == "always" and found is None:
        raise LMBuildError("KenLM's lmplz is not on PATH (use_lmplz='always'); install KenLM or use 'auto'")
    return found


def _run_lmplz(lmplz: str, sentences: list[tuple[str, ...]], out: TextIO, order: int) -> None:
    """Write the ARPA model to ``out`` with KenLM's lmplz from the already normalized sentences."""
    text = "".join(" ".join(words) + "\n" for words in sentences)
    command = [lmplz, "-o", str(order), "--discount_fallback"]
    try:
        result = subprocess.run(command, input=text, stdout=out, stderr=subprocess.PIPE, text=True, check=False)
    except OSError as e:
        raise LMBuildError(f"cannot run {lmplz}: {e}") from e
    if result.returncode != 0:
        raise LMBuildError(f"lmplz failed (exit {result.returncode}): {result.stderr.strip()[-1000:]}")


def build_lm(
    lines: Iterable[str], out_path: str | os.PathLike, order: int = 3, use_lmplz: UseLmplz = "auto"
) -> LMSummary:
    """Write an ARPA model of ``lines`` to ``out_path``: with KenLM's lmplz when it is on PATH and
    ``use_lmplz`` allows it ("auto", "always"), else with the pure-Python builder. The order is
    at most ``KENLM_MAX_ORDER``, the most the beam decoder loads.

    Lines are normalized with :func:`asr.text.normalize_text` either way. The file appears only when
    complete; a failed build leaves no partial file.
    """
    _check_order(order)
    if order > KENLM_MAX_ORDER:
        raise LMBuildError(f"order {order}: the beam decoder's KenLM loads models of order {KENLM_MAX_ORDER} at most")
    lmplz = _find_lmplz(use_lmplz)
    sentences, empty = _sentences_or_error(lines)
    with atomic_write(out_path) as f:
        if lmplz:
            _run_lmplz(lmplz, sentences, f, order)
        else:
            summary = _write_model(sentences, empty, f, order)
    if lmplz:
        return LMSummary(order, arpa_header_counts(out_path), len(sentences), empty, "lmplz")
    return summary
