"""trainer.precision=auto: bf16-mixed where the machine trains faster in it, float32 elsewhere, recorded in the run."""

import pytest
import torch
from audio_utils import write_corpus
from omegaconf import OmegaConf
from training_utils import tiny_config

from asr import lstm_bf16
from asr.precision import MIN_AMX_HIDDEN, choose_precision
from asr.run_record import CONFIG_FILE
from asr.train import train


@pytest.fixture
def cpu_only(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)


@pytest.mark.parametrize("amx, expected", [(True, "bf16-mixed"), (False, "32-true")])
def test_auto_on_cpu_follows_amx(cpu_only, monkeypatch, amx, expected):
    monkeypatch.setattr(lstm_bf16, "amx_available", lambda: amx)
    for accelerator in ("auto", "cpu"):
        chosen = choose_precision("auto", accelerator, hidden_size=512)
        assert chosen.value == expected
        assert ("with AMX" if amx else "without AMX") in chosen.reason


def test_auto_on_a_cpu_with_amx_keeps_float32_for_a_small_bilstm(cpu_only, monkeypatch):
    monkeypatch.setattr(lstm_bf16, "amx_available", lambda: True)
    assert choose_precision("auto", "cpu", hidden_size=MIN_AMX_HIDDEN).value == "bf16-mixed"
    chosen = choose_precision("auto", "cpu", hidden_size=32)
    assert chosen.value == "32-true" and "hidden size 32 is too small" in chosen.reason


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


@pytest.mark.parametrize(
    "amx, hidden, expected", [(True, MIN_AMX_HIDDEN, "bf16-mixed"), (True, 16, "32-true"), (False, 16, "32-true")]
)
def test_training_with_auto_logs_and_records_its_choice(tmp_path, monkeypatch, caplog, amx, hidden, expected):
    monkeypatch.setattr(lstm_bf16, "amx_available", lambda: amx)
    manifest = write_corpus(tmp_path / "data", 4)
    caplog.set_level("INFO", logger="asr.train")
    config = tiny_config(manifest, precision="auto")
    config["model"]["hidden_size"] = hidden
    train(config, tmp_path / "exp")
    recorded = OmegaConf.load(tmp_path / "exp" / CONFIG_FILE)
    assert recorded.trainer.precision == expected
    assert f"precision: {expected} (auto: CPU with" in caplog.text
    checkpoint = torch.load(tmp_path / "exp" / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=False)
    assert checkpoint["hyper_parameters"]["config"]["trainer"]["precision"] == expected
