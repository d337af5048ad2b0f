import pytest
import torch

from asr.augment import AdditiveNoise, BatchAugment, FreqWarp, Reverb, SpecAugment


def _batch() -> tuple[torch.Tensor, torch.Tensor]:
    torch.manual_seed(0)
    lengths = torch.tensor([16000, 9000, 4000])
    t = torch.arange(16000) / 16000
    wav = torch.stack([torch.sin(2 * torch.pi * f * t) for f in (200.0, 440.0, 1000.0)])
    wav[torch.arange(16000)[None, :] >= lengths[:, None]] = 0
    return wav, lengths


def _power(x: torch.Tensor, n: int) -> float:
    return float((x[:n] ** 2).mean())


def test_spec_augment_masks_only_in_training():
    aug = SpecAugment(freq_masks=2, freq_width=10, time_masks=2, time_width=0.1)
    feats = torch.randn(4, 200, 80) + 10
    aug.eval()
    assert torch.equal(aug(feats), feats)
    aug.train()
    torch.manual_seed(0)
    out = aug(feats)
    assert out.shape == feats.shape
    assert (out == 0).any() and not (out == 0).all()
    masked = out == 0
    assert not torch.equal(masked[0], masked[1])  # masks differ per utterance


def test_freq_warp_moves_content_along_the_mel_axis():
    feats = torch.zeros(1, 3, 80)
    feats[..., 20] = 1.0
    assert torch.equal(FreqWarp(1.5, 1.5).eval()(feats), feats)
    warped = FreqWarp(1.5, 1.5).train()(feats)
    assert warped.shape == feats.shape
    assert warped[0, 0].argmax().item() == 30
    shrunk = FreqWarp(0.5, 0.5).train()(feats)
    assert shrunk[0, 0].argmax().item() == 10


def test_noise_reaches_the_drawn_snr_and_leaves_padding_silent():
    wav, lengths = _batch()
    noisy = AdditiveNoise(prob=1.0, snr_db=(10.0, 10.0)).train()(wav, lengths)
    assert noisy.shape == wav.shape
    for i, n in enumerate(lengths.tolist()):
        noise = noisy[i] - wav[i]
        snr = 10 * torch.log10(torch.tensor(_power(wav[i], n) / _power(noise, n)))
        assert abs(float(snr) - 10.0) < 0.1
        assert (noisy[i, n:] == 0).all()
    assert torch.equal(AdditiveNoise(prob=1.0, snr_db=(5.0, 30.0)).eval()(wav, lengths), wav)
    assert torch.equal(AdditiveNoise(prob=0.0, snr_db=(5.0, 30.0)).train()(wav, lengths), wav)


def test_reverb_keeps_length_and_power_and_spreads_energy_in_time():
    wav, lengths = _batch()
    wet = Reverb(prob=1.0, rt60=(0.5, 0.5), sample_rate=16000).train()(wav, lengths)
    assert wet.shape == wav.shape and not torch.allclose(wet, wav)
    for i, n in enumerate(lengths.tolist()):
        assert _power(wet[i], n) == pytest.approx(_power(wav[i], n), rel=1e-3)
        assert (wet[i, n:] == 0).all()
    rir = Reverb(prob=0.0, rt60=(0.5, 0.5), sample_rate=16000).impulse_responses(2, torch.device("cpu"))
    assert torch.allclose(rir.norm(dim=1), torch.ones(2))
    taps = rir.shape[1]
    assert (rir[:, : taps // 10] ** 2).sum() > 100 * (rir[:, -taps // 10 :] ** 2).sum()  # decays over time
    assert torch.equal(Reverb(prob=1.0, rt60=(0.2, 0.8), sample_rate=16000).eval()(wav, lengths), wav)


def test_augmentation_settings_are_checked():
    with pytest.raises(ValueError, match="snr_db"):
        AdditiveNoise(prob=0.5, snr_db=(30.0, 5.0))
    with pytest.raises(ValueError, match="rt60"):
        Reverb(prob=2.0, rt60=(0.2, 0.8), sample_rate=16000)
    with pytest.raises(ValueError, match="low <= high"):
        FreqWarp(1.2, 0.8)


def test_batch_augment_keeps_shapes_and_lengths_consistent():
    config = {
        "reverb": {"prob": 1.0, "rt60": [0.2, 0.4]},
        "noise": {"prob": 1.0, "snr_db": [5, 20]},
        "tempo": [1.2, 1.2],
        "freq_warp": [0.9, 1.1],
        "spec_augment": {"freq_masks": 2, "freq_width": 10, "time_masks": 2, "time_width": 0.05},
    }
    augment = BatchAugment(config, sample_rate=16000).train()
    wav, lengths = _batch()
    out = augment.waveforms(wav, lengths)
    assert out.shape == wav.shape and torch.isfinite(out).all()
    feats = torch.randn(3, 100, 80)
    frames = torch.tensor([100, 57, 25])
    new_feats, new_frames = augment.features(feats, frames)
    assert new_feats.shape == (3, round(100 / 1.2), 80)
    assert new_frames.tolist() == [83, 47, 20]
    assert (new_frames <= new_feats.shape[1]).all()
