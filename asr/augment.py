"""Training-time augmentation applied to whole batches on the model's device.

Waveform level: simulated reverberation and additive noise at a random SNR.
Feature level: tempo perturbation, frequency warping (VTLP) and SpecAugment.
Speed perturbation and random gain act on single utterances in the data
loader (``asr.data.dataset``). Every transform keeps shapes and valid lengths
consistent (only tempo perturbation changes lengths, and returns the new ones),
and every transform is the identity in eval mode.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
import torchaudio.functional as AF
import torchaudio.transforms as T
from torch import nn

from asr.config import structured
from asr.features import stretch_mel_axis


@dataclass
class ReverbConfig:
    """Simulated room impulse responses for a share ``prob`` of utterances, RT60 drawn from ``rt60`` seconds."""

    prob: float = 0.0
    rt60: list[float] = field(default_factory=lambda: [0.2, 0.8])


@dataclass
class NoiseConfig:
    """Colored Gaussian noise (white to brown) for a share ``prob`` of utterances, at an SNR drawn from ``snr_db``."""

    prob: float = 0.0
    snr_db: list[float] = field(default_factory=lambda: [5.0, 30.0])


@dataclass
class SpecAugmentConfig:
    """Frequency and time masks; ``time_width`` is the largest fraction of the batch's frames one mask spans."""

    freq_masks: int = 2
    freq_width: int = 15
    time_masks: int = 2
    time_width: float = 0.05


@dataclass
class AugmentConfig:
    """The ``augment`` config section (conf/augment/); each augmentation is off at null, [] or prob 0."""

    # Per utterance, in the data loader:
    speed_perturb: list[float] = field(default_factory=list)  # play s times faster, s drawn from the list
    gain_db: list[float] | None = None  # a random gain in [low, high] dB
    edge_silence: list[float] | None = None  # [low, high] seconds of digital silence before and after
    # Per batch, on the model's device:
    reverb: ReverbConfig = field(default_factory=ReverbConfig)
    noise: NoiseConfig = field(default_factory=NoiseConfig)
    tempo: list[float] | None = None  # stretch each batch's frames by a random rate in [low, high]
    freq_warp: list[float] | None = None  # stretch each utterance's mel axis by a factor in [low, high] (VTLP)
    spec_augment: SpecAugmentConfig | None = field(default_factory=SpecAugmentConfig)  # null: off


def _valid_mask(lengths: torch.Tensor, size: int) -> torch.Tensor:
    """(B, size) booleans: True where a sample lies inside its utterance."""
    return torch.arange(size, device=lengths.device)[None, :] < lengths[:, None]


def _uniform(low: float, high: float, size: int, device: torch.device) -> torch.Tensor:
    return low + (high - low) * torch.rand(size, device=device)


def _chosen(prob: float, size: int, device: torch.device) -> torch.Tensor:
    return torch.rand(size, device=device) < prob


def _power(wav: torch.Tensor, valid: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Mean square of each utterance's valid samples, (B, 1)."""
    return ((wav * valid) ** 2).sum(1, keepdim=True) / lengths.clamp(min=1)[:, None]


class AdditiveNoise(nn.Module):
    """Adds colored Gaussian noise at a random SNR to a random share ``prob`` of utterances.

    The noise spectrum falls as ``f ** -slope`` with a random slope in [0, 1]:
    from white (0) through pink (0.5) to brown (1). The SNR is measured
    against each utterance's own power over its valid samples.
    """

    def __init__(self, prob: float, snr_db: Sequence[float]):
        super().__init__()
        if not 0 <= prob <= 1 or snr_db[0] > snr_db[1]:
            raise ValueError(f"noise needs 0 <= prob <= 1 and snr_db low <= high, got {prob}, {list(snr_db)}")
        self.prob, self.snr_db = prob, tuple(snr_db)

    def forward(self, wav: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        if not self.training or self.prob == 0 or wav.numel() == 0:
            return wav
        batch, size = wav.shape
        spectrum = torch.fft.rfft(torch.randn(batch, size, device=wav.device))
        bins = torch.arange(spectrum.shape[1], device=wav.device).clamp(min=1)
        slope = _uniform(0.0, 1.0, batch, wav.device)[:, None]
        noise = torch.fft.irfft(spectrum * bins ** (-slope), n=size)
        valid = _valid_mask(lengths, size)
        snr = _uniform(*self.snr_db, batch, wav.device)[:, None]
        scale = (_power(wav, valid, lengths) / (_power(noise, valid, lengths) * 10 ** (snr / 10))).sqrt()
        scale = scale * _chosen(self.prob, batch, wav.device)[:, None]
        return wav + (noise * scale * valid).to(wav.dtype)


class Reverb(nn.Module):
    """Convolves a random share ``prob`` of utterances with simulated room impulse responses.

    Each response is a direct path followed by exponentially decaying noise
    that falls 60 dB in a random RT60 (seconds). The reverberant tail past the
    utterance's end is cut so lengths do not change, and the output keeps the
    input's power.
    """

    def __init__(self, prob: float, rt60: Sequence[float], sample_rate: int):
        super().__init__()
        if not 0 <= prob <= 1 or not 0 < rt60[0] <= rt60[1]:
            raise ValueError(f"reverb needs 0 <= prob <= 1 and 0 < rt60 low <= high, got {prob}, {list(rt60)}")
        self.prob, self.rt60, self.sample_rate = prob, tuple(rt60), sample_rate

    def impulse_responses(self, batch: int, device: torch.device) -> torch.Tensor:
        """(batch, taps) responses, each with its own RT60, direct path at tap 0."""
        rt60 = _uniform(*self.rt60, batch, device)[:, None]
        taps = int(self.rt60[1] * self.sample_rate)
        t = torch.arange(taps, device=device)[None, :] / self.sample_rate
        rir = torch.randn(batch, taps, device=device) * torch.exp(-3 * math.log(10) * t / rt60)
        rir[:, 0] = 1.0
        return rir / rir.norm(dim=1, keepdim=True)

    def forward(self, wav: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        if not self.training or self.prob == 0 or wav.numel() == 0:
            return wav
        batch, size = wav.shape
        chosen = _chosen(self.prob, batch, wav.device)
        if not chosen.any():
            return wav
        valid = _valid_mask(lengths, size)
        wet = AF.fftconvolve(wav.float(), self.impulse_responses(batch, wav.device))[:, :size] * valid
        wet = wet * (_power(wav, valid, lengths) / _power(wet, valid, lengths).clamp(min=1e-12)).sqrt()
        return torch.where(chosen[:, None], wet.to(wav.dtype), wav)


class TempoPerturb(nn.Module):
    """Stretches a batch of frames in time by one random rate in ``[low, high]`` (training only).

    A tempo change without the pitch and formant shift of speed perturbation:
    speakers differ far more in speaking rate than in vocal tract length.
    Rate 1.25 makes the batch 1.25 times faster (fewer frames).
    """

    def __init__(self, low: float = 1.0, high: float = 1.0):
        super().__init__()
        if not 0 < low <= high:
            raise ValueError(f"tempo rates must satisfy 0 < low <= high, got [{low}, {high}]")
        self.low, self.high = low, high

    def forward(self, feats: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if not self.training or self.low == self.high == 1.0:
            return feats, lengths
        rate = self.low + (self.high - self.low) * float(torch.rand(()))
        frames = max(1, round(feats.shape[1] / rate))
        stretched = torch.nn.functional.interpolate(feats.transpose(1, 2), size=frames, mode="linear")
        return stretched.transpose(1, 2), (lengths / rate).floor().long().clamp(1, frames)


class FreqWarp(nn.Module):
    """Stretches each utterance's mel axis by its own random factor in ``[low, high]`` (training only):
    vocal tract length perturbation (``asr.features.stretch_mel_axis``)."""

    def __init__(self, low: float = 1.0, high: float = 1.0):
        super().__init__()
        if not 0 < low <= high:
            raise ValueError(f"frequency warp factors must satisfy 0 < low <= high, got [{low}, {high}]")
        self.low, self.high = low, high

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        if not self.training or self.low == self.high == 1.0:
            return feats
        factor = self.low + (self.high - self.low) * torch.rand(feats.shape[0], 1, device=feats.device)
        return stretch_mel_axis(feats, factor)


class SpecAugment(nn.Module):
    """Frequency and time masks, drawn independently per utterance, applied to a (B, T, F) batch in place of values 0.

    Time mask width is a fraction of the batch's frame count, so masks scale with utterance length.
    """

    def __init__(self, freq_masks: int, freq_width: int, time_masks: int, time_width: float):
        super().__init__()
        self.freq_masks = nn.ModuleList(T.FrequencyMasking(freq_width, iid_masks=True) for _ in range(freq_masks))
        self.time_masks = time_masks
        self.time_width = time_width

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        if not self.training:
            return feats
        x = feats.transpose(1, 2).unsqueeze(1)  # (B, 1, F, T), the layout torchaudio masks expect
        for mask in self.freq_masks:
            x = mask(x)
        width = int(self.time_width * x.shape[-1])
        if width > 0:
            for _ in range(self.time_masks):
                x = T.TimeMasking(width, iid_masks=True)(x)
        return x.squeeze(1).transpose(1, 2)


class BatchAugment(nn.Module):
    """Every batch-level augmentation of the ``augment`` config section, in order."""

    def __init__(self, config: AugmentConfig | Mapping[str, Any], sample_rate: int):
        super().__init__()
        config = structured(AugmentConfig, config, "augment.")
        self.reverb = Reverb(**asdict(config.reverb), sample_rate=sample_rate)
        self.noise = AdditiveNoise(**asdict(config.noise))
        self.tempo = TempoPerturb(*(config.tempo or (1.0, 1.0)))
        self.freq_warp = FreqWarp(*(config.freq_warp or (1.0, 1.0)))
        masks = config.spec_augment or SpecAugmentConfig(freq_masks=0, time_masks=0)
        self.spec_augment = SpecAugment(**asdict(masks))

    def waveforms(self, wav: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        return self.noise(self.reverb(wav, lengths), lengths)

    def features(self, feats: torch.Tensor, frames: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        feats, frames = self.tempo(feats, frames)
        return self.spec_augment(self.freq_warp(feats)), frames
