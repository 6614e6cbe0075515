"""Norm clipping: `tf.clip_by_norm`, `tf.clip_by_global_norm` and `tf.linalg.global_norm`.

Compositions of other ops written as TF's clip_ops.py writes them (same operations in the same
order, so the values round alike), which is why they need no gradients of their own.
`tf.clip_by_value` is an op of its own and lives in elementwise.py.
"""
from collections.abc import Sequence

import numpy as np

from tapeflow._core.tensor import Tensor, constant, convert_to_tensor
from tapeflow.ops.array import identity
from tapeflow.ops.comparison import greater, where
from tapeflow.ops.creation import ones_like
from tapeflow.ops.elementwise import cast, sqrt
from tapeflow.ops.joining import stack
from tapeflow.ops.math import add, divide, maximum, minimum, multiply, subtract
from tapeflow.ops.nn import l2_loss
from tapeflow.ops.reduction import reduce_sum


def clip_by_norm(t, clip_norm, axes=None, name=None):
    """`t * clip_norm / max(l2norm(t, axes), clip_norm)`: rescales `t` so that its L2 norm
    (over `axes`, all axes by default) is at most `clip_norm`. A zero tensor stays zero and
    its gradient stays finite; a negative `clip_norm` counts as 0."""
    values = t if type(t) is Tensor else convert_to_tensor(t)
    if np.isscalar(clip_norm):
        clip_norm = max(clip_norm, 0)
    else:  # a tensor bound: non-negative, in the values' dtype (TF 2.21)
        clip_norm = cast(maximum(clip_norm, 0), values.dtype)
    l2sum = reduce_sum(multiply(values, values), axes, keepdims=True)
    pred = greater(l2sum, 0)
    # Two wheres keep the gradient finite where the norm is zero.
    l2sum_safe = where(pred, l2sum, ones_like(l2sum))
    l2norm = where(pred, sqrt(l2sum_safe), l2sum)
    intermediate = multiply(values, clip_norm)
    values.shape.assert_is_compatible_with(intermediate.shape)
    return identity(divide(intermediate, maximum(l2norm, clip_norm)))


def _tensor_list(t_list):
    if not isinstance(t_list, Sequence) or isinstance(t_list, str):
        raise TypeError(f"`t_list` should be a sequence of tensors. Received {type(t_list)}.")
    return [None if t is None else t if type(t) is Tensor else convert_to_tensor(t)
            for t in t_list]


def global_norm(t_list, name=None):
    """`sqrt(sum(l2norm(t) ** 2 for t in t_list))`; `None` entries are ignored."""
    values = _tensor_list(t_list)
    half_squared_norm = reduce_sum(stack([l2_loss(v) for v in values if v is not None]))
    two = constant(2.0, dtype=half_squared_norm.dtype)
    return sqrt(multiply(half_squared_norm, two))


def clip_by_global_norm(t_list, clip_norm, use_norm=None, name=None):
    """Scales every tensor of `t_list` by `clip_norm / max(global_norm, clip_norm)`; returns
    `(list_clipped, global_norm)`. An infinite or NaN norm makes every entry NaN, as in TF."""
    values = _tensor_list(t_list)
    if use_norm is None:
        use_norm = global_norm(values)
    one = constant(1.0, dtype=use_norm.dtype)
    scale_for_finite = multiply(clip_norm, minimum(divide(one, use_norm),
                                                   divide(one, clip_norm)))
    scale = add(scale_for_finite, subtract(use_norm, use_norm))  # NaN when the norm is not finite
    clipped = [None if v is None else identity(multiply(v, cast(scale, v.dtype)))
               for v in values]
    return clipped, use_norm
