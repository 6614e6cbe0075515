"""Solving linear systems: band_part, cholesky, solve, triangular_solve, slogdet and logdet,
each with TF's gradient (linalg_grad.py) written in tapeflow ops, so nested tapes differentiate them again.

These kernels are LAPACK calls through torch; a singular system is an InvalidArgumentError
with TF's text on CPUs (on GPUs TF, like us, does not check); a Cholesky factor of a matrix
that is not positive definite is NaN, as TF 2.21 gives it.
"""
import torch

from tapeflow._core import dtypes
from tapeflow._core.errors import InvalidArgumentError
from tapeflow._core.context import current_device
from tapeflow._core.tensor import Tensor, convert_to_tensor, wrap
from tapeflow.ops._op import (binary_operands, check_dtype, define, execute, host_check,
                              kernel_error)
from tapeflow.ops.creation import eye
from tapeflow.ops.elementwise import log, real
from tapeflow.ops.linalg import check_square_matrices, diag_part, inverse_raw, matmul_raw, \
    matrix_transpose
from tapeflow.ops.broadcast import reshape_raw, unbroadcast
from tapeflow.ops.math import add, multiply, negative
from tapeflow.ops.reduction import reduce_sum

_SOLVE_TYPES = (dtypes.float64, dtypes.float32, dtypes.float16, dtypes.complex64,
                dtypes.complex128)


def _input(x):
    return x if type(x) is Tensor else convert_to_tensor(x)


def _check(x, op, signature):
    """TF's dtype check, then its checks that `x` holds square matrices."""
    if x._dtype not in _SOLVE_TYPES:
        check_dtype(x, _SOLVE_TYPES, op, signature=signature)
    check_square_matrices(x, op)


def _run(op, kernel, inputs, attrs, device):
    """Runs a LAPACK kernel; its ValueError (a failed factorisation) gets TF's kernel text."""
    try:
        return execute(op, kernel, inputs, attrs)
    except InvalidArgumentError as e:
        raise kernel_error(e.message.split(" [Op:")[0], op, device, name_suffix=False) from None


def _upcast_half(kernel):
    """LAPACK has no float16: solve in float32 and round back, as TF's kernels do."""
    def run(*args):
        tensors = [a for a in args if isinstance(a, torch.Tensor)]
        if tensors and tensors[0].dtype == torch.float16:
            out = kernel(*[a.float() if isinstance(a, torch.Tensor) else a for a in args])
            return out.half()
        return kernel(*args)
    run.__name__ = kernel.__name__
    return run


# -- band_part ---------------------------------------------------------------------------------

BAND_PART = define("MatrixBandPart")


def _band_kernel(x, lower, upper):
    """Keeps entries with -lower <= j - i <= upper (a negative bound keeps that side whole)."""
    m, n = x.shape[-2:]
    keep = torch.ones(m, n, dtype=torch.bool, device=x.device)
    if lower >= 0:
        keep = keep.triu(-lower)
    if upper >= 0:
        keep = keep.tril(upper)
    return torch.where(keep, x, torch.zeros((), dtype=x.dtype, device=x.device))


def band_part(input, num_lower, num_upper, name=None):  # noqa: A002 - TF's argument name
    """Keeps `num_lower` subdiagonals and `num_upper` superdiagonals of each matrix (-1: all)
    and zeroes the rest: `band_part(x, -1, 0)` is the lower triangle."""
    x = _input(input)
    if x._t.ndim < 2:
        raise kernel_error(f"input must be at least 2-dim, received shape: {list(x.shape)}",
                           BAND_PART, x._t.device)
    return execute(BAND_PART, _band_kernel, (x,), (int(num_lower), int(num_upper)))


def band_part_raw(x, lower, upper):
    return execute(BAND_PART, _band_kernel, (x,), (lower, upper))


@BAND_PART.gradient
def _(node, grad):
    return band_part_raw(grad, *node.attrs)


# -- triangular_solve and solve ---------------------------------------------------------------

TRIANGULAR_SOLVE = define("MatrixTriangularSolve")
SOLVE = define("MatrixSolve")


@_upcast_half
def _triangular_kernel(a, b, lower, adjoint):
    if adjoint:
        return torch.linalg.solve_triangular(a.mH, b, upper=lower)
    return torch.linalg.solve_triangular(a, b, upper=not lower)


def triangular_solve(matrix, rhs, lower=True, adjoint=False, name=None):
    """`X` with `op(matrix) @ X = rhs` for triangular matrices (only the `lower` or upper
    triangle of `matrix` is read; `adjoint` solves with its conjugate transpose)."""
    a, b = binary_operands(matrix, rhs, TRIANGULAR_SOLVE)
    _check(a, TRIANGULAR_SOLVE, "matrix:T, rhs:T -> output:T")
    return _run(TRIANGULAR_SOLVE, _triangular_kernel, (a, b), (bool(lower), bool(adjoint)),
                a._t.device)


def triangular_solve_raw(a, b, lower, adjoint):
    return execute(TRIANGULAR_SOLVE, _triangular_kernel, (a, b), (lower, adjoint))


@TRIANGULAR_SOLVE.gradient
def _(node, grad):
    a, b = node.inputs
    lower, adjoint = node.attrs
    c = node.outputs[0]
    grad_b = triangular_solve_raw(a, grad, lower, not adjoint)
    grad_a = negative(matmul_raw(c, grad_b, False, True) if adjoint else
                      matmul_raw(grad_b, c, False, True))
    grad_a = band_part_raw(grad_a, -1, 0) if lower else band_part_raw(grad_a, 0, -1)
    return unbroadcast(grad_a, a), unbroadcast(grad_b, b)


@host_check
@_upcast_half
def _solve_kernel(a, b, adjoint):
    x, info = torch.linalg.solve_ex(a.mH if adjoint else a, b)
    if a.device.type == "cpu" and bool(info.any()):
        raise ValueError("Input matrix is not invertible.")
    return x


def solve(matrix, rhs, adjoint=False, name=None):
    """`X` with `op(matrix) @ X = rhs` for square matrices (`adjoint`: conjugate transpose)."""
    a, b = binary_operands(matrix, rhs, SOLVE)
    _check(a, SOLVE, "matrix:T, rhs:T -> output:T")
    if b._t.ndim < 2 or b._t.shape[-2] != a._t.shape[-1]:
        raise kernel_error(f"Input matrix and right-hand side must have the same number of "
                           f"rows: {a._t.shape[-2]} vs. "
                           f"{b._t.shape[-2] if b._t.ndim >= 2 else b._t.shape[-1]}", SOLVE,
                           a._t.device, name_suffix=False)
    return _run(SOLVE, _solve_kernel, (a, b), (bool(adjoint),), a._t.device)


@SOLVE.gradient
def _(node, grad):
    a = node.inputs[0]
    adjoint = node.attrs[0]
    c = node.outputs[0]
    grad_b = execute(SOLVE, _solve_kernel, (a, grad), (not adjoint,))
    grad_a = negative(matmul_raw(c, grad_b, False, True) if adjoint else
                      matmul_raw(grad_b, c, False, True))
    return unbroadcast(grad_a, a), unbroadcast(grad_b, node.inputs[1])


# -- cholesky ----------------------------------------------------------------------------------

CHOLESKY = define("Cholesky")


@_upcast_half
def _cholesky_kernel(x):
    lower, info = torch.linalg.cholesky_ex(x)
    # TF 2.21 raises nothing for a matrix that is not positive definite: its result is NaN
    return torch.where((info > 0)[..., None, None], torch.nan, lower)


def cholesky(input, name=None):  # noqa: A002 - TF's argument name
    """The lower-triangular `L` with `L @ L^H = input`, for Hermitian positive-definite
    matrices (only the lower triangle of `input` is read; other matrices give NaN, as TF)."""
    x = _input(input)
    _check(x, CHOLESKY, "input:T -> output:T")
    return _run(CHOLESKY, _cholesky_kernel, (x,), (), x._t.device)


@CHOLESKY.gradient
def _(node, grad):
    # TF's _CholeskyGrad: Phi(L^H grad) with the diagonal halved, sandwiched by L^-1
    low = node.outputs[0]
    n = low._t.shape[-1]
    identity = eye(n, batch_shape=tuple(low._t.shape[:-2]), dtype=low._dtype)
    l_inverse = triangular_solve_raw(low, identity, True, False)
    middle = matmul_raw(low, grad, True, False)
    middle = band_part_raw(multiply(middle, _halve_diagonal(n, low)), -1, 0)
    grad_a = matmul_raw(matmul_raw(l_inverse, middle, True, False), l_inverse)
    grad_a = add(grad_a, matrix_transpose(grad_a, conjugate=True))
    return multiply(grad_a, 0.5)


def _halve_diagonal(n, like):
    """Ones with 0.5 on the diagonal (TF's matrix_set_diag(m, 0.5 * diag_part(m)))."""
    mask = torch.ones(n, n, dtype=like._dtype.torch, device=current_device())
    mask.diagonal().fill_(0.5)
    return wrap(mask, like._dtype)  # a constant (a tf.function trace captures it)


# -- log-determinants ----------------------------------------------------------------------------

LOG_DET = define("LogMatrixDeterminant")
_LOG_DET_TYPES = (dtypes.float16, dtypes.float32, dtypes.float64, dtypes.complex64,
                  dtypes.complex128)


def _slogdet_kernel(x):
    if x.dtype == torch.float16:
        sign, log_abs = torch.linalg.slogdet(x.float())
        return sign.half(), log_abs.half()
    sign, log_abs = torch.linalg.slogdet(x)
    return sign, log_abs.to(x.dtype) if x.is_complex() else log_abs


def slogdet(input, name=None):  # noqa: A002 - TF's argument name
    """`(sign, log_abs_determinant)` of each square matrix: stable where `det` overflows."""
    x = _input(input)
    if x._dtype not in _LOG_DET_TYPES:
        check_dtype(x, _LOG_DET_TYPES, LOG_DET, signature="input:T -> sign:T, "
                    "log_abs_determinant:T")
    check_square_matrices(x, LOG_DET)
    return execute(LOG_DET, _slogdet_kernel, (x,))


@LOG_DET.gradient
def _(node, grad_sign, grad_log_abs):
    # d log|det A| = tr(A^-1 dA): the gradient is grad * A^-H (the sign has none)
    c = node.outputs[1]
    multipliers = reshape_raw(grad_log_abs, tuple(c._t.shape) + (1, 1))
    return multiply(multipliers, inverse_raw(node.inputs[0], True))


def logdet(matrix, name=None):
    """`log(det(matrix))` for Hermitian positive-definite matrices, through their Cholesky
    factor: `2 * sum(log(real(diag(L))))` (TF's formula)."""
    low = cholesky(matrix)
    return multiply(reduce_sum(log(real(diag_part(low))), -1), 2.0)
