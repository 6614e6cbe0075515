"""The benchmark's per-variable loops (`bench/optimizer_loops.py`, Keras's `update_step` op by
op) and the fused ops compute the same numbers, bit for bit: the benchmark compares like with
like, and each fused kernel performs Keras's operations in Keras's order. Ftrl aside: its
fused powers take torch's scalar-exponent kernels (`sqrt` for the default 0.5, 5x faster),
`tf.pow` the tensor-exponent one, and Ftrl's `sqrt(n + g^2) - sqrt(n)` magnifies their
one-ulp differences (see tests/keras/test_optimizer_numerics.py)."""
import numpy as np
import pytest

import tapeflow as tf
from bench.optimizer_loops import UPDATES, loop_optimizer
from tapeflow import keras

CASES = [("SGD", {"momentum": 0.9, "nesterov": True}), ("SGD", {}), ("Adam", {"amsgrad": True}),
         ("AdamW", {}), ("Nadam", {}), ("Adamax", {}), ("Lion", {}),
         ("RMSprop", {"momentum": 0.5, "centered": True}), ("RMSprop", {}), ("Adagrad", {}),
         ("Adadelta", {"learning_rate": 1.0}),
         ("Ftrl", {"l1_regularization_strength": 0.01, "l2_regularization_strength": 0.1,
                   "l2_shrinkage_regularization_strength": 0.1, "beta": 0.5,
                   "learning_rate_power": -0.3}), ("Ftrl", {}),
         ("Adafactor", {}), ("Adafactor", {"relative_step": False, "clip_threshold": 0.5})]
SHAPES = [(6, 5), (5,), (2, 3, 4), ()]


def _run(opt, init, grads):
    variables = [tf.Variable(w) for w in init]
    for gs in grads:
        opt.apply_gradients(zip([tf.constant(g) for g in gs], variables))
    return [v.numpy() for v in variables] + [np.asarray(v.numpy()) for v in opt.variables]


def test_every_optimizer_has_a_loop():
    fused = {n for n, c in vars(keras.optimizers).items() if isinstance(c, type) and
             issubclass(c, keras.optimizers.Optimizer)} - {"Optimizer", "LossScaleOptimizer"}
    assert fused == set(UPDATES)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("name,kwargs", CASES, ids=[f"{n}-{k}" for n, k in CASES])
def test_fused_op_equals_the_loop(name, kwargs, dtype):
    rng = np.random.default_rng(0)
    init = [np.asarray(rng.standard_normal(s), dtype) for s in SHAPES]
    grads = [[np.asarray(rng.standard_normal(s), dtype) for s in SHAPES] for _ in range(3)]
    kwargs = {"weight_decay": 0.05, **kwargs}
    fused = _run(getattr(keras.optimizers, name)(**kwargs), init, grads)
    loop = _run(loop_optimizer(name, **kwargs), init, grads)
    assert len(fused) == len(loop)
    for a, b in zip(fused, loop):
        if name == "Ftrl" and a.dtype.kind == "f":
            tol = 1e-4 if dtype == np.float32 else 1e-12
            np.testing.assert_allclose(a, b, rtol=tol, atol=tol * np.abs(b).max(initial=1.0))
        else:
            np.testing.assert_array_equal(a, b)
