"""The seed model trained by several workers at once (tf.distribute.MultiWorkerMirroredStrategy).

    python examples/distributed_mnist.py [--workers 2] [--epochs 3] [--gpus] [--tensorflow]

One command: without a TF_CONFIG this script starts `--workers` copies of itself on this
machine, each with its TF_CONFIG (127.0.0.1, free ports), and shows the chief's output. Each
worker builds the model in the strategy's scope; `fit` gives each worker its share of every
global batch of the tf.data pipeline and sums the gradients, so the job trains the model one
process would on the same global batches. `--backup-dir` keeps a BackupAndRestore backup:
kill a worker, run the same command again, and the job resumes at the epoch it was in. With
`--gpus`, worker i uses GPU i (NCCL carries the all-reduces). `--tensorflow` runs real
TensorFlow instead (with Keras 3.15, its multi-worker `fit` stops at a PerReplica it cannot
convert; one worker runs).
"""
import argparse
import json
import os
import sys
import time

from _common import HERE, framework, use_shared_fashion_mnist


def parse():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--global-batch-size", type=int, default=128)
    parser.add_argument("--samples", type=int, default=60000, help="training images used")
    parser.add_argument("--backup-dir", default=None)
    parser.add_argument("--gpus", action="store_true", help="worker i uses GPU i only")
    parser.add_argument("--tensorflow", action="store_true", help="run with real TensorFlow")
    parser.add_argument("--timeout", type=float, default=3600.0)
    parser.add_argument("--verbose", type=int, default=1)
    return parser.parse_args()


def launch_workers(args):
    """This script once per worker; the chief's output is shown as it comes."""
    sys.path.insert(0, os.path.join(HERE, ".."))
    from tapeflow.distribute.launch import launch
    use_shared_fashion_mnist()  # once, here, before the workers look for the files
    results = launch([sys.executable, os.path.abspath(__file__), *sys.argv[1:]], args.workers,
                     timeout=args.timeout, gpus=args.gpus, passthrough=(0,))
    for r in results[1:]:
        if r.returncode != 0:
            print(f"----- worker {r.index} (exit {r.returncode}) -----\n{r.output[-3000:]}")
    return max(abs(r.returncode) if r.returncode is not None else 1 for r in results)


def train(args):
    tf = framework(args.tensorflow)
    task = json.loads(os.environ["TF_CONFIG"])["task"]
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    chief = task["index"] == 0
    (x_train, y_train), (x_test, y_test) = tf.keras.datasets.fashion_mnist.load_data()
    x_train = x_train[:args.samples].reshape(-1, 784).astype("float32") / 255
    y_train = y_train[:args.samples]
    x_test = x_test.reshape(-1, 784).astype("float32") / 255

    with strategy.scope():
        model = tf.keras.Sequential([
            tf.keras.Input(shape=(784,)),
            tf.keras.layers.Dense(512, activation="relu"),
            tf.keras.layers.Dense(10, activation="softmax"),
        ])
        model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
    callbacks = []
    if args.backup_dir:
        callbacks.append(tf.keras.callbacks.BackupAndRestore(args.backup_dir))
    class EpochTimer(tf.keras.callbacks.Callback):
        times = []

        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.times.append(time.perf_counter() - self.start)

    if chief:
        print(f"{strategy.num_replicas_in_sync} replicas in sync, global batch "
              f"{args.global_batch_size}", flush=True)
    # Global batches from tf.data, shuffled alike on every worker (the same seed): each
    # worker takes its rows of every batch (TF's DATA auto-sharding of in-memory data).
    train_data = tf.data.Dataset.from_tensor_slices((x_train, y_train)).shuffle(
        len(x_train), seed=0).batch(args.global_batch_size)
    test_data = tf.data.Dataset.from_tensor_slices((x_test, y_test)).batch(512)
    model.fit(train_data, epochs=args.epochs, verbose=args.verbose if chief else 0,
              callbacks=callbacks + [EpochTimer()])
    loss, accuracy = model.evaluate(test_data, verbose=0)
    if chief:
        times = EpochTimer.times
        steady = times[1:] or times  # the first epoch includes tracing the step
        print(f"test accuracy: {accuracy:.4f}  test loss: {loss:.4f}")
        print("epoch times (s): " + " ".join(f"{t:.2f}" for t in times))
        print(f"throughput: {len(x_train) / sorted(steady)[len(steady) // 2]:.0f} images/s "
              "(median epoch after the first)")


if __name__ == "__main__":
    arguments = parse()
    if "TF_CONFIG" not in os.environ:
        sys.exit(launch_workers(arguments))
    train(arguments)
