"""UpSampling, ZeroPadding and Cropping layers against real Keras."""
import numpy as np
import pytest

import tapeflow as tf
from tests.keras.layers._parity import check_layer

keras = tf.keras
R = np.random.default_rng(12)


def _both(realtf, cls, **kwargs):
    return getattr(keras.layers, cls)(**kwargs), getattr(realtf.keras.layers, cls)(**kwargs)


@pytest.mark.parametrize("cls,kwargs,shape", [
    ("UpSampling2D", {}, (2, 3, 4, 2)),
    ("UpSampling2D", dict(size=(3, 1)), (2, 3, 4, 2)),
    ("UpSampling2D", dict(size=2, data_format="channels_first"), (2, 2, 3, 4)),
    ("UpSampling1D", dict(size=3), (2, 4, 3)),
    ("UpSampling2D", dict(size=(2, 3), interpolation="bilinear"), (2, 3, 4, 2)),
    ("UpSampling2D", dict(size=2, interpolation="bilinear", data_format="channels_first"),
     (1, 2, 3, 3)),
    ("ZeroPadding2D", {}, (2, 3, 4, 2)),
    ("ZeroPadding2D", dict(padding=((1, 0), (2, 3))), (2, 3, 4, 2)),
    ("ZeroPadding2D", dict(padding=(2, 1), data_format="channels_first"), (2, 2, 3, 4)),
    ("ZeroPadding1D", dict(padding=(1, 2)), (2, 4, 3)),
    ("Cropping2D", dict(cropping=((1, 0), (1, 2))), (2, 4, 5, 2)),
    ("Cropping2D", dict(cropping=1, data_format="channels_first"), (2, 2, 4, 5)),
    ("Cropping1D", dict(cropping=(1, 2)), (2, 6, 3)),
])
def test_reshaping_matches_keras(realtf, cls, kwargs, shape):
    ours, theirs = check_layer(realtf, *_both(realtf, cls, **kwargs), R.standard_normal(shape))
    assert ours.get_config() == {**theirs.get_config(), "name": ours.name}


def test_cropping_too_much_raises():
    with pytest.raises(ValueError, match="cropping"):
        keras.layers.Cropping2D(3)(np.ones((1, 4, 4, 1), "float32"))
