"""Word and character error rates with substitution, deletion and insertion counts (via jiwer)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import jiwer


@dataclass
class ErrorCounts:
    """Edit-distance counts between reference and hypothesis sequences."""

    substitutions: int = 0
    deletions: int = 0
    insertions: int = 0
    hits: int = 0

    @property
    def errors(self) -> int:
        return self.substitutions + self.deletions + self.insertions

    @property
    def reference_length(self) -> int:
        return self.substitutions + self.deletions + self.hits

    @property
    def rate(self) -> float:
        """Errors per reference unit (0 if the reference is empty and nothing was inserted)."""
        n = self.reference_length
        return self.errors / n if n else float(self.errors > 0)

    def __add__(self, other: ErrorCounts) -> ErrorCounts:
        return ErrorCounts(*(a + b for a, b in zip(asdict(self).values(), asdict(other).values())))

    def as_dict(self) -> dict[str, float]:
        return {**asdict(self), "errors": self.errors, "reference_length": self.reference_length, "rate": self.rate}


def _counts(output) -> ErrorCounts:
    return ErrorCounts(output.substitutions, output.deletions, output.insertions, output.hits)


@dataclass(frozen=True)
class WordEdits:
    """The words an alignment substituted (reference word, hypothesis word), deleted and inserted, one entry
    per word: their counts are the S, D and I of ``ErrorCounts``."""

    substitutions: tuple[tuple[str, str], ...] = ()
    deletions: tuple[str, ...] = ()
    insertions: tuple[str, ...] = ()


def align_words(reference: str, hypothesis: str) -> tuple[ErrorCounts, WordEdits]:
    """Word-level edit counts of two whitespace-tokenized strings, and which words the edits were."""
    output = jiwer.process_words(reference, hypothesis)
    ref, hyp = output.references[0], output.hypotheses[0]
    substitutions, deletions, insertions = [], [], []
    # jiwer's collect_error_counts joins a run of edits into one phrase; here each word counts once.
    for chunk in output.alignments[0]:
        refs, hyps = ref[chunk.ref_start_idx : chunk.ref_end_idx], hyp[chunk.hyp_start_idx : chunk.hyp_end_idx]
        if chunk.type == "substitute":
            substitutions.extend(zip(refs, hyps))
        elif chunk.type == "delete":
            deletions.extend(refs)
        elif chunk.type == "insert":
            insertions.extend(hyps)
    return _counts(output), WordEdits(tuple(substitutions), tuple(deletions), tuple(insertions))


def word_errors(reference: str, hypothesis: str) -> ErrorCounts:
    """Word-level edit counts of two whitespace-tokenized strings."""
    return _counts(jiwer.process_words(reference, hypothesis))


def char_errors(reference: str, hypothesis: str) -> ErrorCounts:
    """Character-level edit counts (spaces included, as in the usual CER)."""
    return _counts(jiwer.process_characters(reference, hypothesis))


def corpus_errors(references: Sequence[str], hypotheses: Sequence[str]) -> tuple[ErrorCounts, ErrorCounts]:
    """Summed word and character error counts over aligned lists of strings."""
    if len(references) != len(hypotheses):
        raise ValueError(f"{len(references)} references but {len(hypotheses)} hypotheses")
    words, chars = ErrorCounts(), ErrorCounts()
    for ref, hyp in zip(references, hypotheses):
        words += word_errors(ref, hyp)
        chars += char_errors(ref, hyp)
    return words, chars
