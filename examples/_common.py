"""What the examples share: choosing tapeflow or real TensorFlow, finding Fashion-MNIST, and
fitting with per-epoch timing. Each example stays a plain Keras script apart from these."""
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def framework(use_tensorflow):
    """`tensorflow` for `--tensorflow` (to compare), else tapeflow from this checkout."""
    if use_tensorflow:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        import tensorflow as tf
    else:
        sys.path.insert(0, os.path.join(HERE, ".."))
        import tapeflow as tf
    return tf


def use_shared_fashion_mnist():
    """Links the Fashion-MNIST files beside this checkout (`../shared/data/fashion-mnist/`)
    into the Keras cache when the cache has none, so `load_data()` finds them offline."""
    shared = os.path.join(HERE, "..", "..", "shared", "data", "fashion-mnist")
    home = os.environ.get("KERAS_HOME", os.path.join(os.path.expanduser("~"), ".keras"))
    target = os.path.join(home, "datasets", "fashion-mnist")
    if os.path.isdir(shared) and not os.path.exists(target):
        os.makedirs(os.path.dirname(target), exist_ok=True)
        os.symlink(os.path.abspath(shared), target)


def fit_and_report(tf, model, train, test, epochs, verbose, batch_size=128):
    """fit, then print the test accuracy and each epoch's wall time."""
    class EpochTimer(tf.keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.times = []

        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.times.append(time.perf_counter() - self.start)

    timer = EpochTimer()
    model.fit(*train, epochs=epochs, batch_size=batch_size, verbose=verbose, callbacks=[timer])
    test_loss, test_acc = model.evaluate(*test, verbose=0)
    print(f"test accuracy: {test_acc:.4f}  test loss: {test_loss:.4f}")
    print("epoch times (s): " + " ".join(f"{t:.2f}" for t in timer.times) +
          f"  (median {np.median(timer.times):.2f})")
    return test_acc
