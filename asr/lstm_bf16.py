"""One bidirectional LSTM layer for bf16 training on CPUs: bf16 products, float32 gates and cell state.

On a CPU with AMX, oneDNN's fused LSTM under bf16 autocast gains nothing in its
backward pass over float32, and bf16-mixed training ran no faster than float32, at
times slower; on one with AVX-512 BF16 alone the same holds for large hidden sizes
(BENCHMARKS.md). This layer does the same arithmetic in a shape those units run well
(``chosen_for`` says where it is used):

- the input products of all time steps, the input gradients and the weight gradients
  are one large bf16 matrix product each, per direction;
- per time step only the recurrent products remain: small bf16 products, both
  directions in one batched call, or for larger weights one call per direction with
  the weights reordered once into oneDNN's blocked layout;
- gate pre-activations are summed, and gates, cell state and their gradients
  computed, in float32; each product is accumulated in float32 and rounded to bf16
  once, as every bf16 product under autocast is.

Both directions advance together, one tensor operation covering both; the backward
direction reads each utterance reversed within its own length, so padding never
reaches a valid output (as in ``asr.model.BiLSTM``). The layer takes ``nn.LSTM``'s
weights (gates input, forget, cell, output) and computes with the output gate moved
first, so that the three sigmoid gates are adjacent; the result is ``nn.LSTM``'s within
bf16 rounding (``tests/test_lstm_bf16.py``).
"""

from __future__ import annotations

import functools

import torch
from torch.nn import functional as F

BF16 = torch.bfloat16
# Backward time steps whose gate derivatives are computed together: large enough to
# amortize per-operation overhead, small enough to stay in cache.
CHUNK = 16


# Hidden sizes from which this layer trains faster than oneDNN's bf16 LSTM on a CPU with AVX-512 BF16 but no
# AMX (AMD Zen 4, for one); below it oneDNN's bf16 LSTM is the faster (BENCHMARKS.md, "one BiLSTM layer").
MIN_AVX512_HIDDEN = 512


@functools.cache
def _capabilities() -> dict:
    """The CPU features PyTorch detected; read once, as ``chosen_for`` asks at every forward pass."""
    return torch.cpu.get_capabilities()


def amx_available() -> bool:
    """Whether this CPU has AMX bf16 tiles (Intel Xeon since Sapphire Rapids)."""
    return bool(_capabilities().get("amx_bf16", False))


def avx512_bf16_available() -> bool:
    """Whether this CPU has AVX-512 BF16 dot products (Intel Xeon since Cooper Lake, AMD since Zen 4)."""
    return bool(_capabilities().get("avx512_bf16", False))


def chosen_for(hidden_size: int) -> bool:
    """Whether bf16 training on this CPU runs a BiLSTM of ``hidden_size`` through this layer instead of oneDNN's
    bf16 LSTM: always with AMX, where oneDNN's bf16 backward gains nothing over float32; with AVX-512 BF16 alone,
    from ``MIN_AVX512_HIDDEN`` on."""
    if amx_available():
        return True
    return avx512_bf16_available() and hidden_size >= MIN_AVX512_HIDDEN


class _RecurrentProducts:
    """Adds ``x[d] @ weight[d].T`` for both directions d into a float32 target: bf16 ``x`` (2, rows, in) and
    ``weight`` (2, out, in).

    One batched product of both directions has the least per-call overhead, and wins while
    the weights are small; from ``PACKED_FROM`` weights per direction on (hidden size 256),
    a product per direction with the weight reordered once into oneDNN's blocked layout
    wins, as repacking the weight in every call of a batched product costs more than the
    extra call.
    """

    PACKED_FROM = 4 * 256 * 256

    def __init__(self, weight: torch.Tensor, rows: int):
        self.packed = None
        if weight[0].numel() >= self.PACKED_FROM:
            try:
                self.packed = [torch.ops.mkldnn._reorder_linear_weight(w, rows) for w in weight]
            except (AttributeError, RuntimeError):  # a PyTorch build without oneDNN's packed linear
                pass
        self.transposed = None if self.packed else weight.transpose(1, 2).contiguous()

    def add_to(self, target: torch.Tensor, x: torch.Tensor) -> None:
        if self.packed is None:
            target.add_(torch.bmm(x, self.transposed))
            return
        for d in range(2):
            target[d].add_(torch.ops.mkldnn._linear_pointwise(x[d], self.packed[d], None, "none", [], ""))


def reversal_rows(lengths: torch.Tensor, steps: int) -> torch.Tensor:
    """Row indices that reverse each sequence of a time-major (T*B, C) tensor within its length; padding stays put.

    Applying them twice gives the identity.
    """
    batch = lengths.numel()
    t = torch.arange(steps, device=lengths.device)[:, None]
    source = lengths.to(t.device)[None, :] - 1 - t
    source = torch.where(source >= 0, source, t)
    return (source * batch + torch.arange(batch, device=lengths.device)).reshape(-1)


class _BidirectionalLayer(torch.autograd.Function):
    """(B, T, in) bf16 -> (B, T, 2h) bf16; weights (2, 4h, in) and (2, 4h, h) bf16, biases (2, 4h) float32, their
    rows in gate order output, input, forget, cell."""

    @staticmethod
    @torch.autocast("cpu", enabled=False)  # every dtype here is chosen explicitly
    def forward(ctx, x, rows, w_ih, w_hh, bias):  # type: ignore[override]
        batch, steps, _ = x.shape
        h = w_hh.shape[-1]
        inputs = torch.empty(2, steps * batch, x.shape[2], dtype=BF16)
        inputs[0].view(steps, batch, -1).copy_(x.transpose(0, 1))
        torch.index_select(inputs[0], 0, rows, out=inputs[1])
        gates = torch.empty(steps, 2, batch, 4 * h)
        for d in range(2):
            torch.add(F.linear(inputs[d], w_ih[d]).view(steps, batch, -1), bias[d], out=gates[:, d])
        cells, tanh_cells, hidden = _recurrence(gates, w_hh)
        ctx.save_for_backward(inputs, rows, w_ih, w_hh, gates, cells, tanh_cells, hidden)
        reversed_back = hidden[1, 1:].reshape(steps * batch, h).index_select(0, rows).view(steps, batch, h)
        return torch.cat([hidden[0, 1:], reversed_back], dim=2).transpose(0, 1)

    @staticmethod
    def backward(ctx, grad):  # type: ignore[override]
        inputs, rows, w_ih, w_hh, gates, cells, tanh_cells, hidden = ctx.saved_tensors
        steps, _, batch, h = tanh_cells.shape
        grad = grad.transpose(0, 1)
        grad_hidden = torch.empty(steps, 2, batch, h)
        grad_hidden[:, 0].copy_(grad[..., :h])
        grad_hidden[:, 1].copy_(grad[..., h:].reshape(steps * batch, h).index_select(0, rows).view(steps, batch, h))
        grad_gates = _recurrence_backward(grad_hidden, gates, cells, tanh_cells, w_hh).view(2, steps * batch, -1)
        grad_x = torch.bmm(grad_gates, w_ih)
        grad_x = grad_x[0] + grad_x[1].index_select(0, rows)
        # Weight gradients contract over time and batch: with the gate gradients transposed once, both products
        # read their first operand row by row, as oneDNN's AMX kernels want it.
        transposed = [grad_gates[d].t().contiguous() for d in range(2)]
        previous = hidden[:, :steps].reshape(2, steps * batch, h)  # the zero state before step 0 adds 0
        grad_w_ih = torch.stack([torch.mm(transposed[d], inputs[d]) for d in range(2)])
        grad_w_hh = torch.stack([torch.mm(transposed[d], previous[d]) for d in range(2)])
        grad_bias = torch.stack([transposed[d].sum(1, dtype=torch.float32) for d in range(2)])
        return grad_x.view(steps, batch, -1).transpose(0, 1), None, grad_w_ih, grad_w_hh, grad_bias


def _recurrence(gates: torch.Tensor, w_hh: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Run both directions over time. ``gates`` (T, 2, B, 4h) float32 holds the input products plus biases and
    is overwritten with the gate activations. Returns cell states (T+1, 2, B, h) float32 from the zero state on,
    their tanh (T, 2, B, h) float32, and hidden states (2, T+1, B, h) bf16 from the zero state on."""
    steps, _, batch, four_h = gates.shape
    h = four_h // 4
    cells = torch.zeros(steps + 1, 2, batch, h)
    tanh_cells = torch.empty(steps, 2, batch, h)
    hidden = torch.zeros(2, steps + 1, batch, h, dtype=BF16)
    recurrent = _RecurrentProducts(w_hh, batch)
    # Per-step views, made once: slicing in the loop would cost more than some of the operations.
    step_gates = gates.unbind(0)
    o, i, f, g = (gates[..., k * h : (k + 1) * h].unbind(0) for k in range(4))
    sigmoid_gates = gates[..., : 3 * h].unbind(0)
    c, tc, hs = cells.unbind(0), tanh_cells.unbind(0), hidden.unbind(1)
    for t in range(steps):
        if t:
            recurrent.add_to(step_gates[t], hs[t])
        sigmoid_gates[t].sigmoid_()
        g[t].tanh_()
        torch.mul(f[t], c[t], out=c[t + 1])
        c[t + 1].addcmul_(i[t], g[t])
        torch.tanh(c[t + 1], out=tc[t])
        torch.mul(o[t], tc[t], out=hs[t + 1])
    return cells, tanh_cells, hidden


def _recurrence_backward(
    grad_hidden: torch.Tensor, gates: torch.Tensor, cells: torch.Tensor, tanh_cells: torch.Tensor, w_hh: torch.Tensor
) -> torch.Tensor:
    """Gradients of the gate pre-activations (2, T, B, 4h) bf16, back through time; ``grad_hidden`` (T, 2, B, h)
    float32 holds the output gradients and is overwritten."""
    steps, _, batch, h = grad_hidden.shape
    grad_gates = torch.empty(2, steps, batch, 4 * h, dtype=BF16)
    recurrent = _RecurrentProducts(w_hh.transpose(1, 2).contiguous(), batch)
    grad_cell = torch.zeros(2, batch, h)
    dh, forget_gate = grad_hidden.unbind(0), gates[..., 2 * h : 3 * h].unbind(0)
    dz_o = grad_gates[..., :h].unbind(1)
    dz_ifg = grad_gates[..., h:].unflatten(-1, (3, h)).unbind(1)
    dz = grad_gates.unbind(1)
    for end in range(steps, 0, -CHUNK):
        start = max(0, end - CHUNK)
        o, i, f, g = gates[start:end].split(h, dim=-1)
        tc = tanh_cells[start:end]
        # Derivatives of h through the output gate and through the cell, and of the cell through the input, forget
        # and cell gates, for the chunk's steps at once.
        through_output = (o - o * o).mul_(tc).unbind(0)
        to_cell = (1 - tc * tc).mul_(o).unbind(0)
        to_gates = torch.stack([(i - i * i) * g, (f - f * f) * cells[start:end], (1 - g * g) * i], dim=3).unbind(0)
        for t in range(end - 1, start - 1, -1):
            k = t - start
            if t < steps - 1:
                recurrent.add_to(dh[t], dz[t + 1])
            torch.mul(dh[t], through_output[k], out=dz_o[t])
            grad_cell.addcmul_(dh[t], to_cell[k])
            torch.mul(grad_cell.unsqueeze(2), to_gates[k], out=dz_ifg[t])
            grad_cell.mul_(forget_gate[t])
    return grad_gates


def bidirectional_layer(
    x: torch.Tensor, rows: torch.Tensor, forward_weights: list[torch.Tensor], backward_weights: list[torch.Tensor]
) -> torch.Tensor:
    """One BiLSTM layer over padded (B, T, in) ``x``: (B, T, 2h) bf16, valid frames independent of the padding.

    ``rows`` is ``reversal_rows(lengths, T)``; each weight list holds ``nn.LSTM``'s
    ``weight_ih, weight_hh, bias_ih, bias_hh`` of one direction.
    """
    h = forward_weights[1].shape[1]
    # Rolled by h rows, nn.LSTM's gate order (input, forget, cell, output) becomes output, input, forget, cell.
    w_ih = torch.stack([forward_weights[0], backward_weights[0]]).roll(h, dims=1).to(BF16)
    w_hh = torch.stack([forward_weights[1], backward_weights[1]]).roll(h, dims=1).to(BF16)
    biases = [forward_weights[2] + forward_weights[3], backward_weights[2] + backward_weights[3]]
    bias = torch.stack(biases).roll(h, dims=1).float()
    return _BidirectionalLayer.apply(x.to(BF16), rows, w_ih, w_hh, bias)
