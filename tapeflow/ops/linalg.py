"""Linear algebra: matmul (MatMul / BatchMatMulV2) and the `@` operator, matvec, tensordot,
einsum, inverse, determinant and norms.

Products are the hot path of every dense layer, so `matmul` checks nothing on its happy path
that torch checks anyway: shape errors are diagnosed after torch refuses, with TF's text.
Transposes and adjoints are kernel attrs, never separate ops, so a gradient is one product.
On CUDA, float32 products use TensorFloat-32 as TensorFlow does by default on Ampere and later.
"""
import torch

from tapeflow._core import dtypes
from tapeflow._core.errors import InvalidArgumentError, NotFoundError
from tapeflow._core.tensor import Tensor, convert_to_tensor
from tapeflow._core.variable import Variable
from tapeflow.ops._op import binary_operands, check_dtype, define, execute, kernel_error
from tapeflow.ops.math import _reverse, install_operators, no_kernel, negative, \
    reshape_raw, unbroadcast


def set_tensor_float_32(enabled):
    """TF32 for float32 products on CUDA (`tf.config.experimental.
    enable_tensor_float_32_execution` calls this; CPUs have no TF32, so nothing changes there)."""
    precision = "tf32" if enabled else "ieee"
    matmul_backend = torch.backends.cuda.matmul
    if hasattr(matmul_backend, "fp32_precision"):
        matmul_backend.fp32_precision = precision
    else:  # torch < 2.9
        matmul_backend.allow_tf32 = bool(enabled)


if torch.cuda.is_available():
    set_tensor_float_32(True)


# -- matmul ----------------------------------------------------------------------------------

MATMUL = define("MatMul")
BATCH_MATMUL = define("BatchMatMulV2")

_F16, _BF16, _F32, _F64 = dtypes.float16, dtypes.bfloat16, dtypes.float32, dtypes.float64
_C64, _C128 = dtypes.complex64, dtypes.complex128
# float32 first: tuple membership tests identity before equality, so the usual case is fast.
_MATMUL_KERNEL_TYPES = (_F32, _F64, _F16, _BF16, dtypes.int32, dtypes.int64, _C64, _C128)
_MATMUL_ATTR_TYPES = (_BF16, _F16, _F32, _F64, dtypes.int32, dtypes.int64, dtypes.uint8,
                      dtypes.uint16, dtypes.uint32, dtypes.uint64, _C64, _C128)
_BATCH_ATTR_TYPES = (_BF16, _F16, _F32, _F64, dtypes.int16, dtypes.int32, dtypes.int64,
                     dtypes.uint8, dtypes.uint16, dtypes.uint32, dtypes.uint64, _C64, _C128)


def _mm_kernel(a, b, mode_a, mode_b):
    """`op(a) @ op(b)`; a mode is 0 (as is), 1 (transpose) or 2 (adjoint: conjugate
    transpose; reals use it for transposes too, so only complex operands ever see mode 1)."""
    if mode_a:
        a = a.mH if mode_a == 2 else a.mT
    if mode_b:
        b = b.mH if mode_b == 2 else b.mT
    return torch.matmul(a, b)


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
        t = 1 if dtype.is_complex else 2
        mode_a = 2 if adjoint_a else t if transpose_a else 0
        mode_b = 2 if adjoint_b else t if transpose_b else 0
        return _run(op, _mm_kernel, a, b, (mode_a, mode_b))
    return _run(op, torch.matmul, a, b, ())


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
    return execute(op, torch.matmul, (a, b))


def _matmul_grad(node, grad):
    a, b = node.inputs
    mode_a, mode_b = node.attrs if node.attrs else (0, 0)
    if mode_a == 1 or mode_b == 1:
        raise LookupError("tapeflow differentiates complex matmul with adjoint_a/b only, not "
                          "with transpose_a/b.")
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
