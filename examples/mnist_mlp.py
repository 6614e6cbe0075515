"""The seed model: a two-layer perceptron on (Fashion-)MNIST, as in the TensorFlow tutorials.

    python examples/mnist_mlp.py [--dataset fashion_mnist|mnist] [--epochs 5] [--run-eagerly]

Runs unchanged under real TensorFlow with `--tensorflow` (for comparison). The data come from
the Keras cache (`$KERAS_HOME/datasets/`, default `~/.keras/datasets/`); the Fashion-MNIST files
beside this checkout (`../shared/data/fashion-mnist/`) are used when the cache has none.
"""
import argparse
import os
import sys
import time

import numpy as np


def _use_shared_fashion_mnist():
    shared = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared",
                          "data", "fashion-mnist")
    home = os.environ.get("KERAS_HOME", os.path.join(os.path.expanduser("~"), ".keras"))
    target = os.path.join(home, "datasets", "fashion-mnist")
    if os.path.isdir(shared) and not os.path.exists(target):
        os.makedirs(os.path.dirname(target), exist_ok=True)
        os.symlink(os.path.abspath(shared), target)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=["fashion_mnist", "mnist"], default="fashion_mnist")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--tensorflow", action="store_true", help="run with real TensorFlow")
    parser.add_argument("--verbose", type=int, default=1)
    parser.add_argument("--run-eagerly", action="store_true",
                        help="compile(run_eagerly=True): no tf.function around the step")
    args = parser.parse_args()
    if args.tensorflow:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        import tensorflow as tf
    else:
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
        import tapeflow as tf
    if args.dataset == "fashion_mnist":
        _use_shared_fashion_mnist()

    dataset = getattr(tf.keras.datasets, args.dataset)
    (x_train, y_train), (x_test, y_test) = dataset.load_data()
    x_train = x_train.reshape(60000, 784).astype("float32") / 255
    x_test = x_test.reshape(10000, 784).astype("float32") / 255

    model = tf.keras.Sequential([
        tf.keras.Input(shape=(784,)),
        tf.keras.layers.Dense(512, activation="relu"),
        tf.keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"], run_eagerly=args.run_eagerly)
    model.summary()

    class EpochTimer(tf.keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.times = []

        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.times.append(time.perf_counter() - self.start)

    timer = EpochTimer()
    model.fit(x_train, y_train, epochs=args.epochs, batch_size=128, verbose=args.verbose,
              callbacks=[timer])
    test_loss, test_acc = model.evaluate(x_test, y_test, verbose=0)
    print(f"test accuracy: {test_acc:.4f}  test loss: {test_loss:.4f}")
    print("epoch times (s): " + " ".join(f"{t:.2f}" for t in timer.times) +
          f"  (median {np.median(timer.times):.2f})")


if __name__ == "__main__":
    main()
