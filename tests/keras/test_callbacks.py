"""Callbacks: the hooks fit calls, and each built-in callback (several against real Keras)."""
import csv
import os

import numpy as np
import pytest

import tapeflow as tf

keras = tf.keras
RNG = np.random.default_rng(6)
X = RNG.standard_normal((64, 3)).astype("float32")
Y = (X @ np.array([[1.0], [-2.0], [0.5]], "float32")).astype("float32")


def _model(k=keras, lr=0.05):
    model = k.Sequential([k.Input((3,)), k.layers.Dense(1)])
    model.compile(k.optimizers.SGD(lr), "mse", metrics=["mae"])
    return model


class Recorder(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.calls = []


for _hook in ("on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end",
              "on_train_batch_begin", "on_train_batch_end", "on_test_begin", "on_test_end",
              "on_test_batch_begin", "on_test_batch_end"):
    setattr(Recorder, _hook, lambda self, *args, _h=_hook: self.calls.append(_h))


def test_hook_order_and_params():
    rec = Recorder()
    model = _model()
    model.fit(X, Y, epochs=2, batch_size=32, verbose=0, validation_data=(X, Y),
              callbacks=[rec])
    assert rec.calls[:3] == ["on_train_begin", "on_epoch_begin", "on_train_batch_begin"]
    assert rec.calls[-1] == "on_train_end"
    assert rec.calls.count("on_epoch_end") == 2 and rec.calls.count("on_test_begin") == 2
    assert rec.params == {"verbose": 0, "epochs": 2, "steps": 2}
    assert rec.model is model


def test_history_keys_and_values():
    history = _model().fit(X, Y, epochs=3, verbose=0, validation_split=0.25)
    assert list(history.history) == ["loss", "mae", "val_loss", "val_mae"]
    assert history.epoch == [0, 1, 2]
    assert all(isinstance(v, float) for v in history.history["loss"])


def test_early_stopping_restores_best_weights(capsys):
    model = _model(lr=0.0)  # no progress: stops after `patience` epochs
    stop = keras.callbacks.EarlyStopping(monitor="loss", patience=2, verbose=1,
                                         min_delta=1e-4, restore_best_weights=True)
    history = model.fit(X, Y, epochs=10, verbose=0, callbacks=[stop], shuffle=False)
    assert len(history.epoch) == 3 and stop.stopped_epoch == 2
    out = capsys.readouterr().out
    assert "Epoch 3: early stopping" in out
    assert "Restoring model weights from the end of the best epoch: 1." in out


def test_early_stopping_needs_a_direction_for_unknown_metrics():
    stop = keras.callbacks.EarlyStopping(monitor="val_weird")
    with pytest.raises(ValueError, match="mode='max'"):
        _model().fit(X, Y, epochs=1, verbose=0, callbacks=[stop], validation_split=0.5)


def test_early_stopping_matches_keras(realtf):
    epochs = []
    for k in (keras, realtf.keras):
        model = _model(k, lr=0.5)
        stop = k.callbacks.EarlyStopping(monitor="loss", patience=1, min_delta=10.0)
        epochs.append(model.fit(X, Y, epochs=6, verbose=0, callbacks=[stop]).epoch)
    assert epochs[0] == epochs[1]


def test_learning_rate_scheduler_and_reduce_on_plateau(capsys):
    model = _model()
    sched = keras.callbacks.LearningRateScheduler(lambda epoch, lr: 0.1 / (epoch + 1),
                                                  verbose=1)
    history = model.fit(X, Y, epochs=3, verbose=0, callbacks=[sched])
    np.testing.assert_allclose(history.history["learning_rate"], [0.1, 0.05, 1 / 30],
                               rtol=1e-6)
    assert "Epoch 2: LearningRateScheduler setting learning rate to 0.05." in \
        capsys.readouterr().out


def test_reduce_lr_on_plateau_matches_keras(realtf):
    rates = []
    for k in (keras, realtf.keras):
        model = _model(k, lr=0.2)
        model.layers[0].trainable = False  # the loss stays flat: the rate halves
        plateau = k.callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1)
        history = model.fit(X, Y, epochs=4, verbose=0, callbacks=[plateau])
        rates.append(history.history["learning_rate"] +
                     [float(np.asarray(model.optimizer.learning_rate))])
    np.testing.assert_allclose(rates[0], rates[1], rtol=1e-6)


def test_csv_logger_matches_keras(realtf, tmp_path):
    rows = []
    for k in (keras, realtf.keras):
        path = tmp_path / f"{k.__name__}.csv"
        _model(k).fit(X, Y, epochs=2, verbose=0, callbacks=[k.callbacks.CSVLogger(path)])
        with open(path) as f:
            rows.append(list(csv.reader(f)))
    assert rows[0][0] == rows[1][0] == ["epoch", "loss", "mae", "val_loss", "val_mae"]
    assert [r[0] for r in rows[0]] == [r[0] for r in rows[1]]
    assert rows[0][1][3] == "NA"


def test_lambda_callback_and_terminate_on_nan():
    seen = []
    cb = keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append(epoch),
                                        on_train_batch_end=lambda b, logs: seen.append("b"))
    _model().fit(X, Y, epochs=2, batch_size=32, verbose=0, callbacks=[cb])
    assert seen == ["b", "b", 0, "b", "b", 1]
    model = _model(lr=1e30)
    history = model.fit(X * 1e20, Y, epochs=5, batch_size=8, verbose=0,
                        callbacks=[keras.callbacks.TerminateOnNaN()])
    assert len(history.epoch) == 1


class Interrupt(keras.callbacks.Callback):
    def __init__(self, at_epoch):
        super().__init__()
        self.at_epoch = at_epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.at_epoch:
            raise KeyboardInterrupt("killed")


def test_backup_and_restore_resumes_from_the_last_epoch(tmp_path):
    reference = _model()
    start = reference.get_weights()
    reference.fit(X, Y, epochs=4, batch_size=16, shuffle=False, verbose=0)

    model = _model()
    model.set_weights(start)
    backup = keras.callbacks.BackupAndRestore(tmp_path / "backup")
    with pytest.raises(KeyboardInterrupt):
        model.fit(X, Y, epochs=4, batch_size=16, shuffle=False, verbose=0,
                  callbacks=[backup, Interrupt(2)])
    assert os.path.exists(tmp_path / "backup" / "backup.npz")
    resumed = _model()  # a new process: fresh model and optimizer
    history = resumed.fit(X, Y, epochs=4, batch_size=16, shuffle=False, verbose=0,
                          callbacks=[keras.callbacks.BackupAndRestore(tmp_path / "backup")])
    assert history.epoch == [2, 3]
    for a, b in zip(resumed.get_weights(), reference.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert not os.path.exists(tmp_path / "backup")


def test_model_checkpoint_validates_its_path():
    with pytest.raises(ValueError, match=r"must end in `\.weights\.h5`"):
        keras.callbacks.ModelCheckpoint("ckpt.h5", save_weights_only=True)
    with pytest.raises(ValueError, match=r"must end in `\.keras`"):
        keras.callbacks.ModelCheckpoint("ckpt.h5")


def test_model_checkpoint_without_saving_support_says_so(tmp_path):
    ckpt = keras.callbacks.ModelCheckpoint(str(tmp_path / "m-{epoch:02d}.weights.h5"),
                                           save_weights_only=True)
    model = _model()
    if hasattr(model, "save_weights"):
        model.fit(X, Y, epochs=1, verbose=0, callbacks=[ckpt])
        assert os.path.exists(tmp_path / "m-01.weights.h5")
    else:
        with pytest.raises(NotImplementedError, match="save_weights"):
            model.fit(X, Y, epochs=1, verbose=0, callbacks=[ckpt])
