"""`.keras` and `.weights.h5` files interchangeable with real Keras 3 (the oracle): a model
saved by tapeflow loads in Keras with identical predictions (and optimizer state), and the
reverse, for an MLP, a two-input functional model, the MNIST CNN and an LSTM model."""
import json
import zipfile

import numpy as np
import pytest

from tapeflow import keras as tk


@pytest.fixture(scope="module")
def rk(realtf):
    import keras
    return keras


def mlp(K):
    return K.Sequential([K.Input((6,)), K.layers.Dense(5, activation="relu"),
                         K.layers.Dropout(0.3), K.layers.Dense(3, activation="softmax")])


def two_inputs(K):
    a = K.Input((4,), name="a")
    b = K.Input((3,), name="b")
    x = K.layers.Concatenate()([a, K.layers.Dense(2, activation="tanh")(b)])
    x = K.layers.Dense(4, activation="relu")(x)
    return K.Model([a, b], K.layers.Dense(1)(x))


def cnn(K):
    """The MNIST CNN of examples/mnist_cnn.py (keras.io's)."""
    L = K.layers
    return K.Sequential([K.Input((28, 28, 1)), L.Conv2D(32, (3, 3), activation="relu"),
                         L.MaxPooling2D((2, 2)), L.Conv2D(64, (3, 3), activation="relu"),
                         L.MaxPooling2D((2, 2)), L.Flatten(), L.Dropout(0.5),
                         L.Dense(10, activation="softmax")])


def lstm(K):
    L = K.layers
    return K.Sequential([K.Input((7,)), L.Embedding(20, 4), L.LSTM(5, return_sequences=True),
                         L.GRU(3), L.Dense(2)])


CASES = {
    "mlp": (mlp, lambda r: r.rand(8, 6).astype("f"), lambda r: r.rand(8, 3).astype("f")),
    "two_inputs": (two_inputs, lambda r: [r.rand(8, 4).astype("f"), r.rand(8, 3).astype("f")],
                   lambda r: r.rand(8, 1).astype("f")),
    "cnn": (cnn, lambda r: r.rand(8, 28, 28, 1).astype("f"),
            lambda r: r.rand(8, 10).astype("f")),
    "lstm": (lstm, lambda r: r.randint(0, 20, (8, 7)), lambda r: r.rand(8, 2).astype("f")),
}


def _randomize(model, seed=1):
    r = np.random.RandomState(seed)
    model.set_weights([((r.rand(*w.shape) - 0.5) * 0.3).astype(w.dtype)
                       for w in model.get_weights()])


def _predict(model, x):
    return np.asarray(model.predict(x, verbose=0))


def _same(a, b, x):
    """The same weights bit for bit, and the same predictions up to the two frameworks'
    float32 kernels (convolutions and long dot products round differently)."""
    wa, wb = a.get_weights(), b.get_weights()
    assert len(wa) == len(wb)
    for u, v in zip(wa, wb):
        np.testing.assert_array_equal(np.asarray(u), np.asarray(v))
    np.testing.assert_allclose(_predict(a, x), _predict(b, x), rtol=2e-4, atol=2e-5)


@pytest.mark.parametrize("case", list(CASES))
def test_tapeflow_save_keras_load(rk, tmp_path, case):
    build, xs, ys = CASES[case]
    r = np.random.RandomState(0)
    x, y = xs(r), ys(r)
    model = build(tk)
    _randomize(model)
    model.compile(optimizer=tk.optimizers.Adam(0.01), loss="mse", metrics=["mae"])
    model.fit(x, y, epochs=1, batch_size=4, verbose=0)
    path = str(tmp_path / "m.keras")
    model.save(path)
    loaded = rk.models.load_model(path)
    _same(loaded, model, x)
    assert int(loaded.optimizer.iterations.numpy()) == 2
    assert [type(l).__name__ for l in loaded.layers] == \
        [type(l).__name__ for l in model.layers if type(l).__name__ != "InputLayer"] or \
        case == "two_inputs"
    for mine, theirs in zip(model.optimizer.variables, loaded.optimizer.variables):
        np.testing.assert_array_equal(np.asarray(theirs), mine.numpy())
    # Weights-only file into a fresh Keras model.
    wpath = str(tmp_path / "m.weights.h5")
    model.save_weights(wpath)
    fresh = build(rk)
    fresh.load_weights(wpath)
    _same(fresh, model, x)


@pytest.mark.parametrize("case", list(CASES))
def test_keras_save_tapeflow_load(rk, tmp_path, case):
    build, xs, ys = CASES[case]
    r = np.random.RandomState(0)
    x, y = xs(r), ys(r)
    model = build(rk)
    _randomize(model)
    model.compile(optimizer=rk.optimizers.Adam(0.01), loss="mse", metrics=["mae"])
    model.fit(x, y, epochs=1, batch_size=4, verbose=0)
    path = str(tmp_path / "k.keras")
    model.save(path)
    loaded = tk.models.load_model(path)
    _same(loaded, model, x)
    assert loaded.compiled and type(loaded.optimizer).__name__ == "Adam"
    assert int(loaded.optimizer.iterations.numpy()) == 2
    np.testing.assert_allclose(float(loaded.optimizer.learning_rate.numpy()), 0.01, rtol=1e-6)
    for theirs, mine in zip(model.optimizer.variables, loaded.optimizer.variables):
        np.testing.assert_array_equal(mine.numpy(), np.asarray(theirs))
    # Training goes on from the restored state.
    loaded.fit(x, y, epochs=1, batch_size=4, verbose=0)
    assert int(loaded.optimizer.iterations.numpy()) == 4
    wpath = str(tmp_path / "k.weights.h5")
    model.save_weights(wpath)
    fresh = build(tk)
    fresh.load_weights(wpath)
    _same(fresh, model, x)


def test_file_layout_matches_keras(rk, tmp_path):
    """The same architecture saved by both: the same archive members, class names, modules,
    h5 group paths and dataset shapes."""
    import h5py

    def layout(path):
        with zipfile.ZipFile(path) as z:
            names = sorted(z.namelist())
            config = json.loads(z.read("config.json"))
            z.extract("model.weights.h5", str(tmp_path / path.split("/")[-1][:-6]))
        h5 = {}
        with h5py.File(str(tmp_path / path.split("/")[-1][:-6] / "model.weights.h5")) as f:
            f.visititems(lambda n, o: h5.__setitem__(n, getattr(o, "shape", None)))
        layers = [(l["module"], l["class_name"], l.get("name"), bool(l.get("inbound_nodes")))
                  for l in config["config"]["layers"]]
        return names, config["module"], config["class_name"], layers, h5

    for build in (two_inputs, cnn):
        a = str(tmp_path / "a.keras")
        b = str(tmp_path / "b.keras")
        tk.backend.clear_session()
        build(tk).save(a)
        rk.backend.clear_session()
        build(rk).save(b)
        assert layout(a) == layout(b)


def test_compile_false_and_uncompiled(rk, tmp_path):
    model = mlp(rk)
    model.compile(optimizer="sgd", loss="mse")
    path = str(tmp_path / "c.keras")
    model.save(path)
    loaded = tk.models.load_model(path, compile=False)
    assert not loaded.compiled
    assert tk.saving.load_model(path).optimizer.__class__.__name__ == "SGD"
