"""Training precision: ``trainer.precision=auto`` picks bf16 mixed precision where this machine trains faster in it.

Where bf16 pays (BENCHMARKS.md has the measurements): on CPUs with bf16 dot products,
AMX (Intel Xeon since Sapphire Rapids) or AVX-512 BF16 alone (AMD Zen 4, for one), for
hidden sizes from ``MIN_CPU_BF16_HIDDEN`` on (a small model's steps are all per-operation
overhead, slower in bf16); ``asr.model.BiLSTM`` then runs each layer in the faster of
``asr.lstm_bf16`` and oneDNN's bf16 LSTM. On CUDA GPUs with native bf16 (Ampere and
later). Elsewhere float32.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from asr import lstm_bf16

AUTO = "auto"
BF16_MIXED = "bf16-mixed"
FLOAT32 = "32-true"
MIN_CPU_BF16_HIDDEN = 192


@dataclass(frozen=True)
class Precision:
    """The precision Lightning trains in, and why it was chosen."""

    value: str
    reason: str

    def __str__(self) -> str:
        return f"{self.value} ({self.reason})"


def _uses_cuda(accelerator: str) -> bool:
    return accelerator in ("gpu", "cuda") or (accelerator == AUTO and torch.cuda.is_available())


def choose_precision(setting: str, accelerator: str = AUTO, hidden_size: int = MIN_CPU_BF16_HIDDEN) -> Precision:
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
    if lstm_bf16.amx_available():
        units = "AMX bf16"
    elif lstm_bf16.avx512_bf16_available():
        units = "AVX-512 BF16 (no AMX)"
    else:
        return Precision(FLOAT32, "auto: CPU without bf16 dot products (AMX or AVX-512 BF16)")
    if hidden_size < MIN_CPU_BF16_HIDDEN:
        return Precision(FLOAT32, f"auto: CPU with {units}, but hidden size {hidden_size} is too small for bf16 to pay")
    return Precision(BF16_MIXED, f"auto: CPU with {units}")
