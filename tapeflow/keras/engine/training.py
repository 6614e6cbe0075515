"""Training for `keras.Model`: compile, fit, evaluate, predict and the per-batch steps.

`train_step(data)` is Keras 3's: forward under a `tf.GradientTape`, `compute_loss` (the
compiled loss plus the layers' losses), gradients, `optimizer.apply_gradients`, then
`compute_metrics`; users override any of these, or `test_step`/`predict_step`,
`get_metrics_result`, `reset_metrics` and the `metrics` property. `fit` runs
`self._train_step_fn` once per batch: `train_step` wrapped in `tf.function`
(`run_eagerly=True` keeps it eager). Logs are the metrics' results, sorted by name and
flattened as Keras does; they become Python floats for the callbacks. The TF 2.x names
`compiled_loss(...)` and `compiled_metrics.update_state(...)` work as Keras 3 keeps them.
"""
import inspect
import warnings

import numpy as np

from tapeflow import distribute_lib
from tapeflow._core import nest, threads
from tapeflow.autodiff.tape import GradientTape
from tapeflow.keras.engine import data_adapter, distribution
from tapeflow.keras.engine.compile_loss import CompileLoss
from tapeflow.keras.engine.compile_utils import CompileMetrics
from tapeflow.keras.losses.loss import (scale_loss_for_distribution,
                                        unscale_loss_for_distribution)
from tapeflow.ops.elementwise import cast
from tapeflow.ops.reduction import reduce_sum


def pythonify_logs(logs):
    """Logs as Keras hands them to callbacks: nested dicts flattened, sorted by name, scalar
    tensors as Python floats."""
    out = {}
    for key, value in sorted((logs or {}).items()):
        if isinstance(value, dict):
            out.update(pythonify_logs(value))
            continue
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


class _CompiledMetricsShim:
    """What `model.compiled_metrics` is in Keras 3: the TF 2.x call
    `compiled_metrics.update_state(y, y_pred)` updates every metric of `model.metrics`."""

    def __init__(self, model):
        self._model = model

    def update_state(self, y, y_pred, sample_weight=None):
        from tapeflow.keras.metrics.metric import Mean
        warnings.warn("`model.compiled_metrics()` is deprecated. Instead, use e.g.:\n```\n"
                      "for metric in self.metrics:\n    metric.update_state(y, y_pred)\n```\n",
                      stacklevel=2)
        for metric in self._model.metrics:
            if isinstance(metric, Mean):  # Keras's rule: a Mean (the loss tracker) averages
                metric.update_state(y_pred, sample_weight=sample_weight)  # the predictions
            else:
                metric.update_state(y, y_pred, sample_weight=sample_weight)


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
        self.steps_per_execution = 1
        self._train_step_fn = None
        self._test_step_fn = None
        self._predict_step_fn = None
        self._initial_epoch = None
        self._eval_epoch_iterator = None
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
        """Configures the model for training.

        Args:
            optimizer: a name ('adam') or an optimizer.
            loss: one loss (a name, a `Loss`, a function) for every output, or a list, a dict
                by output name, or a nest shaped like the outputs.
            loss_weights: a float, or a list/dict shaped like `loss`.
            metrics: a list of metrics (names, `Metric`s, functions), a list with one list per
                output, or a dict by output name. Not weighted by `sample_weight`.
            weighted_metrics: the same, weighted by `sample_weight`/`class_weight`.
            run_eagerly: run the steps as plain Python instead of `tf.function`.
            steps_per_execution: batches between two callbacks' batch hooks.
            jit_compile: compile the steps with `torch.compile` ('auto': no).

        Example:
        >>> model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
        ...               metrics=["accuracy"])
        """
        from tapeflow.keras import optimizers
        from tapeflow.keras.metrics.metric import Mean
        self.optimizer = optimizers.get(optimizer)
        self._saving_compile_args = {  # what model.save writes as Keras's compile_config
            "loss": loss, "loss_weights": loss_weights, "metrics": metrics,
            "weighted_metrics": weighted_metrics, "run_eagerly": bool(run_eagerly),
            "steps_per_execution": steps_per_execution,
            "jit_compile": False if jit_compile == "auto" else bool(jit_compile)}
        names = getattr(self, "output_names", None)
        # as in Keras, compiling again without a loss (or metrics) keeps the earlier ones
        if loss is not None:
            self._compile_loss = CompileLoss(loss, loss_weights, output_names=names)
            self.loss = loss
        if metrics is not None or weighted_metrics is not None:
            self._compile_metrics = CompileMetrics(metrics, weighted_metrics,
                                                   output_names=names)
        jit = False if jit_compile == "auto" else bool(jit_compile)
        if jit and run_eagerly:
            warnings.warn("If `run_eagerly` is True, then `jit_compile` cannot also be True. "
                          "Disabling `jit_compile`.", stacklevel=2)
            jit = False
        self.jit_compile = jit
        self.run_eagerly = bool(run_eagerly)
        self.stop_training = False
        self.compiled = True
        self._loss_tracker = Mean(name="loss")
        self.steps_per_execution = steps_per_execution
        self._train_step_fn = self._test_step_fn = self._predict_step_fn = None
        self._uncache_structure()

    # -- the TF 2.x names, as Keras 3 keeps them ---------------------------------------------------
    def compiled_loss(self, y, y_pred, sample_weight=None, regularization_losses=None):
        """Deprecated (TF 2.x): the compiled loss plus the layers' losses (`compute_loss`)."""
        warnings.warn("`model.compiled_loss()` is deprecated. Instead, use "
                      "`model.compute_loss(x, y, y_pred, sample_weight, training)`.",
                      stacklevel=2)
        return self.compute_loss(x=None, y=y, y_pred=y_pred, sample_weight=sample_weight)

    @property
    def compiled_metrics(self):
        return _CompiledMetricsShim(self)

    # -- metrics ---------------------------------------------------------------------------------
    @property
    def metrics(self):
        """The loss tracker, the compiled metrics, the per-output loss trackers, then the
        metrics that the model and its layers hold as attributes (Keras 3's order)."""
        cached = self.__dict__.get("_metrics_cache")
        if cached is not None:
            return cached
        from tapeflow.keras.metrics.metric import Metric
        out = []
        if self.compiled:
            if self._loss_tracker is not None:
                out.append(self._loss_tracker)
            if self._compile_metrics is not None:
                out.append(self._compile_metrics)
            if self._compile_loss is not None:
                out.extend(self._compile_loss.metrics)
        seen = {id(m) for m in out}
        for layer in self._flatten_layers(include_self=True):
            if layer is not self and isinstance(layer, Trainer):
                continue  # a nested model's own metrics belong to its own training
            for key, value in layer.__dict__.items():
                if isinstance(value, (list, tuple)):
                    found = [v for v in value if isinstance(v, Metric)]
                elif isinstance(value, Metric):
                    found = (value,)
                else:
                    continue
                if not found or key.startswith("_compile") or key == "_loss_tracker":
                    continue
                for v in found:
                    if id(v) not in seen:
                        seen.add(id(v))
                        out.append(v)
        return out

    @property
    def metrics_names(self):
        return [m.name for m in self.metrics]

    @property
    def metrics_variables(self):
        return [v for m in self.metrics for v in m.variables]

    def reset_metrics(self):
        for m in self.metrics:
            m.reset_state()

    def _compile_built(self):
        """Whether compile's loss and metrics containers are built: until the first step has
        run, that step adds metrics (per-output loss trackers, the compiled metrics)."""
        return all(c is None or c.built for c in (self._compile_loss, self._compile_metrics))

    def get_metrics_result(self):
        """The metrics' current results by name; a metric whose result is a dict (the
        compiled metrics) adds its entries."""
        out = {}
        for m in self.metrics:
            result = m.result()
            if isinstance(result, dict):
                out.update(result)
            else:
                out[m.name] = result
        return out

    def _get_metrics_result_or_logs(self, logs):
        """The metrics' results when they are what the step returned, else the step's logs
        (a custom step may return anything). Not yet Python floats: as in Keras, a result
        that is a metric's variable shows the value it has when the callbacks read it."""
        with distribution.aggregated_metric_reads(self):  # the job's metrics, not the worker's
            metric_logs = self.get_metrics_result()
            if distribution.is_distributed(self):  # read inside: the state is summed here
                metric_logs = pythonify_logs(metric_logs)
        if isinstance(logs, dict) and set(logs) == set(metric_logs):
            return metric_logs
        return logs

    # -- steps -------------------------------------------------------------------------------------
    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """The compiled loss of this batch plus the losses the layers added."""
        terms = []
        if self._compile_loss is not None:
            value = self._compile_loss(y, y_pred, sample_weight)
            if value is not None:
                terms.append(value)
        for extra in self.losses:
            if not extra.dtype.is_floating:
                extra = cast(extra, "float32")
            terms.append(scale_loss_for_distribution(reduce_sum(extra) if extra.ndim
                                                     else extra))
        if not terms:
            raise ValueError("No loss to compute. Provide a `loss` argument in `compile()`.")
        total = terms[0]
        for t in terms[1:]:
            total = total + t
        return total

    def _compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """`compute_loss`, without `training` for overrides written before Keras 3.3 added
        it."""
        if "training" in inspect.signature(self.compute_loss).parameters:
            return self.compute_loss(x, y, y_pred, sample_weight, training=training)
        return self.compute_loss(x, y, y_pred, sample_weight)

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        """Updates the compiled metrics; returns `get_metrics_result()`."""
        if self._compile_metrics is not None:
            self._compile_metrics.update_state(y, y_pred, sample_weight)
        return self.get_metrics_result()

    def train_step(self, data):
        x, y, sample_weight = data_adapter.unpack_x_y_sample_weight(data)
        with GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self._compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight,
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
        return self.compute_metrics(x, y, y_pred, sample_weight=sample_weight)

    def test_step(self, data):
        x, y, sample_weight = data_adapter.unpack_x_y_sample_weight(data)
        y_pred = self(x, training=False)
        loss = self._compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight,
                                  training=False)
        self._loss_tracker.update_state(unscale_loss_for_distribution(loss),
                                        sample_weight=_batch_size_of(x))
        return self.compute_metrics(x, y, y_pred, sample_weight=sample_weight)

    def predict_step(self, data):
        x, _, _ = data_adapter.unpack_x_y_sample_weight(data)
        return self(x, training=False)

    _trainable_cache = None

    def _cache_structure(self):
        """Once the model is built, fit keeps its variables, layers and metrics for the run:
        walking the layer tree each step would cost more than the step's bookkeeping. The
        first step builds what compile left to build (metrics, per-output loss trackers), so
        the loops cache again after it."""
        if not self.built:
            return
        d = self.__dict__
        d["_metrics_cache"] = None
        if self._compile_built():
            d["_metrics_cache"] = self.metrics  # else the first step adds metrics: no cache
        d["_flat_layers_cache"] = self._flatten_layers()
        d["_trainable_cache"] = self.trainable_weights

    def _uncache_structure(self):
        d = self.__dict__
        d["_metrics_cache"] = d["_flat_layers_cache"] = d["_trainable_cache"] = None

    def _compiled(self, step):
        """The step as fit/evaluate/predict run it: traced once per input signature with
        tf.function (Keras's default), or plain Python with `run_eagerly=True`; under a
        strategy, run as this worker's replica."""
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

    def _assert_compiled(self, method=None):
        if not self.compiled:
            raise ValueError("You must call `compile()` before using the model.")

    @staticmethod
    def _should_eval(epoch, validation_freq):
        epoch = epoch + 1  # validation_freq counts epochs from 1
        if isinstance(validation_freq, int):
            return epoch % validation_freq == 0
        if isinstance(validation_freq, list):
            return epoch in validation_freq
        raise ValueError("Expected `validation_freq` to be a list or int. Received: "
                         f"validation_freq={validation_freq} of the type "
                         f"{type(validation_freq)}.")

    def _run_steps(self, step_fn, batches, first):
        """One execution: `step_fn` on each batch (Keras runs them as one call); after the
        very first step of a loop the model's structure is cached again."""
        logs = None
        for data in batches:
            threads.tick()  # (tf.function does too; this covers run_eagerly=True)
            logs = step_fn(data)
            if first:
                self._cache_structure()
                first = False
        return logs

    # -- fit ---------------------------------------------------------------------------------------
    @distribution.in_strategy_scope
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None,
            validation_batch_size=None, validation_freq=1):
        """Trains the model for `epochs` epochs; returns the `History`."""
        from tapeflow.keras.callbacks import CallbackList
        self._assert_compiled("fit")
        if validation_split and validation_data is None:
            (x, y, sample_weight), validation_data = data_adapter.train_validation_split(
                (x, y, sample_weight), validation_split)
        if validation_data is not None:
            val_x, val_y, val_sw = data_adapter.unpack_x_y_sample_weight(validation_data)
        iterator = data_adapter.EpochIterator(
            x, y, sample_weight, batch_size=batch_size, steps_per_epoch=steps_per_epoch,
            shuffle=shuffle, class_weight=class_weight,
            steps_per_execution=self.steps_per_execution, strategy=self.distribute_strategy)
        iterator.reset()
        verbose = 1 if verbose == "auto" else verbose
        if not isinstance(callbacks, CallbackList):
            callbacks = CallbackList(callbacks, add_history=True, add_progbar=verbose != 0,
                                     verbose=verbose, epochs=epochs,
                                     steps=iterator.num_batches, model=self)
        self.stop_training = False
        step_fn = self.make_train_function()
        self._cache_structure()
        callbacks.on_train_begin()
        training_logs = None
        logs = {}
        initial_epoch = self._initial_epoch or initial_epoch
        self._initial_epoch = None
        first = True
        try:
            for epoch in range(initial_epoch, epochs):
                self.reset_metrics()
                callbacks.on_epoch_begin(epoch)
                for begin, end, batches in iterator:
                    callbacks.on_train_batch_begin(begin)
                    logs = self._run_steps(step_fn, batches, first)
                    first = False
                    callbacks.on_train_batch_end(end, logs)
                    if self.stop_training:
                        break
                epoch_logs = dict(self._get_metrics_result_or_logs(logs) or {})
                if validation_data is not None and self._should_eval(epoch, validation_freq):
                    if self._eval_epoch_iterator is None:
                        self._eval_epoch_iterator = data_adapter.EpochIterator(
                            val_x, val_y, val_sw,
                            batch_size=validation_batch_size or batch_size,
                            steps_per_epoch=validation_steps,
                            steps_per_execution=self.steps_per_execution,
                            strategy=self.distribute_strategy)
                    val_logs = self.evaluate(val_x, val_y, sample_weight=val_sw,
                                             batch_size=validation_batch_size or batch_size,
                                             steps=validation_steps, callbacks=callbacks,
                                             return_dict=True, _use_cached_eval_dataset=True)
                    epoch_logs.update({"val_" + k: v for k, v in val_logs.items()})
                callbacks.on_epoch_end(epoch, epoch_logs)
                training_logs = epoch_logs
                if self.stop_training:
                    break
        finally:
            self._eval_epoch_iterator = None
            self._uncache_structure()
        callbacks.on_train_end(logs=training_logs)
        return self.history

    # -- evaluate / predict ------------------------------------------------------------------------
    @distribution.in_strategy_scope
    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
                 steps=None, callbacks=None, return_dict=False, **kwargs):
        """Loss and metrics on the data: a scalar, a list (loss first), or a dict."""
        from tapeflow.keras.callbacks import CallbackList
        self._assert_compiled("evaluate")
        in_fit = kwargs.pop("_use_cached_eval_dataset", False)
        if kwargs:
            raise ValueError(f"Arguments not recognized: {kwargs}")
        if in_fit:
            iterator = self._eval_epoch_iterator
        else:
            iterator = data_adapter.EpochIterator(
                x, y, sample_weight, batch_size=batch_size, steps_per_epoch=steps,
                steps_per_execution=self.steps_per_execution, strategy=self.distribute_strategy)
        iterator.reset()
        verbose = 1 if verbose == "auto" else verbose
        if not isinstance(callbacks, CallbackList):
            callbacks = CallbackList(callbacks, add_progbar=verbose != 0, verbose=verbose,
                                     epochs=1, steps=iterator.num_batches, model=self)
        step_fn = self.make_test_function()
        if not in_fit:
            self._cache_structure()
        self.stop_evaluating = False
        try:
            callbacks.on_test_begin()
            logs = {}
            self.reset_metrics()
            first = not in_fit
            for begin, end, batches in iterator:
                callbacks.on_test_batch_begin(begin)
                logs = self._run_steps(step_fn, batches, first)
                first = False
                callbacks.on_test_batch_end(end, logs)
                if self.stop_evaluating:
                    break
            logs = pythonify_logs(self._get_metrics_result_or_logs(logs))
        finally:
            if not in_fit:
                self._uncache_structure()
        callbacks.on_test_end(logs)
        if return_dict:
            return logs
        return self._flatten_metrics_in_order(logs)

    def _flatten_metrics_in_order(self, logs, metrics=None):
        """The logs as a list in the order of `metrics_names` (the compiled metrics' own
        names), then the rest sorted; one value alone is returned as it is."""
        names = []
        for m in self.metrics if metrics is None else metrics:
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
        iterator = data_adapter.EpochIterator(x, batch_size=batch_size, steps_per_epoch=steps,
                                              steps_per_execution=self.steps_per_execution,
                                              strategy=self.distribute_strategy)
        iterator.reset()
        verbose = 1 if verbose == "auto" else verbose
        if not isinstance(callbacks, CallbackList):
            callbacks = CallbackList(callbacks, add_progbar=verbose != 0, verbose=verbose,
                                     epochs=1, steps=iterator.num_batches, model=self)
        step_fn = self.make_predict_function()
        self.stop_predicting = False
        callbacks.on_predict_begin()
        outputs = structure = None
        for begin, end, batches in iterator:
            callbacks.on_predict_batch_begin(begin)
            for data in batches:
                out = distribution.gather_outputs(step_fn(data), self.distribute_strategy)
                flat = [np.asarray(o.numpy() if hasattr(o, "numpy") else o)
                        for o in nest.flatten(out)]
                if outputs is None:
                    outputs, structure = [[f] for f in flat], out
                else:
                    for acc, f in zip(outputs, flat):
                        acc.append(f)
            callbacks.on_predict_batch_end(end, {"outputs": out})
            if self.stop_predicting:
                break
        callbacks.on_predict_end()
        if outputs is None:
            raise ValueError("Unexpected result of `predict_function` (Empty batch_outputs). "
                             "Please use `Model.compile(..., run_eagerly=True)`, or "
                             "`tf.config.run_functions_eagerly(True)` for more information "
                             "of where went wrong, or file a issue/bug to `tf.keras`.")
        return nest.pack_sequence_as(structure, [np.concatenate(o) if o[0].ndim else
                                                 np.stack(o) for o in outputs])

    # -- single batches ----------------------------------------------------------------------------
    def _one_batch(self, x, y=None, sample_weight=None):
        n = _n(x)
        return next(data_adapter.ArrayBatches(x, y, sample_weight, batch_size=n).epoch())

    def _on_batch_metrics(self):
        """Resets the metrics, as Keras's *_on_batch do, and returns a function that gives the
        metrics after the step: the same list when compile was built before it (one walk of
        the layer tree per call instead of two, a third of a small model's call)."""
        metrics = self.metrics
        for m in metrics:
            m.reset_state()
        if self.__dict__.get("_metrics_cache") is None and not self._compile_built():
            return lambda: self.metrics
        return lambda: metrics

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None,
                       return_dict=False):
        self._assert_compiled("train_on_batch")
        if class_weight is not None:
            if sample_weight is not None:
                raise ValueError("Arguments `sample_weight` and `class_weight` cannot be "
                                 f"specified at the same time. Received: "
                                 f"sample_weight={sample_weight}, class_weight={class_weight}")
            sample_weight = data_adapter.class_weight_to_sample_weights(y, class_weight)
        step_fn = self.make_train_function()
        metrics = self._on_batch_metrics()
        logs = pythonify_logs(step_fn(self._one_batch(x, y, sample_weight)))
        return logs if return_dict else self._flatten_metrics_in_order(logs, metrics())

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        self._assert_compiled("test_on_batch")
        step_fn = self.make_test_function()
        metrics = self._on_batch_metrics()
        logs = pythonify_logs(step_fn(self._one_batch(x, y, sample_weight)))
        return logs if return_dict else self._flatten_metrics_in_order(logs, metrics())

    def predict_on_batch(self, x):
        out = self.make_predict_function()(self._one_batch(x))
        return nest.map_structure(lambda o: np.asarray(o.numpy()), out)


def _n(x):
    leaf = nest.flatten(x)[0]
    return int(np.shape(leaf)[0]) if np.ndim(leaf) else 1
