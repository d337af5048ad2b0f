"""recipes/*/run.sh in stages: --stage N --stop-stage M run only those, and without them every stage runs, the
first argument and the Hydra overrides reaching the commands as before. The ``asr`` the scripts call is a stand-in
that records its arguments, so nothing is prepared or trained."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def recipes(tmp_path):
    """A copy of recipes/ in ``tmp_path`` (the scripts work from the folder above it), a one-row test manifest,
    and an ``asr`` on PATH that appends each call's arguments to ``calls.txt``."""
    shutil.copytree(REPO / "recipes", tmp_path / "recipes")
    for name in ("digits", "synthetic"):
        (tmp_path / "data" / name).mkdir(parents=True)
        (tmp_path / "data" / name / "test.jsonl").write_text(json.dumps({"audio_filepath": "a.wav", "text": "one"}))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    # A stand-in that also writes what --summary asks for, so that scripts reading summaries can run.
    (bin_dir / "asr").write_text(
        f'#!/usr/bin/env bash\necho "$*" >> {tmp_path / "calls.txt"}\n'
        "while [ $# -gt 0 ]; do\n"
        '  if [ "$1" = --summary ]; then echo \'{"wer": 0.1, "cer": 0.05}\' > "$2"; fi\n'
        "  shift\n"
        "done\n"
    )
    (bin_dir / "asr").chmod(0o755)
    return tmp_path


def _run(
    recipes: Path, recipe: str, *args: str, script: str = "run.sh"
) -> tuple[subprocess.CompletedProcess, list[str]]:
    """The script's result and the first two words of each ``asr`` call it made."""
    env = {**os.environ, "PATH": f"{recipes / 'bin'}:{os.environ['PATH']}"}
    calls = recipes / "calls.txt"
    calls.unlink(missing_ok=True)
    done = subprocess.run(
        ["bash", str(recipes / "recipes" / recipe / script), *args], capture_output=True, text=True, env=env
    )
    return done, [" ".join(line.split()[:2]) for line in calls.read_text().splitlines()] if calls.exists() else []


def test_without_stage_options_every_stage_runs_with_the_arguments_as_before(recipes):
    done, calls = _run(recipes, "digits", "FSDD", "trainer.max_epochs=1")
    assert done.returncode == 0, done.stderr
    assert calls == [
        "prepare digits",
        "prepare flite-digits",
        "lm build",
        "train recipes/digits",
        "plot exp/digits",
        *["evaluate exp/digits/model.pt"] * 8,
        "transcribe exp/digits/model.pt",
    ]
    lines = (recipes / "calls.txt").read_text().splitlines()
    assert "--fsdd-dir FSDD --out-dir data/digits --test-speaker jackson --dev-speaker lucas" in lines[0]
    assert lines[3].startswith("train recipes/digits output_dir=exp/digits") and lines[3].endswith("max_epochs=1")
    assert [line.split("--report ")[-1] for line in lines if "--report" in line] == [
        "exp/digits/report-dev-beam-lm-vtln", "exp/digits/report-test-beam-lm-vtln"
    ]  # fmt: skip
    assert sum("--vtln" in line for line in lines) == 4  # greedy and beam + LM, on dev and test


def test_stages_skip_the_data_preparation(recipes):
    done, calls = _run(recipes, "digits", "--stage", "2", "--stop-stage", "2", "FSDD", "overwrite=true")
    assert done.returncode == 0, done.stderr
    assert calls == ["train recipes/digits", "plot exp/digits"]
    assert (recipes / "calls.txt").read_text().splitlines()[0].split()[-1] == "overwrite=true"
    done, calls = _run(recipes, "synthetic", "--stage", "2")
    assert done.returncode == 0, done.stderr
    assert calls == ["evaluate exp/synthetic/model.pt"] * 2 + ["transcribe exp/synthetic/model.pt"]


def test_the_synthetic_recipe_generates_the_hours_asked_for_and_trains_on_that_folder(recipes):
    (recipes / "data" / "mine").mkdir()
    (recipes / "data" / "mine" / "test.jsonl").write_text(json.dumps({"audio_filepath": "a.wav", "text": "one"}))
    done, _ = _run(recipes, "synthetic", "--train-hours", "2", "--data", "data/mine", "trainer.max_epochs=1")
    assert done.returncode == 0, done.stderr
    lines = (recipes / "calls.txt").read_text().splitlines()
    assert lines[0] == "prepare synthetic --out-dir data/mine --train-hours 2"
    assert lines[1] == (
        "train recipes/synthetic output_dir=exp/synthetic data.train_manifest=data/mine/train.jsonl "
        "data.val_manifest=data/mine/dev.jsonl trainer.max_epochs=1"
    )
    assert lines[2].startswith("evaluate exp/synthetic/model.pt data/mine/dev.jsonl")
    done, _ = _run(recipes, "synthetic", "--hours", "2")
    assert done.returncode == 2 and "--train-hours, --data" in done.stderr


@pytest.mark.parametrize("args", [["--stage", "two"], ["--stop-stage"]])
def test_a_stage_that_is_not_a_number_is_refused(recipes, args):
    done, calls = _run(recipes, "librispeech", *args)
    assert done.returncode == 2 and calls == []
    assert done.stderr.strip().startswith(f"error: {args[0]} takes a stage number")


def test_recipe_options_choose_the_speakers_and_folders(recipes):
    options = ["--test-speaker", "nicolas", "--dev-speaker", "george", "--data", "D", "--exp", "E"]
    done, calls = _run(recipes, "digits", "--stop-stage", "3", *options, "--prepare-flite", "false", "FSDD")
    assert done.returncode == 0, done.stderr
    assert calls == ["prepare digits", "lm build", "train recipes/digits", "plot E", *["evaluate E/model.pt"] * 8]
    lines = (recipes / "calls.txt").read_text().splitlines()
    assert "--out-dir D --test-speaker nicolas --dev-speaker george" in lines[0]
    assert "data.train_manifest=[D/train.jsonl,data/digits_flite/train.jsonl] data.val_manifest=D/dev.jsonl" in lines[2]
    assert all(" D/test.jsonl" in line or " D/dev.jsonl" in line for line in lines[4:])


@pytest.mark.parametrize("args", [["--test-speakr", "x"], ["--exp"], ["--exp=E"]])
def test_an_unknown_or_incomplete_option_is_refused(recipes, args):
    done, calls = _run(recipes, "digits", *args)
    assert done.returncode == 2 and calls == []
    assert done.stderr.startswith("error: ") and args[0] in done.stderr and len(done.stderr.splitlines()) == 1


def test_cross_speaker_protocol_runs_each_speaker_once_as_test(recipes):
    fsdd = recipes / "fsdd"
    fsdd.mkdir()
    for name in ("0_amy_0.wav", "1_amy_1.wav", "0_bob_0.wav", "0_cat_0.wav", "readme.txt"):
        (fsdd / name).touch()
    done, calls = _run(recipes, "digits", str(fsdd), "trainer.max_epochs=1", script="cross_speaker.sh")
    assert done.returncode == 0, done.stderr
    assert calls.count("prepare flite-digits") == 1 and calls.count("train recipes/digits") == 3
    prepared = [line for line in (recipes / "calls.txt").read_text().splitlines() if line.startswith("prepare digits")]
    assert [line.split("--test-speaker ")[1] for line in prepared] == [
        "amy --dev-speaker bob",
        "bob --dev-speaker cat",
        "cat --dev-speaker amy",
    ]
    table = (recipes / "exp" / "digits_loso" / "table.md").read_text().splitlines()
    assert [row.split(" | ")[0] for row in table[2:]] == ["| amy", "| bob", "| cat", "| mean of 3", "| worst"]
    assert table[5].count("**10.00 %**") == 7 and table[5].count("**5.00 %**") == 2  # WER and CER columns
    done, calls = _run(recipes, "digits", str(fsdd), script="cross_speaker.sh")
    assert done.returncode == 0 and calls == [] and done.stdout.count("done before, kept") == 3


def test_cross_speaker_table_names_the_worst_by_the_speaker_scored_in_each_column(tmp_path):
    for test, dev, test_wer, dev_wer in (("amy", "bob", 0.3, 0.1), ("bob", "amy", 0.2, 0.4)):
        fold = tmp_path / test
        fold.mkdir()
        (fold / "fold.json").write_text(json.dumps({"test_speaker": test, "dev_speaker": dev, "wall_seconds": 60}))
        for split, wer in (("test", test_wer), ("dev", dev_wer)):
            for decoder in ("greedy", "greedy-vtln", "beam-lm", "beam-lm-vtln"):
                (fold / f"{split}-{decoder}.json").write_text(json.dumps({"wer": wer, "cer": wer / 2}))
    done = subprocess.run(
        ["python", str(REPO / "recipes/digits/cross_speaker_table.py"), str(tmp_path)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    worst = [cell.strip() for cell in done.stdout.splitlines()[-1].strip("|").split("|")]
    assert worst[2:6] == ["30.00 % (amy)"] * 4  # test WER: amy as test speaker
    assert worst[6:8] == ["15.00 % (amy)"] * 2  # test CER
    assert worst[8:11] == ["40.00 % (amy)"] * 3  # dev WER: amy as dev speaker, in bob's fold


def test_cross_speaker_table_names_the_fold_file_that_is_missing_or_malformed(tmp_path):
    fold = tmp_path / "amy"
    fold.mkdir()
    (fold / "fold.json").write_text(json.dumps({"test_speaker": "amy", "wall_seconds": 60}))
    script = str(REPO / "recipes/digits/cross_speaker_table.py")
    done = subprocess.run(["python", script, str(tmp_path)], capture_output=True, text=True)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == f"error: {fold / 'fold.json'}: no dev_speaker\n"
    (fold / "fold.json").write_text(json.dumps({"test_speaker": "amy", "dev_speaker": "bob", "wall_seconds": 60}))
    done = subprocess.run(["python", script, str(tmp_path)], capture_output=True, text=True)
    assert done.returncode == 2 and done.stderr.startswith(f"error: {fold / 'test-greedy.json'}: ")
    assert len(done.stderr.splitlines()) == 1


def test_cross_speaker_needs_three_speakers(recipes):
    (recipes / "fsdd").mkdir()
    (recipes / "fsdd" / "0_amy_0.wav").touch()
    done, calls = _run(recipes, "digits", str(recipes / "fsdd"), script="cross_speaker.sh")
    assert done.returncode == 2 and calls == [] and "3 or more speakers" in done.stderr


def test_cross_speaker_names_a_missing_folder(recipes):
    done, calls = _run(recipes, "digits", str(recipes / "nowhere"), script="cross_speaker.sh")
    assert done.returncode == 2 and calls == []
    assert done.stderr == f"error: {recipes / 'nowhere'}: no such folder of FSDD recordings\n"
