"""Array manipulation: reshape, transpose, squeeze, expand_dims, tile, reverse, broadcast_to,
identity, the shape queries (shape, rank, size), and the argument helpers the family shares.

These ops move elements without computing new ones, so each gradient is the inverse movement
(transpose by the inverse permutation, reshape back, sum what tile repeated), written in
tapeflow ops so higher derivatives work. String tensors (NumPy object arrays) are moved by the
matching NumPy call; they are never differentiated. Joining and splitting are in `joining.py`,
padding in `padding.py`, slicing in `indexing.py`, gathering and scattering in `gather.py`.
"""
import math

import numpy as np
import torch

from tapeflow._core import dtypes
from tapeflow._core.context import current_device, state
from tapeflow._core.errors import invalid_argument
from tapeflow._core.indexing import flip
from tapeflow._core.shape import TensorShape
from tapeflow._core.tensor import Tensor, convert_to_tensor, wrap, wrap_strings
from tapeflow.ops._op import (as_size, check_dtype, define, execute, is_tensor_like,
                              kernel_error, known_values, tf_type_name)
from tapeflow.ops.broadcast import (BROADCAST_TO, RESHAPE, broadcast_to_raw, reduce_sum_raw,
                                    reshape_raw)

_STRING = dtypes.string
_INDEX_TYPES = (dtypes.int32, dtypes.int64)
_CPU = torch.device("cpu")


def _device(x):
    return _CPU if x._dtype is _STRING else x._t.device


def dims_text(shape):
    """A shape as TF's kernels print it: `[2,3]`."""
    return "[" + ",".join(str(d) for d in shape) + "]"


def int_arg(value):
    """A Python int for a scalar argument (int, NumPy integer or scalar tensor); a Python float
    raises TF's conversion TypeError (`Cannot convert 1.0 to EagerTensor of dtype int32`)."""
    if type(value) is int:
        return value
    if isinstance(value, (np.integer,)):
        return int(value)
    t = convert_to_tensor(value, dtype=dtypes.int32 if not is_tensor_like(value) else None)
    a = known_values(t)
    return as_size(a.reshape(-1)[0]) if a.size == 1 else int(a)


def int_list(value, op, attr):
    """A tuple of Python ints for a 1-D integer argument (a shape, perm, multiples...).

    Accepts lists/tuples (of ints or scalar integer tensors), TensorShapes, NumPy arrays and
    int32/int64 tensors; other dtypes raise TF's attr error naming `attr`. Returns
    `(values, rank_of_the_argument)` so callers can word TF's rank errors.
    """
    if type(value) in (list, tuple) and all(type(v) is int for v in value):
        return tuple(value), 1
    if isinstance(value, TensorShape):
        return tuple(value.as_list()), 1
    if isinstance(value, (list, tuple)) and any(is_tensor_like(v) for v in value):
        return tuple(int_arg(v) for v in value), 1
    t = convert_to_tensor(value)
    if t._dtype not in _INDEX_TYPES:
        check_dtype(t, _INDEX_TYPES, op, attr)
    a = known_values(t)
    return tuple(as_size(v) for v in a.reshape(-1)), a.ndim


def _shape_of(x):
    return tuple(x._t.shape)


# -- reshape (the Reshape op itself lives in math.py: unbroadcast needs it) --------------------

def reshape(tensor, shape, name=None):
    """`tensor` with its elements rearranged into `shape` (one entry may be -1: inferred)."""
    x = convert_to_tensor(tensor)
    sizes, rank = int_list(shape, RESHAPE, "Tshape")
    if rank > 1:
        raise kernel_error(f"sizes input must be 1-D, not {dims_text(np.shape(shape))}",
                           RESHAPE, _device(x), name_suffix=False)
    sizes = _resolve_reshape(x, sizes)
    if x._dtype is _STRING:
        return wrap_strings(x._t.reshape(sizes))
    return reshape_raw(x, sizes)


def _resolve_reshape(x, sizes):
    n = x._t.size if x._dtype is _STRING else x._t.numel()
    unknown, known = None, 1
    for i, d in enumerate(sizes):
        if d == -1:
            if unknown is not None:
                raise _reshape_error(x, f"Only one input size may be -1, not both {unknown} "
                                        f"and {i}")
            unknown = i
        elif d < 0:
            raise _reshape_error(x, f"Size {i} must be non-negative, not {d}")
        else:
            known *= d
    if unknown is None:
        if known != n:
            raise _reshape_error(x, f"Input to reshape is a tensor with {n} values, but the "
                                    f"requested shape has {known}")
        return sizes
    if known == 0:
        missing = 0 if n == 0 else None
        if missing is None:
            raise _reshape_error(x, f"Input to reshape is a tensor with {n} values, but the "
                                    f"requested shape has 0")
    else:
        if n % known:
            raise _reshape_error(x, f"Input to reshape is a tensor with {n} values, but the "
                                    f"requested shape requires a multiple of {known}")
        missing = n // known
    return sizes[:unknown] + (missing,) + sizes[unknown + 1:]


def _reshape_error(x, message):
    return kernel_error(message, RESHAPE, _device(x), name_suffix=False)


# -- transpose ------------------------------------------------------------------------------

TRANSPOSE = define("Transpose")
CONJUGATE_TRANSPOSE = define("ConjugateTranspose")


def _transpose_kernel(t, perm):
    return t.permute(perm)


def _conjugate_transpose_kernel(t, perm):
    return t.permute(perm).conj().resolve_conj()


def transpose(a, perm=None, conjugate=False, name="transpose"):
    """Permutes the dimensions of `a` (reversed when `perm` is None); `conjugate=True` also
    conjugates complex values."""
    x = convert_to_tensor(a)
    rank = x._t.ndim
    op = CONJUGATE_TRANSPOSE if conjugate and x._dtype.is_complex else TRANSPOSE
    if perm is None:
        perm = tuple(range(rank - 1, -1, -1))
    else:
        perm, _ = int_list(perm, op, "Tperm")
        perm = _check_perm(x, perm, op)
    if x._dtype is _STRING:
        return wrap_strings(np.transpose(x._t, perm).copy())
    kernel = _conjugate_transpose_kernel if op is CONJUGATE_TRANSPOSE else _transpose_kernel
    return execute(op, kernel, (x,), (perm,))


def matrix_transpose(a, name="matrix_transpose", conjugate=False):
    """Transposes the last two dimensions of `a` (`tf.linalg.matrix_transpose`)."""
    x = convert_to_tensor(a)
    rank = x._t.ndim
    if rank < 2:
        raise ValueError(f"Argument `a` should be a (batch) matrix with rank >= 2.  Received `a` "
                         f"= {x!r} with shape: {x.shape}")
    return transpose(x, tuple(range(rank - 2)) + (rank - 1, rank - 2), conjugate=conjugate)


def adjoint(matrix, name=None):
    """The conjugate transpose of the last two dimensions (`tf.linalg.adjoint`)."""
    return matrix_transpose(matrix, conjugate=True)


def _check_perm(x, perm, op):
    rank = x._t.ndim
    if len(perm) != rank:
        raise kernel_error(f"transpose expects a vector of size {rank}. But input(1) is a "
                           f"vector of size {len(perm)}", op, _device(x), name_suffix=False)
    perm = tuple(p + rank if p < 0 else p for p in perm)
    for p in perm:
        if not 0 <= p < rank:
            raise kernel_error(f"{p - rank if p >= rank else p} is out of range [0 .. {rank})",
                               op, _device(x), name_suffix=False)
    for i in range(rank):
        if i not in perm:
            seen = ",".join(str(p) for p in perm)
            raise kernel_error(f"{i} is missing from {{{seen}}}.", op, _device(x),
                               name_suffix=False)
    return perm


def _inverse(perm):
    inv = [0] * len(perm)
    for i, p in enumerate(perm):
        inv[p] = i
    return tuple(inv)


@TRANSPOSE.gradient
def _(node, grad):
    return execute(TRANSPOSE, _transpose_kernel, (grad,), (_inverse(node.attrs[0]),))


@CONJUGATE_TRANSPOSE.gradient
def _(node, grad):
    return execute(CONJUGATE_TRANSPOSE, _conjugate_transpose_kernel, (grad,),
                   (_inverse(node.attrs[0]),))


# -- squeeze / expand_dims ---------------------------------------------------------------------

SQUEEZE = define("Squeeze")
EXPAND_DIMS = define("ExpandDims")


def _squeeze_kernel(t, axes):
    return t.squeeze(axes) if axes else t


SQUEEZE.value_fn = lambda a, axes: np.squeeze(a, tuple(axes)) if axes else a  # noqa: E731


def squeeze(input, axis=None, name=None):  # noqa: A002 - TF's argument name
    """Removes dimensions of size 1 (all of them, or those in `axis`; others raise)."""
    x = convert_to_tensor(input)
    shape = _shape_of(x)
    rank = len(shape)
    if axis is None:
        axes = tuple(i for i, d in enumerate(shape) if d == 1)
    else:
        axes = []
        for a in ([axis] if not isinstance(axis, (list, tuple)) else axis):
            a = int_arg(a)
            if not -rank <= a < rank:
                raise kernel_error(f"Tried to squeeze dim index {a} for tensor with {rank} "
                                   "dimensions.", SQUEEZE, _device(x))
            a %= rank
            if shape[a] != 1:
                raise kernel_error(f"Can not squeeze dim[{a}], expected a dimension of 1, got "
                                   f"{shape[a]}", SQUEEZE, _device(x), name_suffix=False)
            if a not in axes:
                axes.append(a)
        axes = tuple(sorted(axes))
    if x._dtype is _STRING:
        return wrap_strings(np.squeeze(x._t, axes))
    return execute(SQUEEZE, _squeeze_kernel, (x,), (axes,))


@SQUEEZE.gradient
def _(node, grad):
    return reshape_raw(grad, _shape_of(node.inputs[0]))


def _expand_dims_kernel(t, axis):
    return t.unsqueeze(axis)


EXPAND_DIMS.value_fn = np.expand_dims


def expand_dims(input, axis, name=None):  # noqa: A002 - TF's argument name
    """Inserts a dimension of size 1 at `axis` (negative counts from the end)."""
    x = convert_to_tensor(input)
    rank = x._t.ndim
    if isinstance(axis, (list, tuple)) or np.ndim(axis) > 0:
        if np.size(axis) != 1:
            raise kernel_error("'dim' must be a tensor with a single value", EXPAND_DIMS,
                               _device(x), name_suffix=False)
        axis = np.reshape(np.asarray(axis), -1)[0]
    axis = int_arg(axis)
    if not -rank - 1 <= axis <= rank:
        raise kernel_error(f"Tried to expand dim index {axis} for tensor with {rank} "
                           "dimensions.", EXPAND_DIMS, _device(x))
    axis %= rank + 1
    if x._dtype is _STRING:
        return wrap_strings(np.expand_dims(x._t, axis))
    return execute(EXPAND_DIMS, _expand_dims_kernel, (x,), (axis,))


@EXPAND_DIMS.gradient
def _(node, grad):
    return reshape_raw(grad, _shape_of(node.inputs[0]))


# -- tile / reverse / broadcast_to ---------------------------------------------------------------

TILE = define("Tile")
REVERSE = define("ReverseV2")


def _tile_kernel(t, multiples):
    return t.repeat(multiples)


def tile(input, multiples, name=None):  # noqa: A002 - TF's argument name
    """Repeats `input` `multiples[i]` times along dimension i."""
    x = convert_to_tensor(input)
    multiples, r = int_list(multiples, TILE, "Tmultiples")
    rank = x._t.ndim
    if r != 1:
        raise kernel_error(f"Expected multiples to be 1-D, but got shape "
                           f"{dims_text(np.shape(multiples) if r == 0 else (1, len(multiples)))}",
                           TILE, _device(x), name_suffix=False)
    if len(multiples) != rank:
        raise kernel_error(f"Expected multiples argument to be a vector of length {rank} but "
                           f"got length {len(multiples)}", TILE, _device(x), name_suffix=False)
    for i, m in enumerate(multiples):
        if m < 0:
            raise kernel_error(f"Expected multiples[{i}] >= 0, but got {m}", TILE, _device(x),
                               name_suffix=False)
    if x._dtype is _STRING:
        return wrap_strings(np.tile(x._t, multiples))
    return execute(TILE, _tile_kernel, (x,), (multiples,))


@TILE.gradient
def _(node, grad):
    shape = _shape_of(node.inputs[0])
    multiples = node.attrs[0]
    split = []
    for m, d in zip(multiples, shape):
        split += [m, d]
    g = reshape_raw(grad, tuple(split))
    return reduce_sum_raw(g, tuple(range(0, 2 * len(shape), 2)), False)


def _reverse_kernel(t, axes):
    return flip(t, axes)


def reverse(tensor, axis, name=None):
    """Reverses `tensor` along each dimension in `axis` (a list)."""
    x = convert_to_tensor(tensor)
    axes, r = int_list(axis, REVERSE, "Tidx")
    rank = x._t.ndim
    if r != 1:
        raise kernel_error(f"'dims' must be 1-dimension, not {r}", REVERSE, _device(x))
    seen = []
    for i, a in enumerate(axes):
        if not -rank <= a < rank:
            raise kernel_error(f"'axis'[{i}] = {a} is out of valid range [0, {rank - 1}",
                               REVERSE, _device(x), name_suffix=False)
        a %= rank
        if a in seen:
            raise kernel_error(f"axis {a} specified more than once.", REVERSE, _device(x),
                               name_suffix=False)
        seen.append(a)
    axes = tuple(seen)
    if x._dtype is _STRING:
        return wrap_strings(np.flip(x._t, axes).copy() if axes else x._t)
    return execute(REVERSE, _reverse_kernel, (x,), (axes,))


@REVERSE.gradient
def _(node, grad):
    return execute(REVERSE, _reverse_kernel, (grad,), node.attrs)


def broadcast_to(input, shape, name=None):  # noqa: A002 - TF's argument name
    """`input` broadcast (NumPy rules) to `shape`."""
    x = convert_to_tensor(input)
    target, _ = int_list(shape, BROADCAST_TO, "Tidx")
    src = _shape_of(x)
    device = _device(x)
    for d in target:
        if d < 0:
            raise kernel_error(f"Dimension {d} must be >= 0", BROADCAST_TO, device,
                               name_suffix=False)
    if len(src) > len(target):
        raise kernel_error(f"Rank of input ({len(src)}) must be no greater than rank of output "
                           f"shape ({len(target)}).", BROADCAST_TO, device, name_suffix=False)
    for a, b in zip(reversed(src), reversed(target)):
        if a != b and a != 1:
            raise kernel_error(f"Incompatible shapes: {dims_text(src)} vs. "
                               f"{dims_text(target)}", BROADCAST_TO, device, name_suffix=False)
    if x._dtype is _STRING:
        return wrap_strings(np.broadcast_to(x._t, target).copy())
    return broadcast_to_raw(x, target)


# -- identity ----------------------------------------------------------------------------------

IDENTITY = define("Identity")


IDENTITY.value_fn = lambda a: a  # noqa: E731


def _identity_kernel(t):
    return t


def identity(input, name=None):  # noqa: A002 - TF's argument name
    """A tensor with the same value as `input` (a variable's current value, for variables)."""
    x = convert_to_tensor(input)
    if x._dtype is _STRING:
        return x
    return execute(IDENTITY, _identity_kernel, (x,))


@IDENTITY.gradient
def _(node, grad):
    return grad


# -- shape queries: constants, since eager (and traced) shapes are always fully known -----------

def _out_type(out_type, op_name):
    d = dtypes.as_dtype(out_type)
    if d not in _INDEX_TYPES:
        raise invalid_argument(f"Value for attr 'out_type' of {tf_type_name(d)} is not in the "
                               f"list of allowed values: int32, int64\n\t; NodeDef: "
                               f"{{{{node {op_name}}}}}", op_name)
    return d


def _int_tensor(values, dtype):
    if not all(type(v) is int for v in (values if type(values) is list else (values,))):
        # symbolic sizes of a trace: a tensor the interpreter computes when the function runs
        return state.interpreter.sized_tensor(np.array(values, dtype=object), dtype)
    return wrap(torch.tensor(values, dtype=dtype.torch, device=current_device()), dtype)


def shape(input, out_type=dtypes.int32, name=None):  # noqa: A002 - TF's argument name
    """The shape of `input` as a 1-D int32 (or `out_type`) tensor."""
    dtype = _out_type(out_type, "Shape")
    x = input if isinstance(input, Tensor) else convert_to_tensor(input)
    return _int_tensor(list(x._t.shape), dtype)


def rank(input, name=None):  # noqa: A002 - TF's argument name
    """The number of dimensions of `input`, as a scalar int32 tensor."""
    x = input if isinstance(input, Tensor) else convert_to_tensor(input)
    return _int_tensor(x._t.ndim, dtypes.int32)


def size(input, out_type=dtypes.int32, name=None):  # noqa: A002 - TF's argument name
    """The number of elements of `input`, as a scalar int32 (or `out_type`) tensor."""
    x = input if isinstance(input, Tensor) else convert_to_tensor(input)
    return _int_tensor(math.prod(x._t.shape), dtypes.as_dtype(out_type))
