"""BatchNormalization and LayerNormalization against real Keras: outputs, gradients, moving
statistics (eagerly and inside tf.function) and configs."""
import numpy as np
import pytest

import tapeflow as tf
from tests.keras.layers._parity import check_layer
from tests.parity import assert_same

keras = tf.keras
R = np.random.default_rng(13)


def _both(realtf, cls, **kwargs):
    return getattr(keras.layers, cls)(**kwargs), getattr(realtf.keras.layers, cls)(**kwargs)


def _randomize(layer):
    layer.set_weights([w + R.standard_normal(w.shape).astype(w.dtype) * 0.3 + (i == 3)
                       for i, w in enumerate(layer.get_weights())])


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("kwargs,shape", [
    ({}, (6, 4)),
    ({}, (3, 4, 5, 2)),
    (dict(axis=1), (3, 2, 4, 5)),
    (dict(center=False, momentum=0.9, epsilon=1e-2), (4, 3, 2)),
    (dict(scale=False), (5, 3)),
])
def test_batch_normalization_matches_keras(realtf, training, kwargs, shape):
    ours, theirs = _both(realtf, "BatchNormalization", **kwargs)
    x = (R.standard_normal(shape) * 2 + 1).astype("float32")
    theirs(x)
    _randomize(theirs)
    ours, theirs = check_layer(realtf, ours, theirs, x, training=training, rtol=1e-4,
                               atol=1e-4)
    # the moving statistics moved (training) or stayed (inference) alike
    assert_same(ours.get_weights(), theirs.get_weights(), rtol=1e-5, atol=1e-6)


def test_batch_normalization_weights_and_config(realtf):
    ours, theirs = _both(realtf, "BatchNormalization", name="bn")
    ours(np.ones((2, 3), "float32"))
    assert [w.name for w in ours.weights] == ["gamma", "beta", "moving_mean",
                                              "moving_variance"]
    assert [w.name for w in ours.non_trainable_weights] == ["moving_mean", "moving_variance"]
    assert ours.get_config() == theirs.get_config()


def test_moving_statistics_update_inside_tf_function(realtf):
    x = (R.standard_normal((8, 3)) * 3 + 2).astype("float32")
    ours, theirs = _both(realtf, "BatchNormalization", momentum=0.5)
    ours(x)
    theirs(x)

    @tf.function
    def step(x):
        return ours(x, training=True)

    for _ in range(3):
        step(tf.constant(x))
        theirs(x, training=True)
    assert_same(ours.moving_mean, theirs.moving_mean, rtol=1e-5, atol=1e-6)
    assert_same(ours.moving_variance, theirs.moving_variance, rtol=1e-5, atol=1e-6)


def test_frozen_batch_normalization_uses_moving_statistics():
    layer = keras.layers.BatchNormalization()
    x = np.arange(12, dtype="float32").reshape(4, 3)
    layer(x)
    layer.trainable = False
    y = layer(x, training=True).numpy()
    np.testing.assert_allclose(y, x / np.sqrt(1 + 1e-3), rtol=1e-6)
    np.testing.assert_array_equal(layer.moving_mean.numpy(), np.zeros(3))


@pytest.mark.parametrize("kwargs,shape", [
    ({}, (4, 6)),
    ({}, (2, 3, 5)),
    (dict(axis=[1, 2]), (2, 3, 4)),
    (dict(axis=1, center=False), (2, 3, 4)),
    (dict(scale=False, epsilon=1e-5), (3, 4)),
])
def test_layer_normalization_matches_keras(realtf, kwargs, shape):
    ours, theirs = _both(realtf, "LayerNormalization", **kwargs)
    x = (R.standard_normal(shape) * 2 + 1).astype("float32")
    theirs(x)
    _randomize(theirs)
    check_layer(realtf, ours, theirs, x, rtol=1e-4, atol=1e-4)
    assert ours.get_config() == {**theirs.get_config(), "name": ours.name}


def test_batch_normalization_trains_in_fit_and_updates_moving_statistics():
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((64, 6, 6, 2)) * 2 + 3).astype("float32")
    y = (x.mean(axis=(1, 2, 3)) > 3).astype("int32")
    model = keras.Sequential([keras.Input((6, 6, 2)), keras.layers.Conv2D(4, 3),
                              keras.layers.BatchNormalization(momentum=0.5),
                              keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(2)])
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    bn = model.layers[1]
    before = bn.moving_mean.numpy().copy()
    model.fit(x, y, batch_size=16, epochs=2, verbose=0)
    assert not np.allclose(bn.moving_mean.numpy(), before)
    assert [w.name for w in model.non_trainable_weights] == ["moving_mean", "moving_variance"]
