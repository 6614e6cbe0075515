"""Array manipulation: reshape, transpose, concat, stack, unstack, split, squeeze, expand_dims,
tile, reverse, broadcast_to, and the shape queries (shape, rank, size, shape_n).

These ops move elements without computing new ones, so each gradient is the inverse movement
(transpose by the inverse permutation, split what concat joined, sum what tile repeated),
written in tapeflow ops so higher derivatives work. String tensors (NumPy object arrays) are
moved by the matching NumPy call; they are never differentiated. Padding is in `padding.py`,
slicing and gathering in `indexing.py`.
"""
import numpy as np
import torch

from tapeflow._core import dtypes
from tapeflow._core.context import current_device
from tapeflow._core.errors import invalid_argument
from tapeflow._core.shape import TensorShape
from tapeflow._core.tensor import Tensor, convert_to_tensor, wrap, wrap_strings
from tapeflow.ops._op import (check_dtype, define, error, execute, is_tensor_like,
                              kernel_error, tf_type_name)
from tapeflow.ops.math import (BROADCAST_TO, RESHAPE, broadcast_to_raw, reduce_sum_raw,
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
    """A Python int for a scalar argument (int, NumPy integer or scalar integer tensor); other
    values raise TF's conversion TypeError."""
    if type(value) is int:
        return value
    if isinstance(value, (np.integer,)):
        return int(value)
    return int(convert_to_tensor(value, dtype=dtypes.int32 if not is_tensor_like(value) else None
                                 ).numpy())


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
    a = t.numpy()
    return tuple(int(v) for v in np.reshape(a, -1)), a.ndim


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


# -- concat / stack / unstack / split ------------------------------------------------------------

CONCAT = define("ConcatV2")
PACK = define("Pack")
UNPACK = define("Unpack")
SPLIT = define("Split")
SPLITV = define("SplitV")


def operand_list(values, op):
    """The tensors of a list input (ConcatV2, Pack), of one dtype: plain values adopt the dtype
    of the first tensor among them (else of the first value), as TF's list conversion does."""
    if is_tensor_like(values):
        return list(unstack(values)) if convert_to_tensor(values)._t.ndim else [values]
    values = list(values)
    dtype = None
    for v in values:
        if is_tensor_like(v):
            dtype = convert_to_tensor(v)._dtype
            break
    out = []
    for v in values:
        if is_tensor_like(v):
            t = convert_to_tensor(v)
        else:
            t = convert_to_tensor(v, dtype=dtype)
            if dtype is None:
                dtype = t._dtype
        out.append(t)
    for i, t in enumerate(out):
        if t._dtype is not out[0]._dtype:
            raise error(f"cannot compute {op.name} as input #{i}(zero-based) was expected to be "
                        f"a {tf_type_name(out[0]._dtype)} tensor but is a "
                        f"{tf_type_name(t._dtype)} tensor", op)
    return out


def _concat_kernel(*args):
    return torch.cat(args[:-1], args[-1])


def concat_raw(tensors, axis):
    return execute(CONCAT, _concat_kernel, tuple(tensors), (axis,))


def concat(values, axis, name="concat"):
    """Joins tensors along an existing dimension `axis`."""
    xs = operand_list(values, CONCAT)
    axis = int_arg(axis)
    if not xs:
        raise error("ConcatOp : Expected a non-empty list of tensors", CONCAT)
    if len(xs) == 1:
        return xs[0]
    first = _shape_of(xs[0])
    rank = len(first)
    device = _device(xs[0])
    if not -rank <= axis < rank or not rank:
        if not rank:
            raise kernel_error("ConcatOp : Can't concatenate scalars (use tf.stack instead)",
                               CONCAT, device)
        raise kernel_error(f"ConcatOp : Expected concatenating dimensions in the range "
                           f"[{-rank}, {rank}), but got {axis}", CONCAT, device)
    axis %= rank
    for i, x in enumerate(xs[1:], 1):
        s = _shape_of(x)
        if len(s) != rank:
            raise kernel_error(f"ConcatOp : Ranks of all input tensors should match: shape[0] = "
                               f"{dims_text(first)} vs. shape[{i}] = {dims_text(s)}", CONCAT,
                               device)
        for d in range(rank):
            if d != axis and s[d] != first[d]:
                raise kernel_error(f"ConcatOp : Dimension {d} in both shapes must be equal: "
                                   f"shape[0] = {dims_text(first)} vs. shape[{i}] = "
                                   f"{dims_text(s)}", CONCAT, device)
    if xs[0]._dtype is _STRING:
        return wrap_strings(np.concatenate([x._t for x in xs], axis))
    return concat_raw(xs, axis)


@CONCAT.gradient
def _(node, grad):
    axis = node.attrs[0]
    sizes = tuple(x._t.shape[axis] for x in node.inputs)
    return split_raw(grad, sizes, axis)


def _stack_kernel(*args):
    return torch.stack(args[:-1], args[-1])


def stack_raw(tensors, axis):
    return execute(PACK, _stack_kernel, tuple(tensors), (axis,))


def stack(values, axis=0, name="stack"):
    """Stacks tensors of one shape along a new dimension `axis`."""
    if not is_tensor_like(values) and not any(is_tensor_like(v) for v in values):
        try:
            t = convert_to_tensor(values)  # plain values convert as one (TF does this too)
        except ValueError:
            t = None  # ragged: Pack reports the shapes
        if t is not None:
            axis = _new_axis(axis, t._t.ndim - 1)
            if axis == 0:
                return t
            perm = tuple(range(1, axis + 1)) + (0,) + tuple(range(axis + 1, t._t.ndim))
            return transpose(t, perm)
    xs = operand_list(values, PACK)
    first = _shape_of(xs[0])
    axis = _new_axis(axis, len(first))
    for i, x in enumerate(xs[1:], 1):
        if _shape_of(x) != first:
            raise kernel_error(f"Shapes of all inputs must match: values[0].shape = "
                               f"{dims_text(first)} != values[{i}].shape = "
                               f"{dims_text(_shape_of(x))}", PACK, _device(xs[0]))
    if xs[0]._dtype is _STRING:
        return wrap_strings(np.stack([x._t for x in xs], axis))
    return stack_raw(xs, axis)


def _new_axis(axis, rank):
    """`axis` for a new dimension in a result of rank `rank + 1`, normalised (ValueError)."""
    axis = int_arg(axis)
    if not -rank - 1 <= axis < rank + 1:
        raise ValueError(f"Argument `axis` = {axis} not in range [{-rank - 1}, {rank + 1})")
    return axis % (rank + 1)


@PACK.gradient
def _(node, grad):
    return unstack_raw(grad, node.attrs[0])


def _unstack_kernel(t, axis):
    return torch.unbind(t, axis)


def unstack_raw(x, axis):
    return execute(UNPACK, _unstack_kernel, (x,), (axis,))


def unstack(value, num=None, axis=0, name="unstack"):
    """Splits `value` along `axis` into a list of tensors of one rank less."""
    x = convert_to_tensor(value)
    shape = _shape_of(x)
    rank = len(shape)
    axis = int_arg(axis)
    if not -rank <= axis < rank:
        raise ValueError(f"Argument `axis` = {axis} not in range [{-rank}, {rank})")
    axis %= rank
    if num is not None and num != shape[axis]:
        raise kernel_error(f"Input shape axis {axis} must equal {num}, got shape "
                           f"{dims_text(shape)}", UNPACK, _device(x))
    if x._dtype is _STRING:
        return [wrap_strings(np.take(x._t, i, axis)) for i in range(shape[axis])]
    return list(unstack_raw(x, axis))


@UNPACK.gradient
def _(node, *grads):
    return stack_raw(grads, node.attrs[0])


def _split_kernel(t, sizes, axis):
    return torch.split(t, sizes, axis)


def split_raw(x, sizes, axis, op=SPLITV):
    return execute(op, _split_kernel, (x,), (tuple(sizes), axis))


def split(value, num_or_size_splits, axis=0, num=None, name="split"):
    """Splits `value` along `axis`: into `num_or_size_splits` equal parts (an int), or into
    parts of the given sizes (a list; one size may be -1: the rest)."""
    x = convert_to_tensor(value)
    axis = int_arg(axis)
    shape = _shape_of(x)
    rank = len(shape)
    if isinstance(num_or_size_splits, int) or (
            isinstance(num_or_size_splits, np.integer)):
        op, count = SPLIT, int(num_or_size_splits)
        if count < 1:
            raise error(f"Value for attr 'num_split' of {count} must be at least minimum 1"
                        f"\n\t; NodeDef: {{{{node Split}}}}", SPLIT)
    else:
        if np.ndim(num_or_size_splits) == 0:
            raise ValueError("Rank-0 tensors are not supported as the num_or_size_splits "
                             f"argument to split. Argument provided: {num_or_size_splits}")
        op = SPLITV
        sizes, r = int_list(num_or_size_splits, SPLITV, "Tlen")
        count = len(sizes)
        if not count:
            raise error("Value for attr 'num_split' of 0 must be at least minimum 1\n\t; "
                        "NodeDef: {{node SplitV}}", SPLITV)
        if r != 1:
            raise kernel_error(f"size of the split_tensor must be 1-D and have the same "
                               f"elements as outputs got {r} -D and {count} elements", SPLITV,
                               _device(x))
    if not -rank <= axis < rank:
        raise kernel_error(f"-input rank(-{rank}) <= split_dim < input rank ({rank}), but got "
                           f"{axis}", op, _device(x))
    axis %= rank
    n = shape[axis]
    if op is SPLIT:
        if n % count:
            raise kernel_error(f"Number of ways to split should evenly divide the split "
                               f"dimension, but got split_dim {axis} (size = {n}) and "
                               f"num_split {count}", SPLIT, _device(x))
        sizes = (n // count,) * count
    else:
        sizes = _resolve_sizes(x, sizes, n)
    if x._dtype is _STRING:
        bounds = np.cumsum(sizes)[:-1]
        return [wrap_strings(p) for p in np.split(x._t, bounds, axis)]
    return list(split_raw(x, sizes, axis, op))


def _resolve_sizes(x, sizes, n):
    unknown = [i for i, s in enumerate(sizes) if s == -1]
    if len(unknown) > 1:
        raise kernel_error("There can only be one -1 in the input.", SPLITV, _device(x))
    total = sum(s for s in sizes if s != -1)
    if (not unknown and total != n) or (unknown and total > n) or any(s < -1 for s in sizes):
        raise kernel_error("Determined shape must either match input shape along split_dim "
                           "exactly if fully specified, or be less than the size of the input "
                           f"along split_dim if not fully specified.  Got: {total}", SPLITV,
                           _device(x))
    if unknown:
        sizes = sizes[:unknown[0]] + (n - total,) + sizes[unknown[0] + 1:]
    return sizes


@SPLIT.gradient
def _(node, *grads):
    return concat_raw(grads, node.attrs[1])


@SPLITV.gradient
def _(node, *grads):
    return concat_raw(grads, node.attrs[1])


# -- squeeze / expand_dims ---------------------------------------------------------------------

SQUEEZE = define("Squeeze")
EXPAND_DIMS = define("ExpandDims")


def _squeeze_kernel(t, axes):
    return t.squeeze(axes) if axes else t


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
    return t.flip(axes)


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
    return wrap(torch.tensor(values, dtype=dtype.torch, device=current_device()), dtype)


def shape(input, out_type=dtypes.int32, name=None):  # noqa: A002 - TF's argument name
    """The shape of `input` as a 1-D int32 (or `out_type`) tensor."""
    dtype = _out_type(out_type, "Shape")
    x = input if isinstance(input, Tensor) else convert_to_tensor(input)
    return _int_tensor(list(x._t.shape), dtype)


SHAPE_N = define("ShapeN", differentiable=False)  # registered for its name in dtype errors


def shape_n(input, out_type=dtypes.int32, name=None):  # noqa: A002 - TF's argument name
    """The shapes of a list of tensors (of one dtype), as TF's ShapeN."""
    dtype = _out_type(out_type, "ShapeN")
    xs = operand_list(input, SHAPE_N)
    return [_int_tensor(list(x._t.shape), dtype) for x in xs]


def rank(input, name=None):  # noqa: A002 - TF's argument name
    """The number of dimensions of `input`, as a scalar int32 tensor."""
    x = input if isinstance(input, Tensor) else convert_to_tensor(input)
    return _int_tensor(x._t.ndim, dtypes.int32)


def size(input, out_type=dtypes.int32, name=None):  # noqa: A002 - TF's argument name
    """The number of elements of `input`, as a scalar int32 (or `out_type`) tensor."""
    x = input if isinstance(input, Tensor) else convert_to_tensor(input)
    return _int_tensor(int(np.prod(x._t.shape)), dtypes.as_dtype(out_type))
