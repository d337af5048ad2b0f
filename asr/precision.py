"""Training precision: ``trainer.precision=auto`` picks bf16 mixed precision where this machine trains faster in it.

Where bf16 pays (BENCHMARKS.md has the measurements): on CPUs with AMX (Intel Xeon
since Sapphire Rapids), where ``asr.lstm_bf16`` trains the BiLSTM in bf16, for hidden
sizes from ``MIN_AMX_HIDDEN`` on (a small model's steps are all per-operation overhead,
slower in bf16), and on CUDA GPUs with native bf16 (Ampere and later). Elsewhere float32:
without AMX, oneDNN's bf16 LSTM trained no faster than float32, sometimes slower.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from asr import lstm_bf16

AUTO = "auto"
BF16_MIXED = "bf16-mixed"
FLOAT32 = "32-true"
MIN_AMX_HIDDEN = 192


@dataclass(frozen=True)
class Precision:
    """The precision Lightning trains in, and why it was chosen."""

    value: str
    reason: str

    def __str__(self) -> str:
        return f"{self.value} ({self.reason})"


def _uses_cuda(accelerator: str) -> bool:
    return accelerator in ("gpu", "cuda") or (accelerator == AUTO and torch.cuda.is_available())


def choose_precision(setting: str, accelerator: str = AUTO, hidden_size: int = MIN_AMX_HIDDEN) -> Precision:
    """``setting`` itself, or for ``auto`` the faster precision on the device that ``accelerator`` selects for a
    BiLSTM of ``hidden_size``."""
    if str(setting) != AUTO:
        return Precision(str(setting), "set in the config")
    if _uses_cuda(accelerator):
        name = torch.cuda.get_device_name()
        if torch.cuda.is_bf16_supported():
            return Precision(BF16_MIXED, f"auto: CUDA GPU with bf16 ({name})")
        return Precision(FLOAT32, f"auto: CUDA GPU without bf16 ({name})")
    if accelerator not in (AUTO, "cpu"):
        return Precision(FLOAT32, f"auto: accelerator {accelerator}")
    if not lstm_bf16.amx_available():
        return Precision(FLOAT32, "auto: CPU without AMX, where bf16 trains no faster")
    if hidden_size < MIN_AMX_HIDDEN:
        return Precision(FLOAT32, f"auto: CPU with AMX, but hidden size {hidden_size} is too small for bf16 to pay")
    return Precision(BF16_MIXED, "auto: CPU with AMX bf16")
