"""Finite-difference checks of the graph control-flow steps' gradients (If, While,
ReduceDataset): each case traces a tf.function once and replays its steps op by op under the
checker's tape, so the tape differentiates the step itself (its residuals and backward plan)."""
import io

import numpy as np

import tapeflow as tf
from tests.gradcheck import GradCase

_SINK = io.StringIO()  # the side effect that makes a cond a step of its own, silently


def _replayed(fn):
    traced = tf.function(fn)

    def run(*xs):
        return traced.get_concrete_function(*xs)._call_recorded(list(xs))
    return run


def _loop(x, w):
    return tf.while_loop(lambda i, y: i < 3, lambda i, y: (i + 1, tf.sin(y * w) + x),
                         (tf.constant(0), x))[1]


def _branch(x, w):
    def taken():
        tf.print("", output_stream=_SINK)
        return x * w * w
    return tf.cond(tf.reduce_sum(x) > 0.0, taken, lambda: x - tf.exp(w))


_DATA = np.array([[0.5, -1.0], [2.0, 0.25], [1.5, 1.0]])


def _over_dataset(w):
    ds = tf.data.Dataset.from_tensor_slices(tf.constant(_DATA))
    s = tf.zeros([2], tf.float64)
    for x in ds:
        s = s * w + tf.tanh(x * w)
    return s


GRAD_CASES = [
    GradCase("While", _replayed(_loop), [np.array([0.3, -0.7]), np.array(1.3)]),
    GradCase("If", _replayed(_branch), [np.array([0.3, 0.7]), np.array(1.3)]),
    GradCase("If", _replayed(_branch), [np.array([-0.3, -0.7]), np.array(0.4)]),
    GradCase("ReduceDataset", _replayed(_over_dataset), [np.array([0.8, -0.6])]),
]
