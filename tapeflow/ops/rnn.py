"""Fused recurrent ops: a whole LSTM or GRU layer over time as one op, with Keras's weight
layout (kernel (in, n*units), recurrent_kernel (units, n*units), gates LSTM i, f, c, o and
GRU z, r, h with reset_after=True), tanh/sigmoid activations.

TF has no such public op (Keras picks cuDNN's on GPUs); these are tapeflow's own
(`LSTMSequence`, `GRUSequence`). The forward kernel does the input projection of all timesteps
in one matmul, then one addmm and a few pointwise kernels per step, and returns the activated
gates it saw; the gradient op runs backpropagation through time in one kernel from them.
On the CPU in float32 without a mask, the LSTM runs as oneDNN's LSTM primitive (the kernel
`torch.nn.LSTM` uses there; forward and backward through time, 2x faster than the loop below);
the last two outputs are then its workspace and time-major outputs instead of the gates and
cells: they are opaque state for the gradient op, whose meta shapes describe the loop's.
The gradient ops are marked non-differentiable: the second derivative of a fused recurrent
layer is not available (use the generic per-step layer path for that).

An optional mask (batch, time) keeps the state of masked steps (Keras's semantics with
`zero_output_for_mask=False`: the output of a masked step repeats the previous one).
Outputs are in processing order (reversed time for `go_backwards`), as Keras returns them.
"""
import torch

from tapeflow._core.tensor import convert_to_tensor
from tapeflow.ops import _gemm
from tapeflow.ops._op import define, execute

LSTM_SEQ = define("LSTMSequence")
LSTM_SEQ_GRAD = define("LSTMSequenceGrad", differentiable=False)
GRU_SEQ = define("GRUSequence")
GRU_SEQ_GRAD = define("GRUSequenceGrad", differentiable=False)


def _meta(*shapes, like):
    return tuple(torch.empty(s, dtype=like.dtype, device="meta") for s in shapes)


# Shapes while tracing, without the kernels' loop over the time steps.
LSTM_SEQ.meta_fn = lambda x, h0, c0, w, u, b, *rest: _meta(
    (x.shape[0], x.shape[1], h0.shape[1]), h0.shape, c0.shape,
    (x.shape[1], x.shape[0], u.shape[1]), (x.shape[1], x.shape[0], h0.shape[1]), like=x)
LSTM_SEQ_GRAD.meta_fn = lambda x, h0, c0, w, u, *rest: _meta(
    x.shape, h0.shape, c0.shape, w.shape, u.shape, (u.shape[1],), like=x)
GRU_SEQ.meta_fn = lambda x, h0, w, u, b_in, b_rec, *rest: _meta(
    (x.shape[0], x.shape[1], h0.shape[1]), h0.shape,
    (x.shape[1], x.shape[0], 4 * h0.shape[1]), like=x)
GRU_SEQ_GRAD.meta_fn = lambda x, h0, w, u, *rest: _meta(
    x.shape, h0.shape, w.shape, u.shape, (w.shape[1],), (u.shape[1],), like=x)


def _time_major(x, go_backwards):
    xt = x.transpose(0, 1)
    return xt.flip(0) if go_backwards else xt


def _mask_steps(mask, go_backwards):
    m = _time_major(mask, go_backwards).to(torch.get_default_dtype())
    return m.unsqueeze(-1)


# -- LSTM ---------------------------------------------------------------------------------------

_LSTM_MODE = 2  # oneDNN / cuDNN RNN mode numbers: RNN_RELU, RNN_TANH, LSTM, GRU


def _probe_onednn():
    """oneDNN's LSTM layer (forward, backward) when this torch build has them."""
    try:
        fwd, bwd = torch.ops.aten.mkldnn_rnn_layer, torch.ops.aten.mkldnn_rnn_layer_backward
    except (AttributeError, RuntimeError):
        return None
    return (fwd, bwd) if torch.backends.mkldnn.is_available() else None


_ONEDNN = _probe_onednn()


def _use_onednn(x, rest):
    """float32 on the CPU, no mask, not under torch.compile (Inductor needs the loop's
    saved-state shapes)."""
    return _ONEDNN is not None and len(rest) == 1 and x.dtype is torch.float32 and x.is_cpu \
        and not _gemm._compiling()


def _onednn_weights(w, u, b):
    """Keras's (in, 4u) kernels as oneDNN's (4u, in) ones; its one bias as the input bias."""
    return w.t().contiguous(), u.t().contiguous(), b.contiguous(), torch.zeros_like(b)


def _lstm_onednn(x, h0, c0, w, u, b, go_backwards):
    xt = _time_major(x, go_backwards).contiguous()
    out, h, c, workspace = _ONEDNN[0](
        xt, *_onednn_weights(w, u, b), h0.contiguous(), c0.contiguous(), False, [], _LSTM_MODE,
        h0.shape[1], 1, True, False, False, True)
    return out.transpose(0, 1), h, c, workspace, out


def _lstm_onednn_grad(x, h0, c0, w, u, b, workspace, out, h, c, dhs, dh_last, dc_last,
                      go_backwards):
    xt = _time_major(x, go_backwards).contiguous()
    dx, dw, du, db, _, dh0, dc0 = _ONEDNN[1](
        xt, *_onednn_weights(w, u, b), h0.contiguous(), c0.contiguous(), out, h, c,
        dhs.transpose(0, 1).contiguous(), dh_last.contiguous(), dc_last.contiguous(), False,
        _LSTM_MODE, h0.shape[1], 1, True, True, False, [], False, workspace)
    dx = (dx.flip(0) if go_backwards else dx).transpose(0, 1)
    return dx, dh0, dc0, dw.t().contiguous(), du.t().contiguous(), db


def _lstm_kernel(x, h0, c0, w, u, b, *rest):
    go_backwards = rest[-1]
    if _use_onednn(x, rest):
        return _lstm_onednn(x, h0, c0, w, u, b, go_backwards)
    mask = _mask_steps(rest[0], go_backwards).to(x.dtype) if len(rest) == 2 else None
    n, steps = x.shape[0], x.shape[1]
    units = h0.shape[1]
    xw = _gemm.matmul(_time_major(x, go_backwards), w) + b           # (T, B, 4u)
    gates = torch.empty_like(xw)
    hs = x.new_empty((steps, n, units))
    cs = x.new_empty((steps, n, units))
    tmp = x.new_empty((n, units))
    h, c = h0, c0
    u2, u3 = 2 * units, 3 * units
    for k in range(steps):
        g = gates[k]
        _gemm.addmm(xw[k], h, u, out=g)
        g[:, :u2].sigmoid_()
        g[:, u2:u3].tanh_()
        g[:, u3:].sigmoid_()
        c_new, h_new = cs[k], hs[k]
        torch.mul(g[:, :units], g[:, u2:u3], out=c_new)
        c_new.addcmul_(g[:, units:u2], c)
        torch.tanh(c_new, out=tmp)
        torch.mul(g[:, u3:], tmp, out=h_new)
        if mask is not None:
            m = mask[k]
            c_new.copy_(torch.lerp(c, c_new, m))
            h_new.copy_(torch.lerp(h, h_new, m))
        h, c = h_new, c_new
    return hs.transpose(0, 1), h, c, gates, cs


def _lstm_grad_kernel(x, h0, c0, w, u, b, gates, cs, hs, h, c, dhs, dh_last, dc_last, *rest):
    go_backwards = rest[-1]
    if gates.dtype is torch.uint8:  # the forward ran on oneDNN: `gates` is its workspace
        return _lstm_onednn_grad(x, h0, c0, w, u, b, gates, cs, h, c, dhs, dh_last, dc_last,
                                 go_backwards)
    mask = _mask_steps(rest[0], go_backwards).to(x.dtype) if len(rest) == 2 else None
    steps, n = x.shape[1], x.shape[0]
    units = h0.shape[1]
    u3 = 3 * units
    hs = hs.transpose(0, 1)
    dhs = dhs.transpose(0, 1)
    # Everything that does not depend on the recurrence, for all steps at once. A masked step
    # keeps its state; its (zeroed) gradients make the values used here irrelevant.
    i, f, gg, o = gates.split(units, dim=-1)
    c_prev = torch.cat([c0.unsqueeze(0), cs[:-1]], 0)
    tc = torch.tanh(cs) if mask is None else torch.tanh(torch.addcmul(i * gg, f, c_prev))
    o_dtc = o * (1 - tc * tc)                                        # dc += dh * o_dtc
    from_dc = torch.stack([gg * i * (1 - i), c_prev * f * (1 - f), i * (1 - gg * gg)], 2)
    from_dh = tc * o * (1 - o)                                       # (T, B, u)
    dz = torch.empty_like(gates)
    dz3 = dz[..., :u3].view(steps, n, 3, units)
    ut = u.t()
    dh, dc = dh_last, dc_last
    for k in range(steps - 1, -1, -1):
        dh = dh + dhs[k]
        if mask is not None:
            m = mask[k]
            dh_keep, dc_keep = dh * (1 - m), dc * (1 - m)
            dh, dc = dh * m, dc * m
        torch.mul(dh, from_dh[k], out=dz[k, :, u3:])
        dc = torch.addcmul(dc, dh, o_dtc[k])
        torch.mul(dc.unsqueeze(1), from_dc[k], out=dz3[k])
        dc = dc * f[k]
        dh = _gemm.matmul(dz[k], ut)
        if mask is not None:
            dh, dc = dh + dh_keep, dc + dc_keep
    h_prev = torch.cat([h0.unsqueeze(0), hs[:-1]], 0)                 # (T, B, u)
    flat_dz = dz.reshape(-1, dz.shape[-1])
    dw = _gemm.matmul(_time_major(x, go_backwards).reshape(-1, x.shape[-1]).t(), flat_dz)
    du = _gemm.matmul(h_prev.reshape(-1, units).t(), flat_dz)
    db = flat_dz.sum(0)
    dx = _gemm.matmul(dz, w.t())
    dx = (dx.flip(0) if go_backwards else dx).transpose(0, 1)
    return dx, dh, dc, dw, du, db


def lstm_sequence(x, h0, c0, kernel, recurrent_kernel, bias, mask=None, go_backwards=False):
    """All steps of a Keras LSTM (tanh, sigmoid): returns (outputs (batch, time, units) in
    processing order, last h, last c)."""
    inputs = (x, h0, c0, kernel, recurrent_kernel, bias) + (() if mask is None else (mask,))
    inputs = tuple(convert_to_tensor(t) for t in inputs)  # variables are read (and taped)
    out = execute(LSTM_SEQ, _lstm_kernel, inputs, (bool(go_backwards),))
    return out[0], out[1], out[2]


@LSTM_SEQ.gradient
def _(node, dhs, dh, dc, _dgates, _dcs):
    x, h0, c0, w, u, b = node.inputs[:6]
    hs, h, c, gates, cs = node.outputs
    mask = node.inputs[6:]
    grads = execute(LSTM_SEQ_GRAD, _lstm_grad_kernel,
                    (x, h0, c0, w, u, b, gates, cs, hs, h, c, dhs, dh, dc) + tuple(mask),
                    node.attrs)
    return tuple(grads) + (None,) * len(mask)


# -- GRU (reset_after=True) ---------------------------------------------------------------------

def _gru_kernel(x, h0, w, u, b_in, b_rec, *rest):
    go_backwards = rest[-1]
    mask = _mask_steps(rest[0], go_backwards).to(x.dtype) if len(rest) == 2 else None
    n, steps = x.shape[0], x.shape[1]
    units = h0.shape[1]
    u2 = 2 * units
    xw = _gemm.matmul(_time_major(x, go_backwards), w) + b_in        # (T, B, 3u)
    saved = x.new_empty((steps, n, 4 * units))  # z, r, hh, recurrent h-part (before r *)
    hs = x.new_empty((steps, n, units))
    h = h0
    for k in range(steps):
        inner = _gemm.addmm(b_rec, h, u)
        s = saved[k]
        torch.sigmoid(xw[k, :, :u2] + inner[:, :u2], out=s[:, :u2])
        s[:, 3 * units:] = inner[:, u2:]
        torch.tanh(torch.addcmul(xw[k, :, u2:], s[:, units:u2], inner[:, u2:]),
                   out=s[:, u2:3 * units])
        z, hh = s[:, :units], s[:, u2:3 * units]
        h_new = hh + z * (h - hh)
        if mask is not None:
            h_new = torch.lerp(h, h_new, mask[k])
        hs[k] = h_new
        h = h_new
    return hs.transpose(0, 1), h, saved


def _gru_grad_kernel(x, h0, w, u, saved, hs, dhs, dh_last, *rest):
    go_backwards = rest[-1]
    mask = _mask_steps(rest[0], go_backwards).to(x.dtype) if len(rest) == 2 else None
    steps = x.shape[1]
    units = h0.shape[1]
    u2 = 2 * units
    hs = hs.transpose(0, 1)
    dhs = dhs.transpose(0, 1)
    dx_part = torch.empty_like(saved[..., :3 * units])  # d(x projection)
    dinner = torch.empty_like(dx_part)                  # d(recurrent projection)
    ut = u.t()
    dh = dh_last
    for k in range(steps - 1, -1, -1):
        dh = dh + dhs[k]
        h_prev = hs[k - 1] if k else h0
        s = saved[k]
        z, r, hh, rec_h = s[:, :units], s[:, units:u2], s[:, u2:3 * units], s[:, 3 * units:]
        if mask is not None:
            m = mask[k]
            dh_keep = dh * (1 - m)
            dh = dh * m
        dhh = dh * (1 - z) * (1 - hh * hh)
        dx, di = dx_part[k], dinner[k]
        torch.mul(dh * (h_prev - hh), z * (1 - z), out=dx[:, :units])
        torch.mul(dhh * rec_h, r * (1 - r), out=dx[:, units:u2])
        dx[:, u2:] = dhh
        di[:, :u2] = dx[:, :u2]
        torch.mul(dhh, r, out=di[:, u2:])
        dh = dh * z + _gemm.matmul(di, ut)
        if mask is not None:
            dh = dh + dh_keep
    h_prev = torch.cat([h0.unsqueeze(0), hs[:-1]], 0)
    flat_dx = dx_part.reshape(-1, 3 * units)
    flat_di = dinner.reshape(-1, 3 * units)
    dw = _gemm.matmul(_time_major(x, go_backwards).reshape(-1, x.shape[-1]).t(), flat_dx)
    du = _gemm.matmul(h_prev.reshape(-1, units).t(), flat_di)
    dx = _gemm.matmul(dx_part, w.t())
    dx = (dx.flip(0) if go_backwards else dx).transpose(0, 1)
    return dx, dh, dw, du, flat_dx.sum(0), flat_di.sum(0)


def gru_sequence(x, h0, kernel, recurrent_kernel, input_bias, recurrent_bias, mask=None,
                 go_backwards=False):
    """All steps of a Keras GRU (reset_after=True, tanh, sigmoid): returns (outputs (batch,
    time, units) in processing order, last h)."""
    inputs = (x, h0, kernel, recurrent_kernel, input_bias, recurrent_bias) + \
        (() if mask is None else (mask,))
    inputs = tuple(convert_to_tensor(t) for t in inputs)
    out = execute(GRU_SEQ, _gru_kernel, inputs, (bool(go_backwards),))
    return out[0], out[1]


@GRU_SEQ.gradient
def _(node, dhs, dh, _dsaved):
    x, h0, w, u = node.inputs[:4]
    hs, _, saved = node.outputs
    mask = node.inputs[6:]
    grads = execute(GRU_SEQ_GRAD, _gru_grad_kernel,
                    (x, h0, w, u, saved, hs, dhs, dh) + tuple(mask), node.attrs)
    return tuple(grads) + (None,) * len(mask)
