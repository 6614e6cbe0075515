"""`tf.random`: re-exports of the random ops and the seed (tapeflow/ops/random.py)."""
from tapeflow.ops.random import (Generator, categorical, get_global_generator, normal,  # noqa: F401
                                 set_global_generator, set_seed, shuffle,
                                 stateless_categorical, stateless_normal,
                                 stateless_truncated_normal, stateless_uniform,
                                 truncated_normal, uniform)
