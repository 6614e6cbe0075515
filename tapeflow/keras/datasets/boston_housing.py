"""`keras.datasets.boston_housing`: the Boston Housing prices (StatLib), from
`$KERAS_HOME/datasets/boston_housing.npz`, shuffled and split as Keras does."""
import numpy as np

from tapeflow.keras.datasets._prepare import ORIGIN, check_test_split, shuffled_split
from tapeflow.keras.utils.file_utils import get_file

SHA256 = "f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5"


def load_data(path="boston_housing.npz", test_split=0.2, seed=113):
    """Loads Boston Housing: 13 attributes of 506 Boston suburbs in the 1970s and their median
    home value in k$. (Its variable "B" encodes a racist assumption; Keras discourages using
    the data set except to illustrate ethical issues in data science.)

    Args:
        path: the file's name in the Keras cache (`$KERAS_HOME/datasets/`).
        test_split: the fraction of the rows kept for testing, in [0, 1).
        seed: the seed of the shuffle before the split.

    Returns:
        `(x_train, y_train), (x_test, y_test)`: arrays (n, 13) and (n,), as stored.
    """
    check_test_split(test_split)
    path = get_file(path, origin=ORIGIN + "boston_housing.npz", file_hash=SHA256)
    with np.load(path, allow_pickle=False) as f:
        x, y = f["x"], f["y"]
    return shuffled_split(x, y, test_split, seed)
