"""The callback protocol (`Callback`, `CallbackList`) and the callbacks every `fit` uses:
`History` (the per-epoch logs `fit` returns) and `ProgbarLogger` (the progress bar); plus the
small ones: `LambdaCallback`, `TerminateOnNaN`."""
import math

import numpy as np

from tapeflow.keras.engine.progbar import Progbar, print_msg

_HOOKS = ("on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end",
          "on_train_batch_begin", "on_train_batch_end", "on_test_begin", "on_test_end",
          "on_test_batch_begin", "on_test_batch_end", "on_predict_begin", "on_predict_end",
          "on_predict_batch_begin", "on_predict_batch_end")


class Callback:
    """Base class of callbacks: override the `on_*` methods you need.

    `self.model` is the model being trained and `self.params` holds `verbose`, `epochs` and
    `steps`.

    Example:
    >>> class Stop(keras.callbacks.Callback):
    ...     def on_epoch_end(self, epoch, logs=None):
    ...         if logs["loss"] < 0.1:
    ...             self.model.stop_training = True
    """

    def __init__(self):
        self.params = None
        self._model = None

    def set_params(self, params):
        self.params = params

    def set_model(self, model):
        self._model = model

    @property
    def model(self):
        return self._model

    def on_batch_begin(self, batch, logs=None):
        """A backwards compatibility alias for `on_train_batch_begin`."""

    def on_batch_end(self, batch, logs=None):
        """A backwards compatibility alias for `on_train_batch_end`."""

    def on_epoch_begin(self, epoch, logs=None):
        pass

    def on_epoch_end(self, epoch, logs=None):
        pass

    def on_train_batch_begin(self, batch, logs=None):
        self.on_batch_begin(batch, logs=logs)

    def on_train_batch_end(self, batch, logs=None):
        self.on_batch_end(batch, logs=logs)

    def on_test_batch_begin(self, batch, logs=None):
        pass

    def on_test_batch_end(self, batch, logs=None):
        pass

    def on_predict_batch_begin(self, batch, logs=None):
        pass

    def on_predict_batch_end(self, batch, logs=None):
        pass

    def on_train_begin(self, logs=None):
        pass

    def on_train_end(self, logs=None):
        pass

    def on_test_begin(self, logs=None):
        pass

    def on_test_end(self, logs=None):
        pass

    def on_predict_begin(self, logs=None):
        pass

    def on_predict_end(self, logs=None):
        pass


def _overrides(cb, hook):
    if hook in cb.__dict__:  # a LambdaCallback's function
        return True
    method = getattr(type(cb), hook, None)
    base = getattr(Callback, hook)
    if method is base:
        if hook == "on_train_batch_begin":
            return type(cb).on_batch_begin is not Callback.on_batch_begin
        if hook == "on_train_batch_end":
            return type(cb).on_batch_end is not Callback.on_batch_end
        return False
    return True


class CallbackList:
    """Calls each hook on every callback in order. Per-batch hooks only go to the callbacks
    that define them, so an ordinary `fit` pays nothing per batch for the others."""

    def __init__(self, callbacks=None, add_history=False, add_progbar=False, model=None,
                 **params):
        self.callbacks = list(callbacks or [])
        if add_history and not any(isinstance(c, History) for c in self.callbacks):
            self.callbacks.append(History())
        if add_progbar and not any(isinstance(c, ProgbarLogger) for c in self.callbacks):
            self.callbacks.append(ProgbarLogger())
        self.model = None
        self.params = dict(params)
        if model is not None:
            self.set_model(model)
        self.set_params(self.params)
        self._batch_hooks = {h: [getattr(c, h) for c in self.callbacks if _overrides(c, h)]
                             for h in _HOOKS if "batch" in h}

    def append(self, callback):
        self.callbacks.append(callback)

    def set_params(self, params):
        self.params = params
        for c in self.callbacks:
            c.set_params(params)

    def set_model(self, model):
        self.model = model
        history = None
        for c in self.callbacks:
            c.set_model(model)
            if isinstance(c, History):
                history = c
        if history is not None:
            model.history = history

    def _call(self, hook, *args):
        # as in Keras, callbacks get the logs as Python floats, and {} rather than None
        from tapeflow.keras.engine.training import pythonify_logs
        args = args[:-1] + (pythonify_logs(args[-1]),)
        for c in self.callbacks:
            getattr(c, hook)(*args)

    def _batch_hook(self, hook, batch, logs):
        hooks = self._batch_hooks[hook]
        if hooks:  # callbacks see Python floats, as in Keras (none listening: no cost)
            from tapeflow.keras.engine.training import pythonify_logs
            logs = pythonify_logs(logs)
            for fn in hooks:
                fn(batch, logs)

    def on_train_begin(self, logs=None):
        self._call("on_train_begin", logs)

    def on_train_end(self, logs=None):
        self._call("on_train_end", logs)

    def on_epoch_begin(self, epoch, logs=None):
        self._call("on_epoch_begin", epoch, logs)

    def on_epoch_end(self, epoch, logs=None):
        self._call("on_epoch_end", epoch, logs)

    def on_test_begin(self, logs=None):
        self._call("on_test_begin", logs)

    def on_test_end(self, logs=None):
        self._call("on_test_end", logs)

    def on_predict_begin(self, logs=None):
        self._call("on_predict_begin", logs)

    def on_predict_end(self, logs=None):
        self._call("on_predict_end", logs)

    def on_train_batch_begin(self, batch, logs=None):
        self._batch_hook("on_train_batch_begin", batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        self._batch_hook("on_train_batch_end", batch, logs)

    def on_test_batch_begin(self, batch, logs=None):
        self._batch_hook("on_test_batch_begin", batch, logs)

    def on_test_batch_end(self, batch, logs=None):
        self._batch_hook("on_test_batch_end", batch, logs)

    def on_predict_batch_begin(self, batch, logs=None):
        self._batch_hook("on_predict_batch_begin", batch, logs)

    def on_predict_batch_end(self, batch, logs=None):
        self._batch_hook("on_predict_batch_end", batch, logs)

    def __iter__(self):
        return iter(self.callbacks)


class History(Callback):
    """Records each epoch's logs: `history.history["loss"]` is the loss per epoch."""

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        self.epoch.append(epoch)
        for k, v in logs.items():
            self.history.setdefault(k, []).append(v)
        self.model.history = self


class ProgbarLogger(Callback):
    """Prints `Epoch i/n` (when n > 1) and the progress bar of each epoch, evaluation or
    prediction."""

    def __init__(self):
        super().__init__()
        self.seen = 0
        self.progbar = None
        self.target = None
        self.verbose = 1
        self.epochs = 1
        self._called_in_fit = False

    def set_params(self, params):
        verbose = params.get("verbose", 1)
        self.verbose = 1 if verbose == "auto" else verbose
        self.epochs = params.get("epochs", 1)
        self.target = params.get("steps")

    def on_train_begin(self, logs=None):
        self._called_in_fit = True

    def on_test_begin(self, logs=None):
        if not self._called_in_fit:
            self._reset_progbar()
            self._maybe_init_progbar()

    def on_predict_begin(self, logs=None):
        self._reset_progbar()
        self._maybe_init_progbar()

    def on_epoch_begin(self, epoch, logs=None):
        self._reset_progbar()
        self._maybe_init_progbar()
        if self.verbose and self.epochs > 1:
            print_msg(f"Epoch {epoch + 1}/{self.epochs}")

    def on_train_batch_end(self, batch, logs=None):
        self._update_progbar(batch, logs)

    def on_test_batch_end(self, batch, logs=None):
        if not self._called_in_fit:
            self._update_progbar(batch, logs)

    def on_predict_batch_end(self, batch, logs=None):
        self._update_progbar(batch, None)

    def on_epoch_end(self, epoch, logs=None):
        self._finalize_progbar(logs)

    def on_test_end(self, logs=None):
        if not self._called_in_fit:
            self._finalize_progbar(logs)

    def on_predict_end(self, logs=None):
        self._finalize_progbar(logs)

    def _reset_progbar(self):
        self.seen = 0
        self.progbar = None

    def _maybe_init_progbar(self):
        if self.progbar is None:
            self.progbar = Progbar(target=self.target, verbose=self.verbose, unit_name="step")

    def _update_progbar(self, batch, logs=None):
        self._maybe_init_progbar()
        self.seen = batch + 1
        if self.verbose == 1:
            self.progbar.update(self.seen, list((logs or {}).items()), finalize=False)

    def _finalize_progbar(self, logs):
        logs = logs or {}
        self._maybe_init_progbar()
        if self.target is None:
            self.target = self.seen
            self.progbar.target = self.target
        self.progbar.update(self.target, list(logs.items()), finalize=True)


class LambdaCallback(Callback):
    """A callback from plain functions: `LambdaCallback(on_epoch_end=lambda epoch, logs:
    print(epoch))`."""

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_train_begin=None,
                 on_train_end=None, on_train_batch_begin=None, on_train_batch_end=None,
                 **kwargs):
        super().__init__()
        given = dict(kwargs, on_epoch_begin=on_epoch_begin, on_epoch_end=on_epoch_end,
                     on_train_begin=on_train_begin, on_train_end=on_train_end,
                     on_train_batch_begin=on_train_batch_begin,
                     on_train_batch_end=on_train_batch_end)
        for hook, fn in given.items():
            if hook in ("on_batch_begin", "on_batch_end") and fn is not None:
                hook = "on_train_" + hook[3:]
            if fn is not None:
                setattr(self, hook, fn)
        self._hooks = {h for h, fn in given.items() if fn is not None}


class TerminateOnNaN(Callback):
    """Stops training when the loss becomes NaN or infinite."""

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None:
            value = float(np.asarray(loss))
            if math.isnan(value) or math.isinf(value):
                print_msg(f"Batch {batch}: Invalid loss, terminating training")
                self.model.stop_training = True
