"""Reading audio files into mono float32 waveforms at a target sample rate, and quantizing them to 16 bits.

Audio is a whole file, or a byte range of one: a member of an uncompressed tar
shard (``asr shard``), read with one seek and one read and decoded from memory.
"""

from __future__ import annotations

import io
import os
import warnings

import numpy as np
import soundfile as sf
import soxr
import torch


class AudioError(RuntimeError):
    """An audio file is missing, unreadable or empty; the message names the file."""


def _open(path: str, byte_range: tuple[int, int] | None) -> tuple[str | io.BytesIO, str]:
    """What soundfile should read (the path, or the range's bytes in memory) and how errors name it."""
    if not os.path.isfile(path):
        raise AudioError(f"{path}: no such audio file")
    if byte_range is None:
        if os.path.getsize(path) == 0:
            raise AudioError(f"{path}: file is empty")
        return path, path
    start, size = byte_range
    where = f"{path} at byte {start}"
    with open(path, "rb") as f:
        f.seek(start)
        data = f.read(size)
    if not data:
        raise AudioError(f"{where}: offset past the end of the file ({os.path.getsize(path)} bytes)")
    if len(data) < size:
        raise AudioError(f"{where}: truncated, {len(data)} of {size} bytes there")
    return io.BytesIO(data), where


def _read(source: str | io.BytesIO, where: str, offset: float, duration: float | None) -> tuple[np.ndarray, int]:
    """Read (channels-last) samples with soundfile, falling back to librosa for other formats on disk."""
    try:
        with sf.SoundFile(source) as f:
            if offset:
                f.seek(int(round(offset * f.samplerate)))
            frames = -1 if duration is None else int(round(duration * f.samplerate))
            return f.read(frames, dtype="float32", always_2d=True), f.samplerate
    except sf.LibsndfileError as e:
        if not isinstance(source, str):  # shards hold formats soundfile reads
            raise AudioError(f"{where}: cannot decode audio ({e})") from e
    import librosa  # slower, but reads mp3/m4a/... through audioread

    try:
        with warnings.catch_warnings():  # librosa warns about its audioread fallback on every such file
            warnings.simplefilter("ignore")
            data, rate = librosa.load(source, sr=None, mono=False, offset=offset, duration=duration, dtype=np.float32)
    except Exception as e:  # librosa raises many exception types for bad files
        raise AudioError(f"{where}: cannot decode audio ({type(e).__name__}: {e})") from e
    return np.atleast_2d(data).T, int(rate)


def audio_duration(path: str | os.PathLike, byte_range: tuple[int, int] | None = None) -> float:
    """Length in seconds of an audio file, or of the audio in ``byte_range`` (start, size) of it,
    read from its header where the format has one."""
    source, where = _open(os.fspath(path), byte_range)
    try:
        return sf.info(source).duration
    except sf.LibsndfileError as e:
        if byte_range is not None:
            raise AudioError(f"{where}: cannot decode audio ({e})") from e
    import librosa

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return float(librosa.get_duration(path=source))
    except Exception as e:  # librosa raises many exception types for bad files
        raise AudioError(f"{where}: cannot decode audio ({type(e).__name__}: {e})") from e


def read_audio(
    path: str | os.PathLike,
    offset: float = 0.0,
    duration: float | None = None,
    byte_range: tuple[int, int] | None = None,
) -> tuple[np.ndarray, int]:
    """Samples (frames, channels) as float32 at the file's own rate, and that rate: all of the audio or
    ``duration`` seconds from ``offset``; the audio is the whole file or its ``byte_range`` (start, size)."""
    source, where = _open(os.fspath(path), byte_range)
    data, rate = _read(source, where, offset, duration)
    if data.size == 0:
        raise AudioError(f"{where}: contains no samples")
    if not np.isfinite(data).all():
        raise AudioError(f"{where}: contains NaN or infinite samples")
    return data, rate


def load_audio(
    path: str | os.PathLike,
    sample_rate: int = 16000,
    offset: float = 0.0,
    duration: float | None = None,
    byte_range: tuple[int, int] | None = None,
) -> torch.Tensor:
    """Load ``path`` (or its ``byte_range``) as 1-D float32: channels averaged, resampled to ``sample_rate``."""
    data, rate = read_audio(path, offset, duration, byte_range)
    return resample(torch.from_numpy(np.ascontiguousarray(data.mean(axis=1))), rate, sample_rate)


def resample(wav: torch.Tensor, source_rate: float, target_rate: float) -> torch.Tensor:
    """A 1-D float32 waveform at ``source_rate`` resampled to ``target_rate`` with libsoxr (high quality).

    Memory stays bounded for any pair of rates, fractional ones too: a polyphase resampler
    whose filter is sized by the quality, not by the rates' greatest common divisor.
    """
    if source_rate == target_rate:
        return wav
    out = soxr.resample(wav.numpy().astype(np.float32, copy=False), source_rate, target_rate, quality="HQ")
    return torch.from_numpy(out)


def to_pcm16(wav: np.ndarray) -> np.ndarray:
    """Quantize float samples to int16 (clipping), so what is written is exactly what is kept."""
    return np.clip(np.round(wav * 32768.0), -32768, 32767).astype(np.int16)
