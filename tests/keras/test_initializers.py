"""Initializers: exact values for the deterministic ones (against real Keras 3), the
distribution and bounds of the random ones, reproducibility under tf.random.set_seed and with
a `seed`, configs and lookup by name."""
import math

import numpy as np
import pytest

import tapeflow as tf
from tapeflow import keras
from tests.parity import assert_same

RANDOM = ["GlorotUniform", "GlorotNormal", "HeNormal", "HeUniform", "LecunNormal",
          "LecunUniform", "RandomNormal", "RandomUniform", "TruncatedNormal",
          "VarianceScaling"]


@pytest.fixture(scope="module")
def rk(realtf):
    import keras as real_keras
    return real_keras


def test_deterministic_initializers_match_keras(rk):
    for name, kwargs, shape in (("Zeros", {}, (2, 3)), ("Ones", {}, (4,)),
                                ("Constant", {"value": 2.5}, (2, 2)),
                                ("Identity", {"gain": 2.0}, (3, 4))):
        for dtype in ("float32", "float64"):
            ours = getattr(keras.initializers, name)(**kwargs)(shape, dtype=dtype)
            theirs = getattr(rk.initializers, name)(**kwargs)(shape, dtype=dtype)
            assert_same(ours, theirs)
    with pytest.raises(ValueError, match="Identity matrix initializer can only be used for 2D"):
        keras.initializers.Identity()((2, 2, 2))


@pytest.mark.parametrize("name", RANDOM)
def test_random_initializers_follow_the_global_seed(name):
    init = getattr(keras.initializers, name)()
    tf.random.set_seed(11)
    a, b = init((30, 20)), init((30, 20))
    tf.random.set_seed(11)
    a2 = getattr(keras.initializers, name)()((30, 20))
    assert a.shape == (30, 20) and a.dtype == tf.float32
    np.testing.assert_array_equal(a.numpy(), a2.numpy())
    assert not np.array_equal(a.numpy(), b.numpy())
    seeded = getattr(keras.initializers, name)(seed=5)
    np.testing.assert_array_equal(seeded((4, 3)).numpy(), seeded((4, 3)).numpy())
    assert init((2, 2), dtype="float64").dtype == tf.float64


@pytest.mark.parametrize("name,limit_or_std,kind", [
    ("GlorotUniform", math.sqrt(6 / (300 + 200)), "uniform"),
    ("HeUniform", math.sqrt(6 / 300), "uniform"),
    ("LecunUniform", math.sqrt(3 / 300), "uniform"),
    ("GlorotNormal", math.sqrt(2 / (300 + 200)), "truncated"),
    ("HeNormal", math.sqrt(2 / 300), "truncated"),
    ("LecunNormal", math.sqrt(1 / 300), "truncated"),
])
def test_variance_scaling_statistics(name, limit_or_std, kind):
    tf.random.set_seed(0)
    w = getattr(keras.initializers, name)()((300, 200)).numpy()
    if kind == "uniform":
        assert w.min() >= -limit_or_std and w.max() <= limit_or_std
        np.testing.assert_allclose(w.std(), limit_or_std / math.sqrt(3), rtol=0.02)
    else:
        assert np.abs(w).max() <= 2 * limit_or_std / 0.87962566103423978 + 1e-6
        np.testing.assert_allclose(w.std(), limit_or_std, rtol=0.03)


def test_random_normal_and_uniform_statistics():
    tf.random.set_seed(0)
    w = keras.initializers.RandomNormal(mean=1.0, stddev=0.5)((200, 200)).numpy()
    np.testing.assert_allclose([w.mean(), w.std()], [1.0, 0.5], rtol=0.02)
    u = keras.initializers.RandomUniform(-2.0, 3.0)((200, 200)).numpy()
    assert u.min() >= -2.0 and u.max() < 3.0
    np.testing.assert_allclose(u.mean(), 0.5, atol=0.05)


def test_fans_of_convolution_kernels():
    assert keras.initializers.compute_fans((3, 3, 16, 32)) == (144, 288)
    assert keras.initializers.compute_fans((5,)) == (5, 5)
    assert keras.initializers.compute_fans(()) == (1, 1)


def test_orthogonal():
    if not (hasattr(tf.linalg, "qr") and hasattr(tf.linalg, "diag_part")):
        pytest.skip("tf.linalg.qr / diag_part not available yet")
    tf.random.set_seed(0)
    for shape in ((6, 4), (4, 6), (2, 3, 4)):
        w = keras.initializers.Orthogonal(gain=2.0)(shape).numpy().reshape(-1, shape[-1])
        small = w.T @ w if w.shape[0] >= w.shape[1] else w @ w.T
        np.testing.assert_allclose(small, 4.0 * np.eye(small.shape[0]), atol=1e-5)


def test_configs_and_lookup(rk):
    for name in RANDOM + ["Zeros", "Ones", "Constant", "Identity", "Orthogonal"]:
        assert getattr(keras.initializers, name)().get_config() == \
            getattr(rk.initializers, name)().get_config(), name
    for alias, cls in (("glorot_uniform", "GlorotUniform"), ("zeros", "Zeros"),
                       ("he_normal", "HeNormal"), ("random_normal", "RandomNormal"),
                       ("orthogonal", "Orthogonal"), ("uniform", "RandomUniform"),
                       ("GlorotNormal", "GlorotNormal")):
        assert type(keras.initializers.get(alias)).__name__ == cls
    cfg = keras.initializers.serialize(keras.initializers.RandomNormal(stddev=2.0, seed=3))
    again = keras.initializers.deserialize(cfg)
    assert again.get_config() == {"mean": 0.0, "stddev": 2.0, "seed": 3}
    fn = lambda shape, dtype=None: tf.zeros(shape)  # noqa: E731
    assert keras.initializers.get(fn) is fn
    with pytest.raises(ValueError, match="Could not interpret initializer identifier"):
        keras.initializers.get("nope")
