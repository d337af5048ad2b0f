"""`asr evaluate --report DIR`: a page of the errors with PNG charts and the same numbers as JSON."""

import json
import sys
from pathlib import Path

import pytest
from image_utils import assert_png

from asr.audio import AudioSource
from asr.cli.main import main
from asr.data.manifest import Utterance
from asr.evaluation import EvaluationReport, UtteranceResult
from asr.report import NO_SPEAKER, analyse, length_bin, write_report

MODEL = Path(__file__).parent / "fixtures" / "tiny_model.pt"


def hand_made(rows: list[tuple[str | None, str, str]]) -> EvaluationReport:
    """An evaluation of (speaker, reference, hypothesis) rows, scored as ``evaluate`` scores them."""
    report = EvaluationReport()
    for i, (speaker, reference, hypothesis) in enumerate(rows):
        utterance = Utterance(AudioSource(f"{i}.wav"), 1.0, reference, speaker=speaker, id=f"u{i}")
        result = UtteranceResult.score(utterance, reference, hypothesis, 1.0)
        report.results.append(result)
        report.words += result.words
        report.chars += result.chars
        report.utterances += 1
        report.audio_seconds += 1.0
    return report


ROWS = [
    ("ann", "one two three", "one too three"),
    ("ann", "two", "too"),
    ("bob", "four five six seven eight", "for five six seven eight nine"),
    ("bob", "one two", "one"),
    (None, "three", "three"),
]


def test_length_bins_double():
    assert [length_bin(n) for n in (0, 1, 2, 3, 4, 5, 8, 9, 16, 17)] == [
        "0", "1", "2", "3-4", "3-4", "5-8", "5-8", "9-16", "9-16", "17-32"
    ]  # fmt: skip


def test_confusion_pairs_deletions_insertions_and_worst_of_a_hand_made_evaluation():
    analysis = analyse(hand_made(ROWS), top=2, worst=3)
    assert analysis.substitutions == [(("two", "too"), 2), (("four", "for"), 1)]
    assert analysis.deletions == [("two", 1)] and analysis.insertions == [("nine", 1)]
    # most word errors first, then the higher WER; the perfect utterance is never among the worst
    assert [r.id for r in analysis.worst] == ["u2", "u1", "u3"]
    speakers = {g.name: g for g in analysis.speakers}
    assert set(speakers) == {"ann", "bob", NO_SPEAKER} and analysis.unnamed_speakers == 1
    assert (speakers["ann"].words.errors, speakers["ann"].words.reference_length) == (2, 4)
    assert [g.name for g in analysis.speakers] == ["ann", "bob", NO_SPEAKER]  # worst WER first: 2/4, 3/7, 0/1
    assert [(g.name, g.utterances) for g in analysis.lengths] == [("1", 2), ("2", 1), ("3-4", 1), ("5-8", 1)]


def test_without_matplotlib_the_report_is_written_without_charts_and_says_why(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib raises ImportError
    written, notice = write_report(analyse(hand_made(ROWS)), tmp_path / "r", {"model": "m.pt"})
    assert sorted(p.name for p in written) == ["report.json", "report.md"]
    assert sorted(p.name for p in (tmp_path / "r").iterdir()) == ["report.json", "report.md"]
    assert "asr-bilstm[report]" in notice and "\n" not in notice
    page = (tmp_path / "r" / "report.md").read_text()
    assert notice in page and "![" not in page and "| two | too | 2 |" in page
    assert json.loads((tmp_path / "r" / "report.json").read_text())["plots"] == []


@pytest.fixture
def manifest(fsdd_dir, tmp_path):
    """Six FSDD recordings of three speakers, one row without a speaker; references of 1 and 3 words."""
    rows = [
        {"id": f"{name}-{i}", "audio_filepath": str(fsdd_dir / f"{i}_{name}_0.wav"), "duration": 0.5,
         "text": text, "speaker": name}
        for name in ("jackson", "george", "lucas")
        for i, text in ((1, "one"), (2, "two three four"))
    ]  # fmt: skip
    rows[-1].pop("speaker")
    path = tmp_path / "m.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_evaluate_writes_a_report_whose_numbers_are_the_summary(manifest, tmp_path, capsys):
    out = tmp_path / "report"
    summary, per_utterance = tmp_path / "s.json", tmp_path / "p.jsonl"
    args = ["--summary", str(summary), "--per-utterance", str(per_utterance), "--report", str(out)]
    assert main(["evaluate", str(MODEL), str(manifest), *args]) == 0
    assert f"error report: {out / 'report.md'}" in capsys.readouterr().out
    charts = ["wer_by_length.png", "wer_by_speaker.png"]
    assert sorted(p.name for p in out.iterdir()) == ["report.json", "report.md", *charts]
    for png in charts:
        assert_png(out / png)
    report = json.loads((out / "report.json").read_text())
    totals = json.loads(summary.read_text())
    assert report["totals"] == totals and report["source"]["model"] == str(MODEL)
    for groups in ("speakers", "by_reference_words"):
        for unit in ("words", "chars"):
            for key in ("substitutions", "deletions", "insertions", "hits"):
                assert sum(g[unit][key] for g in report[groups]) == totals[unit][key], (groups, unit, key)
    assert {g["name"] for g in report["speakers"]} == {"jackson", "george", "lucas", NO_SPEAKER}
    assert report["utterances_without_speaker"] == 1
    assert sum(s["count"] for s in report["substitutions"]) == totals["words"]["substitutions"]
    rows = [json.loads(line) for line in per_utterance.read_text().splitlines()]
    assert [r["speaker"] for r in rows] == ["jackson", "jackson", "george", "george", "lucas", None]
    page = (out / "report.md").read_text()
    for section in ("Per speaker", "By utterance length", "Most frequent substitutions", "Worst utterances"):
        assert f"## {section}" in page
    assert "](wer_by_speaker.png)" in page and "](wer_by_length.png)" in page  # relative links, beside the page
    worst = report["worst_utterances"][0]
    assert f"| {worst['id']} |" in page and worst["audio_filepath"] in page


def test_a_report_folder_that_is_a_file_is_refused_before_any_work(manifest, tmp_path, capsys):
    taken = tmp_path / "file"
    taken.write_text("x")
    assert main(["evaluate", str(MODEL), str(manifest), "--report", str(taken)]) == 2
    assert capsys.readouterr().err.strip() == f"error: {taken}: is a file, not a folder"
    summary = tmp_path / "r" / "report.json"
    args = ["--summary", str(summary), "--report", str(summary.parent)]
    assert main(["evaluate", str(MODEL), str(manifest), *args]) == 2
    assert "is also an input" in capsys.readouterr().err and not summary.exists()


def test_evaluate_without_matplotlib_says_which_extra_draws_the_charts(manifest, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    args = ["--per-utterance", str(tmp_path / "p.jsonl"), "--report", str(tmp_path / "r")]
    assert main(["evaluate", str(MODEL), str(manifest), *args]) == 0
    assert "note: matplotlib is not installed" in capsys.readouterr().err
    assert sorted(p.name for p in (tmp_path / "r").iterdir()) == ["report.json", "report.md"]
