"""The acoustic model: convolutional subsampling, stacked BiLSTM, linear output, as plain ``nn.Module``s."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from asr import lstm_bf16
from asr.config import ConfigError, structured
from asr.features import FeatureConfig, Frontend

KERNEL = 3


@dataclass
class ModelConfig:
    """The ``model`` config section (conf/model/): conv subsampling, stacked BiLSTM, linear output."""

    subsampling: int = 4  # 2 or 4: output frames are 20 or 40 ms apart
    conv_channels: int = 32
    hidden_size: int = 256  # per direction
    num_layers: int = 3
    dropout: float = 0.1

    def __post_init__(self) -> None:
        if self.subsampling not in (2, 4):
            raise ConfigError(f"model.subsampling={self.subsampling}: expected 2 or 4")
        for name in ("conv_channels", "hidden_size", "num_layers"):
            if getattr(self, name) < 1:
                raise ConfigError(f"model.{name}={getattr(self, name)}: expected a positive integer")
        if not 0 <= self.dropout < 1:
            raise ConfigError(f"model.dropout={self.dropout}: expected a probability in [0, 1)")


class ConvSubsampling(nn.Module):
    """Two 3x3 convolutions over (time, mel) that shorten time by ``factor`` (2 or 4).

    Time has no padding: every output frame is computed from valid input frames
    only, so a padded batch gives the same valid outputs as each utterance alone.
    """

    def __init__(self, n_mels: int, channels: int, factor: int):
        super().__init__()
        if factor not in (2, 4):
            raise ValueError(f"subsampling factor must be 2 or 4, got {factor}")
        self.time_strides = (2, 2) if factor == 4 else (2, 1)
        self.n_mels = n_mels
        self.conv = nn.Sequential(
            nn.Conv2d(1, channels, KERNEL, stride=(self.time_strides[0], 2), padding=(0, 1)),
            nn.ReLU(),
            nn.Conv2d(channels, channels, KERNEL, stride=(self.time_strides[1], 2), padding=(0, 1)),
            nn.ReLU(),
        )
        freq = n_mels
        for _ in range(2):
            freq = (freq + 2 - KERNEL) // 2 + 1
        self.output_size = channels * freq

    def output_lengths(self, lengths: torch.Tensor) -> torch.Tensor:
        for stride in self.time_strides:
            lengths = torch.div(lengths - KERNEL, stride, rounding_mode="floor") + 1
        return lengths.clamp(min=0)

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        x = self.conv(feats.unsqueeze(1))  # (B, C, T', F')
        b, c, t, f = x.shape
        return x.permute(0, 2, 1, 3).reshape(b, t, c * f)


def reverse_within_lengths(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Each sequence of ``x`` (B, T, C) with its first ``lengths`` frames in reverse order; padding stays after them.

    Applying it twice gives ``x`` back.
    """
    steps = torch.arange(x.shape[1], device=x.device)
    index = lengths[:, None] - 1 - steps
    index = torch.where(index >= 0, index, steps)
    return x.gather(1, index[:, :, None].expand(-1, -1, x.shape[2]))  # expand_as exports with a fixed time axis


class BiLSTM(nn.LSTM):
    """Stacked bidirectional LSTM over padded batches (B, T, in) whose valid outputs never see the padding.

    Each layer runs its two directions as separate LSTM calls on padded input; the
    backward direction reads every utterance reversed within its own length, so in
    both directions the padding comes after the valid frames. That computes what
    packed sequences compute, but padded input takes the fused kernels (oneDNN on
    CPU, cuDNN on GPU), where PyTorch runs packed input on CPU step by step in its own
    kernels, several times slower to train (BENCHMARKS.md). Under bf16 autocast on a
    CPU where ``asr.lstm_bf16.chosen_for`` the hidden size (AMX, or AVX-512 BF16 and a
    large hidden size), each layer runs ``asr.lstm_bf16`` instead, which trains faster in
    bf16 there than oneDNN's LSTM. Parameters are those of ``nn.LSTM``, so saved weights load
    unchanged.
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int, dropout: float):
        super().__init__(
            input_size,
            hidden_size,
            num_layers=num_layers,
            dropout=dropout if num_layers > 1 else 0.0,
            bidirectional=True,
            batch_first=True,
        )

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        """Outputs (B, T, 2 * hidden_size); frames past an utterance's length hold no meaningful values."""
        if _cpu_bf16_autocast(x) and lstm_bf16.chosen_for(self.hidden_size):
            return self._forward_bf16(x, lengths)
        return self._forward_fused(x, lengths)

    def _forward_fused(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Each layer and direction as one fused LSTM call (oneDNN on CPU, cuDNN on GPU)."""
        for layer in range(self.num_layers):
            if layer:
                x = nn.functional.dropout(x, self.dropout, self.training)
            forward = self._direction(x, layer, "")
            backward = reverse_within_lengths(
                self._direction(reverse_within_lengths(x, lengths), layer, "_reverse"), lengths
            )
            x = torch.cat([forward, backward], dim=2)
        return x

    @torch.compiler.disable  # a Python loop over time steps: nothing for the compiler to gain, much to unroll
    def _forward_bf16(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        rows = lstm_bf16.reversal_rows(lengths, x.shape[1])
        for layer in range(self.num_layers):
            if layer:
                x = nn.functional.dropout(x, self.dropout, self.training)
            x = lstm_bf16.bidirectional_layer(x, rows, self._weights(layer, ""), self._weights(layer, "_reverse"))
        return x

    def _weights(self, layer: int, suffix: str) -> list[torch.Tensor]:
        return [getattr(self, f"{name}_l{layer}{suffix}") for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]

    def _direction(self, x: torch.Tensor, layer: int, suffix: str) -> torch.Tensor:
        weights = self._weights(layer, suffix)
        zeros = x.new_zeros(1, x.shape[0], self.hidden_size)
        # One layer, one direction, no dropout; batch_first.
        return torch.lstm(x, (zeros, zeros), weights, True, 1, 0.0, self.training, False, True)[0]


def _cpu_bf16_autocast(x: torch.Tensor) -> bool:
    """Whether ``x`` is computed on the CPU under bf16 autocast."""
    return (
        x.device.type == "cpu"
        and torch.is_autocast_enabled("cpu")
        and torch.get_autocast_dtype("cpu") == torch.bfloat16
    )


class AcousticModel(nn.Module):
    """Normalized features (B, T, n_mels) -> CTC log-probabilities (B, T', vocab) and their lengths."""

    def __init__(self, n_mels: int, vocab_size: int, model: ModelConfig):
        super().__init__()
        self.subsampling = ConvSubsampling(n_mels, model.conv_channels, model.subsampling)
        self.lstm = BiLSTM(self.subsampling.output_size, model.hidden_size, model.num_layers, model.dropout)
        self.dropout = nn.Dropout(model.dropout)
        self.output = nn.Linear(2 * model.hidden_size, vocab_size)

    @property
    def frame_shift_factor(self) -> int:
        """How many input frames one output frame spans."""
        return self.subsampling.time_strides[0] * self.subsampling.time_strides[1]

    def output_lengths(self, lengths: torch.Tensor) -> torch.Tensor:
        return self.subsampling.output_lengths(lengths)

    def forward_flops(self, frames: torch.Tensor) -> float:
        """Model FLOPs of a forward pass over utterances of ``frames`` log-mel frames, valid frames only: a 3x3
        convolution costs 2·9·C_in·C_out·F_k per frame it outputs (F_k its output mel bins); per output frame,
        each LSTM layer 2·4h·(in + h) in each of its two directions and the output layer 2·2h·V. Elementwise
        work (activations, gates, log-softmax) is not counted."""
        forward = 0.0
        time_frames, bins = frames, self.subsampling.n_mels
        for conv in self.subsampling.conv:
            if isinstance(conv, nn.Conv2d):
                (kt, kf), (st, sf), (_, pf) = conv.kernel_size, conv.stride, conv.padding
                time_frames = torch.div(time_frames - kt, st, rounding_mode="floor") + 1
                bins = (bins + 2 * pf - kf) // sf + 1
                forward += 2 * kt * kf * conv.in_channels * conv.out_channels * bins * time_frames.sum().item()
        lstm, h = self.lstm, self.lstm.hidden_size
        per_frame = sum(
            2 * 2 * 4 * h * ((lstm.input_size if layer == 0 else 2 * h) + h) for layer in range(lstm.num_layers)
        )
        per_frame += 2 * self.output.in_features * self.output.out_features
        return forward + per_frame * time_frames.sum().item()

    def forward(self, feats: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out_lengths = self.output_lengths(lengths)
        # Export traces the graph for every input; the check needs values, so callers of an export check instead.
        if not torch.compiler.is_exporting() and (out_lengths <= 0).any():
            raise ValueError("an utterance is too short for the model's subsampling (need at least 7 frames)")
        y = self.lstm(self.subsampling(feats), out_lengths)
        # Log-softmax in float32 also under mixed precision: CTC needs accurate log-probabilities.
        return self.output(self.dropout(y)).float().log_softmax(-1), out_lengths


class SpeechRecognizer(nn.Module):
    """Frontend and acoustic model together: waveforms (B, S) at 16 kHz -> CTC log-probs."""

    def __init__(self, frontend: Frontend, acoustic: AcousticModel):
        super().__init__()
        self.frontend = frontend
        self.acoustic = acoustic

    @property
    def sample_rate(self) -> int:
        return self.frontend.sample_rate

    @property
    def seconds_per_output_frame(self) -> float:
        hop = self.frontend.logmel.hop_length / self.frontend.sample_rate
        return hop * self.acoustic.frame_shift_factor

    def output_frames(self, num_samples: int) -> int:
        """Output frames for a waveform of ``num_samples`` samples (0 when too short for one)."""
        frames = self.frontend.logmel.num_frames(torch.tensor([num_samples]))
        return int(self.acoustic.output_lengths(frames).item())

    def min_samples(self) -> int:
        """Shortest waveform that yields at least one output frame."""
        logmel = self.frontend.logmel
        frames = 1
        while self.acoustic.output_lengths(torch.tensor([frames])).item() < 1:
            frames += 1
        return logmel.win_length + (frames - 1) * logmel.hop_length

    def forward(self, wav: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        feats, frames = self.frontend(wav, lengths)
        return self.acoustic(feats, frames)


def build_recognizer(
    features: FeatureConfig | Mapping[str, Any], model: ModelConfig | Mapping[str, Any], vocab_size: int
) -> SpeechRecognizer:
    """A recognizer from the ``features`` and ``model`` config sections (checked against their schemas)."""
    features = structured(FeatureConfig, features, "features.")
    model = structured(ModelConfig, model, "model.")
    return SpeechRecognizer(Frontend(features), AcousticModel(features.n_mels, vocab_size, model))


def build_acoustic(
    features: FeatureConfig | Mapping[str, Any], model: ModelConfig | Mapping[str, Any], vocab_size: int
) -> AcousticModel:
    """The acoustic model alone (it allocates no memory under ``torch.device("meta")``, which shows the
    weight shapes a config implies: ``asr.model_file`` checks a file's weights against them)."""
    features = structured(FeatureConfig, features, "features.")
    return AcousticModel(features.n_mels, vocab_size, structured(ModelConfig, model, "model."))
