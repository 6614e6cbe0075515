"""Collective ops: all-reduce, all-gather and broadcast across the replicas of a tf.distribute
job (TF's CollectiveReduceV2, CollectiveGatherV2, CollectiveBcastRecvV2).

A kernel calls the job's *communicator*, passed as an attr: an object with
`all_reduce(torch tensors, op)`, `all_gather(tensor, axis)`, `broadcast(tensor)`, `rank` and
`num_replicas`, built by `tapeflow.distribute` on torch.distributed; this layer knows nothing
of processes. The ops are stateful, so a tf.function plan keeps every one in the order it was
traced and never folds, merges or drops one: every worker must meet the same collectives in
the same order. The gradient of an all-sum is an all-sum (an all-mean, an all-mean), as TF's
`ReplicaContext.all_reduce` defines it.
"""
import torch

from tapeflow._core import dtypes
from tapeflow._core.tensor import convert_to_tensor
from tapeflow.ops._op import define, error, execute
from tapeflow.ops.creation import zeros_like
from tapeflow.ops.elementwise import cast
from tapeflow.ops.indexing import slice as slice_
from tapeflow.ops.math import divide

ALL_REDUCE = define("CollectiveReduceV2", stateful=True)
ALL_GATHER = define("CollectiveGatherV2", stateful=True)
BROADCAST = define("CollectiveBcastRecvV2", differentiable=False, stateful=True)

REDUCTIONS = ("sum", "mean")


def _all_reduce_kernel(*args):
    *tensors, communicator, op = args
    return communicator.all_reduce(list(tensors), op)


def _all_reduce_meta(*args):
    return [torch.empty_like(t) for t in args[:-2]]


ALL_REDUCE.meta_fn = _all_reduce_meta


def all_reduce(tensors, communicator, op="sum"):
    """The element-wise `op` ("sum" or "mean") of each tensor over all replicas; one
    collective call carries all of them (packed per dtype by the communicator)."""
    if op not in REDUCTIONS:
        raise ValueError(f"Unsupported reduction: op={op!r}; expected one of {REDUCTIONS}.")
    tensors = [convert_to_tensor(t) for t in tensors]
    if not tensors:
        return []
    for t in tensors:
        if t._dtype is dtypes.string or t._dtype is dtypes.bool:
            raise error(f"Collective all-reduce does not support {t._dtype.name} tensors",
                        ALL_REDUCE)
    if op == "mean" and any(t._dtype.is_integer for t in tensors):
        # TF's mean of integers is a true division: float64, computed from the sum.
        sums = execute(ALL_REDUCE, _all_reduce_kernel, tuple(tensors), (communicator, "sum"))
        n = communicator.num_replicas
        return [divide(s, n) if s._dtype.is_integer else divide(s, cast(n, s._dtype))
                for s in sums]
    return list(execute(ALL_REDUCE, _all_reduce_kernel, tuple(tensors), (communicator, op)))


@ALL_REDUCE.gradient
def _(node, *grads):
    communicator, op = node.attrs
    grads = [zeros_like(x) if g is None else g for g, x in zip(grads, node.inputs)]
    return tuple(all_reduce(grads, communicator, op))


def _all_gather_kernel(t, communicator, axis):
    return communicator.all_gather(t, axis)


def _all_gather_meta(t, communicator, axis):
    # Inside a trace the size along `axis` is taken to be the same on every replica.
    shape = list(t.shape)
    shape[axis] *= communicator.num_replicas
    return torch.empty(shape, dtype=t.dtype, device="meta")


ALL_GATHER.meta_fn = _all_gather_meta


def all_gather(tensor, communicator, axis=0):
    """The replicas' tensors concatenated along `axis`, in replica order."""
    tensor = convert_to_tensor(tensor)
    if tensor.ndim == 0:
        raise error("Collective all-gather needs a tensor of rank >= 1; got a scalar",
                    ALL_GATHER)
    axis = axis + tensor.ndim if axis < 0 else axis
    return execute(ALL_GATHER, _all_gather_kernel, (tensor,), (communicator, axis))


@ALL_GATHER.gradient
def _(node, grad):
    # Every replica's output holds this replica's input: its gradient is the sum of the
    # replicas' output gradients, at this replica's rows (sizes taken equal, as in a trace).
    communicator, axis = node.attrs
    total = all_reduce([grad], communicator, "sum")[0]
    x = node.inputs[0]
    begin = [0] * x.ndim
    begin[axis] = communicator.rank * x.shape[axis]
    return slice_(total, begin, list(x.shape))


def _broadcast_kernel(t, communicator):
    return communicator.broadcast(t)


BROADCAST.meta_fn = lambda t, communicator: torch.empty_like(t)


def broadcast(tensor, communicator):
    """The chief's (replica 0's) value of `tensor`, on every replica."""
    return execute(BROADCAST, _broadcast_kernel, (convert_to_tensor(tensor),), (communicator,))
