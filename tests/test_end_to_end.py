"""The whole path through the CLI: prepare digits, train a few steps, resume, transcribe, evaluate."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import soundfile as sf
import torch
import yaml

REPO = Path(__file__).resolve().parents[1]
TINY = [
    "model.hidden_size=16",
    "model.num_layers=1",
    "model.conv_channels=4",
    "data.num_workers=0",
    "data.max_batch_seconds=20",
    "features.stats_max_utterances=10",
    "trainer.enable_progress_bar=false",
    "trainer.enable_model_summary=false",
    "trainer.max_epochs=1",
]


def asr(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "asr.cli.main", *args], capture_output=True, text=True, cwd=REPO, timeout=300
    )


@pytest.fixture(scope="module")
def trained(fsdd_dir, tmp_path_factory):
    root = tmp_path_factory.mktemp("e2e")
    data = root / "digits"
    prep = asr(
        "prepare",
        "digits",
        "--fsdd-dir",
        str(fsdd_dir),
        "--out-dir",
        str(data),
        "--train-utterances",
        "4",
        "--dev-utterances",
        "2",
        "--test-utterances",
        "3",
    )
    assert prep.returncode == 0, prep.stderr
    exp = root / "exp"
    manifests = [f"data.train_manifest={data / 'train.jsonl'}", f"data.val_manifest={data / 'dev.jsonl'}"]
    run = asr("train", "recipes/digits", f"output_dir={exp}", *manifests, *TINY, "trainer.max_steps=3")
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    return data, exp, manifests


def test_training_writes_model_checkpoints_config_and_logs(trained):
    _, exp, _ = trained
    assert (exp / "model.pt").is_file() and (exp / "checkpoints" / "last.ckpt").is_file()
    resolved = (exp / ".hydra" / "config.yaml").read_text()
    assert "hidden_size: 16" in resolved
    recorded = yaml.safe_load((exp / "config.yaml").read_text())  # resolved, every default filled in
    assert recorded["model"]["hidden_size"] == 16 and recorded["loggers"] == {"tensorboard": {}, "csv": {}}
    versions = yaml.safe_load((exp / "versions.yaml").read_text())
    assert versions["packages"]["torch"] == torch.__version__.split("+")[0] or versions["packages"]["torch"]
    assert len(versions["git"]["commit"]) == 40 and isinstance(versions["git"]["dirty"], bool)
    assert list(exp.glob("csv/*/metrics.csv")) and (exp / "train.log").is_file()
    payload = torch.load(exp / "model.pt", weights_only=True)
    assert payload["config"]["model"]["hidden_size"] == 16
    assert payload["state_dict"]["frontend.std"].ne(1).any()  # statistics from the training set are inside


def test_resume_continues_from_the_checkpoint(trained):
    _, exp, manifests = trained
    last = exp / "checkpoints" / "last.ckpt"
    assert torch.load(last, weights_only=False)["global_step"] == 3
    run = asr(
        "train", "recipes/digits", f"output_dir={exp}", *manifests, *TINY, "trainer.max_epochs=2", f"resume={last}"
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert torch.load(last, weights_only=False)["global_step"] > 3


def test_rerunning_into_a_used_output_dir_is_refused_with_one_line(trained):
    _, exp, manifests = trained
    model, config = (exp / "model.pt").read_bytes(), (exp / ".hydra" / "config.yaml").read_text()
    run = asr("train", "recipes/digits", f"output_dir={exp}", *manifests, *TINY, "trainer.max_steps=2")
    assert run.returncode == 2
    assert "holds another run" in run.stderr and "overwrite=true" in run.stderr and "Traceback" not in run.stderr
    assert (exp / "model.pt").read_bytes() == model and (exp / ".hydra" / "config.yaml").read_text() == config


def test_transcribe_writes_good_files_and_names_bad_ones(trained, tmp_path):
    data, exp, _ = trained
    rows = [json.loads(line) for line in (data / "test.jsonl").read_text().splitlines()]
    wav = data / rows[0]["audio_filepath"]
    audio, rate = sf.read(wav)
    stereo = tmp_path / "stereo_44k.flac"
    sf.write(stereo, torch.tensor(audio).repeat(2, 1).T.numpy(), 44100)  # other format, rate and channels
    missing = tmp_path / "missing.wav"
    run = asr("transcribe", str(exp / "model.pt"), str(wav), str(missing), str(stereo), "--format", "jsonl")
    assert run.returncode == 1
    assert str(missing) in run.stderr and "1 of 3 file(s) failed" in run.stderr
    lines = [json.loads(line) for line in run.stdout.splitlines()]
    assert [line["audio_filepath"] for line in lines] == [str(wav), str(stereo)]
    assert all(isinstance(line["text"], str) for line in lines)
    assert abs(lines[0]["duration"] - rows[0]["duration"]) < 0.01

    single = asr("transcribe", str(exp / "model.pt"), str(wav))
    assert single.returncode == 0 and single.stdout.strip() == lines[0]["text"]


def test_evaluate_prints_rates_and_writes_per_utterance_file(trained, tmp_path):
    data, exp, _ = trained
    out, summary = tmp_path / "per_utt.jsonl", tmp_path / "summary.json"
    run = asr(
        "evaluate",
        str(exp / "model.pt"),
        str(data / "test.jsonl"),
        "--per-utterance",
        str(out),
        "--summary",
        str(summary),
    )
    assert run.returncode == 0, run.stderr
    assert "WER" in run.stdout and "CER" in run.stdout and "S=" in run.stdout and "I=" in run.stdout
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 3 * 1  # three test utterances of the one test speaker
    assert {"reference", "hypothesis", "word_errors", "char_errors"} <= rows[0].keys()
    totals = json.loads(summary.read_text())
    assert totals["words"]["reference_length"] == sum(len(r["reference"].split()) for r in rows)
    assert totals["words"]["errors"] == sum(r["word_errors"]["errors"] for r in rows)


def test_evaluate_counts_bad_rows_and_unreadable_audio(trained, tmp_path):
    data, exp, _ = trained
    lines = (data / "test.jsonl").read_text().splitlines()
    broken = json.loads(lines[1])
    broken["audio_filepath"] = str(tmp_path / "gone.wav")
    manifest = tmp_path / "m.jsonl"
    manifest.write_text(
        "\n".join([lines[0].replace('"audio/', f'"{data}/audio/'), '{"text": "no audio"}', json.dumps(broken)])
    )
    run = asr("evaluate", str(exp / "model.pt"), str(manifest), "--per-utterance", str(tmp_path / "o.jsonl"))
    assert run.returncode == 1
    assert "1 malformed manifest row(s) skipped" in run.stdout and "gone.wav" in run.stderr
    assert "1 utterances" in run.stdout


def test_bad_model_file_and_bad_recipe(tmp_path):
    junk = tmp_path / "junk.pt"
    junk.write_text("nope")
    run = asr("transcribe", str(junk), "x.wav")
    assert run.returncode == 2 and "junk.pt: not a readable model file" in run.stderr
    run = asr("train", str(tmp_path / "no_such_recipe"))
    assert run.returncode != 0 and "no such folder or YAML file" in run.stderr
