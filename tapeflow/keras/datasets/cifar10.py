"""`keras.datasets.cifar10`: 60,000 32x32 colour images in 10 classes (CIFAR-10), from the
Toronto archive, cached and extracted under `$KERAS_HOME/datasets/` as Keras does."""
import os

from tapeflow.keras.datasets import _cifar

ORIGIN = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
SHA256 = "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"


def load_data():
    """Loads CIFAR-10: 50,000 training and 10,000 test images of airplanes, automobiles,
    birds, cats, deer, dogs, frogs, horses, ships and trucks (labels 0-9 in that order).

    The archive is cached as `$KERAS_HOME/datasets/cifar-10-batches-py-target_archive` and
    extracted into `cifar-10-batches-py-target/` beside it.

    Returns:
        `(x_train, y_train), (x_test, y_test)`: uint8 images (50000, 32, 32, 3) and
        (10000, 32, 32, 3) (channels first if `image_data_format()` says so), uint8 labels of
        shapes (50000, 1) and (10000, 1).
    """
    folder = _cifar.fetch("cifar-10-batches-py-target", ORIGIN, SHA256, "cifar-10-batches-py")
    x_train, y_train = _cifar.read([os.path.join(folder, f"data_batch_{i}")
                                    for i in range(1, 6)])
    x_test, y_test = _cifar.read([os.path.join(folder, "test_batch")])
    # Keras fills uint8 arrays with the training batches and casts the test ones to match.
    return ((x_train.astype("uint8", copy=False), y_train.astype("uint8")),
            (x_test.astype("uint8", copy=False), y_test.astype("uint8")))
