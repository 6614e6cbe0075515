"""`keras.datasets.california_housing`: the 1990 California census block groups (StatLib),
from `$KERAS_HOME/datasets/california_housing.npz`, shuffled and split as Keras does."""
import numpy as np

from tapeflow.keras.datasets._prepare import ORIGIN, check_test_split, shuffled_split
from tapeflow.keras.utils.file_utils import get_file

SHA256 = "1a2e3a52e0398de6463aebe6f4a8da34fb21fbb6b934cf88c3425e766f2a1a6f"


def load_data(version="large", path="california_housing.npz", test_split=0.2, seed=113):
    """Loads California Housing: 8 attributes of 20,640 block groups and their median house
    value in dollars.

    Args:
        version: "large" (all rows) or "small" (the first 600).
        path: the file's name in the Keras cache (`$KERAS_HOME/datasets/`).
        test_split: the fraction of the rows kept for testing, in [0, 1).
        seed: the seed of the shuffle before the split.

    Returns:
        `(x_train, y_train), (x_test, y_test)`: arrays (n, 8) and (n,), as stored.
    """
    check_test_split(test_split)
    if version not in ("small", "large"):
        raise ValueError("Argument `version` must be one of 'small', 'large'. "
                         f"Received: version={version}")
    path = get_file(path, origin=ORIGIN + "california_housing.npz", file_hash=SHA256)
    with np.load(path, allow_pickle=False) as f:
        x, y = f["x"], f["y"]
    if version == "small":
        x, y = x[:600], y[:600]
    return shuffled_split(x, y, test_split, seed)
