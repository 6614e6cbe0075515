"""`tf.nn.compute_average_loss` and `tf.nn.scale_regularization_loss` (TF's
nn_impl_distribute.py): the loss scaling a custom training loop under a `tf.distribute`
strategy needs so that summing the replicas' gradients gives the gradient of the mean over
the global batch. Compositions of other ops; the number of replicas comes from the current
strategy (`_core/distribute_context.py`).
"""
from tapeflow._core import distribute_context, dtypes
from tapeflow._core.errors import InvalidArgumentError
from tapeflow._core.tensor import convert_to_tensor
from tapeflow.ops.array import expand_dims, shape, squeeze
from tapeflow.ops.elementwise import cast
from tapeflow.ops.math import divide, divide_no_nan, multiply
from tapeflow.ops.reduction import reduce_sum


def _in_replica_context_only(name):
    if distribute_context.in_cross_replica_context():
        raise RuntimeError(f"You are calling `{name}` in cross replica context, while it was "
                           "expected to be called in replica context.")


def _scaled_by_sample_weight(losses, sample_weight):
    """`losses * sample_weight` in float32, the weight's rank matched to the losses' by one
    trailing dimension (TF's `scale_losses_by_sample_weight`)."""
    losses = cast(losses, dtypes.float32)
    weight = cast(convert_to_tensor(sample_weight), dtypes.float32)
    if weight.ndim == losses.ndim + 1 and weight.shape[-1] == 1:
        weight = squeeze(weight, [-1])
    elif weight.ndim and weight.ndim == losses.ndim - 1:
        weight = expand_dims(weight, -1)
    return multiply(losses, weight)


def _checked_batch_size(global_batch_size):
    size = convert_to_tensor(global_batch_size)
    if size.ndim != 0:
        raise ValueError("global_batch_size must be scalar..  Expected scalar shape, saw "
                         f"shape: {size.shape}.")
    if not size.dtype.is_integer:
        raise TypeError("global_batch_size must be an integer..  Expected \"x\" to be integer "
                        f"type.  Found: tensor of dtype <dtype: '{size.dtype.name}'>")
    if not size._is_symbolic() and int(size) < 0:
        raise InvalidArgumentError(None, None, "global_batch_size must be non-negative..  \n"
                                   "Condition x >= 0 did not hold element-wise:\n"
                                   f"x (shape=() dtype={size.dtype.name}) = \n{int(size)}")
    return size


def compute_average_loss(per_example_loss, sample_weight=None, global_batch_size=None):
    """The sum of `per_example_loss` (weighted by `sample_weight`) divided by
    `global_batch_size`, by default this replica's batch size times the number of replicas
    in sync; 0 when the global batch size is 0.

    Example:
    >>> tf.nn.compute_average_loss([1.0, 2.0, 3.0], global_batch_size=6)  # 1.0
    """
    per_example_loss = convert_to_tensor(per_example_loss)
    dtype = per_example_loss.dtype
    if per_example_loss.ndim == 0:
        raise ValueError("Invalid value passed for `per_example_loss`. Expected a tensor with "
                         "at least rank 1. Received "
                         f"per_example_loss={per_example_loss.numpy()} with rank 0")
    if sample_weight is not None:
        per_example_loss = cast(_scaled_by_sample_weight(per_example_loss, sample_weight),
                                dtype)
    if global_batch_size is None:
        _in_replica_context_only("compute_average_loss")
        global_batch_size = multiply(shape(per_example_loss)[0],
                                     distribute_context.num_replicas_in_sync())
    size = _checked_batch_size(global_batch_size)
    total = reduce_sum(per_example_loss)
    return divide_no_nan(total, cast(size, dtype))


def scale_regularization_loss(regularization_loss):
    """The sum of `regularization_loss` divided by the number of replicas in sync, so that
    the replicas' gradients sum to the regularization's gradient once."""
    _in_replica_context_only("scale_regularization_loss")
    total = reduce_sum(convert_to_tensor(regularization_loss))
    return divide(total, distribute_context.num_replicas_in_sync())
