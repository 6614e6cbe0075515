"""Tensor creation: `ones`, `zeros`, `fill`, `eye`, `range`, `linspace`, `ones_like` and
`zeros_like`.

Shapes may be ints, lists, tuples, `TensorShape`s or integer tensors; dtypes names or `DType`s.
(`layout`, DTensor's, is accepted and ignored: there is one device per tensor here.)
New tensors live on the current device. Constants made from Python values are not ops (nothing
to differentiate or replay); `fill`, `linspace` and the `*_like` ops take tensor
inputs and run through `execute`.
"""
from types import SimpleNamespace

import numpy as np
import torch

from tapeflow._core import dtypes
from tapeflow._core.context import current_device, state
from tapeflow._core.shape import TensorShape
from tapeflow._core.tensor import convert_to_tensor, wrap, wrap_strings
from tapeflow.ops._op import (check_dtype, define, error, execute, is_tensor_like,
                              kernel_error, known_values, tf_type_name)
from tapeflow.ops import math as math_ops
from tapeflow.ops.array import int_list
from tapeflow.ops.broadcast import reduce_sum_raw, reshape_raw, unbroadcast
from tapeflow.ops.math import ONES_LIKE, multiply, subtract

_d = dtypes
FILL = define("Fill")


def shape_values(shape, op=FILL, python_ints=True):
    """A shape argument as a tuple of ints, converted and checked as TF does.

    `python_ints`: Python lists must hold ints (TypeError otherwise, as `tf.ones` raises);
    when False a list of floats fails the op's dtype check instead (as `tf.fill` does)."""
    if isinstance(shape, (int, np.integer)):
        return (int(shape),)
    if isinstance(shape, TensorShape) and not shape.is_fully_defined():
        raise ValueError(f"Cannot convert a partially known TensorShape {shape} to a Tensor.")
    if isinstance(shape, (list, tuple)):
        if any(d is None for d in shape):
            raise ValueError("Attempt to convert a value (None) with an unsupported type "
                             "(<class 'NoneType'>) to a Tensor.")
        if python_ints and not all(isinstance(d, (int, np.integer)) or is_tensor_like(d)
                                   for d in shape):
            convert_to_tensor(shape, dtype=_d.int32)  # raises TF's TypeError for floats
    return int_list(shape, op, "index_type")[0]


def _check_dims(dims, name_suffix=True):
    for d in dims:
        if d < 0:
            raise kernel_error(f"Dimension {d} must be >= 0", FILL, current_device(),
                               name_suffix)


def _filled(shape, value, dtype):
    dims = shape_values(shape)
    _check_dims(dims)
    dtype = _d.as_dtype(dtype)
    if dtype is _d.string:
        if value:
            raise TypeError(f"Cannot convert {value} to EagerTensor of dtype string")
        return wrap_strings(np.full(dims, b"", dtype=object))
    if not state.interpreter.eager:  # tracing: a Fill op, so symbolic sizes stay symbolic
        scalar = torch.tensor(value, dtype=dtype.torch, device=current_device())
        return execute(FILL, _fill_kernel, (wrap(scalar, dtype),), (tuple(dims),))
    t = torch.ones(dims, dtype=dtype.torch, device=current_device()) if value else \
        torch.zeros(dims, dtype=dtype.torch, device=current_device())
    return wrap(t, dtype)


def ones(shape, dtype=_d.float32, name=None, layout=None):
    """A tensor of `shape` filled with ones."""
    return _filled(shape, 1, dtype)


def zeros(shape, dtype=_d.float32, name=None, layout=None):
    """A tensor of `shape` filled with zeros (empty strings for `tf.string`)."""
    return _filled(shape, 0, dtype)


def _fill_kernel(value, dims):
    return value.reshape(()).expand(dims).contiguous()


def fill(dims, value, name=None, layout=None):
    """A tensor of shape `dims` filled with the scalar `value` (differentiable in `value`)."""
    shape = shape_values(dims, python_ints=False)
    suffix = not isinstance(dims, (list, tuple)) and not isinstance(value, (list, tuple))
    value = convert_to_tensor(value)
    if value.ndim and (value.ndim != 1 or value.shape[0] != 1):
        raise kernel_error(f"value must represent a scalar, got shape "
                           f"[{','.join(str(d) for d in value.shape)}]", FILL,
                           current_device(), suffix)
    _check_dims(shape, suffix)
    if value._dtype is _d.string:
        return wrap_strings(np.full(shape, value._t.reshape(())[()], dtype=object))
    return execute(FILL, _fill_kernel, (value,), (shape,))


@FILL.gradient
def _(node, grad):
    value, = node.inputs
    total = reduce_sum_raw(grad, tuple(range(grad.ndim)), False) if grad.ndim else grad
    return reshape_raw(total, tuple(value._t.shape)) if value.ndim else total


# -- eye ---------------------------------------------------------------------------------------

def _count(value, num_rows, num_columns):
    if is_tensor_like(value):
        value = convert_to_tensor(value)
        if not value._dtype.is_integer:
            raise TypeError("Arguments `num_rows` and `num_columns` must be positive integer "
                            f"values. Received: num_rows={num_rows}, num_columns={num_columns}")
        return int(value.numpy())  # .numpy(): a symbolic value makes tf.function run eagerly
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value)
    raise TypeError("Arguments `num_rows` and `num_columns` must be positive integer values. "
                    f"Received: num_rows={num_rows}, num_columns={num_columns}")


def eye(num_rows, num_columns=None, batch_shape=None, dtype=_d.float32, name=None):
    """Identity matrix (or a batch of them) of `num_rows` x `num_columns`."""
    shown_cols = num_rows if num_columns is None else num_columns
    rows = _count(num_rows, num_rows, shown_cols)
    cols = rows if num_columns is None else _count(num_columns, num_rows, shown_cols)
    batch = () if batch_shape is None else shape_values(batch_shape)
    _check_dims(batch + (rows, cols))
    dtype = _d.as_dtype(dtype)
    t = torch.eye(rows, cols, dtype=dtype.torch, device=current_device())
    if batch:
        t = t.expand(batch + (rows, cols)).contiguous()
    return wrap(t, dtype)


# -- range ------------------------------------------------------------------------------------

RANGE = define("Range", differentiable=False)
_RANGE_TYPES = (_d.bfloat16, _d.float16, _d.float32, _d.float64, _d.int8, _d.int16, _d.int32,
                _d.int64, _d.uint16, _d.uint32, _d.uint64)
_RANGE_RANK = {_d.int32: 0, _d.int64: 1, _d.float32: 2, _d.float64: 3}
_INT32_MIN, _INT32_MAX = -2**31, 2**31 - 1


def _range_kernel(start, limit, delta, dtype, device):
    return torch.arange(start, limit, delta, dtype=dtype, device=device)


def _number(v):
    """A bound as TF's kernel prints it (`5`, `0.5`)."""
    return f"{v:g}" if isinstance(v, float) else str(v)


def range(start, limit=None, delta=1, dtype=None, name="range"):  # noqa: A001
    """`[start, start + delta, ...)` up to `limit` (`range(n)` counts from 0).

    The dtype is the widest of the arguments' (int32 < int64 < float32 < float64) unless
    `dtype` is given."""
    if limit is None:
        start, limit = 0, start
    if dtype is None and type(start) is int and type(limit) is int and type(delta) is int \
            and _INT32_MIN <= min(start, limit, delta) and max(start, limit, delta) <= _INT32_MAX:
        dtype, args = _d.int32, None  # the common `tf.range(n)`: no tensors to convert
    elif dtype is not None:
        dtype = _d.as_dtype(dtype)
        args = [_range_arg(a, dtype) for a in (start, limit, delta)]
    else:
        args = [convert_to_tensor(a) for a in (start, limit, delta)]
        dtype = max((a._dtype for a in args), key=lambda d: _RANGE_RANK.get(d, -1))
    if dtype not in _RANGE_TYPES:
        check_dtype(wrap(torch.zeros((), dtype=dtype.torch), dtype), _RANGE_TYPES, RANGE,
                    attr="Tidx")
    if args is not None:
        cast = float if dtype.is_floating else int
        start, limit, delta = (_bound(a, cast) for a in args)
    device = current_device()
    if delta == 0:
        raise kernel_error(f"Requires delta != 0: {_number(delta)}", RANGE, device)
    if delta > 0 and start > limit:
        raise kernel_error(f"Requires start <= limit when delta > 0: {_number(start)}/"
                           f"{_number(limit)}", RANGE, device)
    if delta < 0 and start < limit:
        raise kernel_error(f"Requires start >= limit when delta < 0: {_number(start)}/"
                           f"{_number(limit)}", RANGE, device)
    return execute(RANGE, _range_kernel, (), (start, limit, delta, dtype.torch, device))


def _bound(t, cast):
    """A scalar argument of range as a Python number, or as the symbolic size it is (a
    `tf.shape(x)[0]` of a `None` dimension in a trace)."""
    a = known_values(t)
    v = a.reshape(-1)[0] if a.size == 1 else a
    return v if isinstance(v, (torch.SymInt, torch.SymFloat)) else cast(v)


def _range_arg(value, dtype):
    if is_tensor_like(value):
        t = convert_to_tensor(value)
        return t if t._dtype is dtype else wrap(t._t.to(dtype.torch), dtype)
    return convert_to_tensor(value, dtype=dtype)


# -- linspace -------------------------------------------------------------------------------------

LINSPACE = define("LinSpace")
# TF's linspace is composite: its errors name these ops (only their names are needed here).
_BROADCAST_ARGS = SimpleNamespace(name="BroadcastArgs")
_EXPAND_DIMS = SimpleNamespace(name="ExpandDims")


def _linspace_kernel(start, stop, num, axis):
    start, stop = torch.broadcast_tensors(start, stop)
    steps = max(num - 1, 1)
    delta = (stop - start) / steps
    view = [1] * (start.ndim + 1)
    view[axis] = num
    index = torch.arange(num, device=start.device).to(start.dtype).reshape(view)
    out = start.unsqueeze(axis) + index * delta.unsqueeze(axis)
    if num > 1:  # the end point exactly, as TF concatenates `stop` itself
        out.narrow(axis, num - 1, 1).copy_(stop.unsqueeze(axis))
    return out


def _num_value(num):
    t = convert_to_tensor(num)
    if not t._dtype.is_integer:
        raise TypeError(f"Argument `tensor` (name: num) must be of type integer. Received "
                        f"`tensor` = {t.numpy()} of dtype: {t._dtype}")
    return int(t.numpy())


def linspace(start, stop, num, name=None, axis=0):
    """`num` evenly spaced values from `start` to `stop` inclusive; tensor `start`/`stop`
    give one sequence per element, stacked along `axis`. Integer inputs give float64."""
    start = convert_to_tensor(start)
    if is_tensor_like(stop):
        stop = convert_to_tensor(stop)
        if stop._dtype is not start._dtype:
            raise ValueError(f"stop: Tensor conversion requested dtype {start._dtype.name} for "
                             f"Tensor with dtype {stop._dtype.name}: {stop!r}")
    else:
        stop = convert_to_tensor(stop, dtype=start._dtype)
    num = _num_value(num)
    if not start._dtype.is_floating:
        start = wrap(start._t.to(torch.float64), _d.float64)
        stop = wrap(stop._t.to(torch.float64), _d.float64)
    device = current_device()
    if num < 0:
        raise kernel_error(f"Requires start <= limit when delta > 0: 1/{num}", RANGE, device)
    sa, sb = tuple(start._t.shape), tuple(stop._t.shape)
    if sa != sb:
        for a, b in zip(reversed(sa), reversed(sb)):
            if a != b and a != 1 and b != 1:
                raise kernel_error(f"Incompatible shapes: {list(sa)} vs. {list(sb)}",
                                   _BROADCAST_ARGS, device)
    rank = max(len(sa), len(sb)) + 1
    if not -rank <= axis < rank:
        raise kernel_error(f"Tried to expand dim index {axis} for tensor with {rank - 1} "
                           "dimensions.", _EXPAND_DIMS, device)
    return execute(LINSPACE, _linspace_kernel, (start, stop), (num, axis % rank))


@LINSPACE.gradient
def _(node, grad):
    start, stop = node.inputs
    num, axis = node.attrs
    steps = max(num - 1, 1)
    view = [1] * grad.ndim
    view[axis] = num
    t = wrap((torch.arange(num, dtype=torch.float64) / steps).to(grad.dtype.torch)
             .to(grad._t.device).reshape(view), grad.dtype)
    to_stop = reduce_sum_raw(multiply(grad, t), (axis,), False)
    to_start = subtract(reduce_sum_raw(grad, (axis,), False), to_stop)
    return unbroadcast(to_start, start), unbroadcast(to_stop, stop)


# -- *_like ----------------------------------------------------------------------------------------
# The OnesLike/ZerosLike ops live in math.py (the tape needs them); these are their public,
# validating fronts.
_ONES_LIKE_TYPES = (_d.bfloat16, _d.float16, _d.float32, _d.float64, _d.int8, _d.uint8, _d.int16,
                    _d.uint16, _d.int32, _d.uint32, _d.int64, _d.uint64, _d.complex64,
                    _d.complex128, _d.bool)


def _shape_only(x):
    """A numeric stand-in with the shape of a string tensor (only its shape is read)."""
    return wrap(torch.empty(x._t.shape, device=current_device()), _d.float32)


def ones_like(input, dtype=None, name=None, layout=None):  # noqa: A002
    """A tensor of ones with `input`'s shape (and dtype, unless `dtype` is given)."""
    x = convert_to_tensor(input)
    if dtype is not None and _d.as_dtype(dtype) is _d.string:
        raise TypeError("Cannot convert 1 to EagerTensor of dtype string")
    dtype = x._dtype if dtype is None else _d.as_dtype(dtype)
    if dtype not in _ONES_LIKE_TYPES:
        names = ", ".join(tf_type_name(d) for d in _ONES_LIKE_TYPES)
        raise error(f"Value for attr 'T' of {tf_type_name(dtype)} is not in the list of allowed "
                    f"values: {names}\n\t; NodeDef: {{{{node OnesLike}}}}", ONES_LIKE)
    return math_ops.ones_like(_shape_only(x) if x._dtype is _d.string else x, dtype)


def zeros_like(input, dtype=None, name=None, layout=None):  # noqa: A002
    """A tensor of zeros (empty strings) with `input`'s shape and dtype (or `dtype`)."""
    x = convert_to_tensor(input)
    dtype = x._dtype if dtype is None else _d.as_dtype(dtype)
    if dtype is _d.string:
        return wrap_strings(np.full(tuple(x._t.shape), b"", dtype=object))
    return math_ops.zeros_like(_shape_only(x) if x._dtype is _d.string else x, dtype)
