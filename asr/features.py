"""Log-mel frontend and normalization statistics.

The frontend runs on the model's device, batched, so feature extraction scales
with the accelerator. It uses ``center=False`` framing: a frame only sees
samples of its own utterance, so padding a batch never changes valid frames.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import torch
import torchaudio.transforms as T
from torch import nn

from asr.config import ConfigError

LOG_FLOOR = 1e-6
# Normalization never divides by a deviation below this (in natural-log units). Mel bands
# that hold almost nothing (above a narrowband recording's Nyquist, or digital silence)
# would otherwise be blown up from rounding noise into large, meaningless features.
MIN_STD = 1.0


@dataclass
class FeatureConfig:
    """The ``features`` config section (conf/features/): log-mel frames and how they are normalized."""

    sample_rate: int = 16000
    n_mels: int = 80
    win_ms: float = 25.0  # Hann window
    hop_ms: float = 10.0
    utterance_norm: bool = False  # also remove each utterance's own per-bin mean and deviation
    # With utterance_norm: take those statistics only from frames within this many dB of the loudest.
    norm_gate_db: float | None = None
    stats_max_utterances: int = 2000  # training-set statistics come from at most this many utterances

    def __post_init__(self) -> None:
        if self.norm_gate_db is not None and self.norm_gate_db <= 0:
            raise ConfigError(f"features.norm_gate_db={self.norm_gate_db}: expected a positive number of dB, or null")
        for name in ("sample_rate", "n_mels", "win_ms", "hop_ms"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"features.{name}={getattr(self, name)}: expected a positive number")


class LogMel(nn.Module):
    """Waveforms (B, S) -> log-mel frames (B, T, n_mels) with a Hann window (Slaney mel scale, as librosa)."""

    def __init__(self, features: FeatureConfig):
        super().__init__()
        sample_rate, n_mels = features.sample_rate, features.n_mels
        win_ms, hop_ms = features.win_ms, features.hop_ms
        self.win_length = int(round(sample_rate * win_ms / 1000))
        self.hop_length = int(round(sample_rate * hop_ms / 1000))
        self.mel = T.MelSpectrogram(
            sample_rate=sample_rate,
            n_fft=self.win_length,
            hop_length=self.hop_length,
            n_mels=n_mels,
            center=False,
            power=2.0,
            norm="slaney",
            mel_scale="slaney",
        )
        # The windowed DFT as convolution kernels (cosine and sine rows): what an exported graph computes
        # instead of ONNX's STFT operator, which ONNX Runtime runs as a plain DFT when the window is not a
        # power of two. Not saved in model files: it follows from the settings.
        window = self.mel.spectrogram.window
        bins = torch.arange(self.win_length // 2 + 1, dtype=torch.float64)[:, None]
        angle = 2 * math.pi * bins * torch.arange(self.win_length, dtype=torch.float64) / self.win_length
        basis = torch.cat([angle.cos(), -angle.sin()]) * window.double()
        self.register_buffer("dft_kernels", basis.float()[:, None, :], persistent=False)

    def num_frames(self, num_samples: torch.Tensor) -> torch.Tensor:
        """Frames produced for utterances of ``num_samples`` samples (0 when shorter than a window)."""
        frames = torch.div(num_samples - self.win_length, self.hop_length, rounding_mode="floor") + 1
        return frames.clamp(min=0)

    def forward(self, wav: torch.Tensor) -> torch.Tensor:
        with torch.autocast(wav.device.type, enabled=False):
            if torch.compiler.is_exporting():
                spec = self.mel.mel_scale(self._power_by_convolution(wav.float()))
            else:
                spec = self.mel(wav.float())
        return (spec + LOG_FLOOR).log().transpose(1, 2)

    def _power_by_convolution(self, wav: torch.Tensor) -> torch.Tensor:
        """The power spectrogram (B, freq, T) as one strided convolution with the windowed DFT kernels."""
        parts = nn.functional.conv1d(wav[:, None], self.dft_kernels, stride=self.hop_length)
        real, imag = parts.chunk(2, dim=1)
        return real**2 + imag**2


class FeatureStats:
    """Running per-bin mean and variance of log-mel frames (float64 sums)."""

    def __init__(self, n_mels: int):
        self.count = 0
        self.sum = torch.zeros(n_mels, dtype=torch.float64)
        self.sum_sq = torch.zeros(n_mels, dtype=torch.float64)

    def update(self, frames: torch.Tensor) -> None:
        """Add frames of shape (T, n_mels)."""
        frames = frames.to(torch.float64)
        self.count += frames.shape[0]
        self.sum += frames.sum(0)
        self.sum_sq += (frames**2).sum(0)

    def mean_std(self) -> tuple[torch.Tensor, torch.Tensor]:
        if self.count == 0:
            raise ValueError("no frames to compute normalization statistics from")
        mean = self.sum / self.count
        var = (self.sum_sq / self.count - mean**2).clamp(min=MIN_STD**2)
        return mean.float(), var.sqrt().float()


def stretch_mel_axis(feats: torch.Tensor, factor: torch.Tensor | float) -> torch.Tensor:
    """Frames (B, T, F) with each utterance's mel axis stretched by its ``factor`` (a float, or (B, 1)).

    A longer vocal tract puts every formant lower, which on the mel axis is close to
    a uniform stretch: factor 1.1 moves the content of bin ``f`` to bin ``1.1 * f``;
    bins stretched past the top repeat the last one.
    """
    bins = feats.shape[2]
    source = (torch.arange(bins, device=feats.device) / factor).clamp(max=bins - 1)  # (F,) or (B, F)
    source = source.expand(feats.shape[0], bins)
    below = source.floor().long()
    above = (below + 1).clamp(max=bins - 1)
    weight = (source - below)[:, None, :]
    lower = feats.gather(2, below[:, None, :].expand_as(feats))
    upper = feats.gather(2, above[:, None, :].expand_as(feats))
    return torch.lerp(lower, upper, weight.to(feats.dtype))


class Frontend(nn.Module):
    """Waveforms and lengths -> normalized log-mel frames and frame counts; padded frames are zero.

    Frames are normalized with the training set's per-bin statistics. With
    ``utterance_norm`` each utterance's own per-bin mean and deviation (over its
    valid frames) are removed as well, which cancels microphone and level
    differences between recordings. With ``norm_gate_db`` those statistics come
    only from the frames within that many dB of the utterance's loudest frame,
    so they describe its speech, not how much silence surrounds it: the same
    words get the same features alone, in a longer recording or cut out of one.
    ``warp`` (not saved; 1 by default) stretches the log-mel axis before normalization:
    vocal tract length normalization of one speaker's audio (``asr.vtln``).
    """

    def __init__(self, features: FeatureConfig):
        super().__init__()
        self.sample_rate = features.sample_rate
        self.utterance_norm = features.utterance_norm
        gate = features.norm_gate_db
        self.norm_gate = None if gate is None else gate / 10 * math.log(10)  # dB -> nats of power
        self.logmel = LogMel(features)
        self.register_buffer("mean", torch.zeros(features.n_mels))
        self.register_buffer("std", torch.ones(features.n_mels))
        self.warp = 1.0

    def set_stats(self, mean: torch.Tensor, std: torch.Tensor) -> None:
        self.mean.copy_(mean)
        self.std.copy_(std)

    def fit_stats(self, waveforms: Iterable[torch.Tensor]) -> None:
        """Normalize with the per-bin mean and deviation of this frontend's log-mel frames of ``waveforms``
        (a training set's), so the statistics come from the very features the model will see."""
        self.set_stats(*compute_stats(self.logmel, waveforms))

    def forward(self, wav: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        frames = self.logmel.num_frames(lengths)
        logmel = self.logmel(wav)
        if self.warp != 1.0:
            logmel = stretch_mel_axis(logmel, self.warp)
        feats = (logmel - self.mean) / self.std
        valid = (torch.arange(feats.shape[1], device=feats.device)[None, :] < frames[:, None])[..., None]
        feats = feats.masked_fill(~valid, 0.0)
        if self.utterance_norm:
            counted = valid
            if self.norm_gate is not None:
                loudness = logmel.logsumexp(dim=2, keepdim=True).masked_fill(~valid, -math.inf)
                counted = valid & (loudness >= loudness.amax(dim=1, keepdim=True) - self.norm_gate)
            count = counted.sum(1, keepdim=True).clamp(min=1)
            mean = feats.masked_fill(~counted, 0.0).sum(1, keepdim=True) / count
            var = ((feats - mean) ** 2).masked_fill(~counted, 0.0).sum(1, keepdim=True) / count
            feats = ((feats - mean) / var.clamp(min=MIN_STD**2).sqrt()).masked_fill(~valid, 0.0)
        return feats, frames


def compute_stats(logmel: LogMel, waveforms: Iterable[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and standard deviation of each mel bin over the frames of ``waveforms``."""
    n_mels = logmel.mel.n_mels
    stats = FeatureStats(n_mels)
    with torch.no_grad():
        for wav in waveforms:
            if wav.numel() >= logmel.win_length:
                stats.update(logmel(wav[None])[0])
    return stats.mean_std()
