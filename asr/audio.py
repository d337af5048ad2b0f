"""``AudioSource``, a span of audio, read into mono float32 waveforms at a target sample rate; resampling, and
quantizing to 16 bits.

Audio is a whole file, or a byte range of one: a member of an uncompressed tar
shard (``asr shard``), read with one seek and one read and decoded from memory,
or samples already in memory.
"""

from __future__ import annotations

import io
import math
import os
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import soundfile as sf
import soxr
import torch

from asr.segmentation import HOP_SECONDS, waveform_energies_db


class AudioError(RuntimeError):
    """An audio file is missing, unreadable or empty; the message names the file."""


def _open(path: str | os.PathLike, byte_range: tuple[int, int] | None) -> tuple[str | io.BytesIO, str]:
    """What soundfile should read (the path, or the range's bytes in memory) and how errors name it."""
    path = os.fspath(path)
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


def _duration(path: str, byte_range: tuple[int, int] | None) -> float:
    """Length in seconds of an audio file, or of the audio in its ``byte_range``, from its header where the format
    has one."""
    source, where = _open(path, byte_range)
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


@dataclass(frozen=True)
class AudioSource:
    """A span of audio: all of it, or ``duration`` seconds from ``offset``. The audio is a file, or its
    ``byte_range`` (start, size), a member of a tar shard, or ``samples`` in memory (mono, at
    ``sample_rate``; ``path`` then only names them in messages). Reading it is this type's job alone."""

    path: str
    offset: float = 0.0
    duration: float | None = None
    byte_range: tuple[int, int] | None = None
    samples: torch.Tensor | None = field(default=None, repr=False, compare=False)
    sample_rate: int | None = None  # of samples

    @classmethod
    def from_array(cls, data: Any, sample_rate: int, name: str = "<array>") -> AudioSource:
        """Audio in memory: a numpy array or torch tensor of float (or int16) samples, 1-D, or 2-D as
        (channels, samples), channels averaged. Raises ``AudioError`` naming ``name`` for anything else."""
        if not isinstance(sample_rate, int) or isinstance(sample_rate, bool) or sample_rate <= 0:
            raise AudioError(f"{name}: sample_rate={sample_rate!r}: expected a positive integer (Hz)")
        try:
            wav = torch.as_tensor(data)
        except (TypeError, ValueError, RuntimeError) as e:
            raise AudioError(f"{name}: not an array of samples ({type(data).__name__})") from e
        if wav.dtype == torch.int16:
            wav = wav / 32768.0
        if not wav.is_floating_point():
            raise AudioError(f"{name}: samples of type {wav.dtype}: expected float or int16")
        if wav.dim() == 2 and wav.shape[0] > wav.shape[1]:
            shape = tuple(wav.shape)
            raise AudioError(f"{name}: shape {shape} looks like (samples, channels); pass (channels, samples)")
        if wav.dim() not in (1, 2):
            raise AudioError(f"{name}: shape {tuple(wav.shape)}: expected (samples,) or (channels, samples)")
        wav = (wav.mean(0) if wav.dim() == 2 else wav).detach().to("cpu", torch.float32)
        if wav.numel() == 0:
            raise AudioError(f"{name}: contains no samples")
        if not torch.isfinite(wav).all():
            raise AudioError(f"{name}: contains NaN or infinite samples")
        return cls(name, samples=wav.contiguous(), sample_rate=sample_rate)

    def seconds(self) -> float:
        """Seconds of audio in this span: its ``duration``, or from ``offset`` to the end (read from the file's
        header)."""
        if self.duration:
            return self.duration
        if self.samples is not None:
            return self.samples.numel() / self.sample_rate - self.offset
        return _duration(self.path, self.byte_range) - self.offset

    def read(self, offset: float = 0.0, duration: float | None = None) -> tuple[np.ndarray, int]:
        """Samples (frames, channels) as float32 at the audio's own rate, and that rate: ``duration`` seconds
        (None: to the end of the span) from ``offset`` within this span. Raises ``AudioError`` naming the file
        for a missing, unreadable, empty or non-finite read."""
        if duration is None and self.duration is not None:
            duration = self.duration - offset
        if self.samples is not None:
            start = round((self.offset + offset) * self.sample_rate)
            stop = None if duration is None else start + round(duration * self.sample_rate)
            return self.samples[start:stop].numpy()[:, None], self.sample_rate
        source, where = _open(self.path, self.byte_range)
        data, rate = _read(source, where, self.offset + offset, duration)
        if data.size == 0:
            raise AudioError(f"{where}: contains no samples")
        if not np.isfinite(data).all():
            raise AudioError(f"{where}: contains NaN or infinite samples")
        return data, rate

    def load(self, sample_rate: int, offset: float = 0.0, duration: float | None = None) -> torch.Tensor:
        """``duration`` seconds (None: to the end of the span) from ``offset`` within this span as 1-D float32:
        channels averaged, resampled to ``sample_rate``."""
        data, rate = self.read(offset, duration)
        return resample(torch.from_numpy(np.ascontiguousarray(data.mean(axis=1))), rate, sample_rate)

    def energies_db(self, sample_rate: int, duration: float, block_seconds: float = 60.0) -> torch.Tensor:
        """Energy in dB of each 10 ms frame of ``duration`` seconds of this span, read in blocks of
        ``block_seconds``, so memory stays bounded whatever the length."""
        if self.samples is not None:  # in memory already: one pass
            return waveform_energies_db(self.load(sample_rate, 0.0, duration), sample_rate)
        block_seconds = max(1, round(block_seconds / HOP_SECONDS)) * HOP_SECONDS  # blocks end on frame boundaries
        energies = []
        for k in range(math.ceil(duration / block_seconds)):
            start = k * block_seconds
            wav = self.load(sample_rate, start, min(block_seconds, duration - start))
            energies.append(waveform_energies_db(wav, sample_rate))
        return torch.cat(energies)


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
