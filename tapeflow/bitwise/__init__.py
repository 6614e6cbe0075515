"""`tf.bitwise`: re-exports of the bitwise ops (logic in tapeflow/ops/comparison.py)."""
from tapeflow.ops.comparison import (bitwise_and, bitwise_or, bitwise_xor, invert,  # noqa: F401
                                     left_shift, right_shift)
