"""The ONNX table, part two: neural-network ops (activations, convolutions, pooling, the
fused recurrent layers) and the kernels graph passes fuse.

TF's layouts are channels-last (NHWC) and its filters (k.., in, out); ONNX's Conv and pools are
channels-first with (out, in, k..) weights, so each convolution and pool is wrapped in
Transposes (onnxruntime's layout optimizer cancels the pairs between consecutive layers).
Keras's LSTM keeps its gates in the order i, f, c, o where ONNX's LSTM wants i, o, f, c; the
GRU's z, r, h with `reset_after=True` are ONNX's GRU with `linear_before_reset=1`. A recurrent
layer under a mask has no ONNX equivalent op: it is unrolled over its (static) time steps.
"""
import numpy as np
import torch

from tapeflow.export._onnx_graph import ExportError, onnx_type
from tapeflow.export._onnx_ops import _ins, converts, reverse
from tapeflow.ops import _gemm, pooling

KERNEL_CONVERTERS = {}  # kernels that graph passes substitute, whatever op they stand for


# -- activations -------------------------------------------------------------------------------

@converts("Relu6")
def _relu6(e, step):
    x, = _ins(e, step)
    dtype = e.torch_dtype(step.ins[0])
    return e.node("Clip", [x, e.scalar(0, dtype), e.scalar(6, dtype)])


@converts("LeakyRelu")
def _leaky_relu(e, step):
    x, = _ins(e, step)
    return e.node("LeakyRelu", [x], alpha=float(step.attrs[0]))


_SQRT_HALF, _TANH_K, _TANH_C = 0.7071067811865476, 0.044715, 0.7978845608028654


@converts("Gelu")
def _gelu(e, step):
    x, = _ins(e, step)
    dtype = e.torch_dtype(step.ins[0])
    if step.attrs[0] == "none":  # x * P(X <= x) = x (1 + erf(x / sqrt 2)) / 2
        inner = e.node("Erf", [e.node("Mul", [x, e.scalar(_SQRT_HALF, dtype)])])
    else:                        # TF's tanh approximation
        cube = e.node("Mul", [e.node("Mul", [x, x]), x])
        poly = e.node("Add", [x, e.node("Mul", [cube, e.scalar(_TANH_K, dtype)])])
        inner = e.node("Tanh", [e.node("Mul", [poly, e.scalar(_TANH_C, dtype)])])
    half_x = e.node("Mul", [x, e.scalar(0.5, dtype)])
    return e.node("Mul", [half_x, e.node("Add", [inner, e.scalar(1, dtype)])])


@converts("Silu")
def _silu(e, step):
    x, = _ins(e, step)
    return e.node("Mul", [x, e.node("Sigmoid", [x])])


@converts("Softmax")
def _softmax(e, step):
    x, = _ins(e, step)
    return e.node("Softmax", [x], axis=int(step.attrs[0]))


@converts("LogSoftmax")
def _log_softmax(e, step):
    x, = _ins(e, step)
    return e.node("LogSoftmax", [x], axis=int(step.attrs[0]))


@converts("BiasAdd")
def _bias_add(e, step):
    x, b = _ins(e, step)
    if step.attrs[0] != -1:  # channels first: the bias along axis 1
        extra = e.rank(step.ins[0]) - 2
        b = e.node("Reshape", [b, e.const(np.array([-1] + [1] * extra, np.int64))])
    return e.node("Add", [x, b])


def _linear(e, step):
    """`_gemm.linear`: the MatMul -> BiasAdd [-> Relu] chain fusion.py makes one kernel."""
    x, w, b = _ins(e, step)
    out = e.node("Add", [e.node("MatMul", [x, w]), b])
    return e.node("Relu", [out]) if step.attrs[0] == "relu" else out


KERNEL_CONVERTERS[_gemm.linear] = _linear


# -- layout ------------------------------------------------------------------------------------

def _channels_first(e, x, n, channels_first):
    return x if channels_first else e.node("Transpose", [x], perm=[0, n + 1, *range(1, n + 1)])


def _channels_last(e, y, n, channels_first):
    return y if channels_first else e.node("Transpose", [y], perm=[0, *range(2, n + 2), 1])


def _weights(e, f, f_shape, depthwise):
    """TF's filter (k.., in, out) as ONNX's (out, in, k..); a depthwise filter (k.., in, mult)
    as (in * mult, 1, k..), output channel c * mult + m as in TF."""
    n = len(f_shape) - 2
    if depthwise:
        f = e.node("Reshape", [f, e.const(np.array([*f_shape[:n], 1, f_shape[n] * f_shape[n + 1]],
                                                   np.int64))])
    return e.node("Transpose", [f], perm=[n + 1, n, *range(n)])


def _static(e, values, what):
    if not all(e.is_static(v) for v in values):
        raise ExportError(f"Op {e.step.op.name!r}: the {what} depend on a `None` dimension, "
                          "which ONNX takes only as fixed numbers; give the spatial "
                          "dimensions fixed sizes.")
    return [int(v) for v in values]


# -- convolutions ------------------------------------------------------------------------------

@converts("Conv2D", "Conv3D", "DepthwiseConv2dNative")
def _conv(e, step):
    x, f = _ins(e, step)
    strides, dilations, pads, channels_first, depthwise = step.attrs
    n = len(strides)
    f_shape = e.shape(step.ins[1])
    group = f_shape[n] if depthwise else 1
    y = e.node("Conv", [_channels_first(e, x, n, channels_first),
                        _weights(e, f, f_shape, depthwise)],
               kernel_shape=list(f_shape[:n]), strides=list(strides),
               dilations=list(dilations), pads=[b for b, _ in pads] + [a for _, a in pads],
               group=group)
    return _channels_last(e, y, n, channels_first)


@converts("Conv2DBackpropInput", "Conv3DBackpropInputV2", "DepthwiseConv2dNativeBackpropInput",
          sized=True)
def _conv_transpose(e, step):
    """The input gradient of a convolution (`conv*_transpose`): ONNX's ConvTranspose, whose
    weight layout (in, out / group, k..) is the forward conv's (out, in, k..) read backwards."""
    f, g = _ins(e, step)
    input_sizes, strides, dilations, pads, channels_first, depthwise = step.attrs
    n = len(strides)
    f_shape = e.shape(step.ins[0])
    g_shape = e.shape(step.ins[1])
    target = input_sizes[2:] if channels_first else input_sizes[1:-1]
    g_spatial = g_shape[2:] if channels_first else g_shape[1:-1]
    target = _static(e, target, "output sizes")
    g_spatial = _static(e, g_spatial, "input sizes")
    extra = []
    for size, k, s, d, (before, after), m in zip(target, f_shape[:n], strides, dilations,
                                                  pads, g_spatial):
        extra.append(size - ((m - 1) * s + (k - 1) * d + 1 - before - after))
    if any(p < 0 for p in extra):
        raise ExportError(f"Op {step.op.name!r}: output sizes {target} are smaller than the "
                          "transposed convolution gives.")
    group = f_shape[n] if depthwise else 1
    y = e.node("ConvTranspose", [_channels_first(e, g, n, channels_first),
                                 _weights(e, f, f_shape, depthwise)],
               kernel_shape=list(f_shape[:n]), strides=list(strides),
               dilations=list(dilations), pads=[b for b, _ in pads] + [a for _, a in pads],
               output_padding=extra if any(extra) else None, group=group)
    return _channels_last(e, y, n, channels_first)


# -- pooling -----------------------------------------------------------------------------------

def _pool(onnx_op, **extra):
    def convert(e, step):
        x = e.value(step.ins[0])
        ksize, strides, pads, channels_first = step.attrs
        n = len(ksize)
        y = e.node(onnx_op, [_channels_first(e, x, n, channels_first)],
                   kernel_shape=list(ksize), strides=list(strides),
                   pads=[b for b, _ in pads] + [a for _, a in pads], **extra)
        out = _channels_last(e, y, n, channels_first)
        # MaxPool with its argmax (fusion.py): the argmax only serves the gradient
        return (out, False) if len(step.outs) == 2 else out
    return convert


converts("MaxPool", "MaxPool3D")(_pool("MaxPool"))
# TF's SAME padding never counts the padded cells
converts("AvgPool", "AvgPool3D")(_pool("AveragePool", count_include_pad=0))
KERNEL_CONVERTERS[pooling.max_pool_argmax_kernel] = _pool("MaxPool")


# -- recurrent layers --------------------------------------------------------------------------

def _split_even(e, w, n, axis, size):
    """`w` cut into `n` equal blocks of `size` along `axis`."""
    return e.node("Split", [w, e.const(np.full(n, size, np.int64))], n_out=n, axis=axis)


def _time_major(e, x, go_backwards):
    xt = e.node("Transpose", [x], perm=[1, 0, 2])
    return reverse(e, xt, [0]) if go_backwards else xt


def _onnx_lstm_weights(e, w, units):
    """Keras's (in, 4u) i, f, c, o as ONNX's (1, 4u, in) i, o, f, c."""
    i, f, c, o = _split_even(e, w, 4, 1, units)
    w = e.node("Concat", [i, o, f, c], axis=1)
    return e.node("Unsqueeze", [e.node("Transpose", [w], perm=[1, 0]), e.axes([0])])


@converts("LSTMSequence")
def _lstm(e, step):
    x, h0, c0, w, u, b = _ins(e, step)[:6]
    go_backwards = step.attrs[0]
    units = e.shape(step.ins[1])[1]
    if len(step.ins) == 7:
        return _masked_lstm(e, step, units)
    i, f, c, o = _split_even(e, b, 4, 0, units)
    # ONNX adds an input and a recurrent bias; Keras has one
    zeros = e.const(np.zeros(4 * units, _numpy_dtype(e, step.ins[5])), "zeros")
    bias = e.node("Concat", [i, o, f, c, zeros], axis=0)
    y, y_h, y_c = e.node(
        "LSTM", [_time_major(e, x, go_backwards), _onnx_lstm_weights(e, w, units),
                 _onnx_lstm_weights(e, u, units), e.node("Unsqueeze", [bias, e.axes([0])]), "",
                 e.node("Unsqueeze", [h0, e.axes([0])]), e.node("Unsqueeze", [c0, e.axes([0])])],
        n_out=3, hidden_size=int(units))
    seq = e.node("Transpose", [e.node("Squeeze", [y, e.axes([1])])], perm=[1, 0, 2])
    return (seq, e.node("Squeeze", [y_h, e.axes([0])]), e.node("Squeeze", [y_c, e.axes([0])]),
            False, False)


@converts("GRUSequence")
def _gru(e, step):
    x, h0, w, u, b_in, b_rec = _ins(e, step)[:6]
    go_backwards = step.attrs[0]
    units = e.shape(step.ins[1])[1]
    if len(step.ins) == 7:
        return _masked_gru(e, step, units)

    def onnx_weights(m):  # (in, 3u) z, r, h: ONNX's order, transposed
        return e.node("Unsqueeze", [e.node("Transpose", [m], perm=[1, 0]), e.axes([0])])
    bias = e.node("Unsqueeze", [e.node("Concat", [b_in, b_rec], axis=0), e.axes([0])])
    y, y_h = e.node("GRU", [_time_major(e, x, go_backwards), onnx_weights(w), onnx_weights(u),
                            bias, "", e.node("Unsqueeze", [h0, e.axes([0])])],
                    n_out=2, hidden_size=int(units), linear_before_reset=1)
    seq = e.node("Transpose", [e.node("Squeeze", [y, e.axes([1])])], perm=[1, 0, 2])
    return seq, e.node("Squeeze", [y_h, e.axes([0])]), False


def _numpy_dtype(e, slot):
    return torch.empty((), dtype=e.torch_dtype(slot)).numpy().dtype


def _steps(e, step, units):
    """The static number of time steps of a masked recurrent layer (it is unrolled)."""
    steps = e.shape(step.ins[0])[1]
    if not e.is_static(steps):
        raise ExportError(f"Op {step.op.name!r} under a mask is unrolled for ONNX, which "
                          "needs a fixed number of time steps; give the time dimension a "
                          "fixed size.")
    return int(steps)


def _mask_steps(e, step, steps, go_backwards):
    """The mask (batch, time) as one (batch, 1) float tensor per step, in processing order."""
    mask = e.value(step.ins[6])
    dtype = e.torch_dtype(step.ins[0])
    m = e.node("Cast", [mask], to=onnx_type(dtype))
    m = e.node("Transpose", [m], perm=[1, 0])                 # (T, B)
    if go_backwards:
        m = reverse(e, m, [0])
    parts = _split_even(e, m, steps, 0, 1) if steps > 1 else [m]
    return [e.node("Transpose", [p], perm=[1, 0]) for p in parts]   # (B, 1) each


def _projected_steps(e, x, w, b, steps, go_backwards):
    """`x @ w + b` for every step at once, cut into one (batch, n) tensor per step."""
    xw = e.node("Add", [e.node("MatMul", [_time_major(e, x, go_backwards), w]), b])
    parts = _split_even(e, xw, steps, 0, 1) if steps > 1 else [xw]
    return [e.node("Squeeze", [p, e.axes([0])]) for p in parts]


def _lerp(e, old, new, m):
    """old + m * (new - old): a masked step keeps the state."""
    return e.node("Add", [old, e.node("Mul", [m, e.node("Sub", [new, old])])])


def _stack_time(e, hs):
    """Per-step (batch, units) outputs as (batch, time, units)."""
    return e.node("Concat", [e.node("Unsqueeze", [h, e.axes([1])]) for h in hs], axis=1)


def _masked_lstm(e, step, units):
    x, h, c, w, u, b = _ins(e, step)[:6]
    go_backwards = step.attrs[0]
    steps = _steps(e, step, units)
    masks = _mask_steps(e, step, steps, go_backwards)
    hs = []
    for xw, m in zip(_projected_steps(e, x, w, b, steps, go_backwards), masks):
        z = e.node("Add", [xw, e.node("MatMul", [h, u])])
        i, f, g, o = _split_even(e, z, 4, 1, units)
        i, f, o = (e.node("Sigmoid", [t]) for t in (i, f, o))
        c_new = e.node("Add", [e.node("Mul", [i, e.node("Tanh", [g])]), e.node("Mul", [f, c])])
        h_new = e.node("Mul", [o, e.node("Tanh", [c_new])])
        c, h = _lerp(e, c, c_new, m), _lerp(e, h, h_new, m)
        hs.append(h)
    return _stack_time(e, hs), h, c, False, False


def _masked_gru(e, step, units):
    x, h, w, u, b_in, b_rec = _ins(e, step)[:6]
    go_backwards = step.attrs[0]
    steps = _steps(e, step, units)
    masks = _mask_steps(e, step, steps, go_backwards)
    hs = []
    for xw, m in zip(_projected_steps(e, x, w, b_in, steps, go_backwards), masks):
        inner = e.node("Add", [e.node("MatMul", [h, u]), b_rec])
        x_zr, x_h = _split_two(e, xw, units)
        in_zr, in_h = _split_two(e, inner, units)
        z, r = _split_even(e, e.node("Sigmoid", [e.node("Add", [x_zr, in_zr])]), 2, 1, units)
        hh = e.node("Tanh", [e.node("Add", [x_h, e.node("Mul", [r, in_h])])])
        h_new = e.node("Add", [hh, e.node("Mul", [z, e.node("Sub", [h, hh])])])
        h = _lerp(e, h, h_new, m)
        hs.append(h)
    return _stack_time(e, hs), h, False


def _split_two(e, t, units):
    """(batch, 3u) as its first 2u columns (z, r) and its last u (h)."""
    return e.node("Split", [t, e.const(np.array([2 * units, units], np.int64))], n_out=2,
                  axis=1)
