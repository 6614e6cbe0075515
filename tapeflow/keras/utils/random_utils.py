"""`keras.utils.set_random_seed`: seeds Python, NumPy and tapeflow at once."""
import random

import numpy as np

from tapeflow.ops import random as random_ops


def set_random_seed(seed):
    if not isinstance(seed, int):
        raise ValueError("Expected `seed` argument to be an integer. "
                         f"Received: seed={seed} (of type {type(seed)})")
    random.seed(seed)
    np.random.seed(seed)
    random_ops.set_seed(seed)
