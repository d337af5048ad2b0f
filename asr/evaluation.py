"""Scoring a model on a manifest: corpus WER/CER with S/D/I, and one result (a JSON line) per utterance."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tqdm import tqdm

from asr.data.manifest import Manifest, Utterance
from asr.metrics import ErrorCounts, WordEdits, align_words, char_errors
from asr.outputs import atomic_write
from asr.results import Transcript
from asr.text import UnspellableError, normalize_text
from asr.text.normalize import DESCRIPTION as NORMALIZATION
from asr.vtln import transcribe_warped

if TYPE_CHECKING:  # evaluation is given the engine; it does not import it
    from asr.inference import Transcriber


@dataclass
class UtteranceResult:
    """One scored utterance: its normalized reference and hypothesis, their error counts and word edits."""

    id: str | None
    audio_filepath: str
    speaker: str | None
    duration: float
    reference: str
    hypothesis: str
    words: ErrorCounts
    chars: ErrorCounts
    edits: WordEdits

    @classmethod
    def score(cls, utterance: Utterance, reference: str, hypothesis: str, duration: float) -> UtteranceResult:
        """Align the normalized ``reference`` and ``hypothesis`` of ``utterance`` (``duration`` seconds long)."""
        (words, edits), chars = align_words(reference, hypothesis), char_errors(reference, hypothesis)
        u = utterance
        return cls(u.id, u.audio_filepath, u.speaker, duration, reference, hypothesis, words, chars, edits)

    def as_dict(self) -> dict[str, Any]:
        """The utterance's line in the ``--per-utterance`` file."""
        return {
            "id": self.id,
            "audio_filepath": self.audio_filepath,
            "speaker": self.speaker,
            "duration": self.duration,
            "reference": self.reference,
            "hypothesis": self.hypothesis,
            "word_errors": self.words.as_dict(),
            "char_errors": self.chars.as_dict(),
        }


@dataclass
class EvaluationReport:
    """Corpus totals, the rows skipped as malformed, the utterances whose audio could not be read, and the
    result of every scored utterance (``results``, in manifest order; not part of the totals' dictionary)."""

    words: ErrorCounts = field(default_factory=ErrorCounts)
    chars: ErrorCounts = field(default_factory=ErrorCounts)
    utterances: int = 0
    audio_seconds: float = 0.0
    wall_seconds: float = 0.0
    skipped_rows: int = 0
    failed: list[str] = field(default_factory=list)
    warps: dict[str, float] = field(default_factory=dict)  # speaker -> the VTLN warp chosen (``asr.vtln``)
    results: list[UtteranceResult] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "wer": self.words.rate if self.utterances else None,  # nothing scored: no rate, not a perfect one
            "cer": self.chars.rate if self.utterances else None,
            "words": self.words.as_dict(),
            "chars": self.chars.as_dict(),
            "utterances": self.utterances,
            "audio_seconds": self.audio_seconds,
            "real_time_factor": self.wall_seconds / self.audio_seconds if self.audio_seconds else None,
            "skipped_rows": self.skipped_rows,
            "failed": self.failed,
            "vtln_warps": self.warps or None,
            "normalization": NORMALIZATION,
        }

    def summary(self) -> str:
        lines = [
            f"WER {_rate_line(self.words, self.utterances)}",
            f"CER {_rate_line(self.chars, self.utterances)}",
            f"{self.utterances} utterances, {self.audio_seconds / 3600:.3f} h of audio, "
            f"{self.audio_seconds / max(self.wall_seconds, 1e-9):.1f}x real time",
            f"scored on normalized text: {NORMALIZATION}",
        ]
        if self.warps:
            shown = ", ".join(f"{speaker} {factor:g}" for speaker, factor in list(self.warps.items())[:10])
            more = f" and {len(self.warps) - 10} more" if len(self.warps) > 10 else ""
            lines.append(f"vocal tract warp per speaker: {shown}{more}")
        if self.skipped_rows:
            lines.append(f"{self.skipped_rows} malformed manifest row(s) skipped")
        if self.failed:
            lines.append(f"{len(self.failed)} utterance(s) failed: " + "; ".join(self.failed[:5]))
        return "\n".join(lines)


def _rate_line(c: ErrorCounts, scored: int) -> str:
    if not scored:
        return "n/a (no utterance scored)"
    return (
        f"{100 * c.rate:.2f}% ({c.errors}/{c.reference_length}: S={c.substitutions} D={c.deletions} I={c.insertions})"
    )


def evaluate(
    transcriber: Transcriber,
    manifest: Manifest,
    per_utterance_path: str | os.PathLike | None = None,
    progress: bool = False,
    vtln: Sequence[float] | None = None,
) -> EvaluationReport:
    """Transcribe every utterance of ``manifest`` and score it against its normalized reference text; with
    ``vtln`` (warp factors), each speaker's utterances under its own warp (``asr.vtln``)."""
    report = EvaluationReport(skipped_rows=len(manifest.skipped))
    sources = [u.audio for u in manifest.utterances]
    start = time.perf_counter()
    if vtln:
        transcripts: Iterable[Transcript] = _warped_by_speaker(transcriber, manifest, vtln, report.warps, progress)
    else:
        transcripts = transcriber.transcribe(sources, progress=progress)
    with ExitStack() as stack:
        out = stack.enter_context(atomic_write(per_utterance_path)) if per_utterance_path else None
        for utt, result in zip(manifest.utterances, transcripts):
            if result.error:
                report.failed.append(result.error)
                continue
            try:
                reference = normalize_text(utt.text)
            except UnspellableError as e:
                report.failed.append(f"{utt.id or utt.audio_filepath}: reference text: {e}")
                continue
            hypothesis = normalize_text(result.text)
            scored = UtteranceResult.score(utt, reference, hypothesis, result.duration)
            report.results.append(scored)
            report.words += scored.words
            report.chars += scored.chars
            report.utterances += 1
            report.audio_seconds += result.duration
            if out:
                out.write(json.dumps(scored.as_dict(), ensure_ascii=False) + "\n")
    report.wall_seconds = time.perf_counter() - start
    return report


def _warped_by_speaker(
    transcriber: Transcriber,
    manifest: Manifest,
    factors: Sequence[float],
    warps: dict[str, float],
    progress: bool = False,
) -> list[Transcript]:
    """Transcripts in manifest order, each speaker's under its own VTLN warp (recorded in ``warps`` where it was
    measured); a row
    without a speaker is a speaker of its own. ``progress`` shows a bar over speakers."""
    groups: dict[str, list[int]] = {}
    for index, utt in enumerate(manifest.utterances):
        groups.setdefault(utt.speaker or utt.id or utt.audio_filepath, []).append(index)
    by_row: dict[int, Transcript] = {}
    for speaker, rows in tqdm(groups.items(), desc="speakers (VTLN)", unit="speaker", disable=not progress):
        choice, warped = transcribe_warped(transcriber, [manifest.utterances[i].audio for i in rows], factors)
        if choice.measured:  # a speaker none of whose audio could be read has no warp to report
            warps[speaker] = choice.factor
        by_row.update(zip(rows, warped))
    return [by_row[index] for index in range(len(manifest.utterances))]
