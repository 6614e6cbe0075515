"""The collective ops (tapeflow/ops/collective.py) on stand-in communicators whose worlds
have exact finite differences: with `Copies(n)` the n replicas all hold this replica's
value, so an all-sum is n * x; with `Zeros(n, rank)` the other replicas hold zeros, so an
all-gather puts x in this replica's slot (and the gradient's all-sum adds nothing). That
the ops stay in a tf.function plan, in order, is checked by counting the communicator's
calls. The real communicator is exercised by tests/distribute/test_multi_worker.py.
"""
import numpy as np
import pytest
import torch

import tapeflow as tf
from tapeflow.ops import collective
from tests.gradcheck import GradCase


class Copies:
    """n replicas holding the same values; this one has `rank`."""

    def __init__(self, n, rank=0):
        self.num_replicas, self.rank = n, rank
        self.calls = []

    def all_reduce(self, tensors, op):
        self.calls.append(("all_reduce", op, len(tensors)))
        return [t.clone() if op == "mean" else t * self.num_replicas for t in tensors]

    def all_gather(self, tensor, axis):
        self.calls.append(("all_gather", axis))
        return torch.cat([tensor] * self.num_replicas, axis)

    def broadcast(self, tensor):
        self.calls.append(("broadcast",))
        return tensor.clone()


class Zeros(Copies):
    """n replicas, the others holding zeros."""

    def all_reduce(self, tensors, op):
        self.calls.append(("all_reduce", op, len(tensors)))
        return [t / self.num_replicas if op == "mean" else t.clone() for t in tensors]

    def all_gather(self, tensor, axis):
        self.calls.append(("all_gather", axis))
        parts = [tensor if i == self.rank else torch.zeros_like(tensor)
                 for i in range(self.num_replicas)]
        return torch.cat(parts, axis)


TWO = Copies(2)

GRAD_CASES = [
    GradCase("CollectiveReduceV2", lambda x: collective.all_reduce([x], TWO, "sum")[0],
             [np.linspace(-1, 1, 6).reshape(2, 3)]),
    GradCase("CollectiveReduceV2", lambda x, y: collective.all_reduce([x, y], TWO, "mean"),
             [np.array([0.5, -2.0]), np.array([[1.0, 3.0]])]),
    GradCase("CollectiveGatherV2", lambda x: collective.all_gather(x, Zeros(3, rank=1), 0),
             [np.linspace(-1, 1, 4).reshape(2, 2)]),
    GradCase("CollectiveGatherV2", lambda x: collective.all_gather(x, Zeros(2, rank=1), 1),
             [np.arange(6.0).reshape(3, 2)]),
]


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "int64"])
def test_all_reduce_values_and_dtypes(dtype):
    x = tf.constant([1, 2, 3], dtype=dtype)
    total, = collective.all_reduce([x], Copies(4), "sum")
    assert total.dtype == x.dtype and total.numpy().tolist() == [4, 8, 12]
    mean, = collective.all_reduce([x], Copies(4), "mean")
    # TF's mean of integers is a true division (float64)
    assert mean.dtype == (tf.float64 if dtype.startswith("int") else x.dtype)
    assert mean.numpy().tolist() == [1, 2, 3]


def test_all_reduce_refuses_what_tf_cannot_reduce():
    with pytest.raises(tf.errors.InvalidArgumentError, match="does not support bool"):
        collective.all_reduce([tf.constant([True])], Copies(2))
    with pytest.raises(ValueError, match="op='max'"):
        collective.all_reduce([tf.constant([1.0])], Copies(2), "max")


def test_all_gather_shape_and_scalar_error():
    out = collective.all_gather(tf.ones([2, 3]), Copies(3), axis=-1)
    assert out.shape == (2, 9)
    with pytest.raises(tf.errors.InvalidArgumentError, match="rank >= 1"):
        collective.all_gather(tf.constant(1.0), Copies(2))


def test_collectives_stay_in_a_traced_plan_in_order():
    """A plan keeps every collective (never folded, merged or dropped, even on constants or
    when two are alike), in trace order, and runs them on every call."""
    comm = Copies(2)

    @tf.function
    def step(x):
        a = collective.all_reduce([x], comm, "sum")[0]
        b = collective.all_reduce([x], comm, "sum")[0]  # the same inputs: not merged
        collective.broadcast(tf.constant([1.0]), comm)  # unused, constant input: kept
        g = collective.all_gather(a + b, comm, 0)
        return g

    step(tf.constant([1.0, 2.0]))
    comm.calls.clear()
    out = step(tf.constant([1.0, 2.0]))
    assert out.numpy().tolist() == [4.0, 8.0, 4.0, 8.0]
    assert comm.calls == [("all_reduce", "sum", 1), ("all_reduce", "sum", 1), ("broadcast",),
                          ("all_gather", 0)]
