"""Writing the audio of the corpora this project generates itself (digits, synthetic): WAV files, resampling,
stale files."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import soundfile as sf
import torch
from torchaudio.transforms import Resample

from asr.outputs import atomic_write, remove_partials


def write_wav(path: Path, samples: np.ndarray, sample_rate: int) -> None:
    """Write 16-bit WAV atomically: a killed run leaves no partial file under the name a manifest names."""
    with atomic_write(path, "wb") as f:
        sf.write(f, samples, sample_rate, format="WAV", subtype="PCM_16")


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
    """Delete WAVs left in ``audio_dir`` by an earlier, larger run, so the folder matches the manifest, and
    the partial files of a run that was killed while writing."""
    for path in audio_dir.glob("*.wav"):
        if path.name not in keep:
            path.unlink()
    remove_partials(audio_dir)
