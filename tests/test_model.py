import pytest
import torch
from configs import features, tiny_model

from asr.model import BiLSTM, ModelConfig, build_recognizer


def small(subsampling: int = 4):
    model = tiny_model(hidden_size=32, num_layers=2, subsampling=subsampling, conv_channels=8)
    return build_recognizer(features(), model, vocab_size=12).eval()


@pytest.mark.parametrize("subsampling", [2, 4])
def test_utterance_output_is_identical_alone_and_in_a_padded_batch(subsampling):
    torch.manual_seed(0)
    model = small(subsampling)
    wavs = [torch.randn(n) for n in (16000, 5000, 11000)]
    batch = torch.nn.utils.rnn.pad_sequence(wavs, batch_first=True)
    with torch.no_grad():
        out, lengths = model(batch, torch.tensor([w.numel() for w in wavs]))
        for i, w in enumerate(wavs):
            alone, n = model(w[None], torch.tensor([w.numel()]))
            assert lengths[i] == n[0] == alone.shape[1]
            torch.testing.assert_close(out[i, : n[0]], alone[0], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("subsampling, shift", [(2, 0.02), (4, 0.04)])
def test_subsampling_sets_output_rate(subsampling, shift):
    model = small(subsampling)
    assert model.seconds_per_output_frame == pytest.approx(shift)
    with torch.no_grad():
        out, n = model(torch.randn(1, 32000), torch.tensor([32000]))
    assert out.shape[1] == n[0]
    assert 0 <= 2.0 / shift - n[0].item() <= 5  # unpadded convolutions trim a few edge frames
    assert torch.allclose(out.exp().sum(-1), torch.ones(out.shape[:2]), atol=1e-5)


def test_shortest_input_gives_one_frame_and_shorter_is_an_error():
    model = small()
    n = model.min_samples()
    with torch.no_grad():
        assert model(torch.randn(1, n), torch.tensor([n]))[1].item() == 1
        with pytest.raises(ValueError, match="too short"):
            model(torch.randn(1, n - 200), torch.tensor([n - 200]))


def test_bad_subsampling_factor():
    with pytest.raises(ValueError, match="model.subsampling=3: expected 2 or 4"):
        ModelConfig(subsampling=3)
    with pytest.raises(ValueError, match="model.subsampling=3: expected 2 or 4"):
        build_recognizer(features(), {"subsampling": 3}, vocab_size=12)


def test_model_config_names_the_key_and_what_it_expected():
    with pytest.raises(ValueError, match=r"^model.hidden_size: Value 'abc' of type 'str' could not be converted to"):
        build_recognizer(features(), {"hidden_size": "abc"}, vocab_size=12)
    with pytest.raises(ValueError, match=r"^model.hiden_size: unknown key \(ModelConfig takes: subsampling, "):
        build_recognizer(features(), {"hiden_size": 8}, vocab_size=12)


def test_bilstm_computes_what_a_packed_lstm_computes_with_the_same_gradients():
    torch.manual_seed(0)
    lstm = BiLSTM(6, 5, num_layers=2, dropout=0.0)
    reference = torch.nn.LSTM(6, 5, num_layers=2, bidirectional=True, batch_first=True)
    reference.load_state_dict(lstm.state_dict())
    x = torch.randn(3, 9, 6)
    lengths = torch.tensor([9, 4, 7])
    valid = (torch.arange(9)[None, :] < lengths[:, None])[..., None]

    out = lstm(x, lengths).masked_fill(~valid, 0)
    packed = torch.nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
    expected = torch.nn.utils.rnn.pad_packed_sequence(reference(packed)[0], batch_first=True)[0]
    torch.testing.assert_close(out, expected, atol=1e-6, rtol=1e-5)

    grads = torch.autograd.grad(out.square().sum(), list(lstm.parameters()))
    expected_grads = torch.autograd.grad(expected.square().sum(), list(reference.parameters()))
    for got, want in zip(grads, expected_grads):
        torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("subsampling", [2, 4])
def test_output_frames_are_what_a_forward_pass_gives(subsampling):
    model = small(subsampling)
    shortest = model.min_samples()
    assert model.output_frames(shortest - 1) == 0
    with torch.no_grad():
        for samples in (shortest, shortest + 159, 16000, 23456):
            assert model.output_frames(samples) == model(torch.randn(1, samples), torch.tensor([samples]))[1].item()


@pytest.mark.parametrize("frames", [57, 200])
def test_forward_flops_count_what_torch_counts_plus_the_lstm(frames):
    from torch.utils.flop_counter import FlopCounterMode

    acoustic = small().acoustic
    with FlopCounterMode(display=False) as counter, torch.no_grad():  # it counts convolutions and matmuls, not LSTMs
        _, out = acoustic(torch.randn(1, frames, 80), torch.tensor([frames]))
    lstm, h = acoustic.lstm, acoustic.lstm.hidden_size
    per_frame = sum(2 * 2 * 4 * h * ((lstm.input_size if k == 0 else 2 * h) + h) for k in range(lstm.num_layers))
    assert acoustic.forward_flops(torch.tensor([frames])) == counter.get_total_flops() + per_frame * out.item()
