"""asr export-run: a run's model file written again from its own checkpoints, as training wrote it, and never
from a file outside the run's checkpoints/ folder."""

import re

import pytest
import torch
from audio_utils import write_corpus
from training_utils import code_running_pickle, tiny_config

from asr.cli.main import main
from asr.model_file import load_model
from asr.train import train


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A finished run that kept its two best checkpoints, and its dev manifest."""
    tmp = tmp_path_factory.mktemp("run")
    manifest = write_corpus(tmp / "data", 6)
    out = tmp / "exp"
    train({**tiny_config(manifest, max_epochs=3), "average_best": 2}, out)
    return out, manifest


def _weights(path):
    return load_model(path).recognizer.state_dict()


def test_export_run_writes_the_model_file_training_wrote(run, tmp_path):
    out, manifest = run
    again = tmp_path / "again.pt"
    assert main(["export-run", str(out), "--dev", str(manifest), "-o", str(again)]) == 0
    trained, exported = _weights(out / "model.pt"), _weights(again)
    assert trained.keys() == exported.keys() and all(torch.equal(trained[k], exported[k]) for k in trained)
    assert load_model(again).frame_offset == load_model(out / "model.pt").frame_offset


def test_export_run_average_one_is_the_best_checkpoint(run, tmp_path):
    out, _ = run
    best = {p: float(re.search(r"val_wer=(\d+\.\d+)", p.name)[1]) for p in (out / "checkpoints").glob("best-*.ckpt")}
    lowest = [p for p, wer in best.items() if wer == min(best.values())]
    single = tmp_path / "one.pt"
    assert main(["export-run", str(out), "--average", "1", "-o", str(single)]) == 0
    exported = _weights(single)
    states = [torch.load(p, weights_only=True)["state_dict"] for p in lowest]
    assert any(all(torch.equal(v, state[f"recognizer.{k}"]) for k, v in exported.items()) for state in states)


def test_export_run_never_reads_files_outside_the_run_nor_runs_code(run, tmp_path):
    out, _ = run
    marker = tmp_path / "pwned"
    evil = out / "checkpoints" / "best-epoch=09-val_wer=0.0000.ckpt"  # the "best" of all, by its name
    evil.write_bytes(code_running_pickle(marker))
    elsewhere = tmp_path / "elsewhere.ckpt"
    elsewhere.write_bytes(code_running_pickle(marker))
    link = out / "checkpoints" / "best-epoch=08-val_wer=0.0000.ckpt"
    link.symlink_to(elsewhere)
    try:
        assert main(["export-run", str(out), "--average", "1", "-o", str(tmp_path / "m.pt")]) == 0
    finally:
        evil.unlink()
        link.unlink()
    assert not marker.exists()
    assert load_model(tmp_path / "m.pt").recognizer is not None


@pytest.mark.parametrize(
    "args, message",
    [
        (["--average", "0"], "--average 0"),
        (["-o", "{checkpoint}"], "is also an input"),
    ],
)
def test_export_run_refuses_bad_arguments(run, capsys, args, message):
    out, _ = run
    checkpoint = str(next((out / "checkpoints").glob("best-*.ckpt")))
    assert main(["export-run", str(out), *(a.format(checkpoint=checkpoint) for a in args)]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


def test_export_run_on_a_folder_without_a_run(tmp_path, capsys):
    assert main(["export-run", str(tmp_path)]) == 2
    assert "not a training run" in capsys.readouterr().err
