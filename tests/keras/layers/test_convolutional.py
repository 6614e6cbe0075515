"""Convolution layers against real Keras: same weights in, same outputs and gradients out."""
import numpy as np
import pytest

import tapeflow as tf
from tests.keras.layers._parity import check_layer

keras = tf.keras
R = np.random.default_rng(10)


def _both(realtf, cls, *args, **kwargs):
    return getattr(keras.layers, cls)(*args, **kwargs), \
        getattr(realtf.keras.layers, cls)(*args, **kwargs)


def _nchw_pair(realtf, name, x, *args, **kwargs):
    """Ours in channels_first vs Keras's channels_last (TF's CPU convs have no NCHW)."""
    ours = getattr(keras.layers, name)(*args, data_format="channels_first", **kwargs)
    theirs = getattr(realtf.keras.layers, name)(*args, **kwargs)
    n = x.ndim - 2
    to_first = (0, n + 1) + tuple(range(1, n + 1))
    to_last = (0,) + tuple(range(2, n + 2)) + (1,)
    t = theirs(x)
    ours(x.transpose(to_first))
    ours.set_weights(theirs.get_weights())
    np.testing.assert_allclose(ours(x.transpose(to_first)).numpy().transpose(to_last),
                               t.numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kwargs", [
    dict(filters=4, kernel_size=3),
    dict(filters=3, kernel_size=(2, 3), strides=2, padding="same", activation="relu"),
    dict(filters=2, kernel_size=3, dilation_rate=2, padding="same", use_bias=False),
    dict(filters=5, kernel_size=(3, 1), strides=(1, 2), padding="valid", activation="tanh"),
])
def test_conv2d_matches_keras(realtf, kwargs):
    x = R.standard_normal((2, 8, 7, 3))
    if kwargs.get("dilation_rate", 1) > 1:  # TF's CPU kernels have no dilated gradients
        ours, theirs = _both(realtf, "Conv2D", **kwargs)
        theirs(x.astype("float32"))
        ours(x.astype("float32"))
        ours.set_weights(theirs.get_weights())
        np.testing.assert_allclose(ours(x.astype("float32")).numpy(),
                                   theirs(x.astype("float32")).numpy(), rtol=1e-5, atol=1e-5)
        return
    check_layer(realtf, *_both(realtf, "Conv2D", **kwargs), x)


def test_conv2d_channels_first(realtf):
    _nchw_pair(realtf, "Conv2D", R.standard_normal((2, 7, 6, 3)).astype("float32"), 4, 3,
               strides=2, padding="same")


@pytest.mark.parametrize("kwargs", [dict(filters=4, kernel_size=3),
                                    dict(filters=2, kernel_size=2, strides=2, padding="same"),
                                    dict(filters=3, kernel_size=3, padding="causal")])
def test_conv1d_matches_keras(realtf, kwargs):
    check_layer(realtf, *_both(realtf, "Conv1D", **kwargs), R.standard_normal((2, 9, 3)))


@pytest.mark.parametrize("kwargs", [dict(filters=2, kernel_size=2),
                                    dict(filters=3, kernel_size=(1, 2, 3), strides=2,
                                         padding="same")])
def test_conv3d_matches_keras(realtf, kwargs):
    check_layer(realtf, *_both(realtf, "Conv3D", **kwargs), R.standard_normal((1, 4, 5, 6, 2)))


@pytest.mark.parametrize("kwargs", [
    dict(filters=3, kernel_size=3),
    dict(filters=2, kernel_size=3, strides=2, padding="same"),
    dict(filters=2, kernel_size=(2, 3), strides=(2, 1), padding="valid", activation="relu"),
    dict(filters=2, kernel_size=3, strides=2, padding="same", output_padding=1),
])
def test_conv2d_transpose_matches_keras(realtf, kwargs):
    check_layer(realtf, *_both(realtf, "Conv2DTranspose", **kwargs),
                R.standard_normal((2, 4, 5, 3)))


@pytest.mark.parametrize("kwargs", [dict(kernel_size=3),
                                    dict(kernel_size=3, strides=2, padding="same",
                                         depth_multiplier=2, activation="relu")])
def test_depthwise_conv2d_matches_keras(realtf, kwargs):
    check_layer(realtf, *_both(realtf, "DepthwiseConv2D", **kwargs),
                R.standard_normal((2, 7, 6, 3)))


@pytest.mark.parametrize("kwargs", [dict(filters=4, kernel_size=3),
                                    dict(filters=2, kernel_size=3, strides=2, padding="same",
                                         depth_multiplier=2)])
def test_separable_conv2d_matches_keras(realtf, kwargs):
    ours, theirs = check_layer(realtf, *_both(realtf, "SeparableConv2D", **kwargs),
                               R.standard_normal((2, 7, 6, 3)))
    assert [w.name for w in ours.weights] == ["depthwise_kernel", "pointwise_kernel", "bias"]


@pytest.mark.parametrize("name,args,kwargs", [
    ("Conv2D", (4, 3), dict(strides=2, padding="same", activation="relu")),
    ("Conv1D", (3, 2), {}),
    ("Conv2DTranspose", (4, 3), dict(output_padding=1, strides=2)),
    ("DepthwiseConv2D", (3,), dict(depth_multiplier=2)),
    ("SeparableConv2D", (4, 3), {}),
])
def test_config_matches_keras(realtf, name, args, kwargs):
    ours, theirs = _both(realtf, name, *args, name="layer", **kwargs)
    assert ours.get_config() == theirs.get_config()


def test_kernel_shape_and_argument_errors():
    layer = keras.layers.Conv2D(8, 3)
    layer(np.ones((1, 5, 5, 2), "float32"))
    assert [tuple(w.shape) for w in layer.weights] == [(3, 3, 2, 8), (8,)]
    with pytest.raises(ValueError, match="filters"):
        keras.layers.Conv2D(0, 3)
    with pytest.raises(ValueError, match="padding"):
        keras.layers.Conv2D(2, 3, padding="full")
    with pytest.raises(ValueError, match="kernel_size"):
        keras.layers.Conv2D(2, (3, 3, 3))


@pytest.mark.parametrize("name,args", [("Conv2D", (2, 3)), ("MaxPooling2D", ()),
                                       ("DepthwiseConv2D", (3,))])
def test_wrong_rank_error_matches_keras(realtf, name, args):
    x = np.ones((1, 28, 28), "float32")
    with pytest.raises(ValueError) as theirs:
        getattr(realtf.keras.layers, name)(*args)(x)
    with pytest.raises(ValueError) as ours:
        getattr(keras.layers, name)(*args)(x)
    assert str(ours.value).split("layer '")[1].split("'")[1:] == \
        str(theirs.value).split("layer '")[1].split("'")[1:]
