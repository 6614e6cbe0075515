"""Sorting and uniqueness: `sort`, `argsort`, `math.top_k`, `math.in_top_k`, `unique`,
`unique_with_counts`.

TF sorts with its TopKV2 kernel (stable: ties keep their input order; NaN counts as largest),
so here one TopKV2 op, run along any axis, backs all three sorting functions, and its gradient
scatters the gradient of the values back to the positions they came from. The scatter and its
adjoint (a gather along the same axis) are ops of their own, so second derivatives work.
"""
import collections

import numpy as np
import torch

from tapeflow._core import dtypes
from tapeflow._core.context import current_device
from tapeflow._core.errors import InvalidArgumentError
from tapeflow._core.tensor import Tensor, convert_to_tensor, device_name, wrap_strings
from tapeflow.ops._op import check_dtype, define, error, execute, kernel_error, tf_type_name
from tapeflow.ops.array import int_arg
from tapeflow.ops.math import NEG

_d = dtypes
TOPK = define("TopKV2")
_TOPK_TYPES = (_d.float32, _d.float64, _d.int32, _d.uint8, _d.int16, _d.int8, _d.int64,
               _d.bfloat16, _d.uint16, _d.float16, _d.uint32, _d.uint64)
_NEG_TYPES = (_d.bfloat16, _d.float16, _d.float32, _d.float64, _d.int8, _d.int16, _d.int32,
              _d.int64, _d.complex64, _d.complex128)

_TOPK_SET, _NEG_SET = frozenset(_TOPK_TYPES), frozenset(_NEG_TYPES)

TopKV2 = collections.namedtuple("TopKV2", ["values", "indices"])
Unique = collections.namedtuple("Unique", ["y", "idx"])
UniqueWithCounts = collections.namedtuple("UniqueWithCounts", ["y", "idx", "count"])


def _input(x):
    return x if type(x) is Tensor else convert_to_tensor(x)


def _sort_kernel(t, axis, descending, k, index_dtype):
    """Stable sort along `axis` (descending, or ascending as TF does it: a descending sort of
    -t, so NaN still comes first), keeping the first `k` (None: all)."""
    if descending or not t.is_floating_point():
        values, indices = torch.sort(t, dim=axis, descending=descending, stable=True)
    else:
        values, indices = torch.sort(-t, dim=axis, descending=True, stable=True)
        values = -values
    if k is not None and k < t.shape[axis]:
        values, indices = values.narrow(axis, 0, k), indices.narrow(axis, 0, k)
    return values, indices.to(index_dtype)


# -- the gradient: scatter along an axis, and its adjoint ---------------------------------------

SCATTER_ALONG_AXIS = define("ScatterAlongAxis")
GATHER_ALONG_AXIS = define("GatherAlongAxis")


def _scatter_kernel(values, indices, axis, shape):
    out = torch.zeros(shape, dtype=values.dtype, device=values.device)
    return out.scatter_add(axis, indices.long(), values)


def _gather_kernel(x, indices, axis):
    return torch.gather(x, axis, indices.long())


def scatter_along_axis(values, indices, axis, shape):
    """Zeros of `shape` with `values` added at `indices` along `axis` (torch's scatter_add)."""
    return execute(SCATTER_ALONG_AXIS, _scatter_kernel, (values, indices), (axis, tuple(shape)))


def gather_along_axis(x, indices, axis):
    """`x` picked at `indices` along `axis` (NumPy's take_along_axis)."""
    return execute(GATHER_ALONG_AXIS, _gather_kernel, (x, indices), (axis,))


@SCATTER_ALONG_AXIS.gradient
def _(node, grad):
    _, indices = node.inputs
    return gather_along_axis(grad, indices, node.attrs[0]), None


@GATHER_ALONG_AXIS.gradient
def _(node, grad):
    x, indices = node.inputs
    return scatter_along_axis(grad, indices, node.attrs[0], x._t.shape), None


@TOPK.gradient
def _(node, grad, _indices_grad=None):
    x, = node.inputs
    return scatter_along_axis(grad, node.outputs[1], node.attrs[0], x._t.shape)


# -- sort, argsort, top_k -------------------------------------------------------------------------

def _sorted(values, axis, direction, index_dtype):
    x = _input(values)
    if direction not in ("ASCENDING", "DESCENDING"):
        raise ValueError("Argument `direction` should be one of ASCENDING, DESCENDING. "
                         f"Received: direction={direction}")
    descending = direction == "DESCENDING"
    axis = int_arg(axis)
    ndim = x._t.ndim
    if not -ndim <= axis < ndim:
        shown = axis + ndim if axis < 0 else axis
        raise InvalidArgumentError(  # TF's sort fails in the StridedSlice reading the axis
            None, None, f"{{{{function_node __wrapped__StridedSlice_device_"
            f"{device_name(current_device())}}}}} slice index {shown} of dimension 0 out of "
            "bounds. [Op:StridedSlice] name: strided_slice/")
    if not descending and x._dtype not in _NEG_SET and not x._dtype.is_unsigned:
        check_dtype(x, _NEG_TYPES, NEG)  # TF negates to sort ascending
    if x._dtype not in _TOPK_SET:
        check_dtype(x, _TOPK_TYPES, TOPK)
    return execute(TOPK, _sort_kernel, (x,), (axis % ndim, descending, None, index_dtype))


def sort(values, axis=-1, direction="ASCENDING", name=None):
    """`values` sorted along `axis` (stable; a NaN comes first in either direction, as in TF,
    whose order among several NaNs is unspecified)."""
    return _sorted(values, axis, direction, torch.int64)[0]  # int64: no cast for the tape


def argsort(values, axis=-1, direction="ASCENDING", stable=False, name=None):
    """int32 indices that sort `values` along `axis` (always stable, as TF's kernel is)."""
    return _sorted(values, axis, direction, torch.int32)[1]


def top_k(input, k=1, sorted=True, index_type=_d.int32, name=None):  # noqa: A002
    """The `k` largest entries of the last axis and their indices (`TopKV2(values, indices)`).

    Ties keep their input order. `sorted=False` returns them sorted too (TF leaves the order
    unspecified)."""
    x = _input(input)
    if x._dtype not in _TOPK_SET:
        check_dtype(x, _TOPK_TYPES, TOPK)
    index_type = _d.as_dtype(index_type)
    if index_type not in (_d.int16, _d.int32, _d.int64):
        raise error(f"Value for attr 'index_type' of {tf_type_name(index_type)} is not in the "
                    "list of allowed values: int16, int32, int64\n\t; NodeDef: {{node TopKV2}}",
                    TOPK)
    if type(k) is not int:
        k = int_arg(k)
    device = x._t.device
    if x._t.ndim == 0:
        raise kernel_error("input must be >= 1-D, got shape []", TOPK, device)
    if k < 0:
        raise kernel_error(f"Need k >= 0, got {k}", TOPK, device)
    if x._t.shape[-1] < k:
        raise kernel_error(f"input must have at least k columns. Had {x._t.shape[-1]}, needed "
                           f"{k}", TOPK, device)
    values, indices = execute(TOPK, _sort_kernel, (x,),
                              (x._t.ndim - 1, True, k, index_type.torch))
    return TopKV2(values, indices)


IN_TOP_K = define("InTopKV2", differentiable=False)


def _in_top_k_kernel(predictions, targets, k):
    batch, classes = predictions.shape
    if classes == 0:
        return torch.zeros(batch, dtype=torch.bool, device=predictions.device)
    valid = (targets >= 0) & (targets < classes)
    target = predictions.gather(1, targets.long().clamp(0, classes - 1).unsqueeze(1))
    better = (predictions > target).sum(1)
    # Any non-finite prediction in a row makes TF's kernel answer False for it.
    return valid & torch.isfinite(predictions).all(1) & (better < k)


def in_top_k(targets, predictions, k, name=None):
    """Whether each `targets[i]` is among the `k` largest of `predictions[i]` (ties count in
    its favour: only strictly larger predictions push it out)."""
    suffix = not isinstance(targets, (list, tuple))
    p = convert_to_tensor(predictions, dtype=_d.float32)
    t = _input(targets)
    if t._dtype not in (_d.int32, _d.int64):
        check_dtype(t, (_d.int32, _d.int64), IN_TOP_K)
    k = int_arg(k)
    device = p._t.device
    if p.ndim != 2:
        raise kernel_error("predictions must be 2-dimensional", IN_TOP_K, device, suffix)
    if t.ndim != 1:
        raise kernel_error("targets must be 1-dimensional", IN_TOP_K, device, suffix)
    if p.shape[0] != t.shape[0]:
        raise kernel_error(f"First dimension of predictions {p.shape[0]} must match length of "
                           f"targets {t.shape[0]}", IN_TOP_K, device, suffix)
    return execute(IN_TOP_K, _in_top_k_kernel, (p, t), (k,))


# -- unique ---------------------------------------------------------------------------------------

UNIQUE = define("Unique", differentiable=False)
UNIQUE_WITH_COUNTS = define("UniqueWithCounts", differentiable=False)


def _unique_kernel(t, index_dtype):
    """Distinct values in order of first appearance, each element's index into them, and the
    counts (torch's unique sorts, so the sorted result is re-ranked by first position)."""
    n = t.shape[0]
    uniq, inverse, counts = torch.unique(t, sorted=True, return_inverse=True,
                                         return_counts=True)
    positions = torch.arange(n, device=t.device)
    first = torch.full((uniq.shape[0],), n, dtype=torch.int64, device=t.device)
    first = first.scatter_reduce(0, inverse, positions, "amin")
    order = torch.argsort(first)
    rank = torch.empty_like(order)
    rank[order] = torch.arange(order.shape[0], device=t.device)
    return t[first[order]], rank[inverse].to(index_dtype), counts[order].to(index_dtype)


def _unique_kernel2(t, index_dtype):
    return _unique_kernel(t, index_dtype)[:2]


def _unique_strings(x, index_dtype):
    seen = {}
    idx = np.array([seen.setdefault(v, len(seen)) for v in x._t.tolist()], dtype=np.int64)
    counts = np.bincount(idx, minlength=len(seen)) if idx.size else np.zeros(0, np.int64)
    y = wrap_strings(np.array(list(seen), dtype=object).reshape(len(seen)))
    return y, convert_to_tensor(idx, dtype=index_dtype), convert_to_tensor(counts,
                                                                           dtype=index_dtype)


def _unique(op, x, out_idx, with_counts):
    x = _input(x)
    out_idx = _d.as_dtype(out_idx)
    if out_idx not in (_d.int32, _d.int64):
        raise error(f"Value for attr 'out_idx' of {tf_type_name(out_idx)} is not in the list of "
                    f"allowed values: int32, int64\n\t; NodeDef: {{{{node {op.name}}}}}", op)
    if x.ndim != 1:
        device = x._t.device if x._dtype is not _d.string else torch.device("cpu")
        raise kernel_error("unique expects a 1D vector.", op, device)
    if x._dtype is _d.string:
        out = _unique_strings(x, out_idx)
        return out if with_counts else out[:2]
    kernel = _unique_kernel if with_counts else _unique_kernel2
    return execute(op, kernel, (x,), (out_idx.torch,))


def unique(x, out_idx=_d.int32, name=None):
    """`Unique(y, idx)`: the distinct elements of 1-D `x` in order of first appearance, and for
    each element of `x` its index in `y`."""
    return Unique(*_unique(UNIQUE, x, out_idx, False))


def unique_with_counts(x, out_idx=_d.int32, name=None):
    """`UniqueWithCounts(y, idx, count)`: `unique` plus how often each element of `y` occurs."""
    return UniqueWithCounts(*_unique(UNIQUE_WITH_COUNTS, x, out_idx, True))
