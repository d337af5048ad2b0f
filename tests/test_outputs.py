"""Outputs are written whole or not at all, never over an input or each other; nothing scored is no score."""

import json
import os
import threading
from pathlib import Path

import pytest
from audio_utils import tone, write_wav

from asr.cli.main import main
from asr.outputs import OutputError, atomic_write, refuse_inputs

MODEL = Path(__file__).parent / "fixtures" / "tiny_model.pt"


def test_atomic_write_keeps_the_old_file_until_the_new_one_is_complete(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old\n")
    with pytest.raises(RuntimeError):
        with atomic_write(target) as f:
            f.write("half of the new")
            assert target.read_text() == "old\n"
            raise RuntimeError("killed")
    assert target.read_text() == "old\n" and os.listdir(tmp_path) == ["out.txt"]
    with atomic_write(target) as f:
        f.write("new\n")
    assert target.read_text() == "new\n" and os.listdir(tmp_path) == ["out.txt"]


def test_concurrent_writers_of_one_path_leave_one_whole_file(tmp_path):
    target = tmp_path / "out.txt"
    barrier = threading.Barrier(2)

    def write(text: str) -> None:
        with atomic_write(target) as f:
            f.write(text[:500])
            barrier.wait()  # both files are open and half written
            f.write(text[500:])

    texts = ["a" * 1000 + "\n", "b" * 1000 + "\n"]
    threads = [threading.Thread(target=write, args=(t,)) for t in texts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert target.read_text() in texts and os.listdir(tmp_path) == ["out.txt"]


def test_an_output_that_is_an_input_is_refused(tmp_path):
    a = tmp_path / "a.wav"
    a.write_bytes(b"x")
    with pytest.raises(OutputError, match="a.wav is also an input"):
        refuse_inputs(tmp_path / "sub" / ".." / "a.wav", [a])
    os.symlink(a, tmp_path / "link.wav")
    with pytest.raises(OutputError):
        refuse_inputs(tmp_path / "link.wav", [a])
    refuse_inputs(tmp_path / "b.txt", [a])


def test_transcribe_never_writes_over_an_input(tmp_path, capsys):
    wav = write_wav(tmp_path / "a.wav", tone(1.0))
    before = wav.read_bytes()
    assert main(["transcribe", str(MODEL), str(wav), "-o", str(wav)]) == 2
    assert "is also an input" in capsys.readouterr().err and wav.read_bytes() == before
    manifest = tmp_path / "m.jsonl"
    manifest.write_text(json.dumps({"audio_filepath": "a.wav", "duration": 1.0, "text": "one"}) + "\n")
    assert main(["transcribe", str(MODEL), "--manifest", str(manifest), "-o", str(manifest)]) == 2
    assert json.loads(manifest.read_text())["text"] == "one"
    assert main(["transcribe", str(MODEL), str(wav), "-o", str(MODEL)]) == 2


def test_output_dir_names_never_collide(tmp_path):
    first = write_wav(tmp_path / "x" / "same.wav", tone(0.8))
    second = write_wav(tmp_path / "y" / "same.wav", tone(1.2, freq=300.0))
    segments = tmp_path / "segments.jsonl"
    rows = [{"audio_filepath": str(second), "offset": o, "duration": 0.4, "text": "one"} for o in (0.1, 0.6)]
    segments.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "out"
    inputs = [str(first), str(second), "--manifest", str(segments)]
    assert main(["transcribe", str(MODEL), *inputs, "--format", "jsonl", "--output-dir", str(out)]) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == ["0-same.jsonl", "1-same.jsonl", "2-same.jsonl", "3-same.jsonl"]
    durations = [json.loads((out / name).read_text())["duration"] for name in names]
    assert durations == pytest.approx([0.8, 1.2, 0.4, 0.4], abs=0.01)


def test_evaluate_never_writes_over_its_manifest(tmp_path, capsys):
    write_wav(tmp_path / "a.wav", tone(1.0))
    manifest = tmp_path / "m.jsonl"
    manifest.write_text(json.dumps({"audio_filepath": "a.wav", "duration": 1.0, "text": "one"}) + "\n")
    before = manifest.read_text()
    assert main(["evaluate", str(MODEL), str(manifest), "--per-utterance", str(manifest)]) == 2
    assert manifest.read_text() == before and "is also an input" in capsys.readouterr().err
    same = str(tmp_path / "p.jsonl")
    assert main(["evaluate", str(MODEL), str(manifest), "--per-utterance", same, "--summary", same]) == 2


@pytest.mark.parametrize("rows", [[], [{"audio_filepath": "gone.wav", "duration": 1.0, "text": "one"}]])
def test_evaluating_nothing_is_an_error_with_no_rate(tmp_path, capsys, rows):
    manifest = tmp_path / "m.jsonl"
    manifest.write_text("".join(json.dumps(r) + "\n" for r in rows))
    summary = tmp_path / "s.json"
    outputs = ["--per-utterance", str(tmp_path / "p.jsonl"), "--summary", str(summary)]
    assert main(["evaluate", str(MODEL), str(manifest), *outputs]) == 1
    captured = capsys.readouterr()
    assert "no utterance could be scored" in captured.err and "WER n/a" in captured.out
    totals = json.loads(summary.read_text())
    assert totals["wer"] is None and totals["cer"] is None and totals["utterances"] == 0
