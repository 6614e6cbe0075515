"""`keras.datasets.mnist`: the MNIST digits, from `$KERAS_HOME/datasets/mnist.npz`."""
import numpy as np

from tapeflow.keras.datasets._prepare import ORIGIN
from tapeflow.keras.utils.file_utils import get_file

SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"


def load_data(path="mnist.npz"):
    """Loads MNIST: 60,000 training and 10,000 test grey-scale 28x28 images of digits.

    Args:
        path: the file's name in the Keras cache (`$KERAS_HOME/datasets/`, default
            `~/.keras/datasets/`); it is downloaded (sha256-checked) only when missing.

    Returns:
        `(x_train, y_train), (x_test, y_test)`: uint8 images (60000, 28, 28) and
        (10000, 28, 28) with values 0-255, uint8 labels 0-9 of shapes (60000,) and (10000,).
    """
    path = get_file(fname=path, origin=ORIGIN + "mnist.npz", file_hash=SHA256)
    with np.load(path, allow_pickle=False) as f:
        return (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])
