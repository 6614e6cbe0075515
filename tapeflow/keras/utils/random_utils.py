"""`keras.utils.set_random_seed`: seeds Python, NumPy and tapeflow at once."""
import random

import numpy as np


def set_random_seed(seed):
    if not isinstance(seed, int):
        raise ValueError("Expected `seed` argument to be an integer. "
                         f"Received: seed={seed} (of type {type(seed)})")
    import tapeflow as tf
    random.seed(seed)
    np.random.seed(seed)
    tf.random.set_seed(seed)
