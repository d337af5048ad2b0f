"""Reading audio files into mono float32 waveforms at a target sample rate."""

from __future__ import annotations

import os
import warnings

import numpy as np
import soundfile as sf
import torch
import torchaudio.functional as AF


class AudioError(RuntimeError):
    """An audio file is missing, unreadable or empty; the message names the file."""


def _read(path: str, offset: float, duration: float | None) -> tuple[np.ndarray, int]:
    """Read (channels-last) samples with soundfile, falling back to librosa for other formats."""
    try:
        info = sf.info(path)
        start = int(round(offset * info.samplerate))
        frames = -1 if duration is None else int(round(duration * info.samplerate))
        data, rate = sf.read(path, start=start, frames=frames, dtype="float32", always_2d=True)
        return data, rate
    except sf.LibsndfileError:
        pass
    import librosa  # slower, but reads mp3/m4a/... through audioread

    try:
        with warnings.catch_warnings():  # librosa warns about its audioread fallback on every such file
            warnings.simplefilter("ignore")
            data, rate = librosa.load(path, sr=None, mono=False, offset=offset, duration=duration, dtype=np.float32)
    except Exception as e:  # librosa raises many exception types for bad files
        raise AudioError(f"{path}: cannot decode audio ({type(e).__name__}: {e})") from e
    return np.atleast_2d(data).T, int(rate)


def audio_duration(path: str | os.PathLike) -> float:
    """Length of an audio file in seconds, read from its header where the format has one."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise AudioError(f"{path}: no such audio file")
    if os.path.getsize(path) == 0:
        raise AudioError(f"{path}: file is empty")
    try:
        return sf.info(path).duration
    except sf.LibsndfileError:
        pass
    import librosa

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return float(librosa.get_duration(path=path))
    except Exception as e:  # librosa raises many exception types for bad files
        raise AudioError(f"{path}: cannot decode audio ({type(e).__name__}: {e})") from e


def load_audio(
    path: str | os.PathLike, sample_rate: int = 16000, offset: float = 0.0, duration: float | None = None
) -> torch.Tensor:
    """Load ``path`` as a 1-D float32 tensor: channels averaged, resampled to ``sample_rate``."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise AudioError(f"{path}: no such audio file")
    if os.path.getsize(path) == 0:
        raise AudioError(f"{path}: file is empty")
    data, rate = _read(path, offset, duration)
    if data.size == 0:
        raise AudioError(f"{path}: contains no samples")
    wav = torch.from_numpy(np.ascontiguousarray(data.mean(axis=1)))
    if not torch.isfinite(wav).all():
        raise AudioError(f"{path}: contains NaN or infinite samples")
    if rate != sample_rate:
        wav = AF.resample(wav, rate, sample_rate)
    return wav
