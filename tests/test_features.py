import librosa
import numpy as np
import pytest
import torch

from asr.audio import AudioSource
from asr.features import LOG_FLOOR, FeatureConfig, Frontend, LogMel, compute_stats

# The frontend and librosa compute the same log-mel (Hann window, Slaney mel scale);
# they differ only by float32 rounding, well under this bound in the log domain.
LIBROSA_TOLERANCE = 1e-3


def test_logmel_matches_librosa_on_real_speech(fsdd_dir):
    wav = AudioSource(str(fsdd_dir / "7_jackson_32.wav")).load(16000)
    ours = LogMel(FeatureConfig())(wav[None])[0].numpy()
    ref = librosa.feature.melspectrogram(
        y=wav.numpy(), sr=16000, n_fft=400, hop_length=160, win_length=400, center=False, power=2.0, n_mels=80
    )
    ref = np.log(ref + LOG_FLOOR).T
    assert ours.shape == ref.shape
    assert np.abs(ours - ref).max() < LIBROSA_TOLERANCE


def test_frame_count_formula_matches_output():
    logmel = LogMel(FeatureConfig())
    for n in (400, 401, 559, 560, 16000):
        assert logmel(torch.randn(1, n)).shape[1] == logmel.num_frames(torch.tensor([n])).item()
    assert logmel.num_frames(torch.tensor([399])).item() == 0


def test_padding_does_not_change_valid_frames():
    frontend = Frontend(FeatureConfig())
    frontend.set_stats(torch.full((80,), -5.0), torch.full((80,), 2.0))
    a, b = torch.randn(16000), torch.randn(7000)
    batch = torch.nn.utils.rnn.pad_sequence([a, b], batch_first=True)
    feats, frames = frontend(batch, torch.tensor([16000, 7000]))
    alone, n = frontend(b[None], torch.tensor([7000]))
    assert frames[1] == n[0]
    torch.testing.assert_close(feats[1, : n[0]], alone[0])
    assert (feats[1, n[0] :] == 0).all()


def test_stats_normalize_to_zero_mean_unit_variance():
    logmel = LogMel(FeatureConfig())
    waves = [torch.randn(8000) * s for s in (0.1, 1.0, 3.0)]
    mean, std = compute_stats(logmel, waves)
    frames = torch.cat([logmel(w[None])[0] for w in waves])
    normalized = (frames - mean) / std
    assert normalized.mean(0).abs().max() < 1e-3
    assert (normalized.std(0) - 1).abs().max() < 1e-2


def test_gated_utterance_statistics_ignore_surrounding_silence():
    torch.manual_seed(0)
    speech = 0.1 * torch.randn(16000)
    padded = torch.cat([torch.zeros(16000), speech, torch.zeros(8000)])
    inner = slice(101, 190)  # the padded file's frames that hold speech alone (10 ms hop, 25 ms window)

    def speech_frames(frontend: Frontend) -> tuple[torch.Tensor, torch.Tensor]:
        alone, _ = frontend(speech[None], torch.tensor([speech.numel()]))
        within, _ = frontend(padded[None], torch.tensor([padded.numel()]))
        return alone[0, 1:90], within[0, inner]

    # gated, only the few frames that straddle the speech's edges join the statistics
    alone, within = speech_frames(Frontend(FeatureConfig(utterance_norm=True, norm_gate_db=40)))
    assert (alone - within).abs().mean() < 0.1
    # Ungated: the silence shifts the statistics.
    alone, within = speech_frames(Frontend(FeatureConfig(utterance_norm=True)))
    assert (alone - within).abs().mean() > 1.0
    with pytest.raises(ValueError, match="norm_gate_db"):
        FeatureConfig(utterance_norm=True, norm_gate_db=-40)


def test_a_frontend_fits_its_statistics_to_its_own_frames():
    frontend = Frontend(FeatureConfig())
    waves = [torch.randn(8000) * s for s in (0.1, 1.0, 3.0)]
    frontend.fit_stats(iter(waves))  # a stream, read once
    lengths = torch.tensor([8000] * 3)
    feats, frames = frontend(torch.stack(waves), lengths)
    assert feats.mean((0, 1)).abs().max() < 1e-3 and (feats.flatten(0, 1).std(0) - 1).abs().max() < 1e-2
