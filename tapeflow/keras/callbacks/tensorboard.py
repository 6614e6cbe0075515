"""`keras.callbacks.TensorBoard`: Keras 3's callback, writing through `tf.summary`.

It writes what Keras 3 on TensorFlow writes, under the same tags: `log_dir/train` gets the
model's config (`keras`, for the conceptual graph), `epoch_<metric>` scalars (with
`epoch_learning_rate`, and `epoch_steps_per_second` when asked), `batch_<metric>` scalars
every `update_freq` batches, and every `histogram_freq` epochs `<weight path>/histogram`
(and `/image` with `write_images`); `log_dir/validation` gets the validation `epoch_*`
scalars and `evaluation_<metric>_vs_iterations` after each evaluation. `profile_batch`
traces the batches it names and exports the tf.function graphs made meanwhile (tapeflow
has no profiler). No `tensorboard` package is needed. Under a multi-worker tf.distribute
strategy only the chief writes.
"""
import os
import sys
import time

import numpy as np

from tapeflow.keras.callbacks.base import Callback
from tapeflow.keras.engine import distribution
from tapeflow.summary import summary_ops, trace, writer as summary_writer


class TensorBoard(Callback):
    """Enables visualizations for TensorBoard (`tensorboard --logdir=log_dir`).

    Args:
        log_dir: where the event files go (`train/` and `validation/` inside).
        histogram_freq: every how many epochs to write weight histograms (0: never).
        write_graph: write the model's config for TensorBoard's conceptual graph.
        write_images: write weights as images too (with `histogram_freq`).
        write_steps_per_second: write the training steps per second.
        update_freq: "epoch", "batch" or an integer N: write batch-level scalars every N
            batches (and let `tf.summary` calls inside the model write with those steps).
        profile_batch: a batch or a (start, stop) pair whose tf.function graphs to write.
        embeddings_freq: every how many epochs to save the Embedding weights for the
            Projector (0: never).
        embeddings_metadata: an embedding layer's metadata file name, or a dict of them by
            layer name.

    Example:
    >>> tensorboard = keras.callbacks.TensorBoard(log_dir="./logs", histogram_freq=1)
    >>> model.fit(x_train, y_train, epochs=2, callbacks=[tensorboard])
    """

    def __init__(self, log_dir="logs", histogram_freq=0, write_graph=True, write_images=False,
                 write_steps_per_second=False, update_freq="epoch", profile_batch=0,
                 embeddings_freq=0, embeddings_metadata=None):
        super().__init__()
        self.log_dir = str(log_dir)
        self.histogram_freq = histogram_freq
        self.write_graph = write_graph
        self.write_images = write_images
        self.write_steps_per_second = write_steps_per_second
        self.update_freq = 1 if update_freq == "batch" else update_freq
        self.embeddings_freq = embeddings_freq
        self.embeddings_metadata = embeddings_metadata
        self._init_profile_batch(profile_batch)
        self._global_train_batch = 0
        self._global_test_batch = 0
        self._previous_epoch_iterations = 0
        self._batch_start_time = 0
        self._writers = {}  # made when first needed, so that no empty event files appear
        self._prev_summary_state = []

    def set_model(self, model):
        self._model = model
        self._log_write_dir = self.log_dir
        self._train_dir = os.path.join(self._log_write_dir, "train")
        self._val_dir = os.path.join(self._log_write_dir, "validation")
        self._writers = {}
        # Keras 3 writes the train step's op graph only for TF functions with a
        # `function_spec`, which TF 2.21's have not: it writes none, and neither do we
        if self.write_graph:
            self._write_keras_model_summary()
        if self.embeddings_freq and distribution.should_write(model):
            self._configure_embeddings()

    def _writer(self, kind, logdir):
        if kind not in self._writers:
            # under a multi-worker tf.distribute strategy only the chief writes
            self._writers[kind] = summary_writer.create_file_writer(logdir) \
                if distribution.should_write(self.model) else summary_writer.create_noop_writer()
        return self._writers[kind]

    @property
    def _train_writer(self):
        return self._writer("train", self._train_dir)

    @property
    def _val_writer(self):
        return self._writer("val", self._val_dir)

    def _write_keras_model_summary(self):
        if type(self.model).__name__ not in ("Functional", "Sequential"):
            return
        with self._train_writer.as_default():
            keras_model_summary("keras", self.model, step=0)

    def _configure_embeddings(self):
        """Writes the Projector's `projector_config.pbtxt` (its text format, by hand: the
        projector's protos come with the tensorboard package)."""
        from tapeflow.keras.layers import Embedding
        entries = []
        metadata = self.embeddings_metadata
        for layer in self.model.layers:
            if isinstance(layer, Embedding):
                # Keras names the first weight of the checkpoint this way
                entry = {"tensor_name": "layer_with_weights-0/embeddings/.ATTRIBUTES/"
                                        "VARIABLE_VALUE"}
                if isinstance(metadata, str):
                    entry["metadata_path"] = metadata
                elif metadata is not None and layer.name in metadata:
                    entry["metadata_path"] = metadata.pop(layer.name)
                entries.append(entry)
        if metadata and not isinstance(metadata, str):
            raise ValueError("Unrecognized `Embedding` layer names passed to "
                             "`keras.callbacks.TensorBoard` `embeddings_metadata` argument: "
                             f"{metadata.keys()}")
        text = "".join("embeddings {\n" + "".join(
            f'  {k}: "{_escape(v)}"\n' for k, v in e.items()) + "}\n" for e in entries)
        os.makedirs(self._log_write_dir, exist_ok=True)
        path = os.path.join(self._log_write_dir, "projector_config.pbtxt")
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, path)

    # -- the default writer for summaries inside the model ------------------------------------
    def _push_writer(self, writer, step):
        if self.update_freq == "epoch":
            return

        def should_record():
            return step % self.update_freq == 0

        context = (writer.as_default(step), summary_writer.record_if(should_record))
        self._prev_summary_state.append(context)
        context[0].__enter__()
        context[1].__enter__()

    def _pop_writer(self):
        if self.update_freq == "epoch":
            return
        previous = self._prev_summary_state.pop()
        previous[1].__exit__(*sys.exc_info())
        previous[0].__exit__(*sys.exc_info())

    def _close_writers(self):
        for writer in self._writers.values():
            writer.close()

    def _init_profile_batch(self, profile_batch):
        message = ("profile_batch must be a non-negative integer or 2-tuple of positive "
                   "integers. A pair of positive integers signifies a range of batches to "
                   f"profile. Found: {profile_batch}")
        if isinstance(profile_batch, str):  # the legacy "start,stop" form
            profile_batch = [int(p) for p in profile_batch.split(",")]
            if len(profile_batch) == 1:
                profile_batch = profile_batch[0]
        if isinstance(profile_batch, int):
            self._start_batch = self._stop_batch = profile_batch
        elif isinstance(profile_batch, (tuple, list)) and len(profile_batch) == 2:
            self._start_batch, self._stop_batch = profile_batch
        else:
            raise ValueError(message)
        if self._start_batch < 0 or self._stop_batch < self._start_batch:
            raise ValueError(message)
        self._is_tracing = False
        self._should_trace = not (self._start_batch == 0 and self._stop_batch == 0)

    # -- hooks ------------------------------------------------------------------------------
    def on_train_begin(self, logs=None):
        self._global_train_batch = 0
        self._previous_epoch_iterations = 0
        self._push_writer(self._train_writer, self._global_train_batch)

    def on_train_end(self, logs=None):
        self._pop_writer()
        if self._is_tracing:
            self._stop_trace()
        self._close_writers()

    def on_test_begin(self, logs=None):
        self._push_writer(self._val_writer, self._global_test_batch)

    def on_test_end(self, logs=None):
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer and hasattr(optimizer, "iterations"):
            with self._val_writer.as_default():
                for name, value in (logs or {}).items():
                    summary_ops.scalar(f"evaluation_{name}_vs_iterations", value,
                                       step=optimizer.iterations)
        self._pop_writer()

    def on_train_batch_begin(self, batch, logs=None):
        self._global_train_batch += 1
        if self.update_freq != "epoch":
            self._pop_writer()
            self._push_writer(self._train_writer, self._global_train_batch)
        if self.write_steps_per_second:
            self._batch_start_time = time.time()
        if self._should_trace and self._global_train_batch == self._start_batch:
            self._start_trace()

    def on_train_batch_end(self, batch, logs=None):
        if self.write_steps_per_second:
            batch_run_time = time.time() - self._batch_start_time
            summary_ops.scalar("batch_steps_per_second", 1.0 / batch_run_time,
                               step=self._global_train_batch)
        if isinstance(logs, dict):
            for name, value in logs.items():
                summary_ops.scalar(f"batch_{name}", value, step=self._global_train_batch)
        if self._is_tracing and self._global_train_batch >= self._stop_batch:
            self._stop_trace()

    def on_test_batch_begin(self, batch, logs=None):
        self._global_test_batch += 1
        if self.update_freq != "epoch":
            self._pop_writer()
            self._push_writer(self._val_writer, self._global_test_batch)

    def on_epoch_begin(self, epoch, logs=None):
        if self.write_steps_per_second:
            self._previous_epoch_iterations = float(self.model.optimizer.iterations.numpy())
            self._epoch_start_time = time.time()

    def on_epoch_end(self, epoch, logs=None):
        self._log_epoch_metrics(epoch, logs)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            self._log_weights(epoch)
        if self.embeddings_freq and epoch % self.embeddings_freq == 0 and \
                distribution.should_write(self.model):
            self._log_embeddings(epoch)

    # -- what is written ------------------------------------------------------------------------
    def _start_trace(self):
        trace.trace_on(graph=True, profiler=False)
        self._is_tracing = True

    def _stop_trace(self, batch=None):
        if batch is None:
            batch = self._stop_batch
        with self._train_writer.as_default():
            trace.trace_export(name="batch_%d" % batch, step=batch)
        self._is_tracing = False

    def _collect_learning_rate(self, logs):
        from tapeflow.keras.optimizers.optimizer import Optimizer
        optimizer = self.model.optimizer
        optimizer = getattr(optimizer, "inner_optimizer", optimizer)  # LossScaleOptimizer
        if hasattr(optimizer, "optimizers"):
            for opt in optimizer.optimizers:
                logs[f"learning_rate_{opt.name}"] = float(np.asarray(opt.learning_rate))
        elif isinstance(optimizer, Optimizer):
            logs["learning_rate"] = float(np.asarray(optimizer.learning_rate))
        return logs

    def _compute_steps_per_second(self):
        current = float(self.model.optimizer.iterations.numpy())
        elapsed = np.float32(time.time() - self._epoch_start_time)
        return float((np.float32(current) - np.float32(self._previous_epoch_iterations)) /
                     elapsed)

    def _log_epoch_metrics(self, epoch, logs):
        if not logs:
            return
        train_logs = {k: v for k, v in logs.items() if not k.startswith("val_")}
        val_logs = {k: v for k, v in logs.items() if k.startswith("val_")}
        train_logs = self._collect_learning_rate(train_logs)
        if self.write_steps_per_second:
            train_logs["steps_per_second"] = self._compute_steps_per_second()
        if train_logs:
            with self._train_writer.as_default():
                for name, value in train_logs.items():
                    summary_ops.scalar(f"epoch_{name}", value, step=epoch)
        if val_logs:
            with self._val_writer.as_default():
                for name, value in val_logs.items():
                    summary_ops.scalar(f"epoch_{name[4:]}", value, step=epoch)

    def _log_weights(self, epoch):
        with self._train_writer.as_default():
            for layer in self.model.layers:
                for weight in layer.weights:
                    weight_name = weight.path.replace(":", "_")
                    summary_ops.histogram(f"{weight_name}/histogram", weight, step=epoch)
                    if self.write_images:
                        self._log_weight_as_image(weight, f"{weight_name}/image", epoch)
            self._train_writer.flush()

    def _log_weight_as_image(self, weight, weight_name, epoch):
        """A weight as an image: a bias as one row, a Dense kernel with its longer side
        across, each filter of a Conv1D kernel as its own image (as Keras does)."""
        w_img = np.squeeze(weight.numpy())
        shape = w_img.shape
        if len(shape) == 1:
            w_img = w_img.reshape([1, shape[0], 1, 1])
        elif len(shape) == 2:
            if shape[0] > shape[1]:
                w_img = w_img.T
                shape = w_img.shape
            w_img = w_img.reshape([1, shape[0], shape[1], 1])
        elif len(shape) == 3:
            w_img = np.transpose(w_img, [2, 0, 1])  # channels_last: one image per filter
            shape = w_img.shape
            w_img = w_img.reshape([shape[0], shape[1], shape[2], 1])
        if w_img.ndim == 4 and w_img.shape[-1] in (1, 3, 4):
            summary_ops.image(weight_name, w_img, step=epoch)

    def _log_embeddings(self, epoch):
        path = os.path.join(self._log_write_dir, "train",
                            f"keras_embedding.ckpt-{epoch}.weights.h5")
        self.model.save_weights(path)


def _escape(text):
    return str(text).replace("\\", "\\\\").replace('"', '\\"')


def keras_model_summary(name, data, step=None):
    """Writes a Keras model's JSON config (TensorBoard draws it as the conceptual graph).
    Returns False, with a warning, when the model cannot be serialized."""
    import warnings
    try:
        json_string = data.to_json()
    except Exception as exc:  # noqa: BLE001 - a model that cannot serialize must still train
        warnings.warn(f"Model failed to serialize as JSON. Ignoring... {exc}", stacklevel=2)
        return False
    metadata = summary_ops.plugin_metadata("graph_keras_model", None, b"1")
    with summary_ops.summary_scope(name, "graph_keras_model", [data, step]) as (tag, _):
        return summary_ops.write(tag=tag, tensor=json_string, step=step, metadata=metadata)
