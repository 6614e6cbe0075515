"""Convolutions: `tf.nn.conv1d/2d/3d`, `convolution`, `conv*_transpose`, `depthwise_conv2d`
and `separable_conv2d`.

Each convolution family (Conv2D, Conv3D, DepthwiseConv2dNative) is three ops, as in TF: the
forward op, its input gradient (`*BackpropInput`, which is also the transposed convolution) and
its filter gradient (`*BackpropFilter`). Each has a gradient written with the other two, so nested
tapes give second derivatives. One set of N-d kernels serves every family: TF's NHWC layout is
viewed as torch's NCHW with `permute` (a view whose strides are torch's channels_last format, so
oneDNN runs channels-last kernels without a copy), and TF's SAME padding, which puts the odd
pixel after, becomes symmetric torch padding or an explicit pad when it is asymmetric.
1-D convolutions are 2-D ones over a height of 1, as in TF.
"""
import numbers

import torch
import torch.nn.functional as F

from tapeflow._core import dtypes
from tapeflow._core.tensor import Tensor, convert_to_tensor
from tapeflow.ops import _gemm
from tapeflow.ops._op import check_dtype, define, execute, rewrite
from tapeflow.ops.array import expand_dims, int_arg, squeeze
from tapeflow.ops.nn import RELU, adds_last_axis_bias

FLOATS = (dtypes.float16, dtypes.bfloat16, dtypes.float32, dtypes.float64)
_aten = torch.ops.aten


# -- attribute normalisation (shared with pooling.py) ---------------------------------------

def spatial_list(value, n, name, channels_first):
    """An int or a list of 1, n or n+2 ints as n spatial values (TF's strides/dilations)."""
    if value is None:
        return (1,) * n
    if isinstance(value, numbers.Integral):
        return (int(value),) * n
    value = [int(v) for v in (value.numpy().tolist() if hasattr(value, "numpy") else value)]
    if len(value) == 1:
        return (value[0],) * n
    if len(value) == n:
        return tuple(value)
    if len(value) == n + 2:
        return tuple(value[2:] if channels_first else value[1:-1])
    raise ValueError(f"{name} should be of length 1, {n} or {n + 2} but was {len(value)}")


def is_channels_first(data_format):
    return data_format is not None and data_format.startswith("NC")


def same_pads(size, window, stride, dilation=1):
    """TF's SAME padding along one dimension: (before, after), the odd pixel after."""
    effective = (window - 1) * dilation + 1
    out = -(-size // stride)
    total = max((out - 1) * stride + effective - size, 0)
    return total // 2, total - total // 2


def padding_pairs(padding, sizes, windows, strides, dilations, channels_first):
    """Per spatial dimension (before, after) pads for 'SAME', 'VALID' or explicit pairs."""
    if isinstance(padding, str):
        mode = padding.upper()
        if mode == "VALID":
            return ((0, 0),) * len(sizes)
        if mode == "SAME":
            return tuple(same_pads(s, w, st, d)
                         for s, w, st, d in zip(sizes, windows, strides, dilations))
        raise ValueError(f"`padding` must be one of 'SAME', 'VALID' or a list of explicit "
                         f"paddings. Received: padding={padding!r}")
    pairs = [tuple(int(v) for v in p) for p in padding]
    n = len(sizes)
    if len(pairs) != n + 2:
        raise ValueError(f"padding should be a list of {n + 2} pairs. Received: {padding}")
    return tuple(pairs[2:] if channels_first else pairs[1:-1])


def to_channels_first(t, channels_first):
    """A torch view of an N..C tensor as NC.. (channels_last strides: no copy)."""
    if channels_first:
        return t
    n = t.ndim - 2
    return t.permute(0, n + 1, *range(1, n + 1))


def from_channels_first(t, channels_first):
    if channels_first:
        return t
    n = t.ndim - 2
    return t.permute(0, *range(2, n + 2), 1)


def pad_input(x, pads, value=0.0):
    """x (NC..) padded by `pads`, or x itself when there is nothing to pad."""
    if not any(a or b for a, b in pads):
        return x
    flat = []
    for before, after in reversed(pads):
        flat += [before, after]
    return F.pad(x, flat, value=value)


def _symmetric(pads):
    return all(a == b for a, b in pads)


# -- the kernels ------------------------------------------------------------------------------

def _torch_filter(f, depthwise):
    """TF's filter (k.., in, out) or depthwise (k.., in, mult) as torch's (out, in/groups, k..)."""
    n = f.ndim - 2
    if depthwise:
        f = f.reshape(*f.shape[:n], 1, f.shape[n] * f.shape[n + 1])
    return f.permute(n + 1, n, *range(n))


def _conv_kernel(x, f, strides, dilations, pads, channels_first, depthwise):
    _gemm.follow_load()
    n = x.ndim - 2
    x = to_channels_first(x, channels_first)
    groups = x.shape[1] if depthwise else 1
    if _symmetric(pads):
        padding = tuple(a for a, _ in pads)
    else:
        x, padding = pad_input(x, pads), (0,) * n
    y = torch.convolution(x, _torch_filter(f, depthwise), None, strides, padding, dilations,
                          False, (0,) * n, groups)
    return from_channels_first(y, channels_first)


def _probe_pointwise():
    """oneDNN's convolution with a bias and an activation applied as the result is stored
    (`mkldnn::_convolution_pointwise`, the kernel torch's compiler emits), when this torch
    build has it and it gives the right answer."""
    try:
        op = torch.ops.mkldnn._convolution_pointwise
        y = op(torch.ones(1, 1, 2, 2), torch.ones(1, 1, 1, 1), torch.ones(1), (0, 0), (1, 1),
               (1, 1), 1, "none", [], "")
    except (AttributeError, RuntimeError):
        return None
    return op if torch.equal(y, torch.full((1, 1, 2, 2), 2.0)) else None


_POINTWISE = _probe_pointwise()


def conv_bias_kernel(x, f, bias, strides, dilations, pads, channels_first, depthwise,
                     activation):
    """`activation(conv(x, f) + bias)` ("none" or "relu") for a 2-D float32 convolution on the
    CPU: one oneDNN call that adds the bias and clamps as it stores the result, instead of
    three passes over it (same bits: the bias is added to the finished float32 sum). Anywhere
    else, the three kernels a traced graph would run one by one."""
    if _POINTWISE is None or x.ndim != 4 or x.dtype is not torch.float32 or not x.is_cpu \
            or _gemm._compiling():
        y = torch.add(_conv_kernel(x, f, strides, dilations, pads, channels_first, depthwise),
                      bias)
        return torch.relu(y) if activation == "relu" else y
    _gemm.follow_load()
    x = to_channels_first(x, channels_first)
    if _symmetric(pads):
        padding = tuple(a for a, _ in pads)
    else:
        x, padding = pad_input(x, pads), (0, 0)
    y = _POINTWISE(x, _torch_filter(f, depthwise), bias, padding, strides, dilations,
                   x.shape[1] if depthwise else 1, activation, [], "")
    return from_channels_first(y, channels_first)


def _input_grad_kernel(f, g, input_sizes, strides, dilations, pads, channels_first, depthwise):
    """The gradient of a convolution w.r.t. its input: a transposed convolution of g."""
    _gemm.follow_load()
    n = g.ndim - 2
    g = to_channels_first(g, channels_first)
    spatial = input_sizes[2:] if channels_first else input_sizes[1:-1]
    groups = (input_sizes[1] if channels_first else input_sizes[-1]) if depthwise else 1
    kernel = f.shape[:n]
    symmetric = _symmetric(pads)
    padding = tuple(a for a, _ in pads) if symmetric else (0,) * n
    extra = []
    for size, k, s, d, p, (before, after) in zip(spatial, kernel, strides, dilations, padding,
                                                  pads):
        target = size if symmetric else size + before + after
        extra.append(target + 2 * p - ((g.shape[2 + len(extra)] - 1) * s + (k - 1) * d + 1))
    dx = torch.convolution(g, _torch_filter(f, depthwise), None, strides, padding, dilations,
                           True, tuple(extra), groups)
    if not symmetric:  # crop the padding (copied: a cropped view has gaps in its strides)
        dx = dx[(slice(None), slice(None)) + tuple(slice(b, b + s)
                                                   for (b, _), s in zip(pads, spatial))]
        return from_channels_first(dx, channels_first).contiguous()
    return from_channels_first(dx, channels_first)


def _filter_grad_kernel(x, g, filter_sizes, strides, dilations, pads, channels_first,
                        depthwise):
    """The gradient of a convolution w.r.t. its filter (oneDNN's weight-gradient kernel)."""
    _gemm.follow_load()
    n = x.ndim - 2
    x = to_channels_first(x, channels_first)
    g = to_channels_first(g, channels_first)
    if _symmetric(pads):
        padding = tuple(a for a, _ in pads)
    else:
        x, padding = pad_input(x, pads), (0,) * n
    kernel, c_in, c_out = filter_sizes[:n], filter_sizes[n], filter_sizes[n + 1]
    if depthwise:
        groups, w_shape = c_in, (c_in * c_out, 1) + tuple(kernel)
    else:
        groups, w_shape = 1, (c_out, c_in) + tuple(kernel)
    w = g.new_empty(w_shape)
    dw = _aten.convolution_backward(g, x, w, None, strides, padding, dilations, False,
                                    (0,) * n, groups, (False, True, False))[1]
    dw = dw.permute(*range(2, n + 2), 1, 0)  # (k.., in/groups, out)
    return dw.reshape(filter_sizes)


@rewrite("fuse_conv_bias_relu")
def _fuse_conv(program):
    """Conv2D -> Add/BiasAdd of a per-channel bias (N..C layout) [-> Relu] chains become one
    `conv_bias_kernel` step, as TF's grappler remapper makes `_FusedConv2D`. Each intermediate
    result must have no other reader. A Relu whose output a MaxPool reads is left alone:
    pooling.py's rule moves it after the pool, where it touches 4x fewer elements."""
    steps, graph = program.steps, program.graph
    readers, producer = program.readers(), program.producers()
    sole_reader = program.sole_readers().get
    replaced = {}
    for n, s in enumerate(steps):
        if not adds_last_axis_bias(s):
            continue
        m = producer.get(s.ins[0])
        if m is None or m in replaced or steps[m].kernel is not _conv_kernel or \
                steps[m].attrs[3] or sole_reader(s.ins[0]) != n:
            continue
        shape = graph.shapes[s.ins[0]]
        if len(shape) != 4 or tuple(graph.shapes[s.ins[1]]) != (shape[-1],):
            continue
        last, activation = n, "none"
        k = sole_reader(s.outs[0])
        if k is not None:
            r = steps[k]
            if r.kind == "op" and r.op is RELU and not r.multi and not any(
                    steps[j].op is not None and steps[j].op.name in ("MaxPool", "MaxPool3D")
                    for j in readers.get(r.outs[0], ())):
                last, activation = k, "relu"
        replaced[m] = None
        if last != n:
            replaced[n] = None
        replaced[last] = steps[last].replace(kernel=conv_bias_kernel, op=steps[m].op,
                                             ins=(*steps[m].ins, s.ins[1]),
                                             attrs=steps[m].attrs + (activation,))
    if replaced:
        program.steps = [replaced.get(n, s) for n, s in enumerate(steps)
                         if replaced.get(n, s) is not None]


# -- the ops ----------------------------------------------------------------------------------

class _Family:
    """The three ops of one convolution kind, with their gradients."""

    def __init__(self, forward, backprop_input, backprop_filter, depthwise=False):
        self.forward = define(forward)
        self.input_grad = define(backprop_input)
        self.filter_grad = define(backprop_filter)
        self.depthwise = depthwise
        self.forward.gradient(self._forward_grad)
        self.input_grad.gradient(self._input_grad_grad)
        self.filter_grad.gradient(self._filter_grad_grad)

    def conv(self, x, f, attrs):
        return execute(self.forward, _conv_kernel, (x, f), attrs + (self.depthwise,))

    def backprop_input(self, input_sizes, f, g, attrs):
        return execute(self.input_grad, _input_grad_kernel, (f, g),
                       (tuple(input_sizes),) + attrs + (self.depthwise,))

    def backprop_filter(self, x, filter_sizes, g, attrs):
        return execute(self.filter_grad, _filter_grad_kernel, (x, g),
                       (tuple(filter_sizes),) + attrs + (self.depthwise,))

    def _forward_grad(self, node, grad):
        x, f = node.inputs
        attrs = node.attrs[:-1]
        skip = node.skip_input_indices
        dx = None if 0 in skip else self.backprop_input(tuple(x._t.shape), f, grad, attrs)
        df = None if 1 in skip else self.backprop_filter(x, tuple(f._t.shape), grad, attrs)
        return dx, df

    def _input_grad_grad(self, node, grad):
        f, g = node.inputs
        attrs = node.attrs[1:-1]
        skip = node.skip_input_indices
        df = None if 0 in skip else self.backprop_filter(grad, tuple(f._t.shape), g, attrs)
        dg = None if 1 in skip else self.conv(grad, f, attrs)
        return df, dg

    def _filter_grad_grad(self, node, grad):
        x, g = node.inputs
        attrs = node.attrs[1:-1]
        skip = node.skip_input_indices
        dx = None if 0 in skip else self.backprop_input(tuple(x._t.shape), grad, g, attrs)
        dg = None if 1 in skip else self.conv(x, grad, attrs)
        return dx, dg


CONV2D = _Family("Conv2D", "Conv2DBackpropInput", "Conv2DBackpropFilter")
CONV3D = _Family("Conv3D", "Conv3DBackpropInputV2", "Conv3DBackpropFilterV2")
DEPTHWISE = _Family("DepthwiseConv2dNative", "DepthwiseConv2dNativeBackpropInput",
                    "DepthwiseConv2dNativeBackpropFilter", depthwise=True)
_FAMILIES = {2: CONV2D, 3: CONV3D}


def _operands(x, f, family):
    x = x if type(x) is Tensor else convert_to_tensor(x)
    f = f if type(f) is Tensor else convert_to_tensor(f, dtype=x._dtype)
    op = family.forward
    if x._dtype not in FLOATS:
        check_dtype(x, FLOATS, op)
    if f._dtype is not x._dtype:
        raise ValueError(f"Input 'filter' of '{op.name}' Op has type {f._dtype.name} that "
                         f"does not match type {x._dtype.name} of argument 'input'.")
    return x, f


def _attrs(x, f, strides, padding, data_format, dilations, n, op_name):
    """(strides, dilations, pads, channels_first) for an n-d convolution of x by f."""
    if x._t.ndim != n + 2:
        raise ValueError(f"input must be {n + 2}-dimensional for {op_name}, got shape "
                         f"{list(x._t.shape)}")
    if f._t.ndim != n + 2:
        raise ValueError(f"filter must be {n + 2}-dimensional for {op_name}, got shape "
                         f"{list(f._t.shape)}")
    cf = is_channels_first(data_format)
    strides = spatial_list(strides, n, "strides", cf)
    dilations = spatial_list(dilations, n, "dilations", cf)
    shape = tuple(x._t.shape)
    sizes = shape[2:] if cf else shape[1:-1]
    pads = padding_pairs(padding, sizes, tuple(f._t.shape[:n]), strides, dilations, cf)
    return strides, dilations, pads, cf


def _conv_nd(x, f, strides, padding, data_format, dilations, n, family):
    x, f = _operands(x, f, family)
    attrs = _attrs(x, f, strides, padding, data_format, dilations, n, family.forward.name)
    channels = x._t.shape[1 if attrs[3] else -1]
    if not family.depthwise and f._t.shape[n] != channels:
        if channels % f._t.shape[n]:
            raise ValueError(f"Depth of input ({channels}) is not a multiple of input depth "
                             f"of filter ({f._t.shape[n]})")
        raise NotImplementedError("Grouped convolutions are not supported.")
    return family.conv(x, f, attrs)


def conv2d(input, filters, strides, padding, data_format="NHWC", dilations=None,  # noqa: A002
           name=None):
    """2-D convolution of `input` (NHWC or NCHW) by `filters` (kh, kw, in, out)."""
    return _conv_nd(input, filters, strides, padding, data_format, dilations, 2, CONV2D)


def conv3d(input, filters, strides, padding, data_format="NDHWC", dilations=None,  # noqa: A002
           name=None):
    """3-D convolution of `input` (NDHWC or NCDHW) by `filters` (kd, kh, kw, in, out)."""
    return _conv_nd(input, filters, strides, padding, data_format, dilations, 3, CONV3D)


def _one_d(value, channels_first):
    """A 1-D conv's stride/dilation as 2-D values (height 1)."""
    if value is None:
        return None
    if isinstance(value, numbers.Integral):
        return (1, int(value))
    value = list(value)
    if len(value) == 1:
        return (1, int(value[0]))
    if len(value) == 3:
        return (1, int(value[2] if channels_first else value[1]))
    raise ValueError(f"stride/dilation should be of length 1 or 3 but was {len(value)}")


def _padding_2d(padding, channels_first):
    if isinstance(padding, str):
        return padding
    pairs = [tuple(p) for p in padding]
    return pairs[:2] + [(0, 0)] + pairs[2:] if channels_first else \
        pairs[:1] + [(0, 0)] + pairs[1:]


def conv1d(input, filters, stride, padding, data_format="NWC", dilations=None,  # noqa: A002
           name=None):
    """1-D convolution of `input` (NWC or NCW) by `filters` (kw, in, out): a 2-D convolution
    over a height of 1, as in TF."""
    x = input if type(input) is Tensor else convert_to_tensor(input)
    f = filters if type(filters) is Tensor else convert_to_tensor(filters, dtype=x._dtype)
    cf = is_channels_first(data_format)
    axis = 2 if cf else 1
    y = conv2d(expand_dims(x, axis), expand_dims(f, 0), _one_d(stride, cf),
               _padding_2d(padding, cf), "NCHW" if cf else "NHWC", _one_d(dilations, cf))
    return squeeze(y, [axis])


def convolution(input, filters, strides=None, padding="VALID", data_format=None,  # noqa: A002
                dilations=None, name=None):
    """An N-d convolution (N from the filter's rank: 1, 2 or 3)."""
    f = filters if type(filters) is Tensor else convert_to_tensor(filters)
    n = f._t.ndim - 2
    if n == 1:
        return conv1d(input, f, strides, padding, data_format or "NWC", dilations)
    if n not in _FAMILIES:
        raise ValueError(f"`filters` must be 3-, 4- or 5-D. Received: shape={list(f._t.shape)}")
    return _conv_nd(input, f, strides, padding, data_format, dilations, n, _FAMILIES[n])


def _static_shape(value):
    if hasattr(value, "numpy"):
        value = value.numpy()
    # int_arg reads a known scalar tensor (`tf.shape(x)[0]`) as an op reads its attrs, so a
    # trace for every batch size keeps serving them
    return tuple(int_arg(v) for v in (value.tolist() if hasattr(value, "tolist") else value))


def _conv_transpose_nd(x, f, output_shape, strides, padding, data_format, dilations, n,
                       family):
    """The gradient of an n-d convolution w.r.t. its input, applied to x."""
    x, f = _operands(x, f, family)
    output_shape = _static_shape(output_shape)
    cf = is_channels_first(data_format)
    if len(output_shape) != n + 2:
        raise ValueError(f"output_shape must have length {n + 2}, got {len(output_shape)}")
    strides = spatial_list(strides, n, "strides", cf)
    dilations = spatial_list(dilations, n, "dilations", cf)
    sizes = output_shape[2:] if cf else output_shape[1:-1]
    pads = padding_pairs(padding, sizes, tuple(f._t.shape[:n]), strides, dilations, cf)
    channels = x._t.shape[1 if cf else -1]
    if f._t.shape[n + 1] != channels:
        raise ValueError(f"The number of output channels of the filter ({f._t.shape[n + 1]}) "
                         f"must match the input's channels ({channels}).")
    return family.backprop_input(output_shape, f, x, (strides, dilations, pads, cf))


def conv2d_transpose(input, filters, output_shape, strides, padding="SAME",  # noqa: A002
                     data_format="NHWC", dilations=None, name=None):
    """The transpose of conv2d: `filters` is (kh, kw, output_channels, input_channels)."""
    return _conv_transpose_nd(input, filters, output_shape, strides, padding, data_format,
                              dilations, 2, CONV2D)


def conv3d_transpose(input, filters, output_shape, strides, padding="SAME",  # noqa: A002
                     data_format="NDHWC", dilations=None, name=None):
    """The transpose of conv3d: `filters` is (kd, kh, kw, output_channels, input_channels)."""
    return _conv_transpose_nd(input, filters, output_shape, strides, padding, data_format,
                              dilations, 3, CONV3D)


def conv1d_transpose(input, filters, output_shape, strides, padding="SAME",  # noqa: A002
                     data_format="NWC", dilations=None, name=None):
    """The transpose of conv1d, as a 2-D one over a height of 1."""
    x = input if type(input) is Tensor else convert_to_tensor(input)
    f = filters if type(filters) is Tensor else convert_to_tensor(filters, dtype=x._dtype)
    cf = is_channels_first(data_format)
    axis = 2 if cf else 1
    shape = list(_static_shape(output_shape))
    shape.insert(axis, 1)
    y = conv2d_transpose(expand_dims(x, axis), expand_dims(f, 0), shape, _one_d(strides, cf),
                         _padding_2d(padding, cf), "NCHW" if cf else "NHWC",
                         _one_d(dilations, cf))
    return squeeze(y, [axis])


def depthwise_conv2d(input, filter, strides, padding, data_format=None,  # noqa: A002
                     dilations=None, name=None):
    """Each input channel convolved by its own `channel_multiplier` filters: `filter` is
    (kh, kw, in, multiplier), the output has in * multiplier channels."""
    x, f = _operands(input, filter, DEPTHWISE)
    attrs = _attrs(x, f, strides, padding, data_format, dilations, 2, "DepthwiseConv2dNative")
    channels = x._t.shape[1 if attrs[3] else -1]
    if f._t.shape[2] != channels:
        raise ValueError(f"input and filter must have the same depth: {channels} vs "
                         f"{f._t.shape[2]}")
    return DEPTHWISE.conv(x, f, attrs)


def separable_conv2d(input, depthwise_filter, pointwise_filter, strides, padding,  # noqa: A002
                     data_format=None, dilations=None, name=None):
    """A depthwise convolution followed by a 1x1 (pointwise) convolution, as in TF."""
    y = depthwise_conv2d(input, depthwise_filter, strides, padding, data_format, dilations)
    return conv2d(y, pointwise_filter, 1, "VALID", data_format or "NHWC")
