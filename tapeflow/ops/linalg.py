"""Linear algebra: matmul (MatMul / BatchMatMulV2) and the `@` operator, matvec, inverse,
determinant, norms, diagonals and trace (einsum and tensordot are in einsum.py).

Products are the hot path of every dense layer, so `matmul` checks nothing on its happy path
that torch checks anyway: shape errors are diagnosed after torch refuses, with TF's text.
Transposes and adjoints are kernel attrs, not separate ops, so a gradient is one product (a
complex transpose is the adjoint of a Conj, as in TF).
On the CPU, large float32 products run on oneDNN as in TensorFlow (ops/_gemm.py says why).
On CUDA, float32 products use TensorFloat-32 as TensorFlow does by default on Ampere and later
(the switch, `tf.config.experimental.enable_tensor_float_32_execution`, is in _core/device.py).
"""
import types

import numpy as np
import torch

from tapeflow._core import dtypes
from tapeflow._core.context import current_device
from tapeflow._core.errors import InvalidArgumentError, NotFoundError
from tapeflow._core.tensor import Tensor, convert_to_tensor, wrap
from tapeflow._core.variable import Variable
from tapeflow.ops import _gemm
from tapeflow.ops._op import (binary_operands, check_dtype, define, execute, host_check,
                              install_operators, kernel_error, reverse_operands as _reverse)
from tapeflow.ops.array import matrix_transpose, squeeze
from tapeflow.ops.broadcast import reshape_raw, unbroadcast
from tapeflow.ops.einsum import einsum_raw, eye_like, permute
from tapeflow.ops.elementwise import abs as abs_, cast, pow as pow_, sqrt
from tapeflow.ops.math import add, conj, multiply, negative, no_kernel, subtract
from tapeflow.ops.reduction import reduce_max, reduce_sum


# -- matmul ----------------------------------------------------------------------------------

MATMUL = define("MatMul")
BATCH_MATMUL = define("BatchMatMulV2")

_F16, _BF16, _F32, _F64 = dtypes.float16, dtypes.bfloat16, dtypes.float32, dtypes.float64
_C64, _C128 = dtypes.complex64, dtypes.complex128
# float32 first: tuple membership tests identity before equality, so the usual case is fast.
_MATMUL_KERNEL_TYPES = (_F32, _F64, _F16, _BF16, dtypes.int32, dtypes.int64, _C64, _C128)
_MATMUL_ATTR_TYPES = (_BF16, _F16, _F32, _F64, dtypes.int32, dtypes.int64, dtypes.uint8,
                      dtypes.uint16, dtypes.uint32, dtypes.uint64, _C64, _C128)
_WIDENING = (dtypes.int8, dtypes.uint8)
_BATCH_ATTR_TYPES = (_BF16, _F16, _F32, _F64, dtypes.int16, dtypes.int32, dtypes.int64,
                     dtypes.uint8, dtypes.uint16, dtypes.uint32, dtypes.uint64, _C64, _C128)


def _mm_kernel(a, b, mode_a, mode_b):
    """`op(a) @ op(b)`; a mode is 0 (as is) or 2 (the adjoint: the conjugate transpose, which
    is the transpose for real dtypes)."""
    if mode_a:
        a = a.mH
    if mode_b:
        b = b.mH
    return _gemm.matmul(a, b)


def _rank(x):
    return x._t.ndim if isinstance(x, Tensor) else len(x.shape) if hasattr(x, "shape") else \
        _nested_rank(x)


def _nested_rank(x):
    n = 0
    while isinstance(x, (list, tuple)):
        n += 1
        x = x[0] if len(x) else None
    return n


def matmul(a, b, transpose_a=False, transpose_b=False, adjoint_a=False, adjoint_b=False,
           a_is_sparse=False, b_is_sparse=False, output_type=None, grad_a=False, grad_b=False,
           name=None):
    """`op(a) @ op(b)` over the last two dimensions, batch dimensions broadcasting.

    `transpose_*` transposes, `adjoint_*` conjugates and transposes (the same for real
    dtypes); at most one of the two per operand. Ranks below 2 are errors, as in TF.

    Example:
    >>> tf.matmul(tf.ones((2, 3)), tf.ones((3, 4))).shape
    TensorShape([2, 4])
    """
    if type(a) is not Tensor or type(b) is not Tensor:
        op = BATCH_MATMUL if _rank(a) > 2 or _rank(b) > 2 else MATMUL
        a, b = binary_operands(a, b, op)
    if transpose_a and adjoint_a:
        raise ValueError("Only one of `transpose_a` and `adjoint_a` can be True. Received "
                         f"`transpose_a`={transpose_a}, `adjoint_a`={adjoint_a}.")
    if transpose_b and adjoint_b:
        raise ValueError("Only one of `transpose_b` and `adjoint_b` can be True. Received "
                         f"`transpose_b`={transpose_b}, `adjoint_b`={adjoint_b}.")
    na, nb = a._t.ndim, b._t.ndim
    op = MATMUL if na <= 2 and nb <= 2 else BATCH_MATMUL
    if a._dtype is not b._dtype:
        binary_operands(a, b, op)  # raises TF's dtype-mismatch error
    dtype = a._dtype
    if output_type is not None and dtype in _WIDENING and \
            dtypes.as_dtype(output_type) is dtypes.int32:
        # TF's BatchMatMulV3 multiplies 8-bit integers into int32
        a, b, dtype = cast(a, dtypes.int32), cast(b, dtypes.int32), dtypes.int32
    if dtype not in _MATMUL_KERNEL_TYPES:
        _unsupported(dtype, op)
    if output_type is not None and dtypes.as_dtype(output_type) is not dtype:
        raise NotFoundError(None, None, f"Could not find device for node: {{{{node "
                            f"BatchMatMulV3}}}} = BatchMatMulV3[Ta=DT_{dtype.name.upper()}, "
                            f"Tb=DT_{dtype.name.upper()}, Tout=DT_"
                            f"{dtypes.as_dtype(output_type).name.upper()}]")
    if na < 2 or nb < 2:
        raise _rank_error(a, b, op)
    if transpose_a or transpose_b or adjoint_a or adjoint_b:
        if dtype.is_complex:  # a plain transpose is the adjoint of the conjugate, as in TF
            a = conj(a) if transpose_a else a
            b = conj(b) if transpose_b else b
        mode_a = 2 if transpose_a or adjoint_a else 0
        mode_b = 2 if transpose_b or adjoint_b else 0
        return _run(op, _mm_kernel, a, b, (mode_a, mode_b))
    return _run(op, _gemm.matmul, a, b, ())


def _run(op, kernel, a, b, attrs):
    try:
        return execute(op, kernel, (a, b), attrs)
    except InvalidArgumentError:
        raise _shape_error(a, b, op, attrs) from None


def _unsupported(dtype, op):
    allowed = _MATMUL_ATTR_TYPES if op is MATMUL else _BATCH_ATTR_TYPES
    if dtype in allowed:
        raise no_kernel(op, dtype)
    check_dtype(Tensor(None, dtype), allowed, op)


def _dims(t):
    return "[" + ",".join(str(d) for d in t._t.shape) + "]"


def error(message, op, like):
    return kernel_error(message, op, like._t.device)


def _rank_error(a, b, op):
    na, nb = a._t.ndim, b._t.ndim
    if op is MATMUL:
        if na != nb:
            return error(f"In[0] and In[1] has different ndims: {_dims(a)} vs. {_dims(b)}", op,
                         a)
        return error(f"In[0] and In[1] ndims must be == 2: {na}", op, a)
    if na < 2:
        return error(f"In[0] ndims must be >= 2: {na}", op, a)
    return error(f"In[1] ndims must be >= 2: {nb}", op, a)


def _shape_error(a, b, op, attrs):
    sa, sb = tuple(a._t.shape), tuple(b._t.shape)
    ta, tb = (bool(m) for m in attrs) if attrs else (False, False)
    if sa[-1 - ta] != sb[-2 + tb]:
        return error(f"Matrix size-incompatible: In[0]: {_dims(a)}, In[1]: {_dims(b)}", op,
                     a)
    return error(f"In[0] and In[1] must have compatible batch dimensions: {_dims(a)} vs. "
                 f"{_dims(b)}", op, a)


def matmul_raw(a, b, adj_a=False, adj_b=False):
    """`op(a) @ op(b)` for operands already checked (gradients and compositions use it)."""
    op = MATMUL if a._t.ndim == 2 and b._t.ndim == 2 else BATCH_MATMUL
    if adj_a or adj_b:
        return execute(op, _mm_kernel, (a, b), (2 if adj_a else 0, 2 if adj_b else 0))
    return execute(op, _gemm.matmul, (a, b))


def _matmul_grad(node, grad):
    a, b = node.inputs
    mode_a, mode_b = node.attrs if node.attrs else (0, 0)
    adj_a, adj_b = mode_a == 2, mode_b == 2
    skip = node.skip_input_indices
    ga = gb = None
    if 0 not in skip:  # C = op(A) op(B): the four cases of TF's _MatMulGrad
        ga = matmul_raw(b, grad, adj_b, True) if adj_a else matmul_raw(grad, b, False, not adj_b)
        ga = unbroadcast(ga, a)
    if 1 not in skip:
        gb = matmul_raw(grad, a, True, adj_a) if adj_b else matmul_raw(a, grad, not adj_a, False)
        gb = unbroadcast(gb, b)
    return ga, gb


MATMUL.gradient(_matmul_grad)
BATCH_MATMUL.gradient(_matmul_grad)

install_operators(Tensor, {"__matmul__": matmul, "__rmatmul__": _reverse(matmul)})
install_operators(Variable, {"__matmul__": matmul, "__rmatmul__": _reverse(matmul)})


def matvec(a, b, transpose_a=False, adjoint_a=False, a_is_sparse=False, b_is_sparse=False,
           name=None):
    """`a @ b` for a (batch of) matrix `a` and a (batch of) vector `b`."""
    a, b = binary_operands(a, b, BATCH_MATMUL)
    b_col = reshape_raw(b, tuple(b._t.shape) + (1,))
    out = matmul(a, b_col, transpose_a=transpose_a, adjoint_a=adjoint_a)
    return reshape_raw(out, tuple(out._t.shape)[:-1])


# -- inverse and determinant -------------------------------------------------------------------

MATRIX_INVERSE = define("MatrixInverse")
MATRIX_DETERMINANT = define("MatrixDeterminant")
_INV_TYPES = (_F64, _F32, _F16, _C64, _C128)
_DET_TYPES = (_F16, _F32, _F64, _C64, _C128)


def check_matrices(x, op):
    """TF's kernel error unless `x` holds matrices (rank >= 2)."""
    if x._t.ndim < 2:
        raise kernel_error(f"Input tensor 0 must have rank >= 2, got {x._t.ndim}", op,
                           x._t.device, name_suffix=False)


def check_square_matrices(x, op):
    """TF's kernel errors unless `x` holds square matrices."""
    check_matrices(x, op)
    if x._t.shape[-1] != x._t.shape[-2]:
        raise kernel_error("Input matrix must be square.", op, x._t.device, name_suffix=False)


@host_check
def _inverse_kernel(x, adjoint):
    if x.dtype == torch.float16:  # no half-precision LU in torch: solve in float32
        return _inverse_kernel(x.float(), adjoint).half()
    inv, info = torch.linalg.inv_ex(x.mH if adjoint else x)
    if x.device.type == "cpu" and bool(info.any()):
        raise ValueError("Input is not invertible.")
    return inv


def inv(input, adjoint=False, name=None):  # noqa: A002 - TF's argument name
    """The inverse of each square matrix in the last two dimensions (of its adjoint when
    `adjoint`). A singular matrix is an InvalidArgumentError, as in TF on CPUs."""
    x = input if type(input) is Tensor else convert_to_tensor(input)
    if x._dtype not in _INV_TYPES:
        check_dtype(x, _INV_TYPES, MATRIX_INVERSE, signature="input:T -> output:T; "
                    "attr=adjoint:bool,default=false")
    check_square_matrices(x, MATRIX_INVERSE)
    try:
        return execute(MATRIX_INVERSE, _inverse_kernel, (x,), (bool(adjoint),))
    except InvalidArgumentError as e:
        raise kernel_error(e.message.split(" [Op:")[0], MATRIX_INVERSE, x._t.device,
                           name_suffix=False) from None


def inverse_raw(x, adjoint=False):
    return execute(MATRIX_INVERSE, _inverse_kernel, (x,), (adjoint,))


@MATRIX_INVERSE.gradient
def _(node, grad):
    # d(A^-1) = -A^-1 dA A^-1, so the gradient is -A^-H G A^-H (TF's _MatrixInverseGrad)
    ainv = node.outputs[0]
    adjoint = node.attrs[0]
    inner = matmul_raw(grad, ainv, adjoint, not adjoint)
    return negative(matmul_raw(ainv, inner, not adjoint, False))


def _det_kernel(x):
    return torch.linalg.det(x)


def det(input, name=None):  # noqa: A002 - TF's argument name
    """The determinant of each square matrix in the last two dimensions."""
    x = input if type(input) is Tensor else convert_to_tensor(input)
    if x._dtype not in _DET_TYPES or x._dtype is _F16:
        check_dtype(x, _DET_TYPES, MATRIX_DETERMINANT, signature="input:T -> output:T")
        raise no_kernel(MATRIX_DETERMINANT, x._dtype)
    check_square_matrices(x, MATRIX_DETERMINANT)
    return execute(MATRIX_DETERMINANT, _det_kernel, (x,))


@MATRIX_DETERMINANT.gradient
def _(node, grad):
    # d det(A) = det(A) tr(A^-1 dA): the gradient is grad * det * A^-H (TF's rule)
    a, c = node.inputs[0], node.outputs[0]
    multipliers = reshape_raw(multiply(grad, c), tuple(c._t.shape) + (1, 1))
    return multiply(multipliers, inverse_raw(a, True))


# -- QR ------------------------------------------------------------------------------------------

QR = define("Qr")
_QR_TYPES = (_F64, _F32, _F16, _C64, _C128)


def _qr_kernel(x, full_matrices):
    if x.dtype == torch.float16:
        q, r = torch.linalg.qr(x.float(), mode="complete" if full_matrices else "reduced")
        return q.half(), r.half()
    return torch.linalg.qr(x, mode="complete" if full_matrices else "reduced")


def qr(input, full_matrices=False, name=None):  # noqa: A002 - TF's argument name
    """`(q, r)` with `q` orthonormal columns and `r` upper triangular, `q @ r == input`."""
    x = input if type(input) is Tensor else convert_to_tensor(input)
    if x._dtype not in _QR_TYPES:
        check_dtype(x, _QR_TYPES, QR, signature="input:T -> q:T, r:T; "
                    "attr=full_matrices:bool,default=false")
    check_matrices(x, QR)
    return execute(QR, _qr_kernel, (x,), (bool(full_matrices),))


@QR.gradient
def _(node, dq, dr):
    # TF's _QrGrad for square and tall matrices (reduced): with tril = the lower triangle of
    # (Q^H dQ - dQ^H Q) + (R dR^H - dR R^H), grad = Q (dR + tril R^-H) + (dQ - Q Q^H dQ) R^-H
    q, r = node.outputs
    x = node.inputs[0]
    m, n = x._t.shape[-2:]
    if m < n or (node.attrs[0] and m != n):
        raise NotImplementedError("QrGrad not implemented when nrows > ncols and full_matrices "
                                  "is true. Received a input with shape " + str(x.shape))
    qdq = matmul_raw(q, dq, True, False)
    rdr = matmul_raw(r, dr, False, True)
    skew = add(subtract(qdq, matrix_transpose(qdq, conjugate=True)),
               subtract(rdr, matrix_transpose(rdr, conjugate=True)))
    tril = multiply(skew, _lower_mask(n, x))
    r_inv_h = inverse_raw(r, True)
    grad_a = matmul_raw(q, add(dr, matmul_raw(tril, r_inv_h)))
    grad_b = matmul_raw(subtract(dq, matmul_raw(q, qdq)), r_inv_h)
    return add(grad_a, grad_b)


def _lower_mask(n, like):
    """Ones on and below the diagonal: a constant (a tf.function trace captures it)."""
    return wrap(torch.ones(n, n, dtype=like._dtype.torch, device=current_device()).tril(),
                like._dtype)


# -- norms (compositions, as in TF) ------------------------------------------------------------

_VECTOR_NORMS = ("euclidean", 1, 2, np.inf)
_MATRIX_NORMS = ["euclidean", "fro", 1, 2, np.inf]


def norm(tensor, ord="euclidean", axis=None, keepdims=None, name=None,  # noqa: A002
         keep_dims=None):
    """The vector norm of `tensor` (over all elements, or over `axis`), or the matrix norm over
    a pair of axes: `ord` is 'euclidean'/'fro', 1, 2, np.inf, or (vectors) any p > 0."""
    keepdims = bool(keepdims if keepdims is not None else keep_dims)
    is_matrix = isinstance(axis, (tuple, list)) and len(axis) == 2
    if is_matrix:
        axis = tuple(axis)
        if not isinstance(axis[0], int) or not isinstance(axis[1], int) or axis[0] == axis[1]:
            raise ValueError(f"'axis' must be None, an integer, or a tuple of 2 unique "
                             f"integers, got {axis}")
        if ord not in _MATRIX_NORMS:
            raise ValueError(f"'ord' must be a supported matrix norm in {_MATRIX_NORMS}, got "
                             f"{ord}")
    else:
        if not (isinstance(axis, int) or axis is None):
            raise ValueError(f"'axis' must be None, an integer, or a tuple of 2 unique "
                             f"integers, got {axis}")
        if (not np.isreal(ord) or isinstance(ord, str) or ord <= 0) and \
                ord not in _VECTOR_NORMS:
            raise ValueError(f"'ord' must be a supported vector norm, got {ord}")
        if axis is not None:
            axis = (axis,)
    x = tensor if type(tensor) is Tensor else convert_to_tensor(tensor)
    if ord in ("fro", "euclidean", 2, 2.0):
        if is_matrix and ord in (2, 2.0):
            result = _spectral_norm(x, axis)
        else:
            result = sqrt(reduce_sum(multiply(x, conj(x)), axis, keepdims=True))
    else:
        result = abs_(x)
        if ord == 1:
            result = reduce_sum(result, None if axis is None else axis[0], keepdims=True)
            if is_matrix:
                result = reduce_max(result, axis[-1], keepdims=True)
        elif ord == np.inf:
            if is_matrix:
                result = reduce_sum(result, axis[1], keepdims=True)
            result = reduce_max(result, None if axis is None else axis[0], keepdims=True)
        else:
            result = pow_(reduce_sum(pow_(result, ord), axis, keepdims=True), 1.0 / ord)
    if not keepdims:
        result = squeeze(result, axis)
    return result


def _spectral_norm(x, axis):
    """The largest singular value over the two axes, kept as size-1 dimensions."""
    n = x._t.ndim
    a0, a1 = axis[0] % n, axis[1] % n
    moved = permute(x, [k for k in range(n) if k not in (a0, a1)] + [a0, a1])
    values = execute(SVD_VALUES, _singular_values_kernel, (moved,))
    top = reduce_max(values, -1, keepdims=True)
    return reshape_raw(top, tuple(1 if k in (a0, a1) else d for k, d in enumerate(x._t.shape)))


SVD_VALUES = define("Svd", differentiable=False)  # singular values only: TF has no gradient


def _singular_values_kernel(x):
    return torch.linalg.svdvals(x)


# -- diagonals, trace, eye ------------------------------------------------------------------------

def diag_part(input, name="diag_part", k=0, padding_value=0, align="RIGHT_LEFT"):  # noqa: A002
    """The main diagonal of each matrix in the last two dimensions."""
    x = input if type(input) is Tensor else convert_to_tensor(input)
    if x._t.ndim < 2:
        raise kernel_error(f"input must be at least 2-dim, received shape: {_dims(x)}",
                           MATRIX_DIAG_PART, x._t.device)
    _only_main_diagonal(k)
    m, n = x._t.shape[-2:]
    if m != n:  # a rectangular matrix: its diagonal is that of its leading square block
        x = execute(MATRIX_DIAG_PART, _block_kernel, (x,), (min(m, n), min(m, n)))
    batch = "abcdefghijklmnopqrstuvwxy"[:x._t.ndim - 2]
    return einsum_raw(f"{batch}zz->{batch}z", (x,))


MATRIX_DIAG_PART = define("MatrixDiagPartV3")


def _block_kernel(x, rows, cols):
    return x[..., :rows, :cols]


@MATRIX_DIAG_PART.gradient
def _(node, grad):
    x = node.inputs[0]
    return execute(MATRIX_DIAG_PART_PAD, _pad_block_kernel, (grad,), tuple(x._t.shape[-2:]))


MATRIX_DIAG_PART_PAD = define("MatrixDiagPartV3Grad")  # zeros around the square block


def _pad_block_kernel(g, m, n):
    return torch.nn.functional.pad(g, (0, n - g.shape[-1], 0, m - g.shape[-2]))


@MATRIX_DIAG_PART_PAD.gradient
def _(node, grad):
    return execute(MATRIX_DIAG_PART, _block_kernel, (grad,), tuple(node.inputs[0]._t.shape[-2:]))


def diag(diagonal, name="diag", k=0, num_rows=-1, num_cols=-1, padding_value=0,
         align="RIGHT_LEFT"):
    """Square matrices with `diagonal` (last dimension) on their main diagonal."""
    v = diagonal if type(diagonal) is Tensor else convert_to_tensor(diagonal)
    _only_main_diagonal(k)
    if v._t.ndim < 1:
        raise kernel_error("diagonal must be at least 1-dim, received shape: []",
                           _MATRIX_DIAG, v._t.device)
    batch = "abcdefghijklmnopqrstuvwx"[:v._t.ndim - 1]
    return einsum_raw(f"{batch}y,yz->{batch}yz", (v, eye_like(v._t.shape[-1], v)))


_MATRIX_DIAG = types.SimpleNamespace(name="MatrixDiagV3")  # for its error text only


def trace(x, name=None):
    """The sum of each matrix's main diagonal."""
    return reduce_sum(diag_part(x), -1)


def _only_main_diagonal(k):
    if k != 0:
        raise NotImplementedError("tapeflow supports only the main diagonal (k=0) so far.")
