"""NumPy-style indexing keys (ints, slices with any step, `...`, `tf.newaxis`, scalar integer
tensors) translated once into a hashable spec, and the kernels that apply it to torch tensors
(and to the NumPy object arrays of string tensors).

A spec is `(index, flips)`: `index` is a tuple of ints, `(start, stop, step)` triples (slices
with a positive step, kept as tuples so the spec is hashable: kernels are cached by their
attrs) and `None`, which torch's basic indexing takes as is (a view, no copy); `flips` lists the
*output*
dimensions to reverse afterwards, because torch has no negative steps. Reversing only the
selected part keeps `x[::-1, 0]` from copying all of `x`. `Tensor.__getitem__` (the
StridedSlice op, in tapeflow/ops/indexing.py) and sliced variable assignment both use this.
"""
import numbers

import numpy as np
import torch

from tapeflow._core.errors import invalid_argument
from tapeflow._core.shape import Dimension
from tapeflow._core.tensor import Tensor

SLICE_TYPE_ERROR = ("Only integers, slices (`:`), ellipsis (`...`), tf.newaxis (`None`) and "
                    "scalar tf.int32/tf.int64 tensors are valid indices")
_INDEX_DTYPES = ("int16", "int32", "int64")
_ALL = (None, None, None)


def _default_fail(message):
    return invalid_argument(message, "StridedSlice")


def as_index(k):
    """A Python int for an index (int, NumPy integer, scalar int16/32/64 tensor or array)."""
    if type(k) is int:
        return k
    if isinstance(k, (numbers.Integral, Dimension)):
        return int(k)
    dtype = getattr(k, "dtype", None)
    name = getattr(dtype, "name", None)
    if name in _INDEX_DTYPES and not tuple(getattr(k, "shape", ())):
        return int(k)
    raise TypeError(f"{SLICE_TYPE_ERROR}, got {k!r}")


# An index that is a symbolic scalar tensor (inside a traced tf.function) is a kernel input,
# not a number: the spec holds this marker in its place and the `*_dynamic` kernels index with
# the tensor (a 0-d integer tensor index drops the dimension, as an int does).
DYNAMIC = "?"


def is_dynamic(k):
    return isinstance(k, Tensor) and k._is_symbolic()


def _check_key_entry(k):
    if k is None or k is Ellipsis or isinstance(k, slice):
        return
    if is_dynamic(k):
        if k._dtype.name not in _INDEX_DTYPES or k._t.ndim:
            raise TypeError(f"{SLICE_TYPE_ERROR}, got {k!r}")
        return
    as_index(k)


def dynamic_entries(key):
    """The symbolic tensors of a key, in the order their markers appear in its spec."""
    key = key if isinstance(key, (tuple, list)) else (key,)
    return tuple(k for k in key if is_dynamic(k))


def parse_key(key, shape, fail=_default_fail):
    """The spec for `tensor[key]` on a tensor of `shape` (a tuple of ints).

    `fail(message)` builds the exception for an invalid key (TF's StridedSlice messages).
    """
    if type(key) is int:  # the common case: x[i]
        n_dims = len(shape)
        if not n_dims:
            raise fail("Attempting to slice scalar input.")
        n = shape[0]
        if not -n <= key < n:
            raise fail(f"slice index {key} of dimension 0 out of bounds.")
        return (key % n,), ()
    if not isinstance(key, (tuple, list)):
        key = (key,)
    n_real = n_ellipsis = 0
    for k in key:  # TypeErrors for bad entries come first, as in TF
        kind = type(k)
        if kind is int or kind is slice:
            n_real += 1
        elif k is Ellipsis:
            n_ellipsis += 1
        elif k is not None:
            _check_key_entry(k)
            n_real += 1
    if n_ellipsis > 1:
        raise fail("Multiple ellipses in slice spec not allowed")
    rank = len(shape)
    if n_real and not rank:
        raise fail("Attempting to slice scalar input.")
    if n_real > rank:
        raise fail(f"Index out of range using input dim {rank}; input has only {rank} dims")
    index, flips, dim, out_dim = [], [], 0, 0
    for position, k in enumerate(key):
        if k is None:
            index.append(None)
            out_dim += 1
        elif k is Ellipsis:
            for _ in range(rank - n_real):
                index.append(_ALL)
                dim += 1
                out_dim += 1
        elif isinstance(k, slice):
            step = 1 if k.step is None else as_index(k.step)
            if step == 0:
                raise fail(f"strides[{position}] must be non-zero")
            start = None if k.start is None else as_index(k.start)
            stop = None if k.stop is None else as_index(k.stop)
            n = shape[dim]
            if step == 1 and start is None and stop is None:
                index.append(_ALL)
            else:
                start, stop, step = slice(start, stop, step).indices(n)
                if step < 0:
                    # the same elements, walked forwards, then flipped: start, start+step, ...
                    count = len(range(start, stop, step))
                    step = -step
                    start = start - step * (count - 1) if count else 0
                    stop = start + step * (count - 1) + 1 if count else 0
                    flips.append(out_dim)
                index.append((start, max(stop, start), step))
            dim += 1
            out_dim += 1
        elif is_dynamic(k):
            index.append(DYNAMIC)
            dim += 1
        else:
            i = as_index(k)
            n = shape[dim]
            if not -n <= i < n:
                raise fail(f"slice index {i} of dimension {dim} out of bounds.")
            index.append(i % n)
            dim += 1
    return tuple(index), tuple(flips)


_torch_indexes = {}


def torch_index(index):
    """The spec's index as torch/NumPy take it (triples back to slices); cached, since the
    same keys come back (loops, replayed graphs)."""
    try:
        out = _torch_indexes.get(index)
    except TypeError:  # symbolic sizes of a trace (torch SymInts are unhashable)
        return tuple(slice(*k) if type(k) is tuple else k for k in index)
    if out is None:
        if len(_torch_indexes) > 4096:
            _torch_indexes.clear()
        out = _torch_indexes[index] = tuple(slice(*k) if type(k) is tuple else k
                                            for k in index)
    return out


# torch lacks some kernels (flip, gather, index_put) for uint16/32/64: they run on the bits, as
# the signed type of the same width (exact for moves, and for sums: two's complement wraps alike)
SIGNED_OF = {torch.uint16: torch.int16, torch.uint32: torch.int32, torch.uint64: torch.int64}


def flip(t, dims):
    """`t.flip(dims)`, also for uint16/32/64 (torch has no flip for them: their bits are
    flipped as the signed type of the same width)."""
    signed = SIGNED_OF.get(t.dtype)
    return t.flip(dims) if signed is None else t.view(signed).flip(dims).view(t.dtype)


def apply_spec(t, index, flips):
    """`t[spec]` for a torch tensor (a view unless a dimension is reversed)."""
    r = t[torch_index(index)]
    return flip(r, flips) if flips else r


def apply_spec_numpy(a, index, flips):
    """`a[spec]` for a NumPy array (string tensors), always an array (never a bare element)."""
    r = a[torch_index(index) + (Ellipsis,)]
    return np.flip(r, flips).copy() if flips else r


def region_shape(shape, index):
    """The shape `t[index]` has, for a tensor of `shape`, without touching data."""
    out, dim = [], 0
    for k in index:
        if k is None:
            out.append(1)
            continue
        if type(k) is tuple:
            start, stop, step = k
            out.append(len(range(*slice(start, stop, step).indices(shape[dim]))))
        dim += 1
    return tuple(out) + tuple(shape[dim:])


def scatter_into(t, spec, value):
    """A copy of `t` with the region `spec` selects replaced by `value` (broadcast to it).

    Raises RuntimeError with TF's text when `value` does not broadcast to the region.
    """
    index, flips = spec
    target = region_shape(t.shape, index)
    vshape = value.shape
    extra = len(vshape) - len(target)
    if extra > 0 and all(d == 1 for d in vshape[:extra]):
        value = value.reshape(vshape[extra:])
    vshape = value.shape
    if len(vshape) > len(target) or any(a != b and a != 1 for a, b in
                                        zip(reversed(vshape), reversed(target))):
        raise RuntimeError(f"Cannot broadcast input shape {list(vshape)} into final shape "
                           f"{list(target)}")
    out = t.clone()
    if flips:
        value = flip(value.expand(target), flips)
    out[torch_index(index)] = value
    return out


def _split_dynamic(index):
    """The spec's index with markers as full slices, and the positions the markers' dimensions
    take in the result of that (basic) indexing."""
    static, positions, out = [], [], 0
    for k in index:
        if type(k) is str:
            positions.append(out)
            static.append(slice(None))
        else:
            static.append(slice(*k) if type(k) is tuple else k)
        out += k is None or type(k) is not int
    return tuple(static), positions


def _one(i, n):
    """A 0-d index tensor as a 1-element int64 index into a dimension of size n (negative
    counts from the end, as an int index would)."""
    i = i.long().reshape(1)
    return torch.where(i < 0, i + n, i)


def apply_spec_dynamic(t, *tensors_and_spec):
    """`t[spec]` where the spec's DYNAMIC markers take the given 0-d index tensors in turn
    (index_select, not `.item()`, so it also runs on meta tensors while tracing)."""
    *tensors, index, flips = tensors_and_spec
    static, positions = _split_dynamic(index)
    r = t[static]
    for pos, i in reversed(list(zip(positions, tensors))):
        r = r.index_select(pos, _one(i, r.shape[pos])).squeeze(pos)
    return flip(r, flips) if flips else r


def zeros_with_dynamic(grad, *tensors_and_spec):
    """`zeros_with` for a spec with DYNAMIC markers (the gradient of `apply_spec_dynamic`)."""
    *tensors, shape, index, flips = tensors_and_spec
    static, positions = _split_dynamic(index)
    out = grad.new_zeros(shape)
    region = out[static]
    g = flip(grad, flips) if flips else grad
    for pos in positions:
        g = g.unsqueeze(pos)
    for pos, i in zip(positions, tensors):
        n = region.shape[pos]
        g = g.new_zeros(g.shape[:pos] + (n,) + g.shape[pos + 1:]).index_copy_(pos, _one(i, n), g)
    out[static] = g
    return out


def zeros_with(grad, shape, index, flips):
    """Zeros of `shape` with `grad` written into the region `index` selects (StridedSliceGrad)."""
    out = grad.new_zeros(shape)
    out[torch_index(index)] = flip(grad, flips) if flips else grad
    return out
