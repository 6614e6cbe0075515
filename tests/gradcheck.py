"""Finite-difference gradient checks (the Chainer `check_backward` idea).

Op test modules declare `GRAD_CASES`, a list of `GradCase`s; `tests/autodiff/test_registry_gradients.py`
collects them from every `tests/ops/test_*.py` and checks that each differentiable op in the
registry has at least one case, so a new op without a gradient check fails the suite.
"""
import dataclasses

import numpy as np

import tapeflow as tf


@dataclasses.dataclass
class GradCase:
    op: str                 # the registered TF op name, e.g. "AddV2"
    fn: callable            # takes tapeflow tensors (float64), returns a tensor or list
    inputs: list            # NumPy float64 arrays (or scalars) for fn's arguments
    wrt: tuple = None       # indices of inputs to differentiate (default: all)
    rtol: float = 1e-5
    atol: float = 1e-6

    def __repr__(self):
        shapes = [np.shape(x) for x in self.inputs]
        return f"{self.op}{shapes}"


def _scalarize(out, weights):
    outs = out if isinstance(out, (list, tuple)) else [out]
    total = None
    for o, w in zip(outs, weights):
        if not o.dtype.is_floating:
            continue
        term = _sum(o * tf.constant(w))
        total = term if total is None else total + term
    return total


def _sum(x):
    from tapeflow.ops.broadcast import reduce_sum_raw
    return reduce_sum_raw(x, tuple(range(x.ndim)), False)


def check_gradient(case, eps=1e-6):
    """Analytic (tape) vs central-difference gradients of a random projection of fn's output."""
    rng = np.random.default_rng(0)
    xs = [np.array(x, dtype=np.float64) for x in case.inputs]
    wrt = range(len(xs)) if case.wrt is None else case.wrt
    probe = case.fn(*[tf.constant(x) for x in xs])
    outs = probe if isinstance(probe, (list, tuple)) else [probe]
    weights = [rng.standard_normal(tuple(o.shape)) for o in outs]

    def value(arrays):
        return float(_scalarize(case.fn(*[tf.constant(a) for a in arrays]), weights).numpy())

    tensors = [tf.constant(x) for x in xs]
    with tf.GradientTape() as tape:
        for i in wrt:
            tape.watch(tensors[i])
        y = _scalarize(case.fn(*tensors), weights)
    analytic = tape.gradient(y, [tensors[i] for i in wrt])
    for i, g in zip(wrt, analytic):
        numeric = np.zeros_like(xs[i])
        flat = numeric.reshape(-1)
        for j in range(flat.size):
            plus = [a.copy() for a in xs]
            minus = [a.copy() for a in xs]
            plus[i].reshape(-1)[j] += eps
            minus[i].reshape(-1)[j] -= eps
            flat[j] = (value(plus) - value(minus)) / (2 * eps)
        if g is not None:
            # A gradient has its input's shape and dtype (allclose alone would broadcast).
            assert tuple(g.shape) == xs[i].shape, \
                f"gradient of {case!r} w.r.t. input {i}: shape {tuple(g.shape)} != {xs[i].shape}"
            assert g.dtype == tf.float64, \
                f"gradient of {case!r} w.r.t. input {i}: dtype {g.dtype.name} != float64"
        got = np.zeros_like(xs[i]) if g is None else np.asarray(g.numpy(), dtype=np.float64)
        np.testing.assert_allclose(got, numeric, rtol=case.rtol, atol=case.atol,
                                   err_msg=f"gradient of {case!r} w.r.t. input {i}")
