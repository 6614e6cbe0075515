"""What the worker processes of tests/distribute run: `python -m tests.distribute.scenarios
NAME OUT_DIR` under a TF_CONFIG set by `tapeflow.distribute.launch`. Each scenario writes
`OUT_DIR/<name>-<worker>.json` (or .npz); the tests call the same functions in-process, with
no cluster, for the one-process reference. Small models, few steps: 2-3 workers share 2 cores.
"""
import json
import os
import sys
import time

import numpy as np

import tapeflow as tf
from tapeflow import keras

TIMEOUT = float(os.environ.get("SCENARIO_COLLECTIVE_TIMEOUT", "60"))


def strategy():
    """The job's strategy (one per process: the scenarios of one job share it)."""
    global _strategy
    if _strategy is not None:
        return _strategy
    options = tf.distribute.experimental.CommunicationOptions(timeout_seconds=TIMEOUT)
    _strategy = tf.distribute.MultiWorkerMirroredStrategy(communication_options=options)
    return _strategy


_strategy = None


def _index(s):
    return s.extended._worker_index


def _data(n=32):
    rng = np.random.RandomState(7)
    x = rng.randn(n, 5).astype("float32")
    y = (x @ rng.randn(5, 1) + 0.3).astype("float32")
    return x, y


def custom_loop(out):
    """strategy.run with compute_average_loss over a distributed dataset, in a tf.function;
    global batch 8."""
    s = strategy()
    x, y = _data()
    with s.scope():
        np.random.seed(100 + _index(s))  # a different draw per worker: the chief's must win
        w = tf.Variable(np.random.randn(5, 1).astype("float32"))
        b = tf.Variable(0.0)
        opt = keras.optimizers.SGD(0.05, momentum=0.9)
    dist = s.experimental_distribute_dataset(tf.data.Dataset.from_tensor_slices((x, y)).batch(8))

    def replica_step(xb, yb):
        with tf.GradientTape() as tape:
            per_example = tf.reduce_sum(tf.square(xb @ w + b - yb), axis=1)
            loss = tf.nn.compute_average_loss(per_example, global_batch_size=8)
        grads = tape.gradient(loss, [w, b])
        opt.apply_gradients(zip(grads, [w, b]))
        return loss

    @tf.function
    def step(xb, yb):
        return s.reduce("SUM", s.run(replica_step, args=(xb, yb)), axis=None)

    losses = [float(step(xb, yb)) for _ in range(3) for xb, yb in dist]
    _save(out, "custom_loop", s, {"w": w.numpy().tolist(), "b": float(b.numpy()),
                                  "losses": losses, "replicas": s.num_replicas_in_sync})


def _model():
    keras.utils.set_random_seed(3)
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse", metrics=["mae"])
    return model


class _Seen(keras.Model):
    """Records the ids (column 0) of the rows each train step gets."""

    def __init__(self):
        super().__init__()
        self.dense = keras.layers.Dense(1)
        self.seen = []

    def call(self, x):
        return self.dense(x)

    def train_step(self, data):
        self.seen.append(data[0].numpy()[:, 0].astype(int).tolist())
        return super().train_step(data)


def keras_fit(out):
    """fit on arrays (global batch 8) and on a dataset; evaluate; predict; a shuffled fit that
    records which rows each worker trained on."""
    s = strategy()
    x, y = _data()
    with s.scope():
        model = _model()
    history = model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    model.fit(tf.data.Dataset.from_tensor_slices((x, y)).batch(8), epochs=1, verbose=0)
    evaluated = model.evaluate(x, y, batch_size=8, verbose=0, return_dict=True)
    predicted = model.predict(x[:13], batch_size=4, verbose=0)
    with s.scope():
        seen = _Seen()
        seen.compile(optimizer="sgd", loss="mse", run_eagerly=True)
    ids = np.arange(20, dtype="float32")[:, None].repeat(3, axis=1)
    seen.fit(ids, np.zeros((20, 1), "float32"), batch_size=6, epochs=2, shuffle=True,
             verbose=0)
    _save(out, "keras_fit", s, {"weights": [w.tolist() for w in model.get_weights()],
                                "history": history.history, "evaluate": evaluated,
                                "predict": predicted.tolist(), "seen": seen.seen})


def sharding(out):
    """What each worker iterates of datasets under each auto-shard policy."""
    s = strategy()
    policy = tf.data.experimental.AutoShardPolicy
    files = sorted(os.path.join(out, f) for f in os.listdir(out) if f.endswith(".txt"))

    def with_policy(ds, p):
        options = tf.data.Options()
        options.experimental_distribute.auto_shard_policy = p
        return ds.with_options(options)

    def lines(fs):
        return tf.data.TextLineDataset(fs)

    cases = {
        "range-auto": tf.data.Dataset.range(10).batch(4),
        "range-data": with_policy(tf.data.Dataset.range(10).batch(4), policy.DATA),
        "range-off": with_policy(tf.data.Dataset.range(10).batch(4), policy.OFF),
        "text-auto": lines(files).batch(4),
        "text-file": with_policy(lines(files).batch(4), policy.FILE),
        "list-interleave": tf.data.Dataset.from_tensor_slices(files).interleave(
            tf.data.TextLineDataset, cycle_length=1).batch(4),
        "text1-auto": lines(files[:1]).batch(4),
        "text3-file": with_policy(lines(files[:3]).batch(4), policy.FILE),  # 10 rows vs 5
    }
    got = {name: [[int(v) for v in b.numpy().tolist()]  # text lines are numbers
                  for b in s.experimental_distribute_dataset(ds)]
           for name, ds in cases.items()}
    for name, ds in {"range-file": with_policy(tf.data.Dataset.range(10).batch(4),
                                               policy.FILE),
                     "text1-file": with_policy(lines(files[:1]).batch(4), policy.FILE)}.items():
        try:
            s.experimental_distribute_dataset(ds)
            got[name] = "no error"
        except tf.errors.OpError as e:
            got[name] = f"{type(e).__name__}: {e}"
    got["from_function"] = [b.numpy().tolist() for b in s.distribute_datasets_from_function(
        lambda ctx: tf.data.Dataset.range(12).shard(ctx.num_input_pipelines,
                                                    ctx.input_pipeline_id).batch(
            ctx.get_per_replica_batch_size(4)))]
    _save(out, "sharding", s, got)


def backup(out):
    """fit for 4 epochs with BackupAndRestore; with KILL_AT=epoch, worker 1 dies in that
    epoch, and every survivor records the error it gets."""
    s = strategy()
    x, y = _data(36)  # global batches of 9: 3 rows for each of 3 workers, as one process
    with s.scope():
        model = _model()
    kill_at = int(os.environ.get("KILL_AT", "-1"))
    begun = []

    class Events(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            begun.append(epoch)

        def on_train_batch_end(self, batch, logs=None):
            if begun[-1] == kill_at and batch == 1 and _index(s) == 1:
                os._exit(17)  # dies without a word, as a crashed machine does

    callbacks = [keras.callbacks.BackupAndRestore(os.path.join(out, "backup")), Events()]
    start = time.monotonic()
    try:
        model.fit(x, y, batch_size=9, epochs=4, shuffle=False, verbose=0, callbacks=callbacks)
    except tf.errors.OpError as e:
        _save(out, "backup-error", s, {"error": f"{type(e).__name__}: {e}", "begun": begun,
                                       "seconds": time.monotonic() - start})
        sys.exit(3)
    _save(out, "backup", s, {"weights": [w.tolist() for w in model.get_weights()],
                             "begun": begun})


def train(out):
    """The scenarios that share one job: a custom loop, Keras, dataset sharding."""
    custom_loop(out)
    keras_fit(out)
    sharding(out)


def never_connects(out):
    """Only this worker of two starts: joining must fail, naming the other."""
    start = time.monotonic()
    try:
        strategy()
    except tf.errors.OpError as e:
        _save(out, "never", None, {"error": f"{type(e).__name__}: {e}",
                                   "seconds": time.monotonic() - start})
        return
    _save(out, "never", None, {"error": None})


def _save(out, name, s, result):
    index = _index(s) if s is not None else json.loads(os.environ["TF_CONFIG"])["task"]["index"]
    with open(os.path.join(out, f"{name}-{index}.json"), "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    globals()[sys.argv[1]](sys.argv[2])
