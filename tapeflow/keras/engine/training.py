"""Training for `keras.Model`: compile, fit, evaluate, predict and the per-batch steps.

`train_step(data)` is Keras 3's: forward under a `tf.GradientTape`, compiled loss plus the
layers' losses, gradients, `optimizer.apply_gradients`, metric updates; users override it.
`fit` runs `self._train_step_fn` once per batch: `train_step` wrapped in `tf.function`
(`run_eagerly=True` keeps it eager). Logs are the metrics' results,
sorted by name and flattened as Keras does; they become Python floats at the end of each epoch.
"""
import warnings

import numpy as np

import tapeflow as tf
from tapeflow._core import nest
from tapeflow import distribute_lib
from tapeflow.keras.engine import data_adapter, distribution
from tapeflow.keras.engine.compile_utils import CompileLoss, CompileMetrics
from tapeflow.keras.losses.loss import (scale_loss_for_distribution,
                                        unscale_loss_for_distribution)


def _sorted_flat(logs):
    out = {}
    for key, value in sorted(logs.items()):
        if isinstance(value, dict):
            out.update(_sorted_flat(value))
        else:
            out[key] = value
    return out


def pythonify_logs(logs):
    out = {}
    for key, value in _sorted_flat(logs or {}).items():
        try:
            value = float(value)
        except (TypeError, ValueError):
            pass
        out[key] = value
    return out


def _batch_size_of(x):
    for leaf in nest.flatten(x):
        if hasattr(leaf, "shape") and len(leaf.shape):
            return int(leaf.shape[0])
    return 1


class Trainer:
    """The training API mixed into `Model`."""

    def __init__(self):
        self.compiled = False
        self.optimizer = None
        self.loss = None
        self._compile_loss = None
        self._compile_metrics = None
        self._loss_tracker = None
        self.stop_training = False
        self.history = None
        self.run_eagerly = False
        self.jit_compile = False
        self._train_step_fn = None
        self._test_step_fn = None
        self._predict_step_fn = None
        self._initial_epoch = None
        # a model created in a strategy's scope trains under it (Keras's distribute_strategy)
        self._distribute_strategy = distribute_lib.get_strategy() \
            if distribute_lib.has_strategy() else None

    @property
    def distribute_strategy(self):
        return distribution.strategy_of(self)

    # -- compile ---------------------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, loss_weights=None, metrics=None,
                weighted_metrics=None, run_eagerly=False, steps_per_execution=1,
                jit_compile="auto", auto_scale_loss=True):
        """Configures the model for training (strings or objects for each argument)."""
        from tapeflow.keras import metrics as metrics_module
        from tapeflow.keras import optimizers
        self.optimizer = optimizers.get(optimizer)
        self.loss = loss
        self._saving_compile_args = {  # what model.save writes as Keras's compile_config
            "loss": loss, "loss_weights": loss_weights, "metrics": metrics,
            "weighted_metrics": weighted_metrics, "run_eagerly": bool(run_eagerly),
            "steps_per_execution": steps_per_execution,
            "jit_compile": False if jit_compile == "auto" else bool(jit_compile)}
        names = self._output_names_for_compile()
        self._compile_loss = CompileLoss(loss, loss_weights, names) if loss is not None \
            else None
        self._compile_metrics = CompileMetrics(metrics, weighted_metrics, names) \
            if (metrics is not None or weighted_metrics is not None) else None
        self._loss_tracker = metrics_module.Mean(name="loss")
        self.run_eagerly = bool(run_eagerly)
        self.jit_compile = False if jit_compile == "auto" else bool(jit_compile)
        self.steps_per_execution = steps_per_execution
        self.compiled = True
        self.stop_training = False
        self._train_step_fn = self._test_step_fn = self._predict_step_fn = None

    def _output_names_for_compile(self):
        if hasattr(self, "_outputs") and getattr(self, "_outputs", None):
            outs = self._outputs
            if len(outs) > 1 and isinstance(getattr(self, "_outputs_struct", None), dict):
                return sorted(self._outputs_struct)
            return [t._keras_history[0].name for t in outs]
        return ["output"]

    @property
    def compiled_loss(self):
        return self._compile_loss

    @property
    def compiled_metrics(self):
        return self._compile_metrics

    # -- metrics ---------------------------------------------------------------------------------
    @property
    def metrics(self):
        cached = self.__dict__.get("_metrics_cache")
        if cached is not None:
            return cached
        out = []
        if self.compiled:
            if self._loss_tracker is not None:
                out.append(self._loss_tracker)
            if self._compile_metrics is not None:
                out.append(self._compile_metrics)
            if self._compile_loss is not None:
                out.extend(self._compile_loss.metrics)
        from tapeflow.keras import metrics as metrics_module
        Metric = metrics_module.Metric
        seen = {id(m) for m in out}
        for layer in self._flatten_layers(include_self=True):
            for key, value in layer.__dict__.items():
                if key.startswith("_compile") or key == "_loss_tracker":
                    continue
                for v in (value if isinstance(value, (list, tuple)) else (value,)):
                    if isinstance(v, Metric) and id(v) not in seen:
                        seen.add(id(v))
                        out.append(v)
        return out

    @property
    def metrics_names(self):
        return [m.name for m in self.metrics]

    def reset_metrics(self):
        for m in self.metrics:
            m.reset_state()

    def get_metrics_result(self):
        """The metrics' current results, by name (sorted and flattened, as in the logs)."""
        out = {}
        for m in self.metrics:
            out[m.name] = m.result()
        return _sorted_flat(out)

    def _metrics_or_logs(self, logs):
        with distribution.aggregated_metric_reads(self):  # the job's metrics, not the worker's
            metric_logs = pythonify_logs(self.get_metrics_result())
        if isinstance(logs, dict) and set(logs) == set(metric_logs):
            return metric_logs
        return pythonify_logs(logs)

    # -- steps -------------------------------------------------------------------------------------
    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """The compiled loss of this batch plus the losses the layers added."""
        terms = []
        if self._compile_loss is not None:
            value = self._compile_loss(y, y_pred, sample_weight)
            if value is not None:
                terms.append(value)
        for extra in self.losses:
            if extra.dtype != tf.float32 and terms:
                extra = tf.cast(extra, terms[0].dtype)
            terms.append(scale_loss_for_distribution(tf.reduce_sum(extra) if extra.ndim
                                                     else extra))
        if not terms:
            raise ValueError("No loss to compute. Provide a `loss` argument in `compile()`.")
        total = terms[0]
        for t in terms[1:]:
            total = total + t
        return total

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        if self._compile_metrics is not None:
            self._compile_metrics.update_state(y, y_pred, sample_weight)
        return self.get_metrics_result()

    def train_step(self, data):
        x, y, sample_weight = data_adapter.unpack_x_y_sample_weight(data)
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight,
                                     training=True)
            scaled = self.optimizer.scale_loss(loss)  # as Keras: loss scaling, if any
        self._loss_tracker.update_state(unscale_loss_for_distribution(loss),
                                        sample_weight=_batch_size_of(x))
        variables = self._trainable_cache if self._trainable_cache is not None \
            else self.trainable_weights
        if variables:
            grads = tape.gradient(scaled, variables)
            self.optimizer.apply_gradients(zip(grads, variables))
        else:
            warnings.warn("The model does not have any trainable weights.", stacklevel=2)
        return self.compute_metrics(x, y, y_pred, sample_weight)

    def test_step(self, data):
        x, y, sample_weight = data_adapter.unpack_x_y_sample_weight(data)
        y_pred = self(x, training=False)
        loss = self.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight,
                                 training=False)
        self._loss_tracker.update_state(unscale_loss_for_distribution(loss),
                                        sample_weight=_batch_size_of(x))
        return self.compute_metrics(x, y, y_pred, sample_weight)

    def predict_step(self, data):
        x, _, _ = data_adapter.unpack_x_y_sample_weight(data)
        return self(x, training=False)

    _trainable_cache = None

    def _cache_structure(self):
        """Once the model is built, fit keeps its variables, layers and metrics for the run:
        walking the layer tree each step would cost more than the step's bookkeeping."""
        if not self.built:
            return
        d = self.__dict__
        d["_metrics_cache"] = None
        d["_metrics_cache"] = self.metrics
        d["_flat_layers_cache"] = self._flatten_layers()
        d["_trainable_cache"] = self.trainable_weights

    def _uncache_structure(self):
        d = self.__dict__
        d["_metrics_cache"] = d["_flat_layers_cache"] = d["_trainable_cache"] = None

    def _compiled(self, step):
        """The step as fit/evaluate/predict run it: traced once per input signature with
        tf.function (Keras's default), or plain Python with `run_eagerly=True`."""
        step = distribution.distributed_step(step, self.distribute_strategy,
                                             reduce_logs=step != self.predict_step)
        if self.run_eagerly:
            return step
        from tapeflow.function.tf_function import function
        return function(step, jit_compile=bool(self.jit_compile) or None)

    def make_train_function(self, force=False):
        if self._train_step_fn is None or force:
            self._train_step_fn = self._compiled(self.train_step)
        return self._train_step_fn

    def make_test_function(self, force=False):
        if self._test_step_fn is None or force:
            self._test_step_fn = self._compiled(self.test_step)
        return self._test_step_fn

    def make_predict_function(self, force=False):
        if self._predict_step_fn is None or force:
            self._predict_step_fn = self._compiled(self.predict_step)
        return self._predict_step_fn

    def _assert_compiled(self):
        if not self.compiled:
            raise RuntimeError("You must call `compile()` before using the model.")

    # -- fit ---------------------------------------------------------------------------------------
    @distribution.in_strategy_scope
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None,
            validation_batch_size=None, validation_freq=1):
        """Trains the model for `epochs` epochs; returns the `History`."""
        from tapeflow.keras.callbacks import CallbackList
        self._assert_compiled()
        if validation_split and validation_data is None:
            if not data_adapter.is_array_structure(x):
                raise ValueError("`validation_split` is only supported for Tensors or NumPy "
                                 f"arrays, found following types in the input: {type(x)}")
            (x, y, sample_weight), validation_data = data_adapter.train_validation_split(
                (x, y, sample_weight), validation_split)
        batches = data_adapter.make_batches(x, y, sample_weight, batch_size, shuffle,
                                            class_weight, steps_per_epoch)
        batches = distribution.distribute(batches, self.distribute_strategy)
        val_x = val_y = val_sw = None
        if validation_data is not None:
            if isinstance(validation_data, (tuple, list)) and 2 <= len(validation_data) <= 3:
                val_x, val_y, val_sw = data_adapter.unpack_x_y_sample_weight(
                    tuple(validation_data))
            else:
                val_x = validation_data
        verbose = 1 if verbose == "auto" else verbose
        if not isinstance(callbacks, CallbackList):
            callbacks = CallbackList(callbacks, add_history=True, add_progbar=verbose != 0,
                                     verbose=verbose, epochs=epochs, steps=len(batches),
                                     model=self)
        self.stop_training = False
        step_fn = self.make_train_function()
        self._cache_structure()
        callbacks.on_train_begin()
        training_logs = None
        logs = {}
        if self._initial_epoch is not None:
            initial_epoch = self._initial_epoch
            self._initial_epoch = None
        try:
            for epoch in range(initial_epoch, epochs):
                self.reset_metrics()
                callbacks.on_epoch_begin(epoch)
                for step, data in enumerate(batches.epoch()):
                    callbacks.on_train_batch_begin(step)
                    logs = step_fn(data)
                    if self._trainable_cache is None:
                        self._cache_structure()
                    callbacks.on_train_batch_end(step, logs)
                    if self.stop_training:
                        break
                epoch_logs = dict(self._metrics_or_logs(logs))
                if val_x is not None and (epoch + 1) % validation_freq == 0:
                    val_logs = self.evaluate(val_x, val_y, sample_weight=val_sw,
                                             batch_size=validation_batch_size or batch_size,
                                             steps=validation_steps, callbacks=callbacks,
                                             return_dict=True, _in_fit=True)
                    epoch_logs.update({"val_" + k: v for k, v in val_logs.items()})
                callbacks.on_epoch_end(epoch, epoch_logs)
                training_logs = epoch_logs
                if self.stop_training:
                    break
        finally:
            self._uncache_structure()
        callbacks.on_train_end(logs=training_logs)
        return self.history

    # -- evaluate / predict --------------------------------------------------------------------------
    @distribution.in_strategy_scope
    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
                 steps=None, callbacks=None, return_dict=False, _in_fit=False, **kwargs):
        """Loss and metrics on the data: a scalar, a list (loss first), or a dict."""
        from tapeflow.keras.callbacks import CallbackList
        self._assert_compiled()
        batches = data_adapter.make_batches(x, y, sample_weight, batch_size, False, None,
                                            steps)
        batches = distribution.distribute(batches, self.distribute_strategy)
        verbose = 1 if verbose == "auto" else verbose
        if not isinstance(callbacks, CallbackList):
            callbacks = CallbackList(callbacks, add_progbar=verbose != 0, verbose=verbose,
                                     epochs=1, steps=len(batches), model=self)
        step_fn = self.make_test_function()
        owns_cache = not _in_fit
        if owns_cache:
            self._cache_structure()
        try:
            self.reset_metrics()
            callbacks.on_test_begin()
            logs = {}
            for step, data in enumerate(batches.epoch()):
                callbacks.on_test_batch_begin(step)
                logs = step_fn(data)
                callbacks.on_test_batch_end(step, logs)
            logs = self._metrics_or_logs(logs)
        finally:
            if owns_cache:
                self._uncache_structure()
        callbacks.on_test_end(logs)
        if return_dict:
            return logs
        return self._flatten_metrics_in_order(logs)

    def _flatten_metrics_in_order(self, logs):
        names = []
        for m in self.metrics:
            if isinstance(m, CompileMetrics):
                names += [sub.name for sub in m.metrics]
            else:
                names.append(m.name)
        results = [logs[n] for n in names if n in logs]
        results += [logs[k] for k in sorted(logs) if k not in names]
        return results[0] if len(results) == 1 else results

    @distribution.in_strategy_scope
    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """The model's outputs for `x`, as NumPy arrays, computed batch by batch."""
        from tapeflow.keras.callbacks import CallbackList
        batches = data_adapter.make_batches(x, None, None, batch_size, False, None, steps)
        batches = distribution.distribute(batches, self.distribute_strategy)
        verbose = 1 if verbose == "auto" else verbose
        if not isinstance(callbacks, CallbackList):
            callbacks = CallbackList(callbacks, add_progbar=verbose != 0, verbose=verbose,
                                     epochs=1, steps=len(batches), model=self)
        step_fn = self.make_predict_function()
        callbacks.on_predict_begin()
        outputs = None
        for step, data in enumerate(batches.epoch()):
            callbacks.on_predict_batch_begin(step)
            out = distribution.gather_outputs(step_fn(data), self.distribute_strategy)
            flat = [np.asarray(o.numpy() if hasattr(o, "numpy") else o)
                    for o in nest.flatten(out)]
            if outputs is None:
                outputs, structure = [[f] for f in flat], out
            else:
                for acc, f in zip(outputs, flat):
                    acc.append(f)
            callbacks.on_predict_batch_end(step, {"outputs": out})
        callbacks.on_predict_end()
        if outputs is None:
            raise ValueError("Unexpected result of `predict_function` (Empty batch_outputs). "
                             "Please use `Model.compile(..., run_eagerly=True)`, or "
                             "`tf.config.run_functions_eagerly(True)` for more information "
                             "of where went wrong, or file a issue/bug to `tf.keras`.")
        return nest.pack_sequence_as(structure, [np.concatenate(o) for o in outputs])

    # -- single batches --------------------------------------------------------------------------------
    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None,
                       return_dict=False):
        self._assert_compiled()
        if class_weight is not None:
            if sample_weight is not None:
                raise ValueError("Arguments `sample_weight` and `class_weight` cannot be "
                                 f"specified at the same time. Received: "
                                 f"sample_weight={sample_weight}, class_weight={class_weight}")
            sample_weight = data_adapter._class_weights(np.asarray(y), class_weight)
        self.reset_metrics()
        data = next(data_adapter.ArrayBatches(x, y, sample_weight, batch_size=_n(x)).epoch())
        logs = self.make_train_function()(data)
        logs = pythonify_logs(logs)
        return logs if return_dict else self._flatten_metrics_in_order(logs)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        self._assert_compiled()
        self.reset_metrics()
        data = next(data_adapter.ArrayBatches(x, y, sample_weight, batch_size=_n(x)).epoch())
        logs = pythonify_logs(self.make_test_function()(data))
        return logs if return_dict else self._flatten_metrics_in_order(logs)

    def predict_on_batch(self, x):
        data = next(data_adapter.ArrayBatches(x, batch_size=_n(x)).epoch())
        out = self.make_predict_function()(data)
        return nest.map_structure(lambda o: np.asarray(o.numpy()), out)


def _n(x):
    leaf = nest.flatten(x)[0]
    return int(np.shape(leaf)[0]) if np.ndim(leaf) else 1
