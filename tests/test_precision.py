"""trainer.precision=auto: bf16-mixed where the machine trains faster in it, float32 elsewhere, recorded in the run."""

import pytest
import torch
from audio_utils import write_corpus
from omegaconf import OmegaConf
from training_utils import tiny_config

from asr import lstm_bf16
from asr.precision import MIN_CPU_BF16_HIDDEN, choose_precision
from asr.run_record import CONFIG_FILE
from asr.train import train


@pytest.fixture
def cpu_only(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)


def pretend_cpu(monkeypatch, units: str) -> None:
    """Make this CPU look like one with ``units``: "amx" (which has AVX-512 BF16 too), "avx512_bf16" or "none"."""
    monkeypatch.setattr(lstm_bf16, "amx_available", lambda: units == "amx")
    monkeypatch.setattr(lstm_bf16, "avx512_bf16_available", lambda: units in ("amx", "avx512_bf16"))


@pytest.mark.parametrize(
    "units, expected, reason",
    [
        ("amx", "bf16-mixed", "with AMX"),
        ("avx512_bf16", "bf16-mixed", "with AVX-512 BF16"),
        ("none", "32-true", "without"),
    ],
)
def test_auto_on_cpu_follows_its_bf16_units(cpu_only, monkeypatch, units, expected, reason):
    pretend_cpu(monkeypatch, units)
    for accelerator in ("auto", "cpu"):
        chosen = choose_precision("auto", accelerator, hidden_size=512)
        assert chosen.value == expected
        assert reason in chosen.reason


@pytest.mark.parametrize("units", ["amx", "avx512_bf16"])
def test_auto_on_a_cpu_with_bf16_units_keeps_float32_for_a_small_bilstm(cpu_only, monkeypatch, units):
    pretend_cpu(monkeypatch, units)
    smallest = MIN_CPU_BF16_HIDDEN
    assert choose_precision("auto", "cpu", hidden_size=smallest).value == "bf16-mixed"
    chosen = choose_precision("auto", "cpu", hidden_size=smallest - 1)
    assert chosen.value == "32-true" and f"hidden size {smallest - 1} is too small" in chosen.reason


@pytest.mark.parametrize("bf16, expected", [(True, "bf16-mixed"), (False, "32-true")])
def test_auto_on_a_cuda_gpu_follows_its_bf16_support(monkeypatch, bf16, expected):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: bf16)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda: "Some GPU")
    pretend_cpu(monkeypatch, "none" if bf16 else "amx")  # the GPU decides, not the host CPU
    chosen = choose_precision("auto", "gpu")
    assert chosen.value == expected and "Some GPU" in chosen.reason
    assert choose_precision("auto", "auto").value == expected


def test_an_explicit_precision_is_kept(monkeypatch):
    pretend_cpu(monkeypatch, "amx")
    assert choose_precision("32-true", "cpu").value == "32-true"
    assert choose_precision("bf16-mixed", "cpu").value == "bf16-mixed"


@pytest.mark.parametrize(
    "units, hidden, expected",
    [
        ("amx", MIN_CPU_BF16_HIDDEN, "bf16-mixed"),
        ("avx512_bf16", MIN_CPU_BF16_HIDDEN, "bf16-mixed"),
        ("amx", 16, "32-true"),
        ("none", 16, "32-true"),
    ],
)
def test_training_with_auto_logs_and_records_its_choice(tmp_path, monkeypatch, caplog, units, hidden, expected):
    pretend_cpu(monkeypatch, units)
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
