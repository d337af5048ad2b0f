"""trainer.precision=auto: bf16-mixed where the machine trains faster in it, float32 elsewhere, recorded in the run."""

import pytest
import torch
from audio_utils import write_corpus
from omegaconf import OmegaConf
from training_utils import tiny_config

from asr import lstm_bf16
from asr.precision import choose_precision
from asr.run_record import CONFIG_FILE
from asr.train import train


@pytest.fixture
def cpu_only(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)


@pytest.mark.parametrize("amx, expected", [(True, "bf16-mixed"), (False, "32-true")])
def test_auto_on_cpu_follows_amx(cpu_only, monkeypatch, amx, expected):
    monkeypatch.setattr(lstm_bf16, "amx_available", lambda: amx)
    for accelerator in ("auto", "cpu"):
        chosen = choose_precision("auto", accelerator)
        assert chosen.value == expected
        assert ("with AMX" if amx else "without AMX") in chosen.reason


@pytest.mark.parametrize("bf16, expected", [(True, "bf16-mixed"), (False, "32-true")])
def test_auto_on_a_cuda_gpu_follows_its_bf16_support(monkeypatch, bf16, expected):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: bf16)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda: "Some GPU")
    monkeypatch.setattr(lstm_bf16, "amx_available", lambda: not bf16)  # the GPU decides, not the host CPU
    chosen = choose_precision("auto", "gpu")
    assert chosen.value == expected and "Some GPU" in chosen.reason
    assert choose_precision("auto", "auto").value == expected


def test_an_explicit_precision_is_kept(monkeypatch):
    monkeypatch.setattr(lstm_bf16, "amx_available", lambda: True)
    assert choose_precision("32-true", "cpu").value == "32-true"
    assert choose_precision("bf16-mixed", "cpu").value == "bf16-mixed"


@pytest.mark.parametrize("amx, expected", [(True, "bf16-mixed"), (False, "32-true")])
def test_training_with_auto_says_and_records_the_precision_it_chose(tmp_path, monkeypatch, caplog, amx, expected):
    monkeypatch.setattr(lstm_bf16, "amx_available", lambda: amx)
    manifest = write_corpus(tmp_path / "data", 4)
    caplog.set_level("INFO", logger="asr.train")
    train(tiny_config(manifest, precision="auto"), tmp_path / "exp")
    recorded = OmegaConf.load(tmp_path / "exp" / CONFIG_FILE)
    assert recorded.trainer.precision == expected
    assert f"precision: {expected} (auto: CPU with" in caplog.text
    checkpoint = torch.load(tmp_path / "exp" / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=False)
    assert checkpoint["hyper_parameters"]["config"]["trainer"]["precision"] == expected
