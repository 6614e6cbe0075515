"""keras/engine/compile_utils.py and compile_loss.py: what compile's loss, loss_weights,
metrics and weighted_metrics become, for one output, lists, dicts, functional and subclassed
models, against real Keras (the same weights, the same batches: the same logs)."""
import warnings

import numpy as np
import pytest

import tapeflow as tf

keras = tf.keras
RNG = np.random.default_rng(7)
X = RNG.uniform(size=(24, 4)).astype("float32")
Y_REG = RNG.uniform(size=(24, 1)).astype("float32")
Y_CLS = RNG.integers(0, 3, 24)
SW = RNG.uniform(0.5, 1.5, 24).astype("float32")


def _functional(k, outputs="list"):
    const = k.initializers.Constant
    inp = k.Input((4,), name="x")
    reg = k.layers.Dense(1, name="reg", kernel_initializer=const(0.2))(inp)
    cls = k.layers.Dense(3, name="cls", kernel_initializer=const(0.1))(inp)
    return k.Model(inp, {"reg": reg, "cls": cls} if outputs == "dict" else [reg, cls])


def _subclassed(k, outputs="list"):
    const = k.initializers.Constant

    class TwoHeads(k.Model):
        def __init__(self):
            super().__init__()
            self.reg = k.layers.Dense(1, kernel_initializer=const(0.2))
            self.cls = k.layers.Dense(3, kernel_initializer=const(0.1))

        def call(self, x):
            if outputs == "dict":
                return {"reg": self.reg(x), "cls": self.cls(x)}
            return [self.reg(x), self.cls(x)]
    return TwoHeads()


def _targets(outputs):
    return {"reg": Y_REG, "cls": Y_CLS} if outputs == "dict" else [Y_REG, Y_CLS]


def _logs_equal(a, b):
    assert sorted(a) == sorted(b)
    for key in a:
        np.testing.assert_allclose(a[key], b[key], rtol=2e-4, atol=2e-5, err_msg=key)


SPARSE = "sparse_categorical_crossentropy"
CASES = {  # (model kind, output structure, compile arguments)
    "list loss, per-output metric lists": (
        "subclassed", "list", dict(loss=["mse", SPARSE], metrics=[["mae"], ["accuracy"]])),
    "list loss and weights, one metric per output": (
        "functional", "list", dict(loss=["mse", SPARSE], loss_weights=[0.3, 1.0],
                                   metrics=["mae", "acc"])),
    "dict loss, weights, metrics and weighted metrics": (
        "subclassed", "dict", dict(loss={"reg": "mse", "cls": SPARSE},
                                   loss_weights={"reg": 2.0, "cls": 1.0},
                                   metrics={"cls": ["accuracy"]},
                                   weighted_metrics={"reg": ["mae"]})),
    "dict outputs, list loss (sorted output order)": (
        "functional", "dict", dict(loss=[SPARSE, "mse"], metrics={"reg": "mae"})),
    "a loss for one output only": (
        "functional", "list", dict(loss=[None, SPARSE], metrics=[["mae"], None])),
    "the same metric weighted and not": (
        "subclassed", "list", dict(loss=["mse", SPARSE], metrics=[["mae"], []],
                                   weighted_metrics=[["mae"], []])),
}


@pytest.mark.filterwarnings("ignore:Gradients do not exist")
@pytest.mark.parametrize("case", list(CASES))
def test_multi_output_compile_matches_keras(realtf, case):
    kind, outputs, kw = CASES[case]
    build = _functional if kind == "functional" else _subclassed
    histories, names = [], []
    for k in (keras, realtf.keras):
        model = build(k, outputs)
        model.compile(k.optimizers.SGD(0.1), **kw)
        fit_kw = dict(epochs=1, batch_size=8, verbose=0, shuffle=False)
        histories.append(model.fit(X, _targets(outputs), sample_weight=SW, **fit_kw).history)
        names.append(model.metrics_names)
    _logs_equal(*histories)
    assert names[0] == names[1]


def test_evaluate_lists_metrics_in_keras_order(realtf):
    results = []
    for k in (keras, realtf.keras):
        model = _functional(k)
        model.compile("sgd", ["mse", SPARSE], metrics=[["mae", "mse"], ["accuracy"]])
        results.append(model.evaluate(X, [Y_REG, Y_CLS], verbose=0))
    np.testing.assert_allclose(results[0], results[1], rtol=1e-5)


ERRORS = {
    "metrics of the wrong structure": dict(loss=["mse", SPARSE], metrics=["mae"]),
    "a loss dict missing an output": dict(loss={"reg": "mse"}),
    "too few loss weights": dict(loss=["mse", SPARSE], loss_weights=[1.0]),
    "metrics not in a list": dict(loss=["mse", SPARSE], metrics="mae"),
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_bad_compile_arguments_raise_what_keras_raises(realtf, case):
    errors = []
    for k in (keras, realtf.keras):
        model = _functional(k)
        with pytest.raises(ValueError) as info:
            model.compile("sgd", **ERRORS[case])
            model.fit(X, [Y_REG, Y_CLS], epochs=1, batch_size=24, verbose=0)
        errors.append(str(info.value))
    # Keras's first line for a structure mismatch comes from its tree library
    assert errors[0].split("\n")[-2:] == errors[1].split("\n")[-2:]


def test_crossentropy_and_accuracy_resolve_from_the_shapes(realtf):
    histories = []
    for k in (keras, realtf.keras):
        model = _subclassed(k)
        model.compile(k.optimizers.SGD(0.1), ["crossentropy", "ce"], metrics=["acc", "acc"])
        y = [(Y_REG > 0.5).astype("float32"), Y_CLS]
        histories.append(model.fit(X, y, epochs=1, batch_size=8, verbose=0,
                                   shuffle=False).history)
    _logs_equal(*histories)


def test_compiling_again_without_metrics_keeps_them(realtf):
    names = []
    for k in (keras, realtf.keras):
        model = _functional(k)
        model.compile("sgd", ["mse", SPARSE], metrics=[["mae"], []])
        model.fit(X, [Y_REG, Y_CLS], epochs=1, verbose=0)
        model.compile("adam", ["mae", SPARSE])
        names.append(sorted(model.fit(X, [Y_REG, Y_CLS], epochs=1, verbose=0).history))
    assert names[0] == names[1]


def _tf2_style(k):
    const = k.initializers.Constant

    class TF2Model(k.Model):
        def train_step(self, data):
            x, y = data
            with tf_of(k).GradientTape() as tape:
                y_pred = self(x, training=True)
                loss = self.compiled_loss(y, y_pred, regularization_losses=self.losses)
            grads = tape.gradient(loss, self.trainable_variables)
            self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
            self.compiled_metrics.update_state(y, y_pred)
            return {m.name: m.result() for m in self.metrics}

    inp = k.Input((4,))
    out = k.layers.Dense(1, kernel_initializer=const(0.3),
                         kernel_regularizer=k.regularizers.L2(0.01))(inp)
    return TF2Model(inp, out)


def tf_of(k):
    import tensorflow
    return tf if k is keras else tensorflow


def test_tf2_style_compiled_loss_and_compiled_metrics_work_as_in_keras_3(realtf):
    histories = []
    for k in (keras, realtf.keras):
        model = _tf2_style(k)
        model.compile(k.optimizers.SGD(0.1), "mse", metrics=["mae"])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            histories.append(model.fit(X, Y_REG, epochs=2, batch_size=8, verbose=0,
                                       shuffle=False).history)
    # Keras 3's compiled_metrics shim feeds the loss tracker (a Mean) the predictions
    _logs_equal(*histories)


def test_a_metric_returning_its_variable_shows_it_when_the_callbacks_read_it(realtf):
    histories = []
    for k in (keras, realtf.keras):
        class Count(k.metrics.Metric):
            def __init__(self, name="count", **kwargs):
                super().__init__(name=name, **kwargs)
                self.n = self.add_weight(name="n", initializer="zeros")

            def update_state(self, y_true, y_pred, sample_weight=None):
                self.n.assign_add(1.0)

            def result(self):
                return self.n

            def reset_state(self):
                self.n.assign(0.0)

        model = k.Sequential([k.Input((4,)), k.layers.Dense(1)])
        model.compile("sgd", "mse", metrics=[Count()])
        histories.append(model.fit(X, Y_REG, epochs=2, batch_size=8, verbose=0,
                                   validation_data=(X[:4], Y_REG[:4])).history)
    assert histories[0]["count"] == histories[1]["count"] == [1.0, 1.0]
    assert histories[0]["val_count"] == histories[1]["val_count"]
