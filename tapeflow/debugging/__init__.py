"""`tf.debugging`: re-exports of the numeric checks (tapeflow/ops/debugging.py)."""
from tapeflow.ops.debugging import assert_all_finite, check_numerics  # noqa: F401
