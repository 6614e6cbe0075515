"""Losses against real Keras 3: values for every reduction and with sample weights, the
function forms, name lookup, configs, and the softmax-logits path of crossentropy."""
import numpy as np
import pytest

import tapeflow as tf
from tapeflow import keras
from tests.parity import assert_same

R = np.random.default_rng(7)
N, C = 5, 4
PROBS = R.dirichlet(np.ones(C), N).astype(np.float32)
ONE_HOT = np.eye(C, dtype=np.float32)[R.integers(0, C, N)]
LABELS = R.integers(0, C, N).astype(np.int32)
REAL = R.standard_normal((N, C)).astype(np.float32)
REAL2 = R.standard_normal((N, C)).astype(np.float32)
POSITIVE = (R.random((N, C)) + 0.1).astype(np.float32)
BINARY = R.integers(0, 2, (N, C)).astype(np.float32)
SIGMOID = (1 / (1 + np.exp(-REAL))).astype(np.float32)

# (class name, kwargs, y_true, y_pred)
CASES = [
    ("MeanSquaredError", {}, REAL, REAL2),
    ("MeanAbsoluteError", {}, REAL, REAL2),
    ("MeanAbsolutePercentageError", {}, REAL, REAL2),
    ("MeanSquaredLogarithmicError", {}, POSITIVE, REAL2),
    ("CosineSimilarity", {}, REAL, REAL2),
    ("Huber", {}, REAL, REAL2 * 2),
    ("Huber", {"delta": 0.5}, REAL, REAL2 * 2),
    ("LogCosh", {}, REAL, REAL2),
    ("Hinge", {}, BINARY, REAL),
    ("SquaredHinge", {}, BINARY * 2 - 1, REAL),
    ("CategoricalHinge", {}, ONE_HOT, REAL),
    ("KLDivergence", {}, PROBS, PROBS[::-1].copy()),
    ("Poisson", {}, POSITIVE, POSITIVE[::-1].copy()),
    ("BinaryCrossentropy", {}, BINARY, SIGMOID),
    ("BinaryCrossentropy", {"from_logits": True}, BINARY, REAL),
    ("BinaryCrossentropy", {"label_smoothing": 0.2}, BINARY, SIGMOID),
    ("CategoricalCrossentropy", {}, ONE_HOT, PROBS),
    ("CategoricalCrossentropy", {"from_logits": True}, ONE_HOT, REAL),
    ("CategoricalCrossentropy", {"label_smoothing": 0.1}, ONE_HOT, PROBS),
    ("SparseCategoricalCrossentropy", {}, LABELS, PROBS),
    ("SparseCategoricalCrossentropy", {"from_logits": True}, LABELS, REAL),
    ("SparseCategoricalCrossentropy", {}, LABELS[:, None].copy(), PROBS),
    ("SparseCategoricalCrossentropy", {"ignore_class": 1}, LABELS, PROBS),
    ("BinaryFocalCrossentropy", {}, BINARY, SIGMOID),
    ("BinaryFocalCrossentropy", {"apply_class_balancing": True, "from_logits": True,
                                 "gamma": 3.0}, BINARY, REAL),
    ("CategoricalFocalCrossentropy", {}, ONE_HOT, PROBS),
    ("CategoricalFocalCrossentropy", {"from_logits": True, "label_smoothing": 0.1}, ONE_HOT,
     REAL),
]
IDS = [f"{n}-{k}-{i}" for i, (n, k, _, _) in enumerate(CASES)]
WEIGHTS = R.random(N).astype(np.float32)


@pytest.fixture(scope="module")
def rk(realtf):
    """Keras 3 itself (`tf.keras` in TF 2.21 lacks some of its function names)."""
    import keras as real_keras
    return real_keras


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "none"])
@pytest.mark.parametrize("name,kwargs,y_true,y_pred", CASES, ids=IDS)
def test_loss_classes_match_keras(realtf, name, kwargs, y_true, y_pred, reduction):
    ours = getattr(keras.losses, name)(reduction=reduction, **kwargs)
    theirs = getattr(realtf.keras.losses, name)(reduction=reduction, **kwargs)
    assert_same(ours(y_true, y_pred), theirs(y_true, y_pred), rtol=1e-5, atol=1e-6)
    assert_same(ours(y_true, y_pred, sample_weight=WEIGHTS),
                theirs(y_true, y_pred, sample_weight=WEIGHTS), rtol=1e-5, atol=1e-6)
    assert ours.get_config() == theirs.get_config()


FUNCTIONS = ["mean_squared_error", "mean_absolute_error", "mean_absolute_percentage_error",
             "mean_squared_logarithmic_error", "cosine_similarity", "huber", "log_cosh",
             "hinge", "squared_hinge", "categorical_hinge", "kl_divergence", "poisson",
             "binary_crossentropy", "categorical_crossentropy", "binary_focal_crossentropy",
             "categorical_focal_crossentropy"]


@pytest.mark.parametrize("fn", FUNCTIONS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_loss_functions_match_keras(realtf, rk, fn, dtype):
    a, b = np.abs(PROBS).astype(dtype), np.abs(PROBS[::-1]).astype(dtype)
    assert_same(getattr(keras.losses, fn)(tf.constant(a), tf.constant(b)),
                getattr(rk.losses, fn)(realtf.constant(a), realtf.constant(b)),
                rtol=1e-5, atol=1e-6)


def test_sparse_function_and_short_names(realtf):
    got = keras.losses.sparse_categorical_crossentropy(tf.constant(LABELS), tf.constant(PROBS))
    want = realtf.keras.losses.sparse_categorical_crossentropy(realtf.constant(LABELS),
                                                               realtf.constant(PROBS))
    assert_same(got, want)
    for short in ("mse", "mae", "mape", "msle", "kld", "bce", "MSE"):
        assert keras.losses.get(short).__name__ == realtf.keras.losses.get(short).__name__


def test_crossentropy_of_softmax_output_uses_the_logits(realtf):
    x = np.array([[1.0, 2.0, 30.0], [0.5, 0.1, -3.0]], np.float32)
    labels = np.array([0, 2])
    ours = keras.losses.SparseCategoricalCrossentropy()(
        labels, keras.activations.softmax(tf.constant(x)))
    theirs = realtf.keras.losses.SparseCategoricalCrossentropy()(
        labels, realtf.keras.activations.softmax(realtf.constant(x)))
    assert_same(ours, theirs)
    assert float(ours) > 10  # computed from logits: not capped by the 1e-7 clip
    onehot = np.eye(3, dtype=np.float32)[labels]
    assert_same(keras.losses.categorical_crossentropy(onehot, keras.activations.softmax(x)),
                realtf.keras.losses.categorical_crossentropy(
                    onehot, realtf.keras.activations.softmax(x)))
    assert_same(keras.losses.binary_crossentropy(onehot, keras.activations.sigmoid(x * 10)),
                realtf.keras.losses.binary_crossentropy(
                    onehot, realtf.keras.activations.sigmoid(x * 10)))


def test_get_serialize_and_errors():
    assert keras.losses.get("sparse_categorical_crossentropy") is \
        keras.losses.sparse_categorical_crossentropy
    assert isinstance(keras.losses.get("Huber"), keras.losses.Huber)
    cfg = keras.losses.serialize(keras.losses.Huber(delta=2.0))
    assert cfg["class_name"] == "Huber" and cfg["config"]["name"] == "huber_loss"
    again = keras.losses.deserialize(cfg)
    assert isinstance(again, keras.losses.Huber) and again.get_config() == cfg["config"]
    with pytest.raises(ValueError, match="Could not interpret loss identifier: nope"):
        keras.losses.get("nope")
    with pytest.raises(ValueError, match="Invalid value for argument `reduction`"):
        keras.losses.MeanSquaredError(reduction="avg")
    with pytest.raises(ValueError, match="must have the same shape"):
        keras.losses.categorical_crossentropy(np.ones((2, 3)), np.ones((2, 4)))


def test_custom_loss_subclass_and_gradient():
    class Sq(keras.losses.Loss):
        def call(self, y_true, y_pred):
            return tf.reduce_mean(tf.square(y_pred - y_true), axis=-1)

    w = tf.Variable([[1.0, 2.0]])
    with tf.GradientTape() as tape:
        loss = Sq()(tf.constant([[0.0, 0.0]]), w * 1.0)
    np.testing.assert_allclose(float(loss), 2.5)
    np.testing.assert_allclose(tape.gradient(loss, w).numpy(), [[1.0, 2.0]])
    with tf.GradientTape() as tape:
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(
            [1], tf.reshape(w, (1, 2)) * 1.0)
    assert tape.gradient(loss, w) is not None


def test_logits_are_remembered_past_many_other_softmaxes():
    x = tf.constant([[1.0, 2.0, 30.0]])
    kept = [keras.activations.softmax(x * 0.5) for _ in range(200)]  # e.g. attention heads
    final = keras.activations.softmax(x)  # the model's output comes after them
    loss = keras.losses.SparseCategoricalCrossentropy()([0], final)
    np.testing.assert_allclose(float(loss), 29.0, rtol=1e-6)  # from logits, not clipped
    assert len(kept) == 200
