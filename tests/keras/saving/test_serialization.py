"""Configs and custom objects: get_config/from_config round trips, register_keras_serializable,
custom_objects and custom_object_scope, subclassed and nested models, shared layers, compile
configs with loss/metric objects (real Keras reads what tapeflow writes)."""
import numpy as np
import pytest

from tapeflow import keras

X = np.linspace(-1, 1, 12, dtype="float32").reshape(3, 4)


@keras.saving.register_keras_serializable(package="tests")
class Scale(keras.layers.Layer):
    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones")

    def call(self, x):
        return x * self.w * self.factor

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


class Unregistered(Scale):
    pass


@keras.saving.register_keras_serializable(package="tests")
class TwoLayers(keras.Model):
    def __init__(self, units=3, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.first = keras.layers.Dense(units, activation="relu")
        self.second = keras.layers.Dense(2)

    def call(self, x):
        return self.second(self.first(x))

    def get_config(self):
        return {**super().get_config(), "units": self.units}


def _same_predictions(a, b, x=X):
    np.testing.assert_allclose(a.predict(x, verbose=0), b.predict(x, verbose=0), rtol=1e-6)


def test_get_config_from_config_round_trips():
    seq = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3), keras.layers.Dense(2)])
    copy = keras.Sequential.from_config(seq.get_config())
    assert [type(l).__name__ for l in copy.layers] == ["Dense", "Dense"]
    assert copy.get_config() == seq.get_config()
    a = keras.Input((4,), name="a")
    shared = keras.layers.Dense(4, name="shared")
    out = keras.layers.Add()([shared(a), shared(shared(a))])
    fn = keras.Model(a, out)
    config = fn.get_config()
    assert config["layers"][1]["name"] == "shared" and len(config["layers"][1][
        "inbound_nodes"]) == 3
    rebuilt = keras.Model.from_config(config)
    rebuilt.set_weights(fn.get_weights())
    _same_predictions(fn, rebuilt)
    assert rebuilt.get_config() == config
    dense = keras.layers.Dense(5, activation="tanh", name="d")
    assert keras.layers.Dense.from_config(dense.get_config()).get_config() == dense.get_config()


def test_registered_custom_layer(tmp_path):
    model = keras.Sequential([keras.Input((4,)), Scale(3.0), keras.layers.Dense(2)])
    config = keras.saving.serialize_keras_object(model.layers[0])
    assert config["registered_name"] == "tests>Scale" and config["class_name"] == "Scale"
    assert keras.saving.get_custom_objects()["tests>Scale"] is Scale
    path = str(tmp_path / "c.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    assert isinstance(loaded.layers[0], Scale) and loaded.layers[0].factor == 3.0
    _same_predictions(model, loaded)


def test_custom_objects_and_scope(tmp_path):
    model = keras.Sequential([keras.Input((4,)), Unregistered(0.5)])
    model.layers[0].w.assign([1.0, 2.0, 3.0, 4.0])
    path = str(tmp_path / "u.keras")
    model.save(path)
    with pytest.raises(TypeError, match="Could not locate class 'Unregistered'"):
        keras.models.load_model(path)
    _same_predictions(model, keras.models.load_model(
        path, custom_objects={"Unregistered": Unregistered}))
    with keras.saving.custom_object_scope({"Unregistered": Unregistered}):
        _same_predictions(model, keras.models.load_model(path))


def test_subclassed_model(tmp_path):
    model = TwoLayers(units=5)
    model.build((None, 4))
    model.compile(optimizer="adam", loss="mse")
    model.fit(X, np.ones((3, 2), "float32"), verbose=0)
    path = str(tmp_path / "s.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    assert isinstance(loaded, TwoLayers) and loaded.units == 5
    _same_predictions(model, loaded)
    assert int(loaded.optimizer.iterations.numpy()) == 1


def test_nested_model_and_compile_objects_in_keras(realtf, tmp_path):
    import keras as rk
    keras.utils.set_random_seed(0)  # fixed weights: the cross-framework check is reproducible
    inner = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="relu")],
                             name="inner")
    x = keras.Input((4,))
    model = keras.Model(x, keras.layers.Dense(1)(inner(x)))
    model.compile(optimizer=keras.optimizers.SGD(0.1, momentum=0.9),
                  loss=keras.losses.MeanSquaredError(),
                  metrics=[keras.metrics.MeanAbsoluteError(name="mae")])
    model.fit(X, np.ones((3, 1), "float32"), verbose=0)
    path = str(tmp_path / "n.keras")
    model.save(path)
    theirs = rk.models.load_model(path)
    np.testing.assert_allclose(theirs.predict(X, verbose=0), model.predict(X, verbose=0),
                               rtol=1e-6)
    assert type(theirs.optimizer).__name__ == "SGD"
    assert float(theirs.optimizer.momentum) == pytest.approx(0.9)
    ours = keras.models.load_model(path)
    _same_predictions(model, ours)
    assert [type(l).__name__ for l in ours.layers] == ["InputLayer", "Sequential", "Dense"]
    theirs.save(str(tmp_path / "k.keras"))
    _same_predictions(model, keras.models.load_model(str(tmp_path / "k.keras")))


def test_json_and_function_forms(realtf, tmp_path):
    import keras as rk
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="relu")])
    text = model.to_json()
    ours = keras.models.model_from_json(text)
    theirs = rk.models.model_from_json(text)
    assert [type(l).__name__ for l in ours.layers] == [type(l).__name__ for l in theirs.layers]
    path = str(tmp_path / "f.weights.h5")
    keras.saving.save_weights(model, path)
    keras.saving.load_weights(ours, path)
    theirs.load_weights(path)
    _same_predictions(model, ours)
    np.testing.assert_allclose(theirs.predict(X, verbose=0), model.predict(X, verbose=0),
                               rtol=1e-6)


def _double(x):
    return x * 2


def test_lambda_function_by_name(tmp_path):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Lambda(_double)])
    path = str(tmp_path / "l.keras")
    model.save(path)
    with pytest.raises(ValueError, match="function of a `Lambda` layer \\('_double'\\)"):
        keras.models.load_model(path)
    _same_predictions(model, keras.models.load_model(path, custom_objects={"_double": _double}))
