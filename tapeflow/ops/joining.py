"""Joining and splitting: concat, stack, unstack, split (and shape_n, which takes a list).

List inputs follow TF's conversion rule (plain values take the dtype of the first tensor among
them, else of the first value; mixed dtypes are TF's "cannot compute ConcatV2 as input #1..."
error). Each gradient is the inverse: concat's is a split, stack's an unstack, and back.
"""
import numpy as np
import torch

from tapeflow._core import dtypes
from tapeflow._core import tensor as tensor_module
from tapeflow._core.shape import is_symbolic_size
from tapeflow._core.tensor import convert_to_tensor, wrap_strings
from tapeflow.ops._op import define, error, execute, is_tensor_like, kernel_error, tf_type_name
from tapeflow.ops.array import (_device, _int_tensor, _out_type, _shape_of, dims_text, int_arg,
                                int_list, transpose)

_STRING = dtypes.string


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


CONCAT.value_fn = lambda *args: np.concatenate(args[:-1], args[-1])  # noqa: E731


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


PACK.value_fn = lambda *args: np.stack(args[:-1], args[-1])  # noqa: E731


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


def _pack_list(value, dtype):
    """`convert_to_tensor` of a (nested) list holding tensors: TF packs it (autopacking)."""
    nested = tensor_module._holds_tensor
    items = [_pack_list(v, dtype) if isinstance(v, (list, tuple)) and nested(v)
             else (v if dtype is None else convert_to_tensor(v, dtype=dtype)) for v in value]
    return stack(items)


tensor_module.pack_list = _pack_list


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
    if is_symbolic_size(shape[axis]):
        raise ValueError(f"Cannot infer argument `num` from shape {x.shape}")
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



SHAPE_N = define("ShapeN", differentiable=False)  # registered for its name in dtype errors


def shape_n(input, out_type=dtypes.int32, name=None):  # noqa: A002 - TF's argument name
    """The shapes of a list of tensors (of one dtype), as TF's ShapeN."""
    dtype = _out_type(out_type, "ShapeN")
    xs = operand_list(input, SHAPE_N)
    return [_int_tensor(list(x._t.shape), dtype) for x in xs]
