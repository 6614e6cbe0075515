"""`tf.linalg`: re-exports of the linear-algebra ops (tapeflow/ops/linalg.py)."""
from tapeflow.ops.linalg import matmul, matvec  # noqa: F401
