"""`tf.nn.compute_average_loss` and `scale_regularization_loss` (tapeflow/ops/nn_distribute.py)
against real TF: values, dtypes, sample weights, the replica count of the current strategy,
and TF's errors. Compositions of registered ops: no GRAD_CASES of their own."""
import numpy as np
import pytest

import tapeflow as tf
from tests.parity import assert_same, error_of

CASES = [
    ([1.0, 2.0, 3.0], {}),
    ([1.0, 2.0, 3.0], {"global_batch_size": 6}),
    ([1.0, 2.0, 3.0], {"global_batch_size": 0}),
    ([1.0, 2.0, 3.0], {"sample_weight": [1.0, 0.0, 1.0]}),
    ([[1.0, 2.0], [3.0, 4.0]], {"sample_weight": [1.0, 0.5]}),
    ([[1.0, 2.0], [3.0, 4.0]], {"sample_weight": 2.0}),
    ([[1.0], [3.0]], {"sample_weight": [[2.0], [1.0]]}),
    ([1, 2], {}),
    (np.array([1.0, 2.0]), {"global_batch_size": np.int64(4)}),
    (np.array([1.0, 2.0], np.float16), {"sample_weight": np.array([1.0, 2.0], np.float32)}),
    (np.zeros([0], np.float32), {}),
]


@pytest.mark.parametrize("loss,kwargs", CASES, ids=[str(i) for i in range(len(CASES))])
def test_compute_average_loss(realtf, loss, kwargs):
    assert_same(tf.nn.compute_average_loss(loss, **kwargs),
                realtf.nn.compute_average_loss(loss, **kwargs))


@pytest.mark.parametrize("loss,kwargs", [
    (3.0, {}), ([1.0, 2.0], {"global_batch_size": 2.5}),
    ([1.0, 2.0], {"global_batch_size": -1}), ([1.0, 2.0], {"global_batch_size": [2]})])
def test_compute_average_loss_errors(realtf, loss, kwargs):
    ours = error_of(lambda: tf.nn.compute_average_loss(loss, **kwargs))
    theirs = error_of(lambda: realtf.nn.compute_average_loss(loss, **kwargs))
    assert ours == theirs


@pytest.mark.parametrize("value", [[1.0, 2.0], 3.0, [1, 2]])
def test_scale_regularization_loss(realtf, value):
    assert_same(tf.nn.scale_regularization_loss(value),
                realtf.nn.scale_regularization_loss(value))


@pytest.mark.parametrize("fn", ["compute_average_loss", "scale_regularization_loss"])
def test_cross_replica_context_is_refused(realtf, fn):
    for t in (tf, realtf):
        with t.distribute.MirroredStrategy().scope():
            with pytest.raises(RuntimeError, match=f"You are calling `{fn}` in cross replica "
                                                   "context"):
                getattr(t.nn, fn)([1.0, 2.0])


def test_replica_count_comes_from_the_strategy():
    class Four:  # a stand-in strategy with four replicas in sync
        num_replicas_in_sync = 4

    from tapeflow._core import distribute_context
    distribute_context.push(Four(), object())
    try:
        assert float(tf.nn.compute_average_loss([1.0, 3.0])) == 0.5      # 4 / (2 * 4)
        assert float(tf.nn.scale_regularization_loss([2.0, 6.0])) == 2.0  # 8 / 4
    finally:
        distribute_context.pop()
