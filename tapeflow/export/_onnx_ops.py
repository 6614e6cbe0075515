"""The ONNX table, part one: elementwise math, products, reductions, and array ops.

`CONVERTERS` maps a TF op name (`step.op.name`) to the function that writes that step as ONNX
nodes: `convert(e, step)` gets the `Emitter` (`_onnx_graph.py`) and the traced `Step`, reads
the inputs' ONNX names with `e.value(slot)`, decodes the step's attrs (as the op's kernel in
`tapeflow/ops/` takes them) and returns the ONNX names of the step's outputs. Ops that map one
to one are rows of the `_UNARY`/`_BINARY` tables; the neural-network ops (convolutions,
pooling, recurrent layers) are in `_onnx_nn.py`. A converter registered with `sized=True`
reads attrs that may hold a `None` dimension through `e.ints`, so they stay dynamic.
"""
import math

import numpy as np
import torch

from tapeflow.export._onnx_graph import INT64_MAX, INT64_MIN, ExportError, onnx_type

CONVERTERS = {}   # TF op name -> (convert(e, step) -> output names, sized)


def converts(*names, sized=False):
    def register(fn):
        for n in names:
            if n in CONVERTERS:
                raise ValueError(f"ONNX converter for {n!r} is already registered.")
            CONVERTERS[n] = (fn, sized)
        return fn
    return register


def _ins(e, step):
    return [e.value(i) for i in step.ins]


def _cast_to(e, name, slot_from, torch_dtype):
    """`name` (of slot `slot_from`'s dtype) cast to `torch_dtype` when they differ."""
    if e.torch_dtype(slot_from) == torch_dtype:
        return name
    return e.node("Cast", [name], to=onnx_type(torch_dtype))


# -- one-to-one ops ----------------------------------------------------------------------------

_UNARY = {
    "Abs": "Abs", "Neg": "Neg", "Exp": "Exp", "Log": "Log", "Sqrt": "Sqrt",
    "Reciprocal": "Reciprocal", "Sin": "Sin", "Cos": "Cos", "Tan": "Tan", "Asin": "Asin",
    "Acos": "Acos", "Atan": "Atan", "Sinh": "Sinh", "Cosh": "Cosh", "Asinh": "Asinh",
    "Acosh": "Acosh", "Atanh": "Atanh", "Tanh": "Tanh", "Sigmoid": "Sigmoid", "Relu": "Relu",
    "Erf": "Erf", "Floor": "Floor", "Ceil": "Ceil", "Rint": "Round", "Sign": "Sign",
    "Identity": "Identity", "StopGradient": "Identity", "Softsign": "Softsign",
    "Softplus": "Softplus", "Elu": "Elu", "Selu": "Selu", "IsNan": "IsNaN", "IsInf": "IsInf",
    "LogicalNot": "Not", "Invert": "BitwiseNot",
}

_BINARY = {
    "AddV2": "Add", "Sub": "Sub", "Mul": "Mul", "Maximum": "Max", "Minimum": "Min",
    "Pow": "Pow", "Equal": "Equal", "Less": "Less", "LessEqual": "LessOrEqual",
    "Greater": "Greater", "GreaterEqual": "GreaterOrEqual", "LogicalAnd": "And",
    "LogicalOr": "Or", "BitwiseAnd": "BitwiseAnd", "BitwiseOr": "BitwiseOr",
    "BitwiseXor": "BitwiseXor",
}

# ONNX ops that appeared in a later opset than the table's minimum (13)
_SINCE = {"BitwiseNot": 18, "BitwiseAnd": 18, "BitwiseOr": 18, "BitwiseXor": 18}


def _needs(e, onnx_op):
    since = _SINCE.get(onnx_op, 0)
    if e.opset < since:
        raise ExportError(f"Op {e.step.op.name!r} needs ONNX opset {since} or later (ONNX "
                          f"{onnx_op}); the export uses opset {e.opset}.")


def _direct(onnx_op):
    def convert(e, step):
        _needs(e, onnx_op)
        return e.node(onnx_op, _ins(e, step))
    return convert


for _tf, _onnx in (*_UNARY.items(), *_BINARY.items()):
    converts(_tf)(_direct(_onnx))
del _tf, _onnx


@converts("Round")
def _round(e, step):
    x, = _ins(e, step)
    if not e.graph.dtypes[step.ins[0]].is_floating:
        return e.node("Identity", [x])
    return e.node("Round", [x])  # half to even, as TF


@converts("NotEqual")
def _not_equal(e, step):
    return e.node("Not", [e.node("Equal", _ins(e, step))])


@converts("IsFinite")
def _is_finite(e, step):
    x, = _ins(e, step)
    return e.node("Not", [e.node("Or", [e.node("IsNaN", [x]), e.node("IsInf", [x])])])


@converts("SelectV2")
def _select(e, step):
    return e.node("Where", _ins(e, step))


@converts("AddN")
def _add_n(e, step):
    return e.node("Sum", _ins(e, step))


@converts("Cast")
def _cast(e, step):
    x, = _ins(e, step)
    return e.node("Cast", [x], to=onnx_type(step.attrs[0]))


# -- composed elementwise ops ------------------------------------------------------------------

def _one(e, slot, value=1):
    return e.scalar(value, e.torch_dtype(slot))


@converts("Rsqrt")
def _rsqrt(e, step):
    x, = _ins(e, step)
    return e.node("Reciprocal", [e.node("Sqrt", [x])])


@converts("Square")
def _square(e, step):
    x, = _ins(e, step)
    return e.node("Mul", [x, x])


@converts("Log1p")
def _log1p(e, step):
    x, = _ins(e, step)
    return e.node("Log", [e.node("Add", [x, _one(e, step.ins[0])])])


@converts("Expm1")
def _expm1(e, step):
    x, = _ins(e, step)
    return e.node("Sub", [e.node("Exp", [x]), _one(e, step.ins[0])])


@converts("SquaredDifference")
def _squared_difference(e, step):
    d = e.node("Sub", _ins(e, step))
    return e.node("Mul", [d, d])


@converts("RealDiv")
def _real_div(e, step):
    # integer operands: the kernel divides in the output's float dtype, as TF's casts do
    out = e.torch_dtype(step.outs[0])
    a, b = (_cast_to(e, n, s, out) for n, s in zip(_ins(e, step), step.ins))
    return e.node("Div", [a, b])


@converts("DivNoNan")
def _div_no_nan(e, step):
    out = e.torch_dtype(step.outs[0])
    a, b = (_cast_to(e, n, s, out) for n, s in zip(_ins(e, step), step.ins))
    zero = e.scalar(0, out)
    return e.node("Where", [e.node("Equal", [b, zero]), zero, e.node("Div", [a, b])])


def _is_float(e, slot):
    return e.graph.dtypes[slot].is_floating


@converts("FloorMod")
def _floor_mod(e, step):
    a, b = _ins(e, step)
    if not _is_float(e, step.ins[0]):
        return e.node("Mod", [a, b], fmod=0)  # the sign of the divisor, as Python's %
    floor = e.node("Floor", [e.node("Div", [a, b])])
    return e.node("Sub", [a, e.node("Mul", [b, floor])])


@converts("FloorDiv")
def _floor_div(e, step):
    a, b = _ins(e, step)
    if _is_float(e, step.ins[0]):
        return e.node("Floor", [e.node("Div", [a, b])])
    # ONNX's integer Div truncates; (a - a mod b) / b is exact and rounds down
    return e.node("Div", [e.node("Sub", [a, e.node("Mod", [a, b], fmod=0)]), b])


@converts("Atan2")
def _atan2(e, step):
    y, x = _ins(e, step)
    dtype = e.torch_dtype(step.ins[0])
    zero, pi = e.scalar(0, dtype), e.scalar(math.pi, dtype)
    base = e.node("Atan", [e.node("Div", [y, x])])
    # x < 0: add pi with y's sign; x == 0: +-pi/2 by y's sign (0 for y == 0)
    sign_y = e.node("Where", [e.node("Less", [y, zero]), e.scalar(-1, dtype),
                              e.scalar(1, dtype)])
    shifted = e.node("Add", [base, e.node("Mul", [sign_y, pi])])
    half = e.node("Mul", [e.node("Sign", [y]), e.scalar(math.pi / 2, dtype)])
    left = e.node("Where", [e.node("Less", [x, zero]), shifted, base])
    return e.node("Where", [e.node("Equal", [x, zero]), half, left])


# -- products ----------------------------------------------------------------------------------

def _transposed_last_two(e, name, rank):
    perm = list(range(rank))
    perm[-2:] = perm[-1], perm[-2]
    return e.node("Transpose", [name], perm=perm)


@converts("MatMul", "BatchMatMulV2")
def _matmul(e, step):
    a, b = _ins(e, step)
    if step.attrs:  # (mode_a, mode_b): 2 is the adjoint, the transpose for real dtypes
        mode_a, mode_b = step.attrs
        if mode_a:
            a = _transposed_last_two(e, a, e.rank(step.ins[0]))
        if mode_b:
            b = _transposed_last_two(e, b, e.rank(step.ins[1]))
    return e.node("MatMul", [a, b])


@converts("Einsum")
def _einsum(e, step):
    return e.node("Einsum", _ins(e, step), equation=step.attrs[0])


# -- reductions --------------------------------------------------------------------------------

def _reduce_axes(e, step):
    """The kernel's (axes, keepdims) attrs as ONNX's: a tuple of axes (an int for Prod)."""
    axes, keepdims = step.attrs[0], bool(step.attrs[1])
    if isinstance(axes, int):
        axes = (axes,)
    rank = e.rank(step.ins[0])
    return tuple(a % rank for a in axes) if rank else (), keepdims


def _reduce(e, onnx_op, x, axes, keepdims):
    """An ONNX reduction over `axes` (empty: none, as TF's `axis=[]`)."""
    if not axes:
        return e.node("Identity", [x])
    if onnx_op == "ReduceSum" or e.opset >= 18:
        return e.node(onnx_op, [x, e.axes(axes)], keepdims=int(keepdims))
    return e.node(onnx_op, [x], axes=list(axes), keepdims=int(keepdims))


@converts("Sum")
def _sum(e, step):
    x, = _ins(e, step)
    axes, keepdims = _reduce_axes(e, step)
    if not axes and not keepdims:  # the kernel's `t.sum()`: every axis
        axes = tuple(range(e.rank(step.ins[0])))
    return _reduce(e, "ReduceSum", x, axes, keepdims)


def _plain_reduction(onnx_op):
    def convert(e, step):
        x, = _ins(e, step)
        axes, keepdims = _reduce_axes(e, step)
        return _reduce(e, onnx_op, x, axes, keepdims)
    return convert


converts("Mean")(_plain_reduction("ReduceMean"))
converts("Max")(_plain_reduction("ReduceMax"))
converts("Min")(_plain_reduction("ReduceMin"))
converts("Prod")(_plain_reduction("ReduceProd"))
converts("EuclideanNorm")(_plain_reduction("ReduceL2"))


def _logical_reduction(onnx_op):
    def convert(e, step):
        x, = _ins(e, step)
        axes, keepdims = _reduce_axes(e, step)
        as_int = e.node("Cast", [x], to=onnx_type(torch.int32))
        out = _reduce(e, onnx_op, as_int, axes, keepdims)
        return e.node("Cast", [out], to=onnx_type(torch.bool))
    return convert


converts("Any")(_logical_reduction("ReduceMax"))
converts("All")(_logical_reduction("ReduceMin"))


def _arg(onnx_op):
    def convert(e, step):
        x, = _ins(e, step)
        axis, out_dtype = step.attrs
        out = e.node(onnx_op, [x], axis=int(axis), keepdims=0)
        return out if out_dtype is torch.int64 else e.node("Cast", [out],
                                                            to=onnx_type(out_dtype))
    return convert


converts("ArgMax")(_arg("ArgMax"))
converts("ArgMin")(_arg("ArgMin"))


@converts("Cumsum")
def _cumsum(e, step):
    x, = _ins(e, step)
    axis, exclusive, reverse = step.attrs
    return e.node("CumSum", [x, e.const(np.array(axis, np.int64))], exclusive=int(exclusive),
                  reverse=int(reverse))


@converts("TopKV2", sized=True)
def _top_k(e, step):
    x, = _ins(e, step)
    axis, descending, k, index_dtype = step.attrs
    n = e.shape(step.ins[0])[axis]
    k = n if k is None or (e.is_static(n) and k >= n) else k
    values, indices = e.node("TopK", [x, e.ints([k])], n_out=2, axis=int(axis),
                             largest=int(bool(descending)), sorted=1)
    if index_dtype is not torch.int64:
        indices = e.node("Cast", [indices], to=onnx_type(index_dtype))
    return values, indices


# -- shapes and layout -------------------------------------------------------------------------

@converts("Reshape", sized=True)
def _reshape(e, step):
    x, = _ins(e, step)
    shape = step.attrs[0]
    # allowzero: a 0 in the target is a size, not "copy this dimension"
    zero = 1 if e.opset >= 14 and any(e.is_static(d) and d == 0 for d in shape) else None
    return e.node("Reshape", [x, e.ints(shape)], allowzero=zero)


@converts("Transpose")
def _transpose(e, step):
    x, = _ins(e, step)
    return e.node("Transpose", [x], perm=[int(p) for p in step.attrs[0]])


@converts("ExpandDims")
def _expand_dims(e, step):
    x, = _ins(e, step)
    return e.node("Unsqueeze", [x, e.axes([step.attrs[0]])])


@converts("Squeeze")
def _squeeze(e, step):
    x, = _ins(e, step)
    axes = step.attrs[0]
    if isinstance(axes, int):
        axes = (axes,)
    if not axes:
        return e.node("Identity", [x])
    return e.node("Squeeze", [x, e.axes(axes)])


@converts("Tile", sized=True)
def _tile(e, step):
    x, = _ins(e, step)
    return e.node("Tile", [x, e.ints(step.attrs[0])])


def reverse(e, x, axes):
    """`x` reversed along `axes` (a Slice with step -1 on each)."""
    n = len(axes)
    return e.node("Slice", [x, e.const(np.full(n, -1, np.int64)),
                            e.const(np.full(n, INT64_MIN, np.int64)), e.axes(axes),
                            e.const(np.full(n, -1, np.int64))])


@converts("ReverseV2")
def _reverse(e, step):
    x, = _ins(e, step)
    axes = step.attrs[0]
    if not axes:
        return e.node("Identity", [x])
    rank = e.rank(step.ins[0])
    return reverse(e, x, [a % rank for a in axes])


@converts("ConcatV2")
def _concat(e, step):
    return e.node("Concat", _ins(e, step), axis=int(step.attrs[0]))


@converts("Pack")
def _pack(e, step):
    axis = int(step.attrs[0])
    parts = [e.node("Unsqueeze", [x, e.axes([axis])]) for x in _ins(e, step)]
    return e.node("Concat", parts, axis=axis)


@converts("Unpack")
def _unpack(e, step):
    x, = _ins(e, step)
    axis = int(step.attrs[0])
    n = len(step.outs)
    parts = e.node("Split", [x, e.const(np.ones(n, np.int64))], n_out=n, axis=axis)
    parts = [parts] if n == 1 else parts
    return [e.node("Squeeze", [p, e.axes([axis])]) for p in parts]


@converts("Split", "SplitV", sized=True)
def _split(e, step):
    x, = _ins(e, step)
    sizes, axis = step.attrs
    outs = e.node("Split", [x, e.ints(sizes)], n_out=len(step.outs), axis=int(axis))
    return [outs] if len(step.outs) == 1 else outs


@converts("Fill", sized=True)
def _fill(e, step):
    value, = _ins(e, step)
    scalar = e.node("Reshape", [value, e.const(np.zeros((0,), np.int64))])
    return e.node("Expand", [scalar, e.ints(step.attrs[0])])


@converts("Sizes", sized=True)
def _sizes(e, step):
    """A tensor of traced sizes (`tf.shape(x)` of a `None` dimension): computed from the
    actual input sizes."""
    values, shape, torch_dtype = step.attrs
    flat = e.ints(values)
    shaped = e.node("Reshape", [flat, e.const(np.array(shape, np.int64))])
    return e.node("Cast", [shaped], to=onnx_type(torch_dtype))


def _like(fill):
    def convert(e, step):
        x, = _ins(e, step)
        value = e.scalar(fill, step.attrs[0])
        return e.node("Expand", [value, e.node("Shape", [x])])
    return convert


converts("ZerosLike")(_like(0))
converts("OnesLike")(_like(1))


@converts("BroadcastTo", sized=True)
def _broadcast_to(e, step):
    x, = _ins(e, step)
    return e.node("Expand", [x, e.ints(step.attrs[0])])


@converts("Range", sized=True)
def _range(e, step):
    start, limit, delta, dtype, _device = step.attrs
    if all(e.is_static(v) for v in (start, limit, delta)):
        return e.const(np.arange(start, limit, delta).astype(
            torch.empty((), dtype=dtype).numpy().dtype), "range")
    bounds = [e.node("Cast", [e.node("Reshape", [e.ints([v]), e.const(np.zeros((0,),
                                                                              np.int64))])],
                     to=onnx_type(dtype)) for v in (start, limit, delta)]
    return e.node("Range", bounds)


@converts("Pad", "PadV2", sized=True)
def _pad(e, step):
    x, = _ins(e, step)
    pads, value = step.attrs
    flat = [b for b, _ in pads] + [a for _, a in pads]
    return e.node("Pad", [x, e.ints(flat), e.scalar(value, e.torch_dtype(step.ins[0]))],
                  mode="constant")


@converts("MirrorPad")
def _mirror_pad(e, step):
    x, = _ins(e, step)
    pads, offset = step.attrs
    if offset != 1:
        raise ExportError("Op 'MirrorPad' in SYMMETRIC mode has no ONNX equivalent (ONNX pads "
                          "by REFLECT, edge or wrap).")
    flat = [b for b, _ in pads] + [a for _, a in pads]
    return e.node("Pad", [x, e.ints(flat)], mode="reflect")


# -- selection ---------------------------------------------------------------------------------

@converts("GatherV2")
def _gather(e, step):
    params, indices = _ins(e, step)
    axis, batch_dims = step.attrs
    if batch_dims:
        raise ExportError("Op 'GatherV2' with batch_dims > 0 has no ONNX equivalent in "
                          "tapeflow's table.")
    return e.node("Gather", [params, indices], axis=int(axis))


@converts("GatherNd")
def _gather_nd(e, step):
    params, indices = _ins(e, step)
    indices = _cast_to(e, indices, step.ins[1], torch.int64)
    return e.node("GatherND", [params, indices], batch_dims=int(step.attrs[0]))


@converts("OneHot", sized=True)
def _one_hot(e, step):
    indices, on, off = _ins(e, step)
    depth, axis = step.attrs
    depth_t = e.ints([depth])
    # ONNX counts negative indices from the end; TF gives them a row of off_value
    indices = _cast_to(e, indices, step.ins[0], torch.int64)
    indices = e.node("Where", [e.node("Less", [indices, e.const(np.array(0, np.int64))]),
                               e.node("Reshape", [depth_t, e.const(np.zeros((0,), np.int64))]),
                               indices])
    values = e.node("Concat", [e.node("Reshape", [off, e.const(np.array([1], np.int64))]),
                               e.node("Reshape", [on, e.const(np.array([1], np.int64))])],
                    axis=0)
    return e.node("OneHot", [indices, depth_t, values], axis=int(axis))


@converts("StridedSlice", "Slice", sized=True)
def _strided_slice(e, step):
    """A parsed key (tapeflow/_core/indexing.py): per input dimension an int (taken, the
    dimension dropped), a (start, stop, step) triple or a DYNAMIC marker (a 0-d index tensor,
    an input of the step); `None` inserts a dimension; `flips` reverses output dimensions."""
    x = e.value(step.ins[0])
    index, flips = step.attrs[-2], step.attrs[-1]
    shape = e.shape(step.ins[0])
    starts, ends, axes, steps_, drop, new, gathers = [], [], [], [], [], [], []
    dim = out = 0
    for k in index:
        if k is None:
            new.append(out)
            out += 1
            continue
        if isinstance(k, str):          # DYNAMIC: a 0-d index tensor
            gathers.append(dim)
        elif not isinstance(k, tuple):  # an int (or a size computed from a `None` dimension)
            starts.append(k)
            ends.append(k + 1)
            axes.append(dim)
            steps_.append(1)
            drop.append(dim)
        else:
            start, stop, stride = k
            if (start, stop, stride) != (None, None, None):
                full = shape[dim]
                starts.append(0 if start is None else start)
                # a stop at the traced size means "to the end", whatever the size is
                ends.append(INT64_MAX if stop is None or stop == full else stop)
                axes.append(dim)
                steps_.append(1 if stride is None else stride)
            out += 1
        dim += 1
    if axes:
        x = e.node("Slice", [x, e.ints(starts), e.ints(ends), e.axes(axes), e.ints(steps_)])
    # a 0-d index tensor drops its dimension (Gather), last dimension first so the earlier
    # ones keep their numbers; then the dimensions taken by an int go
    for d, slot in sorted(zip(gathers, step.ins[1:]), reverse=True):
        x = e.node("Gather", [x, _cast_to(e, e.value(slot), slot, torch.int64)], axis=d)
    if drop:
        x = e.node("Squeeze", [x, e.axes([a - sum(g < a for g in gathers) for a in drop])])
    if new:
        x = e.node("Unsqueeze", [x, e.axes(new)])
    if flips:
        x = reverse(e, x, list(flips))
    return x if x != e.value(step.ins[0]) else e.node("Identity", [x])
