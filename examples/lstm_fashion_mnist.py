"""An LSTM reading Fashion-MNIST images row by row: 28 steps of 28 features.

    python examples/lstm_fashion_mnist.py [--epochs 2]        # tapeflow
    python examples/lstm_fashion_mnist.py --tensorflow        # the same under real TensorFlow

LSTM(128) + Dense(10, softmax); Adam, sparse categorical cross-entropy, batch 128. The data
come from the Keras cache (`$KERAS_HOME/datasets/`, default `~/.keras/datasets/`); the
Fashion-MNIST files beside this checkout (`../shared/data/fashion-mnist/`) are linked there
when the cache has none.
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


def build_model(keras):
    return keras.Sequential([
        keras.Input(shape=(28, 28)),
        keras.layers.LSTM(128),
        keras.layers.Dense(10, activation="softmax"),
    ])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--tensorflow", action="store_true", help="run with real TensorFlow")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--verbose", type=int, default=1)
    args = parser.parse_args()
    if args.tensorflow:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        import tensorflow as tf
    else:
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
        import tapeflow as tf
    if args.seed is not None:
        tf.random.set_seed(args.seed)
    _use_shared_fashion_mnist()

    (x_train, y_train), (x_test, y_test) = tf.keras.datasets.fashion_mnist.load_data()
    x_train = x_train.astype("float32") / 255   # (60000, 28, 28): 28 rows of 28 pixels
    x_test = x_test.astype("float32") / 255

    model = build_model(tf.keras)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
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
