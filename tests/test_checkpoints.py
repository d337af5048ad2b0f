"""Checkpoints: last.ckpt is always the newest state, a run never mixes with another's files, and a resumed
checkpoint cannot make training read (let alone unpickle) files outside the run's own checkpoint folder."""

import pytest
import torch
from audio_utils import write_corpus
from lightning.pytorch.callbacks import Callback
from training_utils import code_running_pickle, tiny_config

from asr.checkpoints import AtomicCheckpointIO
from asr.config import ConfigError
from asr.model_file import load_model
from asr.run_folder import RunFolderError, is_first_process
from asr.train import train


def _step(checkpoint) -> int:
    return torch.load(checkpoint, weights_only=True)["global_step"]


def test_a_resumed_checkpoint_naming_other_files_never_gets_them_read(tmp_path):
    manifest = write_corpus(tmp_path / "data", 6)
    config = {**tiny_config(manifest, max_epochs=2), "average_best": 2}
    out = tmp_path / "exp"
    train(config, out)
    last = out / "checkpoints" / "last.ckpt"
    marker, evil = tmp_path / "pwned", tmp_path / "elsewhere" / "evil.ckpt"
    evil.parent.mkdir()
    evil.write_bytes(code_running_pickle(marker))
    state = torch.load(last, weights_only=True)
    (key,) = [k for k in state["callbacks"] if k.startswith("ModelCheckpoint")]
    state["callbacks"][key]["best_k_models"][str(evil)] = torch.tensor(2.0)  # one of the "best"
    torch.save(state, last)

    model = train({**config, "resume": str(last), "trainer": {**config["trainer"], "max_epochs": 3}}, out)
    assert not marker.exists()
    assert load_model(model).recognizer is not None


@pytest.mark.parametrize("every_n_steps", [None, 1000])
def test_last_checkpoint_is_the_newest_state_even_when_validation_stops_improving(tmp_path, every_n_steps):
    manifest = write_corpus(tmp_path / "data", 6)
    config = {**tiny_config(manifest, max_epochs=2), "checkpoint_every_n_steps": every_n_steps}
    config["optim"] = {**config["optim"], "lr": 0.0}  # the dev WER of epoch 0 is never beaten
    out = tmp_path / "exp"
    steps = []
    train(config, out, callbacks=[_RecordStep(steps)])
    last = out / "checkpoints" / "last.ckpt"
    assert sorted(p.name for p in (out / "checkpoints").glob("last*")) == ["last.ckpt"]
    assert _step(last) == steps[-1] > 0
    per_epoch = steps[-1] // 2

    resumed = {**config, "resume": str(last), "trainer": {**config["trainer"], "max_epochs": 3}}
    train(resumed, out, callbacks=[_RecordStep(steps)])
    assert _step(last) == steps[-1] == 3 * per_epoch


def test_last_checkpoint_every_n_steps_within_an_epoch(tmp_path):
    manifest = write_corpus(tmp_path / "data", 12)
    config = {**tiny_config(manifest, max_epochs=1, limit_val_batches=0), "checkpoint_every_n_steps": 2}
    saved = []
    train(config, tmp_path / "exp", callbacks=[_RecordSaves(saved)])
    steps = [s for s in saved if s % 2 == 0]
    assert len(steps) >= 2 and steps == sorted(steps)  # every second step, not only at the end


class _RecordStep(Callback):
    def __init__(self, steps):
        self.steps = steps

    def on_train_end(self, trainer, module):
        self.steps.append(trainer.global_step)


class _RecordSaves(Callback):
    def __init__(self, steps):
        self.steps = steps

    def on_save_checkpoint(self, trainer, module, checkpoint):
        self.steps.append(trainer.global_step)


def test_an_output_dir_holding_another_run_is_refused_unless_resuming_or_overwriting(tmp_path):
    manifest = write_corpus(tmp_path / "data", 6)
    config = tiny_config(manifest)
    out = tmp_path / "exp"
    (out / "lm").mkdir(parents=True)  # a recipe's own files beside the run (recipes/digits keeps its LM there)
    train(config, out)
    first = (out / "model.pt").read_bytes()
    with pytest.raises(RunFolderError, match=r"holds another run .*resume=.*last\.ckpt.*overwrite=true"):
        train(config, out)
    assert (out / "model.pt").read_bytes() == first
    (out / "checkpoints" / "best-stale.ckpt").write_bytes(b"")
    train({**config, "overwrite": True}, out)
    assert not (out / "checkpoints" / "best-stale.ckpt").exists()
    with pytest.raises(ConfigError, match="resume=.*nope.ckpt: no such checkpoint"):
        train({**config, "resume": str(out / "nope.ckpt")}, out)


def test_checkpoints_are_written_beside_their_target_and_replace_it_whole(tmp_path, monkeypatch):
    target = tmp_path / "ckpt" / "last.ckpt"
    io = AtomicCheckpointIO()
    io.save_checkpoint({"step": 1}, target)
    seen = []

    def failing_save(obj, f):
        seen.extend(p.name for p in target.parent.iterdir())
        f.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", failing_save)
    with pytest.raises(OSError):
        io.save_checkpoint({"step": 2}, target)
    monkeypatch.undo()
    assert io.load_checkpoint(target) == {"step": 1}
    assert [p.name for p in target.parent.iterdir()] == ["last.ckpt"]
    assert any(name.startswith(".last.ckpt.") for name in seen)  # the temporary file lay beside the target


@pytest.mark.parametrize(
    "env, first",
    [
        ({}, True),
        ({"LOCAL_RANK": "1"}, False),  # a rank Lightning's launcher started
        ({"NODE_RANK": "1"}, False),
        ({"RANK": "0", "LOCAL_RANK": "0"}, True),  # torchrun
        ({"RANK": "3"}, False),
        ({"SLURM_PROCID": "0"}, True),
        ({"SLURM_PROCID": "2"}, False),
    ],
)
def test_only_the_first_process_of_a_job_checks_the_output_dir(monkeypatch, env, first):
    for name in ("RANK", "LOCAL_RANK", "NODE_RANK", "SLURM_PROCID", "JSM_NAMESPACE_RANK"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert is_first_process() is first
