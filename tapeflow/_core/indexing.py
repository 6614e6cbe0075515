"""NumPy-style indexing keys (ints, slices with any step, `...`, `tf.newaxis`) translated once
into a hashable spec, and the kernels that apply it to torch tensors.

Torch's basic indexing has no negative steps, so a spec flips those dimensions first and then
slices with positive steps. `Tensor.__getitem__` (the StridedSlice op) and sliced variable
assignment both use this module.
"""
import torch

from tapeflow._core.errors import invalid_argument

# spec: (flip_dims, index_tuple) where index_tuple holds ints, slices (step > 0) and None.


def _as_int(k):
    if isinstance(k, int):
        return k
    if hasattr(k, "__index__"):
        return k.__index__()
    raise TypeError("Only integers, slices (`:`), ellipsis (`...`), tf.newaxis (`None`) and "
                    f"scalar tf.int32/tf.int64 tensors are valid indices, got {k!r}")


def parse_key(key, shape):
    """The spec for `tensor[key]` on a tensor of `shape` (a tuple of ints)."""
    if not isinstance(key, tuple):
        key = (key,)
    n_real = sum(1 for k in key if k is not None and k is not Ellipsis)
    if sum(1 for k in key if k is Ellipsis) > 1:
        raise ValueError("Multiple ellipses in slice spec not allowed")
    if n_real > len(shape):
        raise invalid_argument(f"Index out of range using input dim {len(shape)}; input has "
                               f"only {len(shape)} dims", "StridedSlice")
    expanded = []
    for k in key:
        if k is Ellipsis:
            expanded.extend([slice(None)] * (len(shape) - n_real))
        else:
            expanded.append(k)
    flips, index, dim = [], [], 0
    for k in expanded:
        if k is None:
            index.append(None)
            continue
        n = shape[dim]
        if isinstance(k, slice):
            start, stop, step = k.start, k.stop, k.step
            start = None if start is None else _as_int(start)
            stop = None if stop is None else _as_int(stop)
            step = 1 if step is None else _as_int(step)
            if step == 0:
                raise invalid_argument("slice step cannot be zero", "StridedSlice")
            start, stop, step = slice(start, stop, step).indices(n)
            if step < 0:
                flips.append(dim)
                start, stop, step = n - 1 - start, n - 1 - stop, -step
            index.append(slice(start, max(stop, start), step))
        else:
            i = _as_int(k)
            if not -n <= i < n:
                raise invalid_argument(f"slice index {i} of dimension {dim} out of bounds.",
                                       "StridedSlice")
            index.append(i % n)
        dim += 1
    return tuple(flips), tuple(index)


def apply_spec(t, spec):
    flips, index = spec
    if flips:
        t = t.flip(flips)
    return t[index]


def scatter_into(t, spec, value):
    """A copy of `t` with the region `spec` selects replaced by `value` (broadcast)."""
    flips, index = spec
    out = t.flip(flips).clone() if flips else t.clone()
    out[index] = value
    return out.flip(flips) if flips else out
