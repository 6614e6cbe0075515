"""tf.nn max/avg pooling against real TensorFlow (values, first and second derivatives, SAME
padding that TF does not count, NCHW), and the gradient cases of the pooling ops."""
import numpy as np
import pytest

import tapeflow as tf
from tapeflow.ops import pooling
from tapeflow.ops._op import execute
from tests.gradcheck import GradCase
from tests.parity import assert_same

R = np.random.default_rng(7)


def _distinct(shape):
    """Values far apart (no ties, so finite differences keep each window's maximum)."""
    return R.permutation(int(np.prod(shape))).reshape(shape) * 0.1


_P2 = ((2, 2), (2, 1), ((0, 1), (0, 1)), False)   # 2x2 windows, SAME with the pad after
_P3 = ((2, 1, 2), (2, 1, 1), ((0, 1), (0, 0), (0, 1)), False)


def _op(op, kernel, attrs):
    return lambda *xs: execute(op, kernel, xs, attrs)


def _avg_grad(op, sizes, attrs):
    return lambda g: execute(op, pooling._avg_pool_grad_kernel, (g,), (sizes,) + attrs)


GRAD_CASES = [
    GradCase("MaxPool", lambda x: tf.nn.max_pool2d(x, 2, (2, 1), "SAME"),
             [_distinct((1, 3, 4, 2))]),
    GradCase("MaxPoolGrad", _op(pooling.MAX_POOL.grad, pooling._max_pool_grad_kernel, _P2),
             [_distinct((1, 3, 3, 1)), np.zeros((1, 2, 3, 1)), R.standard_normal((1, 2, 3, 1))]),
    GradCase("MaxPoolGradGrad", _op(pooling.MAX_POOL.grad_grad,
                                    pooling._max_pool_grad_grad_kernel, _P2),
             [_distinct((1, 3, 3, 1)), np.zeros((1, 2, 3, 1)), R.standard_normal((1, 3, 3, 1))]),
    GradCase("MaxPool3D", lambda x: tf.nn.max_pool3d(x, (2, 1, 2), (2, 1, 1), "SAME"),
             [_distinct((1, 3, 2, 3, 1))]),
    GradCase("MaxPool3DGrad", _op(pooling.MAX_POOL3D.grad, pooling._max_pool_grad_kernel, _P3),
             [_distinct((1, 3, 2, 3, 1)), np.zeros((1, 2, 2, 3, 1)),
              R.standard_normal((1, 2, 2, 3, 1))]),
    GradCase("MaxPool3DGradGrad", _op(pooling.MAX_POOL3D.grad_grad,
                                      pooling._max_pool_grad_grad_kernel, _P3),
             [_distinct((1, 3, 2, 3, 1)), np.zeros((1, 2, 2, 3, 1)),
              R.standard_normal((1, 3, 2, 3, 1))]),
    GradCase("AvgPool", lambda x: tf.nn.avg_pool2d(x, (2, 3), (2, 1), "SAME"),
             [R.standard_normal((1, 3, 4, 2))]),
    GradCase("AvgPoolGrad", _avg_grad(pooling.AVG_POOL.grad, (1, 3, 3, 1), _P2),
             [R.standard_normal((1, 2, 3, 1))]),
    GradCase("AvgPool3D", lambda x: tf.nn.avg_pool3d(x, 2, 1, "SAME"),
             [R.standard_normal((1, 2, 3, 2, 1))]),
    GradCase("AvgPool3DGrad", _avg_grad(pooling.AVG_POOL3D.grad, (1, 3, 2, 3, 1), _P3),
             [R.standard_normal((1, 2, 2, 3, 1))]),
]


def _first(m, fn, x):
    xt = m.constant(x)
    with m.GradientTape() as tape:
        tape.watch(xt)
        y = fn(m, xt)
        loss = m.reduce_sum(y * y)
    return [y, tape.gradient(loss, xt)]


def _first_and_second(m, fn, x):
    xt = m.constant(x)
    with m.GradientTape() as outer:
        outer.watch(xt)
        with m.GradientTape() as inner:
            inner.watch(xt)
            y = fn(m, xt)
            loss = m.reduce_sum(y * y)
        g = inner.gradient(loss, xt)
        z = m.reduce_sum(g * g * xt)
    return [y, g, outer.gradient(z, xt)]


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("shape,ksize,strides,padding", [
    ((2, 8, 8, 3), 2, 2, "VALID"),
    ((2, 9, 7, 3), 3, 2, "SAME"),
    ((1, 7, 6, 2), (2, 3), (1, 2), "SAME"),
    ((1, 6, 6, 2), 3, 1, "SAME"),
])
def test_pool2d_matches_tf(realtf, kind, shape, ksize, strides, padding):
    x = _distinct(shape)

    def fn(m, xt):
        return getattr(m.nn, f"{kind}_pool2d")(xt, ksize, strides, padding)

    assert_same(_first_and_second(tf, fn, x), _first_and_second(realtf, fn, x), rtol=1e-10,
                atol=1e-10)


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("ksize,strides,padding", [(2, 2, "VALID"), (3, 2, "SAME")])
def test_pool1d_and_3d_match_tf(realtf, kind, ksize, strides, padding):
    x1, x3 = _distinct((2, 9, 3)), _distinct((1, 5, 4, 6, 2)).astype("float32")
    for x in (x1, x3):
        def fn(m, xt):
            # (TF's gradient fails when data_format is left None)
            fmt = "NWC" if xt.shape.rank == 3 else "NDHWC"
            return getattr(m.nn, f"{kind}_pool")(xt, ksize, strides, padding, fmt)
        assert_same(_first(tf, fn, x), _first(realtf, fn, x),
                    rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("shape,ksize,strides,padding,data_format", [
    ((6, 10, 10, 4), 2, 2, "VALID", "NHWC"),
    ((5, 11, 9, 3), 3, 2, "SAME", "NHWC"),      # overlapping windows, padded
    ((6, 3, 10, 10), 2, 2, "VALID", "NCHW"),
    ((4, 5, 6, 6, 2), 2, 2, "SAME", "NDHWC"),
])
def test_large_max_pool_gradient_in_blocks_matches_one_call_and_tf(realtf, monkeypatch, shape,
                                                                   ksize, strides, padding,
                                                                   data_format):
    """A max pool gradient larger than the cache is computed a few images at a time; with
    ties (rounded values) it routes each window's gradient to the same cell as one call over
    the whole batch, bit for bit, and as TF's MaxPoolGrad. (Ties in 3-D: TF's Eigen kernel
    gives every tied cell all of the gradient, its oneDNN one, what TF runs by default in a
    tf.function, the first cell, as tapeflow and every 2-D kernel do; so 3-D is compared with
    TF without ties.)"""
    x = np.round(R.standard_normal(shape) * 2).astype(np.float32)
    name = "max_pool2d" if len(shape) == 4 else "max_pool3d"

    def grad(m, as_nhwc):
        fmt = "NHWC" if as_nhwc else data_format
        xt = m.constant(x.transpose(0, 2, 3, 1) if as_nhwc else x)
        fn = getattr(m.nn, name)

        def step(xt):
            with m.GradientTape() as tape:
                tape.watch(xt)
                y = fn(xt, ksize, strides, padding, data_format=fmt)
                loss = m.reduce_sum(y * y + y)  # never 0 at the integers of x
            return tape.gradient(loss, xt)
        return m.function(step, autograph=False)(xt).numpy()

    monkeypatch.setattr(pooling, "_CHUNK_BYTES", 1 << 40)
    whole = grad(tf, False)
    monkeypatch.setattr(pooling, "_CHUNK_BYTES", x[0].nbytes)  # an image a block
    blocks = grad(tf, False)
    np.testing.assert_array_equal(blocks, whole)
    if len(shape) == 5:
        x = np.round(_distinct(shape) * 10).astype(np.float32)  # distinct integers
        blocks = grad(tf, False)
    if data_format == "NCHW":  # TF's CPU pools are NHWC only: TF's, transposed
        np.testing.assert_array_equal(blocks, grad(realtf, True).transpose(0, 3, 1, 2))
    else:
        np.testing.assert_array_equal(blocks, grad(realtf, False))


@pytest.mark.parametrize("kind", ["max", "avg"])
def test_nchw_pooling_matches_tf_nhwc(realtf, kind):
    x = _distinct((2, 3, 7, 6))
    ours = getattr(tf.nn, f"{kind}_pool2d")(x, 3, 2, "SAME", data_format="NCHW")
    theirs = realtf.transpose(getattr(realtf.nn, f"{kind}_pool2d")(
        realtf.constant(x.transpose(0, 2, 3, 1)), 3, 2, "SAME"), (0, 3, 1, 2))
    assert_same(ours, theirs, rtol=1e-12, atol=1e-12)


def test_pool_dtypes_and_errors(realtf):
    x = np.arange(16, dtype="float16").reshape(1, 4, 4, 1)
    assert_same(tf.nn.max_pool2d(tf.constant(x), 2, 2, "VALID"),
                realtf.nn.max_pool2d(realtf.constant(x), 2, 2, "VALID"))
    with pytest.raises(ValueError, match="rank"):
        tf.nn.max_pool(np.ones((2, 2), "float32"), 2, 2, "VALID")
    with pytest.raises(tf.errors.InvalidArgumentError):
        tf.nn.max_pool2d(np.ones((1, 4, 4, 1), "int32"), 2, 2, "VALID")
