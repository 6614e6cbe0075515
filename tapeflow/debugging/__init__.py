"""`tf.debugging`: re-exports of the numeric checks (tapeflow/ops/debugging.py) and Assert
(tapeflow/ops/logging.py)."""
from tapeflow.ops.debugging import assert_all_finite, check_numerics  # noqa: F401
from tapeflow.ops.logging import Assert  # noqa: F401
