"""`tf.linalg`: re-exports of the linear-algebra ops (tapeflow/ops/linalg.py, einsum.py)."""
from tapeflow.ops.creation import eye  # noqa: F401
from tapeflow.ops.einsum import einsum, tensordot  # noqa: F401
from tapeflow.ops.linalg import (adjoint, det, diag, diag_part, inv, matmul,  # noqa: F401
                                 matrix_transpose, matvec, norm, trace)
from tapeflow.ops.nn import l2_normalize  # noqa: F401
