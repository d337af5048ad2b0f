"""The bf16 BiLSTM layer (asr.lstm_bf16): what the float32 LSTM computes, within bf16 rounding.

Tolerance: bf16 keeps 8 significant bits (relative rounding 2^-9), and the layer rounds
each product once, so outputs may differ from float32 by up to 1e-2 absolute (values
of order 1) and every gradient by up to 2e-2 in relative Frobenius norm. A float32
result computed with a wrong gate, a wrong time order or padding leaking into valid
frames differs by far more (the last test checks one such mistake is caught).
"""

import pytest
import torch

from asr import lstm_bf16
from asr.model import BiLSTM

OUT_ATOL = 1e-2
GRAD_RTOL = 2e-2


def relative_error(got: torch.Tensor, want: torch.Tensor) -> float:
    return ((got.float() - want).norm() / want.norm()).item()


def model_and_batch(num_layers=2, input_size=12, hidden=16):
    torch.manual_seed(0)
    lstm = BiLSTM(input_size, hidden, num_layers=num_layers, dropout=0.0)
    x = torch.randn(3, 11, input_size)
    lengths = torch.tensor([11, 5, 8])
    valid = (torch.arange(11)[None, :] < lengths[:, None])[..., None]
    return lstm, x, lengths, valid


def outputs_and_gradients(lstm, x, lengths, valid, bf16: bool, weights: torch.Tensor):
    """Outputs on valid frames and the gradients of a weighted sum of them, for the input and every parameter."""
    x = x.clone().requires_grad_()
    out = lstm._forward_bf16(x, lengths) if bf16 else lstm(x, lengths)
    out = out.float().masked_fill(~valid, 0)
    grads = torch.autograd.grad((out * weights).sum(), [x, *lstm.parameters()])
    return out, grads


@pytest.mark.parametrize("hidden", [16, 256])  # recurrent products batched over directions, and packed per direction
def test_bf16_layer_matches_the_float32_lstm_outputs_and_all_gradients(hidden):
    lstm, x, lengths, valid = model_and_batch(hidden=hidden)
    weights = torch.randn(3, 11, 2 * hidden)
    want, want_grads = outputs_and_gradients(lstm, x, lengths, valid, False, weights)
    got, got_grads = outputs_and_gradients(lstm, x, lengths, valid, True, weights)
    assert got.shape == want.shape
    torch.testing.assert_close(got, want, atol=OUT_ATOL, rtol=0)
    names = ["input", *(name for name, _ in lstm.named_parameters())]
    for name, g, w in zip(names, got_grads, want_grads):
        assert g.shape == w.shape, name
        assert relative_error(g, w) < GRAD_RTOL, name


def test_bf16_layer_gives_each_utterance_the_same_outputs_and_gradients_alone_and_in_a_padded_batch():
    lstm, x, lengths, valid = model_and_batch()
    weights = torch.randn(3, 11, 32)
    batch_out, batch_grads = outputs_and_gradients(lstm, x, lengths, valid, True, weights)
    for i, n in enumerate(lengths.tolist()):
        one = slice(i, i + 1)
        out, grads = outputs_and_gradients(lstm, x[one, :n], lengths[one], valid[one, :n], True, weights[one, :n])
        torch.testing.assert_close(out[0], batch_out[i, :n], atol=OUT_ATOL, rtol=0)
        assert relative_error(grads[0][0], batch_grads[0][i, :n]) < GRAD_RTOL
    assert batch_grads[0][1, 5:].abs().max() == 0, "padding frames get no gradient"


def test_padding_values_do_not_reach_valid_outputs():
    lstm, x, lengths, valid = model_and_batch()
    noisy = x.clone()
    noisy[~valid.expand_as(x)] = 1e3
    with torch.no_grad():
        clean = lstm._forward_bf16(x, lengths).float().masked_fill(~valid, 0)
        dirty = lstm._forward_bf16(noisy, lengths).float().masked_fill(~valid, 0)
    assert torch.equal(clean, dirty)


def test_the_tolerance_catches_a_wrong_direction():
    """Running the backward direction forward in time (no reversal) must fail the comparison."""
    lstm, x, lengths, valid = model_and_batch(num_layers=1)
    with torch.no_grad():
        want = lstm(x, lengths).masked_fill(~valid, 0)
        identity = torch.arange(11 * 3)
        wrong = lstm_bf16.bidirectional_layer(x, identity, lstm._weights(0, ""), lstm._weights(0, "_reverse"))
        right = lstm._forward_bf16(x, lengths)
    torch.testing.assert_close(right.float().masked_fill(~valid, 0), want, atol=OUT_ATOL, rtol=0)
    assert (wrong.float().masked_fill(~valid, 0) - want).abs().max() > 10 * OUT_ATOL


def test_reversal_rows_reverse_each_sequence_within_its_length():
    lengths = torch.tensor([3, 1, 2])
    rows = lstm_bf16.reversal_rows(lengths, 3)
    x = torch.arange(9).view(3, 3)  # time-major: x[t, b] = 3t + b
    reversed_x = x.reshape(-1)[rows].view(3, 3)
    assert reversed_x.t().tolist() == [[6, 3, 0], [1, 4, 7], [5, 2, 8]]
    assert torch.equal(reversed_x.reshape(-1)[rows], x.reshape(-1))


@pytest.mark.parametrize(
    "amx, avx512_bf16, hidden, expected",
    [
        (True, True, 16, True),  # AMX: the bf16 layer at every size
        (False, True, 16, False),  # AVX-512 BF16 alone: oneDNN's bf16 LSTM below MIN_AVX512_HIDDEN
        (False, True, lstm_bf16.MIN_AVX512_HIDDEN, True),  # and the bf16 layer from it on
        (False, False, lstm_bf16.MIN_AVX512_HIDDEN, False),  # no bf16 dot products: oneDNN
    ],
)
def test_bf16_autocast_runs_the_bf16_layer_where_it_is_chosen_and_float32_never(
    monkeypatch, amx, avx512_bf16, hidden, expected
):
    monkeypatch.setattr(lstm_bf16, "amx_available", lambda: amx)
    monkeypatch.setattr(lstm_bf16, "avx512_bf16_available", lambda: avx512_bf16)
    assert lstm_bf16.chosen_for(hidden) == expected
    lstm, x, lengths, _ = model_and_batch(input_size=8, hidden=hidden)
    calls = []
    original = lstm_bf16.bidirectional_layer
    monkeypatch.setattr(lstm_bf16, "bidirectional_layer", lambda *a: calls.append(1) or original(*a))
    lstm(x, lengths)
    assert not calls
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = lstm(x, lengths)
    assert len(calls) == (2 if expected else 0) and out.dtype == torch.bfloat16
