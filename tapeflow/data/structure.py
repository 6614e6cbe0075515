"""Elements of a dataset: nested structures (tuples, dicts, namedtuples) of tensors, their
`TensorSpec`s, and stacking/unstacking them along a new batch dimension."""
import numpy as np
import torch

from tapeflow._core import dtypes, nest
from tapeflow._core.errors import InvalidArgumentError
from tapeflow._core.shape import TensorShape
from tapeflow._core.spec import TensorSpec
from tapeflow._core.tensor import convert_to_tensor, wrap, wrap_strings


def to_tensors(value):
    """Tuples, namedtuples and dicts are structure; every other value (a list too, as in TF)
    becomes one tensor."""
    if isinstance(value, tuple):
        items = [to_tensors(v) for v in value]
        return type(value)(*items) if hasattr(value, "_fields") else tuple(items)
    if isinstance(value, dict):
        return {k: to_tensors(v) for k, v in value.items()}
    return convert_to_tensor(value)


def spec_of(element):
    return nest.map_structure(lambda t: TensorSpec(t.shape, t.dtype), element)


def batched_spec(spec, batch_size):
    return nest.map_structure(
        lambda s: TensorSpec(TensorShape([batch_size]).concatenate(s.shape), s.dtype), spec)


def unbatched_spec(spec):
    def one(s):
        if s.shape.rank == 0:
            raise ValueError("Unbatching a tensor is only supported for rank >= 1")
        return TensorSpec(s.shape[1:], s.dtype)
    return nest.map_structure(one, spec)


def merge_specs(a, b):
    """The most specific spec both `a` and `b` satisfy (None where shapes differ)."""
    return nest.map_structure(lambda x, y: x.most_specific_common_supertype([y]) or x, a, b)


def stack(elements):
    """One tensor per component, stacking the components of `elements` along axis 0."""
    first = elements[0]
    flats = [nest.flatten(e) for e in elements]
    out = []
    for i, leaf in enumerate(nest.flatten(first)):
        parts = [f[i] for f in flats]
        if leaf.dtype is dtypes.string:
            out.append(wrap_strings(np.stack([p._t for p in parts])))
            continue
        shapes = {tuple(p._t.shape) for p in parts}
        if len(shapes) > 1:
            raise InvalidArgumentError(
                None, None, "Cannot batch tensors with different shapes in component "
                f"{i}. First element had shape {list(parts[0]._t.shape)} and element "
                f"{next(k for k, p in enumerate(parts) if tuple(p._t.shape) != tuple(parts[0]._t.shape))} "  # noqa: E501
                f"had shape {list(next(p for p in parts if tuple(p._t.shape) != tuple(parts[0]._t.shape))._t.shape)}.")  # noqa: E501
        out.append(wrap(torch.stack([p._t for p in parts]), leaf.dtype))
    return nest.pack_sequence_as(first, out)


def unstack(element):
    flat = nest.flatten(element)
    n = flat[0]._t.shape[0]
    for i in range(n):
        yield nest.pack_sequence_as(element, [_row(t, i) for t in flat])


def _row(t, i):
    if t._dtype is dtypes.string:
        return wrap_strings(t._t[i])
    return wrap(t._t[i], t._dtype)
