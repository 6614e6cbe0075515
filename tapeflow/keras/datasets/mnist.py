"""`keras.datasets.mnist`: the MNIST digits, from `$KERAS_HOME/datasets/mnist.npz`."""
import numpy as np

from tapeflow.keras.utils.file_utils import get_file

ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"


def load_data(path="mnist.npz"):
    """`(x_train, y_train), (x_test, y_test)`: uint8 arrays of shape (60000, 28, 28) and
    (10000, 28, 28), and uint8 labels 0-9.

    The file is read from the Keras cache (`$KERAS_HOME/datasets/`, default
    `~/.keras/datasets/`) and downloaded (sha256-checked) only when it is missing.
    """
    path = get_file(fname=path, origin=ORIGIN + "mnist.npz", file_hash=SHA256)
    with np.load(path, allow_pickle=True) as f:
        x_train, y_train = f["x_train"], f["y_train"]
        x_test, y_test = f["x_test"], f["y_test"]
    return (x_train, y_train), (x_test, y_test)
