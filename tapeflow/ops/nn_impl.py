"""`tf.nn` functions that are compositions of other ops, as in TF's nn_impl.py: l2_normalize,
moments, batch_normalization, dropout, weighted cross-entropy and embedding_lookup. They need
no gradients of their own.
"""
import numbers

import numpy as np

from tapeflow._core import dtypes
from tapeflow._core.tensor import Tensor, convert_to_tensor
from tapeflow.ops._op import REGISTRY, execute
from tapeflow.ops.array import squeeze
from tapeflow.ops.comparison import greater_equal, where
from tapeflow.ops.elementwise import abs as abs_, cast, exp, imag, log1p, real, rsqrt, sqrt, \
    square
from tapeflow.ops.gather import gather
from tapeflow.ops.math import add, divide, maximum, multiply, negative, squared_difference, \
    subtract
from tapeflow.ops.nn import relu
from tapeflow.ops.random import uniform
from tapeflow.ops.reduction import reduce_mean, reduce_sum

_F16, _F32 = dtypes.float16, dtypes.float32


def l2_normalize(x, axis=None, epsilon=1e-12, name=None, dim=None):
    """`x / sqrt(max(sum(x ** 2, axis), epsilon))`."""
    axis = dim if axis is None else axis
    x = x if type(x) is Tensor else convert_to_tensor(x)
    if x._dtype.is_complex:
        sq_real = square(real(x))
        sq_imag = square(imag(x))
        square_sum = add(reduce_sum(sq_real, axis, keepdims=True),
                         reduce_sum(sq_imag, axis, keepdims=True))
        inv_norm = rsqrt(maximum(square_sum, epsilon))
        return multiply(x, cast(inv_norm, x._dtype))
    square_sum = reduce_sum(square(x), axis, keepdims=True)
    return multiply(x, rsqrt(maximum(square_sum, epsilon)))


def moments(x, axes, shift=None, keepdims=False, name=None):
    """`(mean, variance)` of `x` over `axes` (float16 is computed in float32, as in TF)."""
    x = x if type(x) is Tensor else convert_to_tensor(x)
    y = cast(x, _F32) if x._dtype is _F16 else x
    mean = reduce_mean(y, axes, keepdims=True)
    # TF stops the gradient through the mean here; only second derivatives can tell.
    variance = reduce_mean(squared_difference(y, _stop_gradient(mean)), axes, keepdims=True)
    if not keepdims:
        mean = squeeze(mean, axes)
        variance = squeeze(variance, axes)
    if x._dtype is _F16:
        return cast(mean, _F16), cast(variance, _F16)
    return mean, variance


def _stop_gradient(x):
    """TF's StopGradient op, found in the registry (it is defined by the autodiff layer, which
    this layer may not import)."""
    return execute(REGISTRY["StopGradient"], _identity_kernel, (x,))


def _identity_kernel(t):
    return t


def dropout(x, rate, noise_shape=None, seed=None, name=None):
    """Zeroes each element with probability `rate` and scales the rest by `1 / (1 - rate)`;
    `noise_shape` (broadcast against x's shape) shares the decision along size-1 dimensions."""
    is_number = isinstance(rate, numbers.Real)
    if is_number and (rate < 0 or rate >= 1):
        raise ValueError("`rate` must be a scalar tensor or a float in the range [0, 1). "
                         f"Received: rate={rate}")
    x = x if type(x) is Tensor else convert_to_tensor(x)
    if not x._dtype.is_floating:
        raise ValueError("`x.dtype` must be a floating point tensor as `x` will be scaled. "
                         f"Received: x_dtype={x._dtype!r}")
    if is_number and rate == 0:
        return x
    if is_number:
        kept = multiply(x, 1 / (1 - rate))
    else:
        rate = convert_to_tensor(rate)
        if rate._dtype is not x._dtype:
            rate = cast(rate, x._dtype)
        kept = divide(x, subtract(1, rate))
    if noise_shape is None:
        noise_shape = tuple(x._t.shape)
    else:
        noise_shape = tuple(x._t.shape[i] if d is None else int(d)
                            for i, d in enumerate(noise_shape))
    keep_mask = greater_equal(uniform(noise_shape, dtype=x._dtype, seed=seed), rate)
    return where(keep_mask, kept, 0)


def batch_normalization(x, mean, variance, offset, scale, variance_epsilon, name=None):
    """`(x - mean) * scale / sqrt(variance + variance_epsilon) + offset`, computed as TF does
    (`x * inv + (offset - mean * inv)`); `offset` and `scale` may be None."""
    x = x if type(x) is Tensor else convert_to_tensor(x)
    inv = rsqrt(add(variance, variance_epsilon))
    if scale is not None:
        inv = multiply(inv, scale)
    shift = subtract(offset, multiply(mean, inv)) if offset is not None else \
        negative(multiply(mean, inv))
    return add(multiply(x, cast(inv, x._dtype)), cast(shift, x._dtype))


def weighted_cross_entropy_with_logits(labels, logits, pos_weight, name=None):
    """Sigmoid cross-entropy with the positive term weighted by `pos_weight`, stable for large
    `|logits|`: `(1 - z) x + (1 + (q - 1) z) (log1p(exp(-|x|)) + max(-x, 0))`."""
    logits = logits if type(logits) is Tensor else convert_to_tensor(logits)
    labels = labels if type(labels) is Tensor else convert_to_tensor(labels)
    if not logits.shape.is_compatible_with(labels.shape):
        raise ValueError(f"`logits` and `labels` must have the same shape, received "
                         f"({logits.shape} vs {labels.shape}).")
    q_minus_1 = pos_weight - 1 if isinstance(pos_weight, numbers.Real) else \
        subtract(pos_weight, 1)
    log_weight = add(1, multiply(q_minus_1, labels))
    softplus_neg = add(log1p(exp(negative(abs_(logits)))), relu(negative(logits)))
    return add(multiply(subtract(1, labels), logits), multiply(log_weight, softplus_neg))


def embedding_lookup(params, ids, max_norm=None, name=None):
    """Rows of `params` at `ids` (`tf.gather` along axis 0); with `max_norm`, rows whose L2
    norm exceeds it are scaled down to it."""
    if isinstance(params, (list, tuple)):
        if len(params) != 1:
            raise NotImplementedError("tapeflow's embedding_lookup takes one params tensor (no "
                                      "partitioned variables).")
        params = params[0]
    rows = gather(params, ids)
    if max_norm is None:
        return rows
    axes = tuple(range(ids_rank(ids), rows.ndim))
    norms = sqrt(reduce_sum(square(rows), axes, keepdims=True))
    ratio = divide(max_norm, maximum(norms, max_norm))
    return multiply(rows, cast(ratio, rows._dtype))


def ids_rank(ids):
    return ids.ndim if hasattr(ids, "ndim") else np.ndim(ids)
