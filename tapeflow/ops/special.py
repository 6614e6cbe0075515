"""Special functions (lgamma, digamma, erfinv, ndtri), the safe products and quotients
(xlogy, xdivy, multiply_no_nan, reciprocal_no_nan), log_sigmoid, and the n-ary add_n and
scalar_mul: the less common corners of tf.math, each with its gradient beside it.
"""
import math

import torch

from tapeflow._core import dtypes
from tapeflow._core.errors import InvalidArgumentError
from tapeflow._core.tensor import Tensor, convert_to_tensor
from tapeflow._core.variable import Variable
from tapeflow.ops._op import binary_operands, check_dtype, define, error, execute, \
    tf_type_name
from tapeflow.ops.comparison import not_equal
from tapeflow.ops.elementwise import _F, _unary, cast, exp, log, square
from tapeflow.ops.broadcast import _BINARY, binary, enums, unbroadcast
from tapeflow.ops.math import DIV_NO_NAN, _div_no_nan_kernel, multiply, negative
from tapeflow.ops.nn import softplus

# -- special functions ---------------------------------------------------------------------------

LGAMMA, lgamma = _unary("Lgamma", "lgamma", torch.lgamma, _F,
                        "`log(|Gamma(x)|)`.", no_cpu_kernel=_F[:1])
def _digamma_kernel(t):
    y = torch.digamma(t)
    return torch.where(t == 0, torch.nan, y)  # TF: NaN at 0 (torch gives -inf)


DIGAMMA, digamma = _unary("Digamma", "digamma", _digamma_kernel, _F,
                          "The derivative of lgamma.", no_cpu_kernel=_F[:1])
POLYGAMMA = define("Polygamma")


def _polygamma_kernel(t, n):
    return torch.polygamma(n, t)


def polygamma_raw(n, x):
    """The n-th derivative of digamma, for a Python int `n` (the gradients need it)."""
    return execute(POLYGAMMA, _polygamma_kernel, (x,), (n,))


LGAMMA.gradient(lambda node, grad: multiply(grad, digamma(node.inputs[0])))
DIGAMMA.gradient(lambda node, grad: multiply(grad, polygamma_raw(1, node.inputs[0])))
POLYGAMMA.gradient(lambda node, grad: multiply(grad, polygamma_raw(node.attrs[0] + 1,
                                                                   node.inputs[0])))

ERFINV, erfinv = _unary("Erfinv", "erfinv", torch.erfinv, _F, "The inverse of erf.",
                        no_cpu_kernel=_F[:2])
ERFINV.gradient(lambda node, grad: multiply(
    grad, multiply(exp(square(node.outputs[0])), math.sqrt(math.pi) / 2)))


def _ndtri_kernel(t):
    return torch.special.ndtri(t)


NDTRI, ndtri = _unary("Ndtri", "ndtri", _ndtri_kernel, _F,
                      "The inverse of the standard normal CDF.", no_cpu_kernel=_F[:2])
NDTRI.gradient(lambda node, grad: multiply(
    grad, multiply(exp(multiply(square(node.outputs[0]), 0.5)), math.sqrt(2 * math.pi))))


def log_sigmoid(x, name=None):
    """`log(sigmoid(x))`, computed stably as TF does: `-softplus(-x)`."""
    x = convert_to_tensor(x)
    return negative(softplus(negative(x)))


# -- products and quotients that are 0 where TF says so ------------------------------------------

_SAFE_TYPES = (dtypes.float16, dtypes.bfloat16, dtypes.float32, dtypes.float64, dtypes.complex64,
               dtypes.complex128)


def _safe_binary(tf_name, public_name, kernel, doc, allowed=_SAFE_TYPES):
    op = define(tf_name)
    ok = enums(allowed)

    def fn(x, y, name=None):
        x, y = binary_operands(x, y, op)
        if x._dtype._enum not in ok:
            check_dtype(x, allowed, op, signature=_BINARY)
        return binary(op, kernel, x, y)

    fn.__name__ = fn.__qualname__ = public_name
    fn.__doc__ = doc
    return op, fn


def _xlogy_kernel(a, b):
    return torch.where(a == 0, torch.zeros((), dtype=a.dtype, device=a.device), a * torch.log(b))


def _xdivy_kernel(a, b):
    return torch.where(a == 0, torch.zeros((), dtype=a.dtype, device=a.device), a / b)


def _mul_no_nan_kernel(a, b):
    return torch.where(b == 0, torch.zeros((), dtype=a.dtype, device=a.device), a * b)


XLOGY, xlogy = _safe_binary("Xlogy", "xlogy", _xlogy_kernel,
                            "`x * log(y)`, but 0 where x is 0 (even for y 0 or NaN).")
XDIVY, xdivy = _safe_binary("Xdivy", "xdivy", _xdivy_kernel,
                            "`x / y`, but 0 where x is 0 (even for y 0 or NaN).")
MUL_NO_NAN, multiply_no_nan = _safe_binary(
    "MulNoNan", "multiply_no_nan", _mul_no_nan_kernel,
    "`x * y`, but 0 where y is 0 (even for x NaN or infinite).",
    allowed=(dtypes.bfloat16, dtypes.float16, dtypes.float32, dtypes.float64, dtypes.complex64,
             dtypes.complex128))


def _nonzero(x):
    return cast(not_equal(x, 0), x.dtype)


@XLOGY.gradient
def _(node, grad):
    x, y = node.inputs
    return (unbroadcast(multiply(grad, xlogy(_nonzero(x), y)), x),
            unbroadcast(multiply(grad, xdivy(x, y)), y))


@XDIVY.gradient
def _(node, grad):
    x, y = node.inputs
    return (unbroadcast(multiply(grad, xdivy(_nonzero(x), y)), x),
            unbroadcast(multiply(grad, xdivy(negative(x), square(y))), y))


@MUL_NO_NAN.gradient
def _(node, grad):
    x, y = node.inputs
    return (unbroadcast(multiply_no_nan(grad, y), x),
            unbroadcast(multiply_no_nan(x, grad), y))


_DIV_NO_NAN_TYPES = (dtypes.float16, dtypes.float32, dtypes.bfloat16, dtypes.float64,
                     dtypes.complex64, dtypes.complex128)
_DIV_NO_NAN_OK = enums(_DIV_NO_NAN_TYPES)


def reciprocal_no_nan(x, name=None):
    """`1 / x`, but 0 where x is 0."""
    x = x if type(x) is Tensor else convert_to_tensor(x)
    if x._dtype._enum not in _DIV_NO_NAN_OK:  # TF runs the raw DivNoNan op: no integer casts
        check_dtype(x, _DIV_NO_NAN_TYPES, DIV_NO_NAN, signature=_BINARY)
    one, x = binary_operands(1, x, DIV_NO_NAN)
    return binary(DIV_NO_NAN, _div_no_nan_kernel, one, x)


# -- n-ary sums ----------------------------------------------------------------------------------

ADD_N = define("AddN")
_ADD_N_TYPES = (dtypes.float32, dtypes.float64, dtypes.int32, dtypes.uint8, dtypes.int16,
                dtypes.int8, dtypes.complex64, dtypes.int64, dtypes.bfloat16, dtypes.uint16,
                dtypes.complex128, dtypes.float16, dtypes.uint32, dtypes.uint64)


def _add_n_kernel(*ts):
    out = ts[0] + ts[1]
    for t in ts[2:]:
        out = out + t
    return out


def add_n(inputs, name=None):
    """The elementwise sum of a list of tensors of one dtype and shape."""
    if isinstance(inputs, (Tensor, Variable)):
        inputs = list(convert_to_tensor(inputs))
    if not inputs:
        raise ValueError("Inputs must be an iterable of at least one Tensor/IndexedSlices with "
                         "the same dtype and shape.")
    ts = [convert_to_tensor(t) for t in inputs]
    if len(ts) == 1:
        return ts[0]
    first = ts[0]
    for i, t in enumerate(ts[1:], 1):
        if t._dtype is not first._dtype:
            raise error(f"cannot compute AddN as input #{i}(zero-based) was expected to be a "
                        f"{tf_type_name(first._dtype)} tensor but is a "
                        f"{tf_type_name(t._dtype)} tensor", ADD_N)
    if first._dtype not in _ADD_N_TYPES:
        check_dtype(first, _ADD_N_TYPES, ADD_N)
    for i, t in enumerate(ts[1:], 1):
        if t._t.shape != first._t.shape:
            raise InvalidArgumentError(None, None, (
                f"{{{{function_node __wrapped__AddN_N_{len(ts)}_device_{first.device}}}}} "
                f"Inputs to operation AddN of type AddN must have the same size and shape.  "
                f"Input 0: {list(first._t.shape)} != input {i}: {list(t._t.shape)} "
                "[Op:AddN] name: "))
    return execute(ADD_N, _add_n_kernel, tuple(ts))


@ADD_N.gradient
def _(node, grad):
    return tuple(grad for _ in node.inputs)


def scalar_mul(scalar, x, name=None):
    """`scalar * x` for a 0-D `scalar` (converted to x's dtype)."""
    x = convert_to_tensor(x)
    scalar = convert_to_tensor(scalar, dtype=x.dtype)
    if scalar.ndim != 0:
        raise ValueError(f"The input scalar must be a 0-D value. Received shape {scalar.shape}.")
    return multiply(scalar, x)
