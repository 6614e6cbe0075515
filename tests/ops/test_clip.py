"""Norm clipping (tapeflow/ops/clip.py) against real TensorFlow: values, dtypes, gradients,
zero and non-finite norms, None entries and argument errors. The functions are compositions of
registered ops, so they need no GRAD_CASES of their own; their gradients are compared with TF's."""
import numpy as np
import pytest

import tapeflow as tf
from tests.parity import assert_same, assert_same_outcome

R = np.random.default_rng(3)
SHAPES = [(), (4,), (2, 3), (2, 3, 2)]


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("clip_norm", [0.5, 100.0])
def test_clip_by_norm(realtf, dtype, shape, clip_norm):
    x = (R.standard_normal(shape) * 3).astype(dtype)
    rtol = 1e-2 if dtype == "float16" else 1e-6
    assert_same(tf.clip_by_norm(x, clip_norm), realtf.clip_by_norm(x, clip_norm), rtol=rtol)


@pytest.mark.parametrize("axes", [0, [1], [0, 1], -1])
def test_clip_by_norm_axes(realtf, axes):
    x = R.standard_normal((3, 4)).astype("float32")
    assert_same(tf.clip_by_norm(x, 1.0, axes=axes), realtf.clip_by_norm(x, 1.0, axes=axes))


def test_clip_by_norm_of_zero_has_finite_gradient(realtf):
    def grad(lib):
        x = lib.zeros([3])
        with lib.GradientTape() as tape:
            tape.watch(x)
            y = lib.reduce_sum(lib.clip_by_norm(x, 1.0))
        return tape.gradient(y, x)
    assert_same(grad(tf), grad(realtf))


@pytest.mark.parametrize("clip_norm", [0.3, 50.0])
def test_clip_by_norm_gradient(realtf, clip_norm):
    x0 = R.standard_normal((2, 3)).astype("float64")
    w = R.standard_normal((2, 3))

    def grad(lib):
        x = lib.constant(x0)
        with lib.GradientTape() as tape:
            tape.watch(x)
            y = lib.reduce_sum(lib.clip_by_norm(x, clip_norm) * w)
        return tape.gradient(y, x)
    assert_same(grad(tf), grad(realtf), rtol=1e-10)


def test_clip_by_norm_errors_like_tf(realtf):
    assert_same_outcome(lambda: tf.clip_by_norm([1, 2], 1), lambda: realtf.clip_by_norm([1, 2], 1))
    x = np.array([1.0, 2.0], "float32")
    for bound in (np.float64(1.0), np.array(-1.0), -2.0, np.array([[0.5], [3.0]])):
        assert_same_outcome(lambda: tf.clip_by_norm(x, tf.constant(bound)),
                            lambda: realtf.clip_by_norm(x, realtf.constant(bound)))
        assert_same_outcome(lambda: tf.clip_by_norm(x, bound),
                            lambda: realtf.clip_by_norm(x, bound))


@pytest.mark.parametrize("clip_norm", [0.5, 1e3])
def test_clip_by_global_norm(realtf, clip_norm):
    values = [R.standard_normal((2, 3)).astype("float32"), None,
              R.standard_normal((4,)).astype("float32")]
    ours, ours_norm = tf.clip_by_global_norm(values, clip_norm)
    theirs, their_norm = realtf.clip_by_global_norm(values, clip_norm)
    assert ours[1] is None and theirs[1] is None
    assert_same([ours[0], ours[2]], [theirs[0], theirs[2]])
    assert_same(ours_norm, their_norm)
    assert_same(tf.linalg.global_norm(values), realtf.linalg.global_norm(values))


def test_clip_by_global_norm_variables_use_norm_and_nonfinite(realtf):
    ours = tf.clip_by_global_norm([tf.Variable([3.0, 4.0])], 1.0, use_norm=tf.constant(10.0))
    theirs = realtf.clip_by_global_norm([realtf.Variable([3.0, 4.0])], 1.0,
                                        use_norm=realtf.constant(10.0))
    assert_same(ours[0], theirs[0])
    assert_same(ours[1], theirs[1])
    inf = [np.array([np.inf, 1.0], "float32")]
    assert_same(tf.clip_by_global_norm(inf, 1.0)[0], realtf.clip_by_global_norm(inf, 1.0)[0])


def test_clip_by_global_norm_gradient(realtf):
    a0, b0 = R.standard_normal((2, 2)), R.standard_normal((3,))

    def grad(lib):
        a, b = lib.constant(a0), lib.constant(b0)
        with lib.GradientTape() as tape:
            tape.watch([a, b])
            (ca, cb), _ = lib.clip_by_global_norm([a, b], 0.7)
            y = lib.reduce_sum(ca * ca) + lib.reduce_sum(cb * 2.0)
        return tape.gradient(y, [a, b])
    assert_same(grad(tf), grad(realtf), rtol=1e-10)


def test_clip_by_global_norm_needs_a_sequence(realtf):
    for bad in ("ab", np.ones(3, "float32")):
        with pytest.raises(TypeError) as ours:
            tf.clip_by_global_norm(bad, 1.0)
        with pytest.raises(TypeError) as theirs:
            realtf.clip_by_global_norm(bad, 1.0)
        assert str(ours.value) == str(theirs.value).replace("tensorflow", "tapeflow")
