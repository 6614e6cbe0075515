"""The progress bar text, character for character against Keras 3 (with both clocks frozen,
so the timings print the same), for Progbar itself and for fit/evaluate/predict."""
import numpy as np
import pytest

import tapeflow as tf
from tapeflow.keras.engine import progbar as our_progbar

keras = tf.keras


class Clock:
    def __init__(self, start=1000.0, step=0.0):
        self.now, self.step = start, step

    def time(self):
        self.now += self.step
        return self.now


@pytest.fixture
def frozen(realtf, monkeypatch):
    from keras.src.utils import progbar as keras_progbar
    clock = Clock()
    monkeypatch.setattr(our_progbar, "time", clock)
    monkeypatch.setattr(keras_progbar, "time", clock)
    return clock


def _text(capsys, fn):
    capsys.readouterr()
    fn()
    return capsys.readouterr().out


@pytest.mark.parametrize("verbose", [1, 2])
@pytest.mark.parametrize("target", [5, 120, None])
def test_progbar_matches_keras(realtf, frozen, capsys, verbose, target):
    from keras.src.utils.progbar import Progbar as KerasProgbar

    def run(cls):
        frozen.now, frozen.step = 1000.0, 0.013
        bar = cls(target, verbose=verbose)
        for i in range(1, 6):
            bar.update(i, [("loss", 1.0 / i), ("tiny", 1e-5 * i)])
        bar.update(target or 6, [("loss", 0.5), ("tiny", 2e-4)], finalize=True)
    assert _text(capsys, lambda: run(our_progbar.Progbar)) == \
        _text(capsys, lambda: run(KerasProgbar))


def _models(realtf):
    x = np.random.default_rng(5).standard_normal((100, 4)).astype("float32")
    y = (x[:, 0] > 0).astype("int32")
    models = []
    for k in (keras, realtf.keras):
        model = k.Sequential([k.Input((4,)), k.layers.Dense(2, activation="softmax")])
        model.compile(k.optimizers.SGD(0.1), "sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        models.append(model)
    models[0].set_weights(models[1].get_weights())
    return models, x, y


@pytest.mark.parametrize("verbose", [0, 1, 2])
def test_fit_evaluate_predict_output_matches_keras(realtf, frozen, capsys, verbose):
    (ours, theirs), x, y = _models(realtf)
    texts = []
    for model in (ours, theirs):
        def run():
            model.fit(x, y, epochs=2, batch_size=32, shuffle=False, verbose=verbose,
                      validation_split=0.2)
            model.fit(x, y, epochs=1, batch_size=50, shuffle=False, verbose=verbose)
            model.evaluate(x, y, verbose=verbose)
            model.predict(x, verbose=verbose)
        texts.append(_text(capsys, run))
    assert texts[0] == texts[1]
    if verbose == 1:
        assert "Epoch 1/2" in texts[0] and "\x1b[1m3/3\x1b[0m" in texts[0]
    if verbose == 0:
        assert texts[0] == ""
