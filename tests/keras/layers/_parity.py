"""Shared check for layer parity tests: the same layer in tapeflow and real Keras, Keras's
weights copied into ours, then outputs and input/weight gradients compared."""
import numpy as np

import tapeflow as tf
from tests.parity import assert_same


def _run(m, layer, x, training):
    xt = m.constant(x)
    with m.GradientTape() as tape:
        tape.watch(xt)
        y = layer(xt, training=training) if training is not None else layer(xt)
        w = np.linspace(-1, 1, int(np.prod(y.shape))).reshape(tuple(y.shape))
        loss = m.reduce_sum(y * m.constant(w, y.dtype))
    weights = list(layer.trainable_weights)
    grads = tape.gradient(loss, [xt] + weights)
    return y, grads


def check_layer(realtf, ours, theirs, x, training=None, rtol=1e-5, atol=1e-5):
    """Builds both layers on x, copies Keras's weights into ours and compares."""
    x = np.asarray(x, dtype="float32")
    theirs(x)
    ours(x)
    assert [tuple(w.shape) for w in ours.weights] == [tuple(w.shape) for w in theirs.weights]
    ours.set_weights(theirs.get_weights())
    y, g = _run(tf, ours, x, training)
    ty, tg = _run(realtf, theirs, x, training)
    assert_same(y, ty, rtol=rtol, atol=atol)
    for a, b in zip(g, tg):
        if b is None:
            assert a is None
        else:
            assert_same(a, b, rtol=rtol, atol=atol)
    return ours, theirs
