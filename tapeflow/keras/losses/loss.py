"""`keras.losses.Loss`: the base of loss objects, and the reduction every loss shares.

Calling a loss converts both arguments to its dtype (float32 by default; integer labels too,
as Keras does), computes per-sample values with `call`, weights them by `sample_weight` (and
a mask, when the loss makes one), and reduces: 'sum_over_batch_size' (the sum divided by the
number of values, 0 for none), 'sum', or 'none'/None (the weighted values).
"""
from tapeflow._core import dtypes
from tapeflow._core.dtypes import as_dtype
from tapeflow._core.tensor import convert_to_tensor, is_tensor
from tapeflow.ops import (array as array_ops, comparison as comparison_ops,
                          creation as creation_ops, elementwise as elementwise_ops,
                          math as math_ops, reduction as reduction_ops)
from tapeflow._core import distribute_context
from tapeflow.keras.engine.naming import auto_name

_REDUCTIONS = {"sum_over_batch_size", "sum", None, "none", "mean", "mean_with_sample_weight"}


class Reduction:
    """`tf.keras.losses.Reduction`: the reduction names as constants (legacy API)."""
    AUTO = "auto"
    NONE = "none"
    SUM = "sum"
    SUM_OVER_BATCH_SIZE = "sum_over_batch_size"

    @classmethod
    def all(cls):
        return (cls.AUTO, cls.NONE, cls.SUM, cls.SUM_OVER_BATCH_SIZE)

    @classmethod
    def validate(cls, key):
        if key not in cls.all():
            raise ValueError(f'Invalid Reduction Key: {key}. Expected keys are "{cls.all()}"')


def standardize_reduction(reduction):
    if reduction not in _REDUCTIONS:
        raise ValueError("Invalid value for argument `reduction`. Expected one of "
                         f"{_REDUCTIONS}. Received: reduction={reduction}")
    return reduction


def convert(x, dtype):
    """`x` as a tensor of `dtype`, casting tensors of another dtype (Keras's conversion)."""
    if is_tensor(x):
        x = convert_to_tensor(x)
        return x if x.dtype is dtype else elementwise_ops.cast(x, dtype)
    return convert_to_tensor(x, dtype=dtype)


def _convert_structure(x, dtype):
    """Nested lists of numbers are one tensor; dicts (several outputs) convert per entry."""
    if isinstance(x, dict):
        return {k: _convert_structure(v, dtype) for k, v in x.items()}
    return convert(x, dtype)


class Loss:
    """Loss base class: subclasses implement `call(y_true, y_pred)` returning per-sample
    losses.

    Args:
        reduction: 'sum_over_batch_size' (default), 'sum', 'none' or None, 'mean',
            'mean_with_sample_weight'.
        name: the loss's name.
        dtype: the dtype the inputs are converted to (default float32).

    Example:
    >>> class MeanSquared(keras.losses.Loss):
    ...     def call(self, y_true, y_pred):
    ...         return tf.reduce_mean(tf.square(y_pred - y_true), axis=-1)
    """

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None):
        self.name = name or auto_name(type(self))
        self.reduction = standardize_reduction(reduction)
        self._dtype = as_dtype(dtype or "float32")

    @property
    def dtype(self):
        return self._dtype.name

    def __call__(self, y_true, y_pred, sample_weight=None):
        dtype = self._dtype
        y_pred = _convert_structure(y_pred, dtype)
        y_true = _convert_structure(y_true, dtype)
        losses, mask = self._call_with_mask(y_true, y_pred)
        return reduce_weighted_values(losses, sample_weight, mask, self.reduction, dtype)

    def _call_with_mask(self, y_true, y_pred):
        return self.call(y_true, y_pred), None

    def call(self, y_true, y_pred):
        raise NotImplementedError

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def squeeze_or_expand_to_same_rank(x1, x2, expand_rank_1=True):
    """Makes ranks agree when they differ by a trailing dimension of size 1."""
    r1, r2 = len(x1.shape), len(x2.shape)
    if r1 == r2:
        return x1, x2
    if r1 == r2 + 1 and x1.shape[-1] == 1:
        if r2 == 1 and expand_rank_1:
            x2 = array_ops.expand_dims(x2, axis=-1)
        else:
            x1 = array_ops.squeeze(x1, axis=-1)
    if r2 == r1 + 1 and x2.shape[-1] == 1:
        if r1 == 1 and expand_rank_1:
            x1 = array_ops.expand_dims(x1, axis=-1)
        else:
            x2 = array_ops.squeeze(x2, axis=-1)
    return x1, x2


def reduce_values(values, sample_weight=None, reduction="sum_over_batch_size"):
    shape = tuple(values.shape)
    if reduction is None or reduction == "none" or shape == () or shape == (0,):
        return values
    loss = reduction_ops.reduce_sum(values)
    if reduction in ("sum_over_batch_size", "mean", "mean_with_sample_weight"):
        if reduction == "mean_with_sample_weight" and sample_weight is not None:
            divisor = elementwise_ops.cast(reduction_ops.reduce_sum(sample_weight), loss.dtype)
        else:
            n = values.shape.num_elements()
            if n:  # a static, non-zero size: the same division, without two ops for the size
                return scale_loss_for_distribution(loss / float(n))
            divisor = elementwise_ops.cast(array_ops.size(values), loss.dtype)
        loss = scale_loss_for_distribution(math_ops.divide_no_nan(loss, divisor))
    return loss


def scale_loss_for_distribution(value):
    """`value` divided by the number of replicas in sync (Keras's rule for a mean loss under
    a tf.distribute strategy: the replicas' gradients are then summed)."""
    n = distribute_context.num_replicas_in_sync()
    return value if n == 1 else value * elementwise_ops.cast(1.0 / n, value.dtype)


def unscale_loss_for_distribution(value):
    """`value` multiplied back by the number of replicas in sync (for the loss metrics)."""
    n = distribute_context.num_replicas_in_sync()
    return value if n == 1 else value * elementwise_ops.cast(n, value.dtype)


def reduce_weighted_values(values, sample_weight=None, mask=None,
                           reduction="sum_over_batch_size", dtype=None):
    """Weights `values` by `sample_weight` (and `mask`) and reduces them."""
    reduction = standardize_reduction(reduction)
    values = convert(values, dtype) if dtype is not None else convert_to_tensor(values)
    if sample_weight is not None:
        sample_weight = convert(sample_weight, values.dtype)
    if mask is not None:
        sample_weight = apply_mask(sample_weight, mask, values.dtype, reduction)
    if sample_weight is not None:
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        values = values * sample_weight
    return reduce_values(values, sample_weight, reduction)


def apply_mask(sample_weight, mask, dtype, reduction):
    """Folds a boolean mask into the sample weights (rescaled so that a mean over the batch
    becomes a mean over the unmasked values)."""
    if reduction in ("mean", "sum_over_batch_size"):
        total = elementwise_ops.cast(array_ops.size(mask), dtype)
        valid = reduction_ops.reduce_sum(elementwise_ops.cast(mask, dtype))
        weight = math_ops.divide_no_nan(total, valid)
        float_mask = comparison_ops.where(elementwise_ops.cast(mask, dtypes.bool), weight,
                                          creation_ops.zeros_like(weight))
    else:
        float_mask = elementwise_ops.cast(mask, dtype)
    if sample_weight is not None:
        float_mask, sample_weight = squeeze_or_expand_to_same_rank(float_mask, sample_weight)
        return sample_weight * float_mask
    return float_mask
