"""Pooling: `tf.nn.max_pool*` and `tf.nn.avg_pool*` (1-D, 2-D, 3-D and the rank-generic
`max_pool` / `avg_pool`).

Ops as in TF: MaxPool/MaxPool3D with their `*Grad` (the gradient routed to each window's
maximum) and `*GradGrad` (the gradient of that routing), AvgPool/AvgPool3D with `*Grad`; every
gradient op has its own gradient, so second derivatives work. One set of N-d kernels serves 2-D
and 3-D (1-D pools are 2-D ones over a height of 1, as in TF). TF's SAME padding never counts
the padded cells: max pools pad with -inf and average pools divide by the number of real cells.
"""
import numbers

import torch
import torch.nn.functional as F

from tapeflow._core.tensor import Tensor, convert_to_tensor
from tapeflow.ops import _gemm
from tapeflow.ops._op import check_dtype, define, execute, rewrite
from tapeflow.ops.array import expand_dims, squeeze
from tapeflow.ops.conv import FLOATS, from_channels_first, is_channels_first, pad_input, \
    padding_pairs, spatial_list, to_channels_first
from tapeflow.ops.math import zeros_like
from tapeflow.ops.nn import RELU, RELU_GRAD

_aten = torch.ops.aten
_MAX = {2: torch.nn.functional.max_pool2d_with_indices,
        3: torch.nn.functional.max_pool3d_with_indices}
_MAX_BACKWARD = {2: _aten.max_pool2d_with_indices_backward,
                 3: _aten.max_pool3d_with_indices_backward}
_AVG = {2: torch.nn.functional.avg_pool2d, 3: torch.nn.functional.avg_pool3d}
_AVG_BACKWARD = {2: _aten.avg_pool2d_backward, 3: _aten.avg_pool3d_backward}


def _crop(t, pads, sizes, channels_first):
    """t (NC..) without its padding, copied (a cropped view has gaps in its strides) into
    the memory layout the caller hands back: NC.. or, as a view, N..C."""
    if not any(a or b for a, b in pads):
        return t
    t = t[(slice(None), slice(None)) + tuple(slice(b, b + s) for (b, _), s in
                                             zip(pads, sizes))]
    if channels_first:
        return t.contiguous()
    return t.contiguous(memory_format=torch.channels_last if t.ndim == 4 else
                        torch.channels_last_3d)


def _argmax(x, ksize, strides, pads):
    """The padded NC.. input, the pooled maxima and the flat index of each window's maximum
    in the padded input."""
    xp = pad_input(x, pads, float("-inf"))
    y, idx = _MAX[x.ndim - 2](xp, ksize, strides, 0, 1, False, True)
    return xp, y, idx


# -- max pooling ------------------------------------------------------------------------------

def _max_pool_kernel(x, ksize, strides, pads, channels_first):
    x = to_channels_first(x, channels_first)
    n = x.ndim - 2
    xp = pad_input(x, pads, float("-inf"))
    y = (F.max_pool2d if n == 2 else F.max_pool3d)(xp, ksize, strides, 0)
    return from_channels_first(y, channels_first)


def _max_pool_grad_kernel(x, y, g, ksize, strides, pads, channels_first):
    x = to_channels_first(x, channels_first)
    xp, _, idx = _argmax(x, ksize, strides, pads)
    return _max_pool_backward(x, xp, idx, g, ksize, strides, pads, channels_first)


_CHUNK_BYTES = 2 << 20  # a gradient block that stays in a core's L2 between its two passes


def _max_pool_backward(x, xp, idx, g, ksize, strides, pads, channels_first):
    """`g` sent back to the argmax `idx` of each window of `xp` (`x` padded, both NC..).

    torch's kernel zeroes the whole gradient, then scatters `g` into it: two passes over a
    tensor that is often far larger than the cache (the first pool of a small CNN: 11 MB).
    A large one on the CPU is computed a few images at a time into one result, so each
    block is still cached when the scatter comes (the same bits: images are independent,
    and each is scattered in the same order; 128x26x26x32: 2.0 -> 1.4 ms on one thread)."""
    n = x.ndim - 2
    g = to_channels_first(g, channels_first)
    backward = _MAX_BACKWARD[n]
    args = (ksize, strides, (0,) * n, (1,) * n, False)
    size = xp.numel() * xp.element_size()
    if not xp.is_cpu or size <= 2 * _CHUNK_BYTES or _gemm._compiling():
        dx = backward(g, xp, *args, idx)
    else:
        dx = torch.empty_like(xp)
        step = max(1, _CHUNK_BYTES * xp.shape[0] // size)  # images a block
        for i in range(0, xp.shape[0], step):
            j = i + step
            backward.grad_input(g[i:j], xp[i:j], *args, idx[i:j], grad_input=dx[i:j])
    return from_channels_first(_crop(dx, pads, x.shape[2:], channels_first), channels_first)


def max_pool_argmax_kernel(x, ksize, strides, pads, channels_first):
    """MaxPool's output and each window's argmax: what a traced plan runs when the same plan
    also takes MaxPool's gradient (`_keep_argmax` below), so the gradient need not find the
    maxima again."""
    _, y, idx = _argmax(to_channels_first(x, channels_first), ksize, strides, pads)
    return from_channels_first(y, channels_first), idx


def max_pool_grad_argmax_kernel(x, idx, g, ksize, strides, pads, channels_first):
    """`_max_pool_grad_kernel` with the argmax from `max_pool_argmax_kernel`."""
    x = to_channels_first(x, channels_first)
    xp = pad_input(x, pads, float("-inf"))
    return _max_pool_backward(x, xp, idx, g, ksize, strides, pads, channels_first)


def _max_pool_grad_grad_kernel(x, y, gg, ksize, strides, pads, channels_first):
    x = to_channels_first(x, channels_first)
    gg = to_channels_first(gg, channels_first)
    xp, _, idx = _argmax(x, ksize, strides, pads)
    ggp = pad_input(gg, pads)
    out = ggp.flatten(2).gather(2, idx.flatten(2)).view(idx.shape)
    return from_channels_first(out, channels_first)


class _MaxPool:
    def __init__(self, name, grad_name, grad_grad_name):
        self.forward = define(name)
        self.grad = define(grad_name)
        self.grad_grad = define(grad_grad_name)
        self.forward.gradient(self._forward_grad)
        self.grad.gradient(self._grad_grad)
        self.grad_grad.gradient(self._grad_grad_grad)

    def _forward_grad(self, node, grad):
        return execute(self.grad, _max_pool_grad_kernel,
                       (node.inputs[0], node.outputs[0], grad), node.attrs)

    def _grad_grad(self, node, grad):
        x, y, _ = node.inputs
        return zeros_like(x), zeros_like(y), execute(
            self.grad_grad, _max_pool_grad_grad_kernel, (x, y, grad), node.attrs)

    def _grad_grad_grad(self, node, grad):
        x, y, _ = node.inputs
        return zeros_like(x), zeros_like(y), execute(
            self.grad, _max_pool_grad_kernel, (x, y, grad), node.attrs)


MAX_POOL = _MaxPool("MaxPool", "MaxPoolGrad", "MaxPoolGradGrad")
MAX_POOL3D = _MaxPool("MaxPool3D", "MaxPool3DGrad", "MaxPool3DGradGrad")


@rewrite("max_pool_before_relu")
def _pool_before_relu(program):
    """Relu -> MaxPool becomes MaxPool -> Relu: the same values (relu is monotonic, so the
    largest of the relus is the relu of the largest) with the relu, and in training its
    gradient, on the pooled tensor, a quarter of the size for 2x2 windows. The gradient is the
    same too: where a window's maximum is positive, its argmax is the same cell before and
    after the relu; where it is not, both send that window nothing. Rewrites only when the
    Relu's output is read by the MaxPool, that pool's gradients and the Relu's own gradients
    of those (no other reader, not a function output)."""
    steps = program.steps
    readers, outputs = program.readers(), program.outputs
    moved = {}   # step index -> replacement steps (an empty list: dropped)
    for n, relu in enumerate(steps):
        if relu.kind != "op" or relu.op is not RELU or relu.multi or relu.outs[0] in outputs:
            continue
        y = relu.outs[0]
        pools = [j for j in readers.get(y, ()) if steps[j].kernel is _max_pool_kernel]
        if len(pools) != 1 or steps[pools[0]].outs[0] in outputs:
            continue
        pool = steps[pools[0]]
        pairs, others = [], set(readers[y]) - {pools[0]}
        for j in sorted(others):
            g = steps[j]
            if g.kernel is not _max_pool_grad_kernel:
                continue
            r = [k for k in readers.get(g.outs[0], ()) if k in others]
            if g.ins[:2] != (y, pool.outs[0]) or g.attrs != pool.attrs or len(r) != 1 or \
                    len(readers[g.outs[0]]) != 1 or g.outs[0] in outputs or \
                    steps[r[0]].op is not RELU_GRAD or steps[r[0]].ins != (g.outs[0], y):
                break
            pairs.append((j, r[0]))
        else:
            if others != {j for pair in pairs for j in pair}:
                continue
            z, pooled = relu.ins[0], program.new_slot()
            moved[n] = []
            moved[pools[0]] = [pool.replace(ins=(z,), outs=(pooled,)),
                               relu.replace(ins=(pooled,), outs=pool.outs)]
            for j, k in pairs:
                g, rg, masked = steps[j], steps[k], program.new_slot()
                moved[j] = [rg.replace(ins=(g.ins[2], pool.outs[0]), outs=(masked,))]
                moved[k] = [g.replace(ins=(z, pooled, masked), outs=rg.outs)]
    if moved:
        program.steps = [t for n, s in enumerate(steps) for t in moved.get(n, (s,))]


@rewrite("max_pool_keeps_argmax")
def _keep_argmax(program):
    """A MaxPool whose MaxPoolGrad (same input and output, same attrs) is in the same plan
    returns each window's argmax too, and the gradient uses it instead of finding the maxima
    again."""
    steps = program.steps
    pools = {(s.ins[0], s.outs[0], s.attrs): n for n, s in enumerate(steps)
             if s.kind == "op" and s.kernel is _max_pool_kernel}
    if not pools:
        return
    steps = list(steps)
    for n, s in enumerate(steps):
        if s.kind != "op" or s.kernel is not _max_pool_grad_kernel:
            continue
        m = pools.pop((s.ins[0], s.ins[1], s.attrs), None)
        if m is None:
            continue
        pool, slot = steps[m], program.new_slot()
        steps[m] = pool.replace(kernel=max_pool_argmax_kernel, outs=(pool.outs[0], slot),
                                multi=True)
        steps[n] = s.replace(kernel=max_pool_grad_argmax_kernel, ins=(s.ins[0], slot, s.ins[2]))
    program.steps = steps


# -- average pooling --------------------------------------------------------------------------

def _counts(like, spatial, ksize, strides, pads):
    """How many real (unpadded) cells each window covers."""
    ones = like.new_ones((1, 1) + tuple(spatial))
    return _AVG[len(spatial)](pad_input(ones, pads), ksize, strides, 0, divisor_override=1)


def _native(pads, ksize):
    """Whether torch's own padding (symmetric, at most half a window) does TF's SAME."""
    return all(a == b and 2 * a <= k for (a, b), k in zip(pads, ksize))


def _avg_pool_kernel(x, ksize, strides, pads, channels_first):
    x = to_channels_first(x, channels_first)
    if _native(pads, ksize):
        y = _AVG[x.ndim - 2](x, ksize, strides, tuple(a for a, _ in pads),
                             count_include_pad=False)
    else:
        y = _AVG[x.ndim - 2](pad_input(x, pads), ksize, strides, 0, divisor_override=1)
        y = y / _counts(x, x.shape[2:], ksize, strides, pads)
    return from_channels_first(y, channels_first)


def _avg_pool_grad_kernel(g, input_sizes, ksize, strides, pads, channels_first):
    g = to_channels_first(g, channels_first)
    n = g.ndim - 2
    sizes = (input_sizes[0], input_sizes[1 if channels_first else -1]) + tuple(
        input_sizes[2:] if channels_first else input_sizes[1:-1])
    if _native(pads, ksize):
        x = g.new_empty(sizes)
        dx = _AVG_BACKWARD[n](g, x, ksize, strides, tuple(a for a, _ in pads), False, False,
                              None)
    else:
        padded = sizes[:2] + tuple(s + a + b for s, (a, b) in zip(sizes[2:], pads))
        g = g / _counts(g, sizes[2:], ksize, strides, pads)
        dx = _AVG_BACKWARD[n](g, g.new_empty(padded), ksize, strides, (0,) * n, False, True, 1)
        dx = _crop(dx, pads, sizes[2:], channels_first)
    return from_channels_first(dx, channels_first)


class _AvgPool:
    def __init__(self, name, grad_name):
        self.forward = define(name)
        self.grad = define(grad_name)
        self.forward.gradient(self._forward_grad)
        self.grad.gradient(self._grad_grad)

    def _forward_grad(self, node, grad):
        return execute(self.grad, _avg_pool_grad_kernel, (grad,),
                       (tuple(node.inputs[0]._t.shape),) + node.attrs)

    def _grad_grad(self, node, grad):
        return execute(self.forward, _avg_pool_kernel, (grad,), node.attrs[1:])


AVG_POOL = _AvgPool("AvgPool", "AvgPoolGrad")
AVG_POOL3D = _AvgPool("AvgPool3D", "AvgPool3DGrad")


# -- public functions -------------------------------------------------------------------------

def _pool(x, ksize, strides, padding, data_format, n, op, kernel):
    x = x if type(x) is Tensor else convert_to_tensor(x)
    if x._dtype not in FLOATS:
        check_dtype(x, FLOATS, op)
    if x._t.ndim != n + 2:
        raise ValueError(f"Input tensor must be of rank {n + 2}. Received: "
                         f"input.shape={list(x._t.shape)}")
    cf = is_channels_first(data_format)
    ksize = spatial_list(ksize, n, "ksize", cf)
    strides = spatial_list(strides, n, "strides", cf)
    shape = tuple(x._t.shape)
    sizes = shape[2:] if cf else shape[1:-1]
    if not isinstance(padding, str):
        raise ValueError(f"`padding` must be 'SAME' or 'VALID'. Received: padding={padding!r}")
    pads = padding_pairs(padding, sizes, ksize, strides, (1,) * n, cf)
    return execute(op, kernel, (x,), (ksize, strides, pads, cf))


def _one_d(value, channels_first):
    if isinstance(value, numbers.Integral):
        return (1, int(value))
    value = list(value)
    if len(value) == 1:
        return (1, int(value[0]))
    return (1, int(value[2] if channels_first else value[1]))


def _pool1d(fn, x, ksize, strides, padding, data_format):
    x = x if type(x) is Tensor else convert_to_tensor(x)
    cf = is_channels_first(data_format)
    axis = 2 if cf else 1
    y = fn(expand_dims(x, axis), _one_d(ksize, cf), _one_d(strides, cf), padding,
           "NCHW" if cf else "NHWC")
    return squeeze(y, [axis])


def max_pool2d(input, ksize, strides, padding, data_format="NHWC", name=None):  # noqa: A002
    """The maximum of each `ksize` window of `input` (NHWC or NCHW)."""
    return _pool(input, ksize, strides, padding, data_format, 2, MAX_POOL.forward,
                 _max_pool_kernel)


def max_pool3d(input, ksize, strides, padding, data_format="NDHWC", name=None):  # noqa: A002
    return _pool(input, ksize, strides, padding, data_format, 3, MAX_POOL3D.forward,
                 _max_pool_kernel)


def avg_pool2d(input, ksize, strides, padding, data_format="NHWC", name=None):  # noqa: A002
    """The mean of each `ksize` window of `input`; SAME padding cells are not counted."""
    return _pool(input, ksize, strides, padding, data_format, 2, AVG_POOL.forward,
                 _avg_pool_kernel)


def avg_pool3d(input, ksize, strides, padding, data_format="NDHWC", name=None):  # noqa: A002
    return _pool(input, ksize, strides, padding, data_format, 3, AVG_POOL3D.forward,
                 _avg_pool_kernel)


def max_pool1d(input, ksize, strides, padding, data_format="NWC", name=None):  # noqa: A002
    return _pool1d(max_pool2d, input, ksize, strides, padding, data_format)


def avg_pool1d(input, ksize, strides, padding, data_format="NWC", name=None):  # noqa: A002
    return _pool1d(avg_pool2d, input, ksize, strides, padding, data_format)


_BY_RANK = {3: (max_pool1d, avg_pool1d), 4: (max_pool2d, avg_pool2d),
            5: (max_pool3d, avg_pool3d)}


def _generic(which, input, ksize, strides, padding, data_format):  # noqa: A002
    x = input if type(input) is Tensor else convert_to_tensor(input)
    fns = _BY_RANK.get(x._t.ndim)
    if fns is None:
        raise ValueError(f"`input.shape.rank` must be 3, 4 or 5. Received: "
                         f"input.shape={list(x._t.shape)} of rank {x._t.ndim}")
    if data_format is None:
        data_format = {3: "NWC", 4: "NHWC", 5: "NDHWC"}[x._t.ndim]
    return fns[which](x, ksize, strides, padding, data_format)


def max_pool(input, ksize, strides, padding, data_format=None, name=None):  # noqa: A002
    """Max pooling of a rank 3, 4 or 5 `input`."""
    return _generic(0, input, ksize, strides, padding, data_format)


def avg_pool(input, ksize, strides, padding, data_format=None, name=None):  # noqa: A002
    """Average pooling of a rank 3, 4 or 5 `input`."""
    return _generic(1, input, ksize, strides, padding, data_format)
