"""`tf.summary.experimental`: the default step and the helpers for custom summaries.
Re-exports only."""
from tapeflow.summary.summary_ops import summary_scope, write_raw_pb  # noqa: F401
from tapeflow.summary.writer import get_step, set_step  # noqa: F401
