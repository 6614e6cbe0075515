"""Callbacks that write training state to disk: ModelCheckpoint and BackupAndRestore (a run
that is killed resumes from its last finished epoch). Under a multi-worker tf.distribute
strategy only the chief writes, and BackupAndRestore gives every worker the chief's backup."""
import json
import os
import shutil
import tempfile
import warnings

import numpy as np

from tapeflow.keras.callbacks.base import Callback
from tapeflow.keras.callbacks.monitoring import _metric_direction
from tapeflow.keras.engine import distribution
from tapeflow.keras.engine.progbar import print_msg


class ModelCheckpoint(Callback):
    """Saves the model (`.keras`) or its weights (`.weights.h5`) after each epoch, or only
    when `monitor` improves (`save_best_only=True`). `filepath` may hold `{epoch}` and log
    names, e.g. `"ckpt-{epoch:02d}-{val_loss:.2f}.weights.h5"`."""

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False,
                 save_weights_only=False, mode="auto", save_freq="epoch",
                 initial_value_threshold=None):
        super().__init__()
        self.filepath = os.fspath(filepath)
        self.monitor = monitor
        self.verbose = verbose
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.save_freq = save_freq
        self.mode = mode
        self.best = initial_value_threshold
        self.monitor_op = None
        if save_weights_only and not self.filepath.endswith(".weights.h5"):
            raise ValueError("When using `save_weights_only=True` in `ModelCheckpoint`, the "
                             "filepath provided must end in `.weights.h5` (Keras weights "
                             f"format). Received: filepath={self.filepath}")
        if not save_weights_only and not self.filepath.endswith(".keras"):
            raise ValueError("The filepath provided must end in `.keras` (Keras model format). "
                             f"Received: filepath={self.filepath}")
        if save_freq != "epoch" and not isinstance(save_freq, int):
            raise ValueError(f"Unrecognized save_freq: {save_freq}. Expected save_freq are "
                             "'epoch' or integer values")
        self._batches_seen = 0

    def _op(self):
        if self.monitor_op is None:
            mode = self.mode if self.mode in ("min", "max") else \
                _metric_direction(self.model, self.monitor) or "min"
            self.monitor_op = np.less if mode == "min" else np.greater
        return self.monitor_op

    def on_train_batch_end(self, batch, logs=None):
        if isinstance(self.save_freq, int):
            self._batches_seen += 1
            if self._batches_seen % self.save_freq == 0:
                self._save(getattr(self, "_epoch", 0), dict(logs or {}, batch=batch))

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._save(epoch, logs or {})

    def _save(self, epoch, logs):
        if not distribution.should_write(self.model):  # tf.distribute: the chief writes
            return
        filepath = self.filepath.format(epoch=epoch + 1, **logs)
        if self.save_best_only:
            current = logs.get(self.monitor)
            if current is None:
                warnings.warn(f"Can save best model only with {self.monitor} available.",
                              stacklevel=2)
                return
            if self.best is not None and not self._op()(current, self.best):
                if self.verbose > 0:
                    print_msg(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from "
                              f"{self.best:.5f}")
                return
            if self.verbose > 0:
                best_str = "None" if self.best is None else f"{self.best:.5f}"
                print_msg(f"\nEpoch {epoch + 1}: {self.monitor} improved from {best_str} to "
                          f"{current:.5f}, saving model to {filepath}")
            self.best = current
        elif self.verbose > 0:
            print_msg(f"\nEpoch {epoch + 1}: saving model to {filepath}")
        dirname = os.path.dirname(filepath)
        if dirname:
            os.makedirs(dirname, exist_ok=True)
        method = "save_weights" if self.save_weights_only else "save"
        if not hasattr(self.model, method):
            raise NotImplementedError(
                f"ModelCheckpoint needs `model.{method}()`, which tapeflow does not have yet "
                "(model saving is a later issue). Use keras.callbacks.BackupAndRestore to "
                "checkpoint a run in the meantime.")
        getattr(self.model, method)(filepath)


class BackupAndRestore(Callback):
    """Backs up the model's weights, the optimizer's state and the epoch at the end of each
    epoch into `backup_dir`; a `fit` started again after an interruption restores them and
    resumes at the next epoch. The backup is deleted when training finishes.

    The backup is one NumPy `.npz` file, written to a temporary file and renamed, so a run
    killed while writing leaves the previous backup intact.
    """

    FILENAME = "backup.npz"

    def __init__(self, backup_dir, save_freq="epoch", delete_checkpoint=True,
                 double_checkpoint=False):
        super().__init__()
        if not backup_dir:
            raise ValueError("Empty `backup_dir` argument passed")
        if save_freq != "epoch" and not isinstance(save_freq, int):
            raise ValueError(f"Invalid value for argument `save_freq`. Received: "
                             f"save_freq={save_freq}. Expected either 'epoch' or an integer "
                             "value.")
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = save_freq
        self.delete_checkpoint = delete_checkpoint
        self._path = os.path.join(self.backup_dir, self.FILENAME)
        self._current_epoch = 0
        self._batches_seen = 0

    def _optimizer_variables(self):
        opt = self.model.optimizer
        if not getattr(opt, "built", True) and hasattr(opt, "build"):
            opt.build(self.model.trainable_variables)
        return list(opt.variables)

    def on_train_begin(self, logs=None):
        if not self.model.built:
            raise ValueError("To use the BackupAndRestore callback, you model must be built "
                             "before you call `fit()`. Call `model.build(input_shape)` or "
                             "call the model on data first.")
        # Under tf.distribute the chief reads the backup and every worker takes the chief's
        # epoch and values, so the whole job resumes alike (no shared filesystem needed).
        variables = self._optimizer_variables()
        epoch = None
        if distribution.should_write(self.model) and os.path.exists(self._path):
            with np.load(self._path) as data:
                meta = json.loads(str(data["meta"]))
                self.model.set_weights([data[f"w{i}"] for i in range(meta["weights"])])
                if len(variables) == meta["optimizer"]:
                    for i, v in enumerate(variables):
                        v.assign(data[f"o{i}"])
            epoch = meta["epoch"]
        epoch = distribution.from_chief(self.model, epoch, self.model.weights + variables)
        if epoch is None:
            return
        self._current_epoch = epoch
        self.model._initial_epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        self._current_epoch = epoch + 1
        if self.save_freq == "epoch":
            self._save()

    def on_train_batch_end(self, batch, logs=None):
        if isinstance(self.save_freq, int):
            self._batches_seen += 1
            if self._batches_seen % self.save_freq == 0:
                self._save()

    def _save(self):
        if not distribution.should_write(self.model):  # tf.distribute: the chief writes
            return
        os.makedirs(self.backup_dir, exist_ok=True)
        weights = self.model.get_weights()
        opt_vars = [v.numpy() for v in self._optimizer_variables()]
        arrays = {f"w{i}": w for i, w in enumerate(weights)}
        arrays.update({f"o{i}": o for i, o in enumerate(opt_vars)})
        arrays["meta"] = np.asarray(json.dumps({"epoch": self._current_epoch,
                                                "weights": len(weights),
                                                "optimizer": len(opt_vars)}))
        fd, tmp = tempfile.mkstemp(dir=self.backup_dir, suffix=".npz.tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                np.savez(f, **arrays)
            os.replace(tmp, self._path)
        except BaseException:
            if os.path.exists(tmp):
                os.remove(tmp)
            raise

    def on_train_end(self, logs=None):
        if self.delete_checkpoint and distribution.should_write(self.model) and \
                os.path.exists(self.backup_dir):
            shutil.rmtree(self.backup_dir, ignore_errors=True)
