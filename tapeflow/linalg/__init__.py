"""`tf.linalg`: re-exports of the linear-algebra ops (tapeflow/ops/linalg.py)."""
from tapeflow.ops.linalg import matmul, matvec  # noqa: F401
from tapeflow.ops.array import adjoint, matrix_transpose  # noqa: F401
