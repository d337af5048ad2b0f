"""What the corpora this project generates itself (digits, synthetic) share when they write audio."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import torch
from torchaudio.transforms import Resample


def to_pcm16(wav: np.ndarray) -> np.ndarray:
    """Quantize float samples to int16 (clipping), so what is written is exactly what is kept."""
    return np.clip(np.round(wav * 32768.0), -32768, 32767).astype(np.int16)


def resample(wav: torch.Tensor, source: int, target: int, band_limit: int | None = None) -> torch.Tensor:
    """Float samples from ``source`` to ``target`` Hz; with ``band_limit`` (Hz) nothing above it is kept.

    A band limit sends the audio through twice its rate first: the resampler's
    low-pass filter fades out what lies above it (over about a quarter of the
    limit; 4000 keeps nothing above 5 kHz). That matches generated speech to
    narrowband recordings such as FSDD's 8 kHz ones.
    """
    for rate in ([2 * band_limit] if band_limit else []) + [target]:
        wav, source = _resampler(source, rate)(wav), rate
    return wav


@cache
def _resampler(source: int, target: int) -> Resample:
    """From ``source`` to ``target`` Hz, its filter computed once."""
    return Resample(source, target)


def remove_stale_audio(audio_dir: Path, keep: set[str]) -> None:
    """Delete WAVs left in ``audio_dir`` by an earlier, larger run, so the folder matches the manifest."""
    for path in audio_dir.glob("*.wav"):
        if path.name not in keep:
            path.unlink()
