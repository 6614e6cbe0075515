"""`tf.linalg`: re-exports of the linear-algebra ops (tapeflow/ops/linalg.py, einsum.py)."""
from tapeflow.ops.array import adjoint, matrix_transpose  # noqa: F401
from tapeflow.ops.creation import eye  # noqa: F401
from tapeflow.ops.einsum import einsum, tensordot  # noqa: F401
from tapeflow.ops.linalg import (det, diag, diag_part, inv, matmul, matvec, norm,  # noqa: F401
                                 qr, trace)
from tapeflow.ops.linalg_solve import (band_part, cholesky, logdet, slogdet,  # noqa: F401
                                       solve, triangular_solve)
from tapeflow.ops.nn_impl import l2_normalize  # noqa: F401
from tapeflow.ops.clip import global_norm  # noqa: F401
