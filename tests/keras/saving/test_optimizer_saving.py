"""Every optimizer through `.keras` files, against real Keras 3: a model compiled with the
optimizer's string name and trained by tapeflow loads in Keras with the same optimizer class,
config and variables (bit for bit), trains on there in step with tapeflow, and the reverse."""
import numpy as np
import pytest

from tapeflow import keras as tk

NAMES = ["sgd", "adam", "adamw", "nadam", "adamax", "lion", "rmsprop", "adagrad", "adadelta",
         "ftrl", "adafactor", "loss_scale_optimizer"]


@pytest.fixture(scope="module")
def rk(realtf):
    import keras
    return keras


def _model(K, name):
    model = K.Sequential([K.Input((4,)), K.layers.Dense(3, activation="relu"),
                          K.layers.Dense(2)])
    r = np.random.RandomState(0)
    model.set_weights([((r.rand(*w.shape) - 0.5)).astype("f") for w in model.get_weights()])
    opt = K.optimizers.LossScaleOptimizer(K.optimizers.Adam(0.01)) \
        if name == "loss_scale_optimizer" else name
    model.compile(optimizer=opt, loss="mse")
    return model


def _data():
    r = np.random.RandomState(1)
    return r.rand(8, 4).astype("f"), r.rand(8, 2).astype("f")


def _config(opt):
    config = dict(opt.get_config())
    config.pop("name")
    if "inner_optimizer" in config:
        config["inner_optimizer"]["config"].pop("name")
    return config


def _same_state(a, b):
    assert type(a.optimizer).__name__ == type(b.optimizer).__name__
    assert _config(a.optimizer) == _config(b.optimizer)
    va, vb = a.optimizer.variables, b.optimizer.variables
    assert len(va) == len(vb)
    for x, y in zip(va, vb):
        np.testing.assert_array_equal(np.asarray(x.numpy()), np.asarray(y.numpy()))


def _same_weights(a, b, rtol):
    for x, y in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=rtol, atol=rtol)


@pytest.mark.parametrize("name", NAMES)
def test_each_optimizer_round_trips_with_keras(rk, tmp_path, name):
    x, y = _data()
    ours = _model(tk, name)
    ours.fit(x, y, batch_size=4, epochs=1, verbose=0)
    ours.save(tmp_path / "ours.keras")
    theirs = rk.models.load_model(tmp_path / "ours.keras")
    _same_state(ours, theirs)
    # Both go on from the restored state: one more epoch each, the same result.
    ours.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    theirs.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    _same_weights(ours, theirs, 1e-5)
    assert int(ours.optimizer.iterations.numpy()) == int(theirs.optimizer.iterations.numpy())
    # And back: Keras's file into tapeflow.
    theirs.save(tmp_path / "theirs.keras")
    again = tk.models.load_model(tmp_path / "theirs.keras")
    _same_state(again, theirs)
