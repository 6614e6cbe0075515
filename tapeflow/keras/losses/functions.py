"""The loss functions (`keras.losses.mean_squared_error`, ...): per-sample losses, averaged
over the last axis where Keras does, with Keras 3's numerics (probabilities clipped to
`[1e-7, 1 - 1e-7]` before a log; crossentropy of a `softmax`/`sigmoid` output computed from
its logits, as Keras's TensorFlow backend does).
"""
import math
import warnings

from tapeflow._core import dtypes
from tapeflow._core.tensor import constant, convert_to_tensor
from tapeflow.ops import (array as array_ops, comparison as comparison_ops,
                          creation as creation_ops, elementwise as elementwise_ops,
                          math as math_ops, nn as nn_ops, nn_xent as nn_xent_ops,
                          reduction as reduction_ops)
from tapeflow.keras.activations import keras_logits
from tapeflow.keras.losses.loss import squeeze_or_expand_to_same_rank

EPSILON = 1e-7


def _pred_true(y_true, y_pred):
    y_pred = convert_to_tensor(y_pred)
    y_true = convert_to_tensor(y_true)
    if y_true.dtype is not y_pred.dtype:
        y_true = elementwise_ops.cast(y_true, y_pred.dtype)
    return squeeze_or_expand_to_same_rank(y_true, y_pred)


def _cast_like(y_true, y_pred):
    y_pred = convert_to_tensor(y_pred)
    y_true = convert_to_tensor(y_true)
    if y_true.dtype is not y_pred.dtype:
        y_true = elementwise_ops.cast(y_true, y_pred.dtype)
    return y_true, y_pred


def _l2_normalize(x, axis):
    inv_norm = elementwise_ops.rsqrt(
        reduction_ops.reduce_sum(elementwise_ops.square(x), axis=axis, keepdims=True))
    return x * math_ops.minimum(inv_norm, 1.0 / EPSILON)


# -- regression -----------------------------------------------------------------------------------

def mean_squared_error(y_true, y_pred):
    """`mean(square(y_true - y_pred), axis=-1)`."""
    y_true, y_pred = _pred_true(y_true, y_pred)
    return reduction_ops.reduce_mean(elementwise_ops.square(y_true - y_pred), axis=-1)


def mean_absolute_error(y_true, y_pred):
    """`mean(abs(y_true - y_pred), axis=-1)`."""
    y_true, y_pred = _pred_true(y_true, y_pred)
    return reduction_ops.reduce_mean(elementwise_ops.abs(y_true - y_pred), axis=-1)


def mean_absolute_percentage_error(y_true, y_pred):
    """`100 * mean(abs((y_true - y_pred) / max(abs(y_true), epsilon)), axis=-1)`."""
    y_true, y_pred = _pred_true(y_true, y_pred)
    epsilon = constant(EPSILON, y_pred.dtype)
    diff = elementwise_ops.abs(
        (y_true - y_pred) / math_ops.maximum(elementwise_ops.abs(y_true), epsilon))
    return 100.0 * reduction_ops.reduce_mean(diff, axis=-1)


def mean_squared_logarithmic_error(y_true, y_pred):
    """`mean(square(log(y_pred + 1) - log(y_true + 1)), axis=-1)` (inputs floored at eps)."""
    y_true, y_pred = _pred_true(y_true, y_pred)
    epsilon = constant(EPSILON, y_pred.dtype)
    first = elementwise_ops.log(math_ops.maximum(y_pred, epsilon) + 1.0)
    second = elementwise_ops.log(math_ops.maximum(y_true, epsilon) + 1.0)
    return reduction_ops.reduce_mean(elementwise_ops.square(first - second), axis=-1)


def cosine_similarity(y_true, y_pred, axis=-1):
    """Minus the cosine similarity of the L2-normalised vectors along `axis`."""
    y_true, y_pred = _pred_true(y_true, y_pred)
    return -reduction_ops.reduce_sum(_l2_normalize(y_true, axis) * _l2_normalize(y_pred, axis),
                                     axis=axis)


def huber(y_true, y_pred, delta=1.0):
    """Quadratic for errors within `delta`, linear beyond; averaged over the last axis."""
    y_true, y_pred = _pred_true(y_true, y_pred)
    delta = constant(delta, y_pred.dtype)
    error = y_pred - y_true
    abs_error = elementwise_ops.abs(error)
    half = constant(0.5, abs_error.dtype)
    loss = comparison_ops.where(abs_error <= delta, half * elementwise_ops.square(error),
                                delta * abs_error - half * elementwise_ops.square(delta))
    return reduction_ops.reduce_mean(loss, axis=-1)


def log_cosh(y_true, y_pred):
    """`mean(log(cosh(y_pred - y_true)), axis=-1)`, computed stably."""
    y_true, y_pred = _pred_true(y_true, y_pred)
    log2 = constant(math.log(2.0), y_pred.dtype)
    x = y_pred - y_true
    return reduction_ops.reduce_mean(x + nn_ops.softplus(x * -2.0) - log2, axis=-1)


# -- hinge ---------------------------------------------------------------------------------------

def _hinge_labels(y_true):
    """0/1 labels become -1/1; other labels are kept."""
    binary = reduction_ops.reduce_all(comparison_ops.logical_or(
        comparison_ops.equal(y_true, 0), comparison_ops.equal(y_true, 1)))
    return comparison_ops.where(binary, 2.0 * y_true - 1.0, y_true)


def hinge(y_true, y_pred):
    """`mean(maximum(1 - y_true * y_pred, 0), axis=-1)` with labels in {-1, 1} (0/1 mapped)."""
    y_true, y_pred = _cast_like(y_true, y_pred)
    y_true = _hinge_labels(y_true)
    return reduction_ops.reduce_mean(math_ops.maximum(1.0 - y_true * y_pred, 0.0), axis=-1)


def squared_hinge(y_true, y_pred):
    """`mean(square(maximum(1 - y_true * y_pred, 0)), axis=-1)`."""
    y_true, y_pred = _cast_like(y_true, y_pred)
    y_true = _hinge_labels(y_true)
    hinge_ = math_ops.maximum(1.0 - y_true * y_pred, 0.0)
    return reduction_ops.reduce_mean(elementwise_ops.square(hinge_), axis=-1)


def categorical_hinge(y_true, y_pred):
    """`maximum(neg - pos + 1, 0)` with `pos` the true class's score, `neg` the best other."""
    y_true, y_pred = _cast_like(y_true, y_pred)
    pos = reduction_ops.reduce_sum(y_true * y_pred, axis=-1)
    neg = reduction_ops.reduce_max((1.0 - y_true) * y_pred, axis=-1)
    return math_ops.maximum(neg - pos + 1.0, constant(0.0, y_pred.dtype))


# -- probabilistic -------------------------------------------------------------------------------

def kl_divergence(y_true, y_pred):
    """`sum(y_true * log(y_true / y_pred), axis=-1)` (both clipped to `[eps, 1]`)."""
    y_true, y_pred = _cast_like(y_true, y_pred)
    y_true = elementwise_ops.clip_by_value(y_true, EPSILON, 1.0)
    y_pred = elementwise_ops.clip_by_value(y_pred, EPSILON, 1.0)
    return reduction_ops.reduce_sum(y_true * elementwise_ops.log(y_true / y_pred), axis=-1)


def poisson(y_true, y_pred):
    """`mean(y_pred - y_true * log(y_pred + eps), axis=-1)`."""
    y_true, y_pred = _cast_like(y_true, y_pred)
    epsilon = constant(EPSILON, y_pred.dtype)
    return reduction_ops.reduce_mean(y_pred - y_true * elementwise_ops.log(y_pred + epsilon),
                                     axis=-1)


def _logits_of(output, from_logits, fn_name, kind):
    """Keras's `_get_logits`: an output made by softmax/sigmoid is swapped for its logits."""
    logits = keras_logits(output)
    if logits is None:
        return output, from_logits
    if from_logits:
        warnings.warn(f'"`{fn_name}` received `from_logits=True`, but the `output` argument '
                      f"was produced by a {kind} activation and thus does not represent "
                      "logits. Was this intended?", stacklevel=3)
    return convert_to_tensor(logits), True


def _check_same_shape(target, output, rank_message=True):
    if len(target.shape) != len(output.shape):
        raise ValueError("Arguments `target` and `output` must have the same rank (ndim). "
                         f"Received: target.shape={target.shape}, output.shape={output.shape}")
    for a, b in zip(target.shape, output.shape):
        if a is not None and b is not None and a != b:
            raise ValueError("Arguments `target` and `output` must have the same shape. "
                             f"Received: target.shape={target.shape}, "
                             f"output.shape={output.shape}")


def _categorical(target, output, from_logits, axis):
    if len(target.shape) < 1:
        raise ValueError("Arguments `target` and `output` must be at least rank 1. Received: "
                         f"target.shape={target.shape}, output.shape={output.shape}")
    _check_same_shape(target, output)
    output, from_logits = _logits_of(output, from_logits, "categorical_crossentropy",
                                     "Softmax")
    if from_logits:
        return nn_xent_ops.softmax_cross_entropy_with_logits(labels=target, logits=output,
                                                             axis=axis)
    output = output / reduction_ops.reduce_sum(output, axis, keepdims=True)
    output = elementwise_ops.clip_by_value(output, EPSILON, 1.0 - EPSILON)
    return -reduction_ops.reduce_sum(target * elementwise_ops.log(output), axis)


def _sparse_categorical(target, output, from_logits, axis):
    if axis != -1 and axis != len(output.shape) - 1:
        raise ValueError(f"Only axis=-1 is currently supported. Received: axis={axis}")
    output, from_logits = _logits_of(output, from_logits, "sparse_categorical_crossentropy",
                                     "Softmax")
    target = elementwise_ops.cast(target, dtypes.int64)
    if len(target.shape) == len(output.shape) and target.shape[-1] == 1:
        target = array_ops.squeeze(target, axis=-1)
    if len(output.shape) < 1:
        raise ValueError("Argument `output` must be at least rank 1. Received: "
                         f"output.shape={output.shape}")
    if len(target.shape) != len(output.shape[:-1]):
        raise ValueError("Argument `output` must have rank (ndim) `target.ndim - 1`. "
                         f"Received: target.shape={target.shape}, output.shape={output.shape}")
    for a, b in zip(target.shape, output.shape[:-1]):
        if a is not None and b is not None and a != b:
            raise ValueError("Arguments `target` and `output` must have the same shape up "
                             f"until the last dimension: target.shape={target.shape}, "
                             f"output.shape={output.shape}")
    if not from_logits:
        output = elementwise_ops.log(elementwise_ops.clip_by_value(output, EPSILON, 1 - EPSILON))
    return nn_xent_ops.sparse_softmax_cross_entropy_with_logits(labels=target, logits=output)


def _binary(target, output, from_logits):
    _check_same_shape(target, output)
    output, from_logits = _logits_of(output, from_logits, "binary_crossentropy", "Sigmoid")
    if from_logits:
        return nn_xent_ops.sigmoid_cross_entropy_with_logits(labels=target, logits=output)
    output = elementwise_ops.clip_by_value(output, EPSILON, 1.0 - EPSILON)
    bce = target * elementwise_ops.log(output)
    bce += (1 - target) * elementwise_ops.log(1 - output)
    return -bce


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Crossentropy between one-hot (or soft) labels and predicted class probabilities."""
    if isinstance(axis, bool):
        raise ValueError(f"`axis` must be of type `int`. Received: axis={axis} of type "
                         f"{type(axis)}")
    y_pred = convert_to_tensor(y_pred)
    y_true = elementwise_ops.cast(y_true, y_pred.dtype)
    if y_pred.shape[-1] == 1:
        warnings.warn("In loss categorical_crossentropy, expected y_pred.shape to be "
                      "(batch_size, num_classes) with num_classes > 1. Received: "
                      f"y_pred.shape={y_pred.shape}. Consider using 'binary_crossentropy' if "
                      "you only have 2 classes.", SyntaxWarning, stacklevel=2)
    if label_smoothing:
        num_classes = elementwise_ops.cast(array_ops.shape(y_true)[-1], y_pred.dtype)
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / num_classes
    return _categorical(y_true, y_pred, from_logits, axis)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None,
                                    axis=-1):
    """Crossentropy between integer labels and predicted class probabilities (or logits);
    entries labelled `ignore_class` give 0."""
    return _sparse_with_mask(y_true, y_pred, from_logits, ignore_class, axis)[0]


def _sparse_with_mask(y_true, y_pred, from_logits, ignore_class, axis):
    y_true = convert_to_tensor(y_true)
    y_pred = convert_to_tensor(y_pred)
    if len(y_true.shape) == len(y_pred.shape) and y_true.shape[axis] == 1:
        y_true = array_ops.squeeze(y_true, axis=axis)
    valid = None
    if ignore_class is not None:
        valid = comparison_ops.not_equal(y_true, elementwise_ops.cast(ignore_class, y_true.dtype))
        y_true = comparison_ops.where(valid, y_true, creation_ops.zeros_like(y_true))
        y_pred = comparison_ops.where(array_ops.expand_dims(valid, axis), y_pred,
                                      creation_ops.zeros_like(y_pred))
    res = _sparse_categorical(y_true, y_pred, from_logits, axis)
    if valid is not None:
        res = comparison_ops.where(valid, res, creation_ops.zeros_like(res))
    return res, valid


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Crossentropy between 0/1 labels and predicted probabilities (or logits), averaged over
    `axis`."""
    y_pred = convert_to_tensor(y_pred)
    y_true = elementwise_ops.cast(y_true, y_pred.dtype)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    return reduction_ops.reduce_mean(_binary(y_true, y_pred, from_logits), axis=axis)


def binary_focal_crossentropy(y_true, y_pred, apply_class_balancing=False, alpha=0.25,
                              gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1):
    """Binary crossentropy scaled by `(1 - p_t) ** gamma` (focal loss), optionally
    class-balanced by `alpha`."""
    y_pred = convert_to_tensor(y_pred)
    y_true = elementwise_ops.cast(y_true, y_pred.dtype)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        from tapeflow.keras.activations import sigmoid
        y_pred = sigmoid(y_pred)
    bce = _binary(y_true, y_pred, False)
    p_t = y_true * y_pred + (1 - y_true) * (1 - y_pred)
    focal_bce = elementwise_ops.pow(1.0 - p_t, gamma) * bce
    if apply_class_balancing:
        focal_bce = (y_true * alpha + (1 - y_true) * (1 - alpha)) * focal_bce
    return reduction_ops.reduce_mean(focal_bce, axis=axis)


def categorical_focal_crossentropy(y_true, y_pred, alpha=0.25, gamma=2.0, from_logits=False,
                                   label_smoothing=0.0, axis=-1):
    """Categorical crossentropy scaled by `alpha * (1 - p) ** gamma` (focal loss)."""
    if isinstance(axis, bool):
        raise ValueError(f"`axis` must be of type `int`. Received: axis={axis} of type "
                         f"{type(axis)}")
    y_pred = convert_to_tensor(y_pred)
    y_true = elementwise_ops.cast(y_true, y_pred.dtype)
    if label_smoothing:
        num_classes = elementwise_ops.cast(array_ops.shape(y_true)[-1], y_pred.dtype)
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / num_classes
    if from_logits:
        y_pred = nn_ops.softmax(y_pred, axis=axis)
    output = y_pred / reduction_ops.reduce_sum(y_pred, axis=axis, keepdims=True)
    output = elementwise_ops.clip_by_value(output, EPSILON, 1.0 - EPSILON)
    cce = -y_true * elementwise_ops.log(output)
    weighting = elementwise_ops.pow(1.0 - output, gamma) * alpha
    return reduction_ops.reduce_sum(weighting * cce, axis=axis)


# Keras's short names.
mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kullback_leibler_divergence = kl_divergence
logcosh = log_cosh
bce = BCE = binary_crossentropy
