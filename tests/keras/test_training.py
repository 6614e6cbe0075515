"""compile/fit/evaluate/predict against real Keras: the same model with the same initial
weights, trained on the same batches with SGD, gives the same losses, metrics and weights."""
import numpy as np
import pytest

import tapeflow as tf

keras = tf.keras
RNG = np.random.default_rng(4)
X = RNG.standard_normal((64, 6)).astype("float32")
LABELS = RNG.integers(0, 3, 64)

CASES = {
    "sparse": (3, "softmax", "sparse_categorical_crossentropy", LABELS, ["accuracy"]),
    "categorical": (3, "softmax", "categorical_crossentropy",
                    np.eye(3, dtype="float32")[LABELS], ["accuracy"]),
    "binary": (1, "sigmoid", "binary_crossentropy",
               (LABELS > 0).astype("float32")[:, None], ["accuracy"]),
    "regression": (2, None, "mse", RNG.standard_normal((64, 2)).astype("float32"), ["mae"]),
}


def _pair(k_real, case, inputs=True):
    units, activation, loss, _, metrics = CASES[case]
    models = []
    for k in (keras, k_real):
        layers = [k.layers.Dense(8, activation="relu"), k.layers.Dense(units,
                                                                        activation=activation)]
        model = k.Sequential(([k.Input((6,))] if inputs else []) + layers)
        model.compile(k.optimizers.SGD(learning_rate=0.1), loss, metrics=metrics)
        models.append(model)
    ours, theirs = models
    if not inputs:
        ours.build((None, 6))
        theirs.build((None, 6))
    ours.set_weights(theirs.get_weights())
    return ours, theirs


def _close_logs(a, b, rtol=2e-4, atol=2e-5):
    assert list(a) == list(b)
    for k in a:
        np.testing.assert_allclose(a[k], b[k], rtol=rtol, atol=atol, err_msg=k)


@pytest.mark.parametrize("case", list(CASES))
def test_fit_matches_keras(realtf, case):
    y = CASES[case][3]
    ours, theirs = _pair(realtf.keras, case)
    kw = dict(epochs=2, batch_size=16, shuffle=False, verbose=0, validation_split=0.25)
    h_ours, h_theirs = ours.fit(X, y, **kw), theirs.fit(X, y, **kw)
    _close_logs(h_ours.history, h_theirs.history)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=2e-4, atol=2e-5)
    assert ours.evaluate(X, y, verbose=0) == pytest.approx(
        theirs.evaluate(X, y, verbose=0), rel=2e-4, abs=2e-5)
    assert ours.metrics_names == theirs.metrics_names
    np.testing.assert_allclose(ours.predict(X, batch_size=10, verbose=0),
                               theirs.predict(X, batch_size=10, verbose=0), rtol=2e-4,
                               atol=2e-5)


def test_sample_and_class_weights_match_keras(realtf):
    weights = RNG.uniform(0.5, 2.0, 64).astype("float32")
    for fit_kw in ({"sample_weight": weights}, {"class_weight": {0: 1.0, 1: 2.0, 2: 0.5}}):
        ours, theirs = _pair(realtf.keras, "sparse")
        kw = dict(epochs=1, batch_size=32, shuffle=False, verbose=0, **fit_kw)
        _close_logs(ours.fit(X, LABELS, **kw).history, theirs.fit(X, LABELS, **kw).history)


def test_deferred_build_and_validation_data(realtf):
    ours, theirs = _pair(realtf.keras, "sparse", inputs=False)
    kw = dict(epochs=1, batch_size=32, shuffle=False, verbose=0,
              validation_data=(X[:10], LABELS[:10]))
    _close_logs(ours.fit(X, LABELS, **kw).history, theirs.fit(X, LABELS, **kw).history)


def test_evaluate_return_forms(realtf):
    ours, theirs = _pair(realtf.keras, "sparse")
    assert isinstance(ours.evaluate(X, LABELS, verbose=0), list)
    _close_logs(ours.evaluate(X, LABELS, verbose=0, return_dict=True),
                theirs.evaluate(X, LABELS, verbose=0, return_dict=True))
    plain = keras.Sequential([keras.Input((6,)), keras.layers.Dense(1)])
    plain.compile("sgd", "mse")
    assert isinstance(plain.evaluate(X, X[:, :1], verbose=0), float)


def test_on_batch_methods_match_keras(realtf):
    ours, theirs = _pair(realtf.keras, "sparse")
    for _ in range(2):
        a = ours.train_on_batch(X[:16], LABELS[:16])
        b = theirs.train_on_batch(X[:16], LABELS[:16])
        np.testing.assert_allclose(a, b, rtol=2e-4, atol=2e-5)
    np.testing.assert_allclose(ours.predict_on_batch(X[:5]), theirs.predict_on_batch(X[:5]),
                               rtol=2e-4, atol=2e-5)
    _close_logs(ours.test_on_batch(X, LABELS, return_dict=True),
                theirs.test_on_batch(X, LABELS, return_dict=True))


def test_fit_on_tensors_and_on_an_iterable_of_batches():
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(3, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    h = model.fit(tf.constant(X), tf.constant(LABELS), epochs=1, verbose=0)
    assert set(h.history) == {"loss", "accuracy"}
    batches = [(X[i:i + 16], LABELS[i:i + 16]) for i in range(0, 64, 16)]
    h = model.fit(batches, epochs=2, verbose=0)
    assert len(h.history["loss"]) == 2 and h.epoch == [0, 1]
    assert model.evaluate(batches, verbose=0, return_dict=True)["loss"] > 0


def test_steps_per_epoch_and_initial_epoch():
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    h = model.fit(X, X[:, :1], batch_size=8, epochs=3, initial_epoch=1, steps_per_epoch=2,
                  verbose=0)
    assert h.epoch == [1, 2]


def test_multi_output_model_matches_keras(realtf):
    models = []
    for k in (keras, realtf.keras):
        inp = k.Input((6,), name="x")
        h = k.layers.Dense(4, activation="relu", name="h")(inp)
        cls = k.layers.Dense(3, activation="softmax", name="cls")(h)
        reg = k.layers.Dense(1, name="reg")(h)
        model = k.Model(inp, [cls, reg])
        model.compile(k.optimizers.SGD(0.05), ["sparse_categorical_crossentropy", "mse"],
                      loss_weights=[1.0, 0.5], metrics=[["accuracy"], ["mae"]])
        models.append(model)
    ours, theirs = models
    ours.set_weights(theirs.get_weights())
    y = [LABELS, X[:, :1]]
    kw = dict(epochs=1, batch_size=16, shuffle=False, verbose=0)
    _close_logs(ours.fit(X, y, **kw).history, theirs.fit(X, y, **kw).history)


class CustomStep(keras.Model):
    """A model overriding train_step with its own loss tracker, as in Keras's guides."""

    def __init__(self):
        super().__init__()
        self.dense = keras.layers.Dense(1)
        self.tracker = keras.metrics.Mean(name="custom_loss")

    def call(self, x):
        return self.dense(x)

    def train_step(self, data):
        x, y = data
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(self(x, training=True) - y))
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
        self.tracker.update_state(loss)
        return {"custom_loss": self.tracker.result()}

    @property
    def metrics(self):
        return [self.tracker]


def test_overridden_train_step():
    model = CustomStep()
    model.compile(keras.optimizers.SGD(0.1))
    y = X @ np.ones((6, 1), "float32")
    h = model.fit(X, y, epochs=3, batch_size=16, verbose=0)
    assert list(h.history) == ["custom_loss"]
    assert h.history["custom_loss"][-1] < h.history["custom_loss"][0]


def test_fit_before_compile_raises():
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(1)])
    with pytest.raises(ValueError, match="You must call `compile\\(\\)` before using the model"):
        model.fit(X, X[:, :1], verbose=0)


def test_regularization_losses_join_the_loss(realtf):
    models = []
    for k in (keras, realtf.keras):
        model = k.Sequential([k.Input((6,)), k.layers.Dense(
            2, kernel_regularizer=k.regularizers.L2(0.1))])
        model.compile(k.optimizers.SGD(0.1), "mse")
        models.append(model)
    models[0].set_weights(models[1].get_weights())
    y = X[:, :2]
    kw = dict(epochs=2, batch_size=32, shuffle=False, verbose=0)
    _close_logs(models[0].fit(X, y, **kw).history, models[1].fit(X, y, **kw).history)


class FakeDataset:
    """Iterates like a tf.data dataset of (x, y) batches and reports its cardinality."""

    def __init__(self, batches):
        self.batches = batches

    def __iter__(self):
        return iter(self.batches)

    def cardinality(self):
        return len(self.batches)


def test_fit_on_a_dataset_like_object_and_predict_on_unbuilt_model():
    model = keras.Sequential([keras.layers.Dense(3, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    preds = model.predict(X, batch_size=20, verbose=0)
    assert preds.shape == (64, 3) and preds.dtype == np.float32
    data = FakeDataset([(X[i:i + 16], LABELS[i:i + 16]) for i in range(0, 64, 16)])
    history = model.fit(data, epochs=2, verbose=0, validation_data=data)
    assert list(history.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    with pytest.raises(ValueError, match="`y` should not be passed"):
        model.fit(data, LABELS, verbose=0)


def test_dict_losses_and_targets_by_output_name_match_keras(realtf):
    models = []
    for k in (keras, realtf.keras):
        inp = k.Input((6,), name="x")
        zeta = k.layers.Dense(3, activation="softmax", name="zeta")(inp)
        alpha = k.layers.Dense(1, name="alpha")(inp)
        model = k.Model(inp, [zeta, alpha])
        model.compile(k.optimizers.SGD(0.05),
                      loss={"zeta": "sparse_categorical_crossentropy", "alpha": "mse"},
                      loss_weights={"zeta": 1.0, "alpha": 0.2},
                      metrics={"zeta": ["accuracy"], "alpha": ["mae"]})
        models.append(model)
    models[0].set_weights(models[1].get_weights())
    y = {"zeta": LABELS, "alpha": X[:, :1]}
    kw = dict(epochs=2, batch_size=16, shuffle=False, verbose=0)
    _close_logs(models[0].fit(X, y, **kw).history, models[1].fit(X, y, **kw).history)


def test_on_batch_lists_on_a_fresh_two_output_model_match_keras(realtf):
    # the first step builds the per-output loss trackers and the compiled metrics: the list
    # train_on_batch returns must name them although they did not exist when it began
    def build(k):
        inp = k.Input((6,))
        h = k.layers.Dense(8, activation="relu")(inp)
        model = k.Model(inp, [k.layers.Dense(3, activation="softmax", name="a")(h),
                              k.layers.Dense(1, name="b")(h)])
        model.compile(k.optimizers.SGD(learning_rate=0.1),
                      ["sparse_categorical_crossentropy", "mse"],
                      metrics=[["accuracy"], ["mae"]])
        return model
    ours, theirs = build(keras), build(realtf.keras)
    ours.set_weights(theirs.get_weights())
    targets = [LABELS[:16], X[:16, :1]]
    for method in ("test_on_batch", "train_on_batch", "train_on_batch", "test_on_batch"):
        a = getattr(ours, method)(X[:16], targets)
        b = getattr(theirs, method)(X[:16], targets)
        assert len(a) == len(b), method
        np.testing.assert_allclose(a, b, rtol=2e-4, atol=2e-5, err_msg=method)
    assert ours.metrics_names == theirs.metrics_names
