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
    (bin_dir / "asr").write_text(f'#!/usr/bin/env bash\necho "$*" >> {tmp_path / "calls.txt"}\n')
    (bin_dir / "asr").chmod(0o755)
    return tmp_path


def _run(recipes: Path, recipe: str, *args: str) -> tuple[subprocess.CompletedProcess, list[str]]:
    """The script's result and the first two words of each ``asr`` call it made."""
    env = {**os.environ, "PATH": f"{recipes / 'bin'}:{os.environ['PATH']}"}
    calls = recipes / "calls.txt"
    calls.unlink(missing_ok=True)
    done = subprocess.run(
        ["bash", str(recipes / "recipes" / recipe / "run.sh"), *args], capture_output=True, text=True, env=env
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
        *["evaluate exp/digits/model.pt"] * 4,
        "transcribe exp/digits/model.pt",
    ]
    lines = (recipes / "calls.txt").read_text().splitlines()
    assert "--fsdd-dir FSDD" in lines[0] and lines[3].endswith("output_dir=exp/digits trainer.max_epochs=1")
    assert [line.split("--report ")[-1] for line in lines if "--report" in line] == [
        "exp/digits/report-dev-beam-lm", "exp/digits/report-test-beam-lm"
    ]  # fmt: skip


def test_stages_skip_the_data_preparation(recipes):
    done, calls = _run(recipes, "digits", "--stage", "2", "--stop-stage", "2", "FSDD", "overwrite=true")
    assert done.returncode == 0, done.stderr
    assert calls == ["train recipes/digits", "plot exp/digits"]
    assert (recipes / "calls.txt").read_text().splitlines()[0].split()[-1] == "overwrite=true"
    done, calls = _run(recipes, "synthetic", "--stage", "2")
    assert done.returncode == 0, done.stderr
    assert calls == ["evaluate exp/synthetic/model.pt"] * 2 + ["transcribe exp/synthetic/model.pt"]


@pytest.mark.parametrize("args", [["--stage", "two"], ["--stop-stage"]])
def test_a_stage_that_is_not_a_number_is_refused(recipes, args):
    done, calls = _run(recipes, "librispeech", *args)
    assert done.returncode == 2 and calls == []
    assert done.stderr.strip().startswith(f"error: {args[0]} takes a stage number")
