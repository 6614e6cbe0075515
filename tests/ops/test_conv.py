"""tf.nn convolutions against real TensorFlow (values and first derivatives, NHWC and NCHW,
SAME/VALID/explicit padding, strides, dilations), and the gradient cases of the convolution ops
(forward, input gradient and filter gradient of each family)."""
import numpy as np
import pytest

import tapeflow as tf
from tapeflow.ops import conv
from tests.gradcheck import GradCase
from tests.parity import assert_same

R = np.random.default_rng(6)


def _bp_input(family, sizes, attrs):
    return lambda f, g: family.backprop_input(sizes, f, g, attrs)


def _bp_filter(family, sizes, attrs):
    return lambda x, g: family.backprop_filter(x, sizes, g, attrs)


# (strides, dilations, pads, channels_first): SAME with an odd pixel after, on purpose.
_A2 = ((2, 1), (1, 1), ((0, 1), (1, 1)), False)
_A3 = ((1, 2, 1), (1, 1, 1), ((0, 0), (0, 1), (1, 1)), False)
_AD = ((1, 1), (2, 1), ((1, 1), (0, 1)), True)

GRAD_CASES = [
    GradCase("Conv2D", lambda x, f: tf.nn.conv2d(x, f, 2, "SAME"),
             [R.standard_normal((1, 4, 5, 2)), R.standard_normal((2, 3, 2, 2))]),
    GradCase("Conv2DBackpropInput", _bp_input(conv.CONV2D, (1, 4, 3, 2), _A2),
             [R.standard_normal((2, 3, 2, 2)), R.standard_normal((1, 2, 3, 2))]),
    GradCase("Conv2DBackpropFilter", _bp_filter(conv.CONV2D, (2, 3, 2, 2), _A2),
             [R.standard_normal((1, 4, 3, 2)), R.standard_normal((1, 2, 3, 2))]),
    GradCase("Conv3D", lambda x, f: tf.nn.conv3d(x, f, (1, 2, 1), "SAME"),
             [R.standard_normal((1, 2, 4, 3, 1)), R.standard_normal((1, 2, 3, 1, 2))]),
    GradCase("Conv3DBackpropInputV2", _bp_input(conv.CONV3D, (1, 2, 4, 3, 1), _A3),
             [R.standard_normal((1, 2, 3, 1, 2)), R.standard_normal((1, 2, 2, 3, 2))]),
    GradCase("Conv3DBackpropFilterV2", _bp_filter(conv.CONV3D, (1, 2, 3, 1, 2), _A3),
             [R.standard_normal((1, 2, 4, 3, 1)), R.standard_normal((1, 2, 2, 3, 2))]),
    GradCase("DepthwiseConv2dNative",
             lambda x, f: tf.nn.depthwise_conv2d(x, f, (1, 1, 1, 1), "SAME", "NCHW", (2, 1)),
             [R.standard_normal((1, 2, 4, 3)), R.standard_normal((2, 2, 2, 2))]),
    GradCase("DepthwiseConv2dNativeBackpropInput", _bp_input(conv.DEPTHWISE, (1, 2, 4, 3), _AD),
             [R.standard_normal((2, 2, 2, 2)), R.standard_normal((1, 4, 4, 3))]),
    GradCase("DepthwiseConv2dNativeBackpropFilter",
             _bp_filter(conv.DEPTHWISE, (2, 2, 2, 2), _AD),
             [R.standard_normal((1, 2, 4, 3)), R.standard_normal((1, 4, 4, 3))]),
]


def _run(m, fn, x, f):
    """fn's output and the gradients of a weighted sum of it w.r.t. x and f."""
    xt, ft = m.constant(x), m.constant(f)
    with m.GradientTape() as tape:
        tape.watch([xt, ft])
        y = fn(m, xt, ft)
        loss = m.reduce_sum(y * m.constant(np.linspace(-1, 1, int(np.prod(y.shape)))
                                           .reshape(tuple(y.shape)), y.dtype))
    return [y] + tape.gradient(loss, [xt, ft])


def _nchw(m, fn):
    """fn applied to NCHW data through TF's NHWC kernels (TF's CPU conv has no NCHW)."""
    def run(x, *args):
        n = x.ndim - 2
        y = fn(m.transpose(x, (0,) + tuple(range(2, n + 2)) + (1,)), *args)
        return m.transpose(y, (0, n + 1) + tuple(range(1, n + 1)))
    return run


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape,kernel,strides,padding", [
    ((2, 7, 6, 3), (3, 3, 3, 4), 1, "SAME"),
    ((2, 8, 8, 3), (3, 3, 3, 4), 2, "SAME"),
    ((2, 9, 7, 2), (2, 4, 2, 3), (2, 3), "SAME"),
    ((1, 7, 6, 3), (3, 2, 3, 2), (1, 2), "VALID"),
    ((1, 6, 6, 2), (3, 3, 2, 2), 1, [[0, 0], [1, 2], [0, 1], [0, 0]]),
])
def test_conv2d_matches_tf(realtf, dtype, shape, kernel, strides, padding):
    x, f = R.standard_normal(shape).astype(dtype), R.standard_normal(kernel).astype(dtype)

    def fn(m, xt, ft):
        return m.nn.conv2d(xt, ft, strides, padding)

    tol = 1e-4 if dtype == "float32" else 1e-10
    assert_same(_run(tf, fn, x, f), _run(realtf, fn, x, f), rtol=tol, atol=tol)


@pytest.mark.parametrize("strides,padding", [(1, "SAME"), (2, "SAME"), (2, "VALID")])
def test_conv2d_nchw_matches_tf_nhwc(realtf, strides, padding):
    x, f = R.standard_normal((2, 3, 7, 8)), R.standard_normal((3, 3, 3, 4))
    ours = _run(tf, lambda m, xt, ft: m.nn.conv2d(xt, ft, strides, padding, "NCHW"), x, f)
    theirs = _run(realtf, lambda m, xt, ft: _nchw(m, lambda a: m.nn.conv2d(
        a, ft, strides, padding))(xt), x, f)
    assert_same(ours, theirs, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("dilations,padding", [(2, "SAME"), ((2, 3), "VALID")])
def test_dilated_conv2d_matches_tf(realtf, dilations, padding):
    x, f = R.standard_normal((1, 9, 10, 2)), R.standard_normal((3, 2, 2, 3))
    assert_same(tf.nn.conv2d(x, f, 1, padding, dilations=dilations),
                realtf.nn.conv2d(x, f, 1, padding, dilations=dilations), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("stride,padding,fmt", [(1, "SAME", "NWC"), (2, "VALID", "NWC"),
                                                (2, "SAME", "NCW")])
def test_conv1d_matches_tf(realtf, stride, padding, fmt):
    x, f = R.standard_normal((2, 9, 3)), R.standard_normal((3, 3, 4))

    def fn(m, xt, ft):
        if fmt == "NCW" and m is realtf:
            return _nchw(m, lambda a: m.nn.conv1d(a, ft, stride, padding))(xt)
        return m.nn.conv1d(xt, ft, stride, padding, data_format=fmt)

    if fmt == "NCW":
        x = x.transpose(0, 2, 1).copy()
    assert_same(_run(tf, fn, x, f), _run(realtf, fn, x, f), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("strides,padding", [(1, "SAME"), ((1, 2, 2), "SAME"), (2, "VALID")])
def test_conv3d_matches_tf(realtf, strides, padding):
    x, f = R.standard_normal((1, 4, 5, 6, 2)), R.standard_normal((2, 3, 2, 2, 3))

    def fn(m, xt, ft):
        return m.nn.conv3d(xt, ft, (1,) + (strides if isinstance(strides, tuple)
                                           else (strides,) * 3) + (1,), padding)

    assert_same(_run(tf, fn, x, f), _run(realtf, fn, x, f), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("in_shape,out_shape,strides,padding", [
    ((2, 4, 4, 3), (2, 8, 8, 2), 2, "SAME"),
    ((2, 4, 5, 3), (2, 9, 11, 2), 2, "VALID"),
    ((1, 5, 5, 3), (1, 5, 5, 2), 1, "SAME"),
    ((1, 3, 3, 3), (1, 6, 8, 2), (2, 3), "SAME"),
])
def test_conv2d_transpose_matches_tf(realtf, in_shape, out_shape, strides, padding):
    x, f = R.standard_normal(in_shape), R.standard_normal((3, 3, 2, 3))

    def fn(m, xt, ft):
        return m.nn.conv2d_transpose(xt, ft, out_shape, strides, padding)

    assert_same(_run(tf, fn, x, f), _run(realtf, fn, x, f), rtol=1e-10, atol=1e-10)


def test_conv1d_and_3d_transpose_match_tf(realtf):
    x, f = R.standard_normal((2, 4, 3)), R.standard_normal((3, 2, 3))
    assert_same(tf.nn.conv1d_transpose(x, f, (2, 8, 2), 2),
                realtf.nn.conv1d_transpose(x, f, (2, 8, 2), 2), rtol=1e-10, atol=1e-10)
    x, f = R.standard_normal((1, 2, 3, 3, 3)), R.standard_normal((2, 2, 2, 2, 3))
    assert_same(tf.nn.conv3d_transpose(x, f, (1, 4, 6, 5, 2), 2, "SAME"),
                realtf.nn.conv3d_transpose(x, f, (1, 4, 6, 5, 2), 2, "SAME"),
                rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("strides,padding,rate", [((1, 1, 1, 1), "SAME", None),
                                                  ((1, 2, 2, 1), "SAME", None),
                                                  ((1, 2, 2, 1), "VALID", None),
                                                  ((1, 1, 1, 1), "SAME", (2, 2))])
def test_depthwise_and_separable_match_tf(realtf, strides, padding, rate):
    x = R.standard_normal((2, 7, 6, 3))
    f, p = R.standard_normal((3, 3, 3, 2)), R.standard_normal((1, 1, 6, 4))

    def depthwise(m, xt, ft):
        return m.nn.depthwise_conv2d(xt, ft, strides, padding, dilations=rate)

    def separable(m, xt, ft):
        return m.nn.separable_conv2d(xt, ft, m.constant(p), strides, padding, dilations=rate)

    for fn in (depthwise, separable):
        if rate is None:
            assert_same(_run(tf, fn, x, f), _run(realtf, fn, x, f), rtol=1e-10, atol=1e-10)
        else:  # TF's CPU kernels have no dilated gradients: compare the values
            assert_same(fn(tf, tf.constant(x), tf.constant(f)),
                        fn(realtf, realtf.constant(x), realtf.constant(f)), rtol=1e-10,
                        atol=1e-10)


def test_second_derivative_of_conv2d_matches_tf(realtf):
    x, f = R.standard_normal((1, 5, 5, 2)), R.standard_normal((3, 3, 2, 2))

    def second(m):
        xt, ft = m.constant(x), m.constant(f)
        with m.GradientTape(persistent=True) as outer:
            outer.watch([xt, ft])
            with m.GradientTape() as inner:
                inner.watch([xt, ft])
                y = m.reduce_sum(m.square(m.nn.conv2d(xt, ft, 2, "SAME")))
            gx, gf = inner.gradient(y, [xt, ft])
            z = m.reduce_sum(gx * gx) + m.reduce_sum(gf * gf * gf)
        return outer.gradient(z, [xt, ft])

    assert_same(second(tf), second(realtf), rtol=1e-9, atol=1e-9)


def test_conv_in_tf_function_matches_eager():
    x, f = tf.constant(R.standard_normal((2, 6, 6, 3))), tf.constant(R.standard_normal(
        (3, 3, 3, 2)))

    def step(x, f):
        with tf.GradientTape() as tape:
            tape.watch(f)
            y = tf.reduce_sum(tf.nn.conv2d(x, f, 2, "SAME") ** 2)
        return y, tape.gradient(y, f)

    assert_same(tf.function(step)(x, f), step(x, f), rtol=1e-12, atol=1e-12)


def test_conv_errors():
    x = tf.ones((1, 5, 5, 3))
    with pytest.raises(ValueError, match="padding"):
        tf.nn.conv2d(x, tf.ones((3, 3, 3, 2)), 1, "FULL")
    with pytest.raises(ValueError, match="multiple"):
        tf.nn.conv2d(x, tf.ones((3, 3, 2, 2)), 1, "SAME")
    with pytest.raises(ValueError):
        tf.nn.conv2d(x, tf.ones((3, 3, 3, 2), tf.float64), 1, "SAME")
    with pytest.raises(tf.errors.InvalidArgumentError):
        tf.nn.conv2d(tf.ones((1, 5, 5, 3), tf.int32), tf.ones((3, 3, 3, 2), tf.int32), 1,
                     "SAME")
