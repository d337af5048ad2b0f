"""An evaluation's errors laid out for a person (``asr evaluate --report DIR``).

From the per-utterance results ``asr.evaluation.evaluate`` already scored (jiwer's alignments, kept as
``WordEdits``), this groups the errors by speaker and by utterance length, counts which words were
substituted for which, deleted and inserted, and picks the worst utterances. ``write_report`` writes
``report.md`` (a page with relative links to PNG charts beside it), the charts, and ``report.json`` (the same
numbers, its ``totals`` exactly the ``--summary`` file's) for scripts such as a cross-speaker table.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from asr import plots
from asr.evaluation import EvaluationReport, UtteranceResult
from asr.metrics import ErrorCounts
from asr.outputs import atomic_write

MARKDOWN = "report.md"
JSON = "report.json"
SPEAKER_PLOT = "wer_by_speaker.png"
LENGTH_PLOT = "wer_by_length.png"
FILES = (MARKDOWN, JSON, SPEAKER_PLOT, LENGTH_PLOT)  # all a report writes (the charts only with matplotlib)
NO_SPEAKER = "(none)"  # the group of rows whose manifest line has no "speaker"
MAX_SPEAKERS_SHOWN = 30  # in report.md and its chart; report.json has every speaker


@dataclass
class GroupErrors:
    """Error totals of one group of utterances (a speaker, a length bin)."""

    name: str
    utterances: int = 0
    audio_seconds: float = 0.0
    words: ErrorCounts = field(default_factory=ErrorCounts)
    chars: ErrorCounts = field(default_factory=ErrorCounts)

    def add(self, result: UtteranceResult) -> None:
        self.utterances += 1
        self.audio_seconds += result.duration
        self.words += result.words
        self.chars += result.chars

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "utterances": self.utterances,
            "audio_seconds": self.audio_seconds,
            "wer": self.words.rate,
            "cer": self.chars.rate,
            "words": self.words.as_dict(),
            "chars": self.chars.as_dict(),
        }


def length_bin(words: int) -> str:
    """The utterance-length bin of a reference of ``words`` words: 0, 1, 2, 3-4, 5-8, 9-16, ... (doubling)."""
    if words <= 2:
        return str(words)
    high = 1 << (words - 1).bit_length()
    return f"{high // 2 + 1}-{high}"


def _groups(results: Iterable[UtteranceResult], key: Callable[[UtteranceResult], str]) -> dict[str, GroupErrors]:
    groups: dict[str, GroupErrors] = {}
    for result in results:
        name = key(result)
        groups.setdefault(name, GroupErrors(name)).add(result)
    return groups


@dataclass
class ErrorAnalysis:
    """What ``report.md`` and ``report.json`` show: totals, groups, the most frequent edits, the worst utterances."""

    totals: EvaluationReport
    speakers: list[GroupErrors]  # the worst WER first
    lengths: list[GroupErrors]  # shortest first
    substitutions: list[tuple[tuple[str, str], int]]  # ((reference word, hypothesis word), count), most first
    deletions: list[tuple[str, int]]
    insertions: list[tuple[str, int]]
    worst: list[UtteranceResult]  # most word errors first
    unnamed_speakers: int  # utterances without a speaker field, counted under NO_SPEAKER

    def as_dict(self) -> dict[str, Any]:
        return {
            "totals": self.totals.as_dict(),
            "speakers": [g.as_dict() for g in self.speakers],
            "utterances_without_speaker": self.unnamed_speakers,
            "by_reference_words": [g.as_dict() for g in self.lengths],
            "substitutions": [{"reference": r, "hypothesis": h, "count": n} for (r, h), n in self.substitutions],
            "deletions": [{"word": w, "count": n} for w, n in self.deletions],
            "insertions": [{"word": w, "count": n} for w, n in self.insertions],
            "worst_utterances": [r.as_dict() for r in self.worst],
        }


def analyse(report: EvaluationReport, top: int = 20, worst: int = 10) -> ErrorAnalysis:
    """Group ``report.results`` by speaker and reference length; the ``top`` most frequent substitutions,
    deletions and insertions; the ``worst`` utterances by word errors (then WER), perfect ones never."""
    results = report.results
    speakers = _groups(results, lambda r: r.speaker or NO_SPEAKER)
    by_length = sorted(results, key=lambda r: r.words.reference_length)
    lengths = _groups(by_length, lambda r: length_bin(r.words.reference_length))
    substitutions, deletions, insertions = Counter(), Counter(), Counter()
    for result in results:
        substitutions.update(result.edits.substitutions)
        deletions.update(result.edits.deletions)
        insertions.update(result.edits.insertions)
    wrong = [r for r in results if r.words.errors]
    return ErrorAnalysis(
        totals=report,
        speakers=sorted(speakers.values(), key=lambda g: (-g.words.rate, g.name)),
        lengths=list(lengths.values()),
        substitutions=substitutions.most_common(top),
        deletions=deletions.most_common(top),
        insertions=insertions.most_common(top),
        worst=sorted(wrong, key=lambda r: (-r.words.errors, -r.words.rate))[:worst],
        unnamed_speakers=sum(1 for r in results if not r.speaker),
    )


def write_report(
    analysis: ErrorAnalysis, folder: str | os.PathLike, source: Mapping[str, str] | None = None
) -> tuple[list[Path], str | None]:
    """Write ``report.md``, ``report.json`` and (with matplotlib) the charts into ``folder``; ``source`` (what
    was evaluated: model, manifest, decoder) heads both. Returns the files written and, without matplotlib,
    the notice saying why the charts are missing."""
    folder, source = Path(folder), dict(source or {})
    notice = plots.missing()
    charts = [] if notice else _draw(analysis, folder)
    with atomic_write(folder / JSON) as f:
        json.dump({"source": source, **analysis.as_dict(), "plots": charts}, f, indent=2, ensure_ascii=False)
        f.write("\n")
    with atomic_write(folder / MARKDOWN) as f:
        f.write(markdown(analysis, source, charts, notice))
    return [folder / MARKDOWN, folder / JSON, *(folder / c for c in charts)], notice


def _draw(analysis: ErrorAnalysis, folder: Path) -> list[str]:
    """Draw the charts; their file names (none when nothing was scored)."""
    if not analysis.totals.utterances:
        return []
    shown = analysis.speakers[:MAX_SPEAKERS_SHOWN]
    some = f" (the {len(shown)} worst)" if len(shown) < len(analysis.speakers) else ""
    plots.bar_chart(
        folder / SPEAKER_PLOT, [g.name for g in shown], [100 * g.words.rate for g in shown],
        title=f"WER per speaker{some}", xlabel="speaker", ylabel="WER (%)",
    )  # fmt: skip
    plots.bar_chart(
        folder / LENGTH_PLOT, [g.name for g in analysis.lengths], [100 * g.words.rate for g in analysis.lengths],
        title="WER by utterance length", xlabel="reference words", ylabel="WER (%)",
    )  # fmt: skip
    return [SPEAKER_PLOT, LENGTH_PLOT]


def _percent(counts: ErrorCounts) -> str:
    return f"{100 * counts.rate:.2f}%"


def _cell(value: object) -> str:
    """A Markdown table cell: pipes escaped, one line."""
    return str(value).replace("|", "\\|").replace("\n", " ")


def _table(header: list[str], rows: list[Iterable[object]]) -> list[str]:
    """A Markdown table, or "None." without rows."""
    if not rows:
        return ["None.", ""]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return [*lines, *("| " + " | ".join(_cell(v) for v in row) + " |" for row in rows), ""]


def _group_table(first: str, groups: Iterable[GroupErrors]) -> list[str]:
    header = [first, "utterances", "words", "WER", "S", "D", "I", "CER"]
    rows = [
        [g.name, g.utterances, g.words.reference_length, _percent(g.words), g.words.substitutions,
         g.words.deletions, g.words.insertions, _percent(g.chars)]
        for g in groups
    ]  # fmt: skip
    return _table(header, rows)


def markdown(analysis: ErrorAnalysis, source: Mapping[str, str], charts: list[str], notice: str | None) -> str:
    """The report page: totals, per speaker, by length, the most frequent edits, the worst utterances."""
    totals = analysis.totals
    lines = ["# Evaluation report", "", *(f"- {key}: `{value}`" for key, value in source.items()), ""]
    lines += ["```", totals.summary(), "```", ""]
    if notice:
        lines += [f"*{notice}.*", ""]
    if not totals.utterances:
        return "\n".join(lines)
    lines += ["## Per speaker", ""]
    if analysis.unnamed_speakers:
        lines += [f"{analysis.unnamed_speakers} utterance(s) without a `speaker` in the manifest: {NO_SPEAKER}.", ""]
    if SPEAKER_PLOT in charts:
        lines += [f"![WER per speaker]({SPEAKER_PLOT})", ""]
    shown = analysis.speakers[:MAX_SPEAKERS_SHOWN]
    lines += _group_table("speaker", shown)
    if len(shown) < len(analysis.speakers):
        lines += [f"The {len(shown)} worst of {len(analysis.speakers)} speakers; {JSON} has every one.", ""]
    lines += ["## By utterance length", ""]
    if LENGTH_PLOT in charts:
        lines += [f"![WER by utterance length]({LENGTH_PLOT})", ""]
    lines += _group_table("reference words", analysis.lengths)
    lines += ["## Most frequent substitutions", ""]
    lines += _table(["reference", "hypothesis", "count"], [[r, h, n] for (r, h), n in analysis.substitutions])
    lines += ["## Most deleted words", "", *_table(["word", "count"], analysis.deletions)]
    lines += ["## Most inserted words", "", *_table(["word", "count"], analysis.insertions)]
    lines += ["## Worst utterances", ""]
    worst = [
        [r.id or "", _percent(r.words), f"{r.words.substitutions}/{r.words.deletions}/{r.words.insertions}",
         r.reference, r.hypothesis, r.audio_filepath]
        for r in analysis.worst
    ]  # fmt: skip
    lines += _table(["id", "WER", "S/D/I", "reference", "hypothesis", "audio"], worst)
    return "\n".join(lines)
