"""Unary elementwise math: powers and roots, exp/log, trig and hyperbolic functions, sigmoid,
erf, rounding, NaN/inf tests, abs/sign, `cast`, `clip_by_value`, and complex numbers (`complex`,
`real`, `imag`, `angle`).

Most ops here share one shape (one input, TF's list of allowed dtypes, one torch kernel), so
`_unary` builds them; each gradient follows on the next lines, written in tapeflow ops as TF's
math_grad.py writes it (often from the op's output, e.g. exp's gradient is `grad * y`).
Rounding and the `is_*` tests have no gradient in TF (the tape returns None for them).
"""
import math

import numpy as np
import torch

from tapeflow._core import dtypes
from tapeflow._core.errors import UnimplementedError
from tapeflow._core.tensor import Tensor, convert_to_tensor
from tapeflow._core.variable import Variable
from tapeflow.ops._op import (binary_operands, check_dtype, define, execute, host_check,
                              install_operators, kernel_error, reverse_operands, tf_type_name)
from tapeflow.ops.broadcast import _BINARY, binary, enums, unbroadcast
from tapeflow.ops.comparison import greater, less, where
from tapeflow.ops.math import (add, conj, divide, divide_no_nan, maximum, minimum, multiply,
                               negative, no_kernel, ones_like, subtract, zeros_like)

_F = (dtypes.bfloat16, dtypes.float16, dtypes.float32, dtypes.float64)
_C = (dtypes.complex64, dtypes.complex128)
_I = (dtypes.int8, dtypes.int16, dtypes.int32, dtypes.int64)
_U = (dtypes.uint8, dtypes.uint16, dtypes.uint32, dtypes.uint64)
_FC = _F + _C
_UNARY = "x:T -> y:T"


def _unary(tf_name, public_name, kernel, allowed, doc, differentiable=True, no_cpu_kernel=(),
           signature=_UNARY):
    """Defines op `tf_name` and its public function: convert, check the dtype, run `kernel`.
    `no_cpu_kernel`: dtypes TF's op accepts but has no CPU kernel for (TF: NotFoundError)."""
    op = define(tf_name, differentiable)
    ok = enums(d for d in allowed if d not in no_cpu_kernel)

    def fn(x, name=None):
        if type(x) is not Tensor:
            x = convert_to_tensor(x)
        if x._dtype._enum not in ok:
            check_dtype(x, allowed, op, signature=signature)
            raise no_kernel(op, x._dtype)
        return execute(op, kernel, (x,))

    fn.__name__ = fn.__qualname__ = public_name
    fn.__doc__ = doc
    return op, fn


def _one_minus_square(x):
    return subtract(1, multiply(x, x))


# -- powers, roots, exponentials and logarithms ------------------------------------------------

SQUARE, square = _unary("Square", "square", torch.square, _F + _I + _U + _C, "`x * x`.")
SQUARE.gradient(lambda node, grad: multiply(grad, multiply(conj(node.inputs[0]), 2)))

SQRT, sqrt = _unary("Sqrt", "sqrt", torch.sqrt, _FC, "The square root (NaN below zero).")
SQRT.gradient(lambda node, grad: divide(multiply(grad, 0.5), conj(node.outputs[0])))

RSQRT, rsqrt = _unary("Rsqrt", "rsqrt", torch.rsqrt, _FC, "`1 / sqrt(x)`.")


@RSQRT.gradient
def _(node, grad):
    y = conj(node.outputs[0])
    return multiply(grad, multiply(multiply(y, multiply(y, y)), -0.5))


EXP, exp = _unary("Exp", "exp", torch.exp, _FC, "`e ** x`.")
EXP.gradient(lambda node, grad: multiply(grad, conj(node.outputs[0])))

EXPM1, expm1 = _unary("Expm1", "expm1", torch.expm1, _FC, "`exp(x) - 1`, exact for small x.")
EXPM1.gradient(lambda node, grad: multiply(grad, exp(conj(node.inputs[0]))))

LOG, log = _unary("Log", "log", torch.log, _FC, "The natural logarithm.")
LOG.gradient(lambda node, grad: multiply(grad, reciprocal(conj(node.inputs[0]))))

LOG1P, log1p = _unary("Log1p", "log1p", torch.log1p, _FC, "`log(1 + x)`, exact for small x.")
LOG1P.gradient(lambda node, grad: multiply(grad, reciprocal(add(conj(node.inputs[0]), 1))))

RECIPROCAL, reciprocal = _unary("Reciprocal", "reciprocal", torch.reciprocal, _F + _I + _C,
                                "`1 / x`.", no_cpu_kernel=_I)


@RECIPROCAL.gradient
def _(node, grad):
    y = conj(node.outputs[0])
    return negative(multiply(grad, multiply(y, y)))


# -- trigonometric and hyperbolic functions ----------------------------------------------------

SIN, sin = _unary("Sin", "sin", torch.sin, _FC, "The sine.")
SIN.gradient(lambda node, grad: multiply(grad, cos(conj(node.inputs[0]))))

COS, cos = _unary("Cos", "cos", torch.cos, _FC, "The cosine.")
COS.gradient(lambda node, grad: negative(multiply(grad, sin(conj(node.inputs[0])))))

TAN, tan = _unary("Tan", "tan", torch.tan, _FC, "The tangent.")
TAN.gradient(lambda node, grad: multiply(grad, square(reciprocal(cos(conj(node.inputs[0]))))))

ASIN, asin = _unary("Asin", "asin", torch.asin, _FC, "The inverse sine.")
ASIN.gradient(lambda node, grad: multiply(grad, rsqrt(_one_minus_square(conj(node.inputs[0])))))

ACOS, acos = _unary("Acos", "acos", torch.acos, _FC, "The inverse cosine.")
ACOS.gradient(lambda node, grad: negative(
    multiply(grad, rsqrt(_one_minus_square(conj(node.inputs[0]))))))

ATAN, atan = _unary("Atan", "atan", torch.atan, _FC, "The inverse tangent.")
ATAN.gradient(lambda node, grad: multiply(grad, reciprocal(add(square(conj(node.inputs[0])), 1))))

SINH, sinh = _unary("Sinh", "sinh", torch.sinh, _FC, "The hyperbolic sine.")
SINH.gradient(lambda node, grad: multiply(grad, cosh(conj(node.inputs[0]))))

COSH, cosh = _unary("Cosh", "cosh", torch.cosh, _FC, "The hyperbolic cosine.")
COSH.gradient(lambda node, grad: multiply(grad, sinh(conj(node.inputs[0]))))

TANH, tanh = _unary("Tanh", "tanh", torch.tanh, _FC, "The hyperbolic tangent.")
TANH.gradient(lambda node, grad: multiply(grad, _one_minus_square(conj(node.outputs[0]))))

ASINH, asinh = _unary("Asinh", "asinh", torch.asinh, _FC, "The inverse hyperbolic sine.")
ASINH.gradient(lambda node, grad: multiply(grad, reciprocal(cosh(conj(node.outputs[0])))))

ACOSH, acosh = _unary("Acosh", "acosh", torch.acosh, _FC, "The inverse hyperbolic cosine.")
ACOSH.gradient(lambda node, grad: multiply(grad, reciprocal(sinh(conj(node.outputs[0])))))

ATANH, atanh = _unary("Atanh", "atanh", torch.atanh, _FC, "The inverse hyperbolic tangent.")
ATANH.gradient(lambda node, grad: multiply(grad, reciprocal(
    _one_minus_square(conj(node.inputs[0])))))

SIGMOID, sigmoid = _unary("Sigmoid", "sigmoid", torch.sigmoid, _FC, "`1 / (1 + exp(-x))`.")


@SIGMOID.gradient
def _(node, grad):
    y = conj(node.outputs[0])
    return multiply(grad, multiply(y, subtract(1, y)))


ERF, erf = _unary("Erf", "erf", torch.erf, _F, "The Gauss error function.")
ERFC, erfc = _unary("Erfc", "erfc", torch.erfc, _F, "`1 - erf(x)`, exact for large x.")
_TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)


def _erf_slope(x):
    return multiply(exp(negative(square(x))), _TWO_OVER_SQRT_PI)


ERF.gradient(lambda node, grad: multiply(grad, _erf_slope(node.inputs[0])))
ERFC.gradient(lambda node, grad: negative(multiply(grad, _erf_slope(node.inputs[0]))))


# -- abs and sign ------------------------------------------------------------------------------

ABS, _abs = _unary("Abs", "abs", torch.abs, _F + _I, "")
COMPLEX_ABS = define("ComplexAbs")


def abs(x, name=None):  # noqa: A001 - TF's public name
    """The absolute value; for complex `x` the magnitude, as a real tensor."""
    if type(x) is not Tensor:
        x = convert_to_tensor(x)
    if x._dtype.is_complex:
        return execute(COMPLEX_ABS, torch.abs, (x,))
    return _abs(x)


ABS.gradient(lambda node, grad: multiply(grad, sign(node.inputs[0])))


@COMPLEX_ABS.gradient
def _(node, grad):
    x, = node.inputs
    c = x.dtype
    return multiply(cast(grad, c), divide_no_nan(x, cast(node.outputs[0], c)))


def _sign_kernel(t):
    if t.is_complex():
        return torch.sgn(t)
    s = torch.sign(t)
    return torch.where(torch.isnan(t), t, s) if t.is_floating_point() else s  # NaN stays NaN


SIGN, sign = _unary("Sign", "sign", _sign_kernel, _F + _I + _C,
                    "-1, 0 or 1 by the sign of x (`x / |x|` for complex; NaN stays NaN).")
SIGN.gradient(lambda node, grad: zeros_like(node.inputs[0]))


# -- rounding and classification (no gradient, as in TF) -----------------------------------------

ROUND, _round = _unary("Round", "round", torch.round, _F + _I + _C, "", differentiable=False,
                       no_cpu_kernel=_C)


def round(x, name=None):  # noqa: A001 - TF's public name
    """Rounds half to even (banker's rounding), as TF does; integer tensors are returned as is."""
    if type(x) is not Tensor:
        x = convert_to_tensor(x)
    if x._dtype.is_integer:
        return x
    return _round(x)


FLOOR, floor = _unary("Floor", "floor", torch.floor, _F, "Rounds down.", differentiable=False)
CEIL, ceil = _unary("Ceil", "ceil", torch.ceil, _F, "Rounds up.", differentiable=False)
RINT, rint = _unary("Rint", "rint", torch.round, _F, "Rounds half to even.",
                    differentiable=False, no_cpu_kernel=_F[:2])
IS_NAN, is_nan = _unary("IsNan", "is_nan", torch.isnan, _F, "Where x is NaN.",
                        differentiable=False, signature="x:T -> y:bool")
IS_INF, is_inf = _unary("IsInf", "is_inf", torch.isinf, _F, "Where x is infinite.",
                        differentiable=False, signature="x:T -> y:bool")
IS_FINITE, is_finite = _unary("IsFinite", "is_finite", torch.isfinite, _F,
                              "Where x is neither infinite nor NaN.", differentiable=False,
                              signature="x:T -> y:bool")


# -- cast ----------------------------------------------------------------------------------------

CAST = define("Cast")


def _cast_kernel(t, dtype):
    if t.is_complex() and not dtype.is_complex:
        t = t.real  # TF keeps the real part
    return t.to(dtype)


def _cast_value(a, dtype):
    """Cast of shape arithmetic: sizes stay sizes as integers and become SymFloats as floats."""
    if not dtype.is_floating_point and dtype not in (torch.bool, torch.complex64,
                                                      torch.complex128):
        return a
    if dtype.is_floating_point:
        return np.vectorize(torch.sym_float, otypes=[object])(a)
    return None


CAST.value_fn = _cast_value


def cast(x, dtype, name=None):
    """`x` converted to `dtype`. Floats become integers by truncation towards zero (NaN and
    out-of-range values as TF's C++ casts give them); complex to real keeps the real part.
    A float-to-float cast passes gradients back; casts to integers or bool do not."""
    if dtype is None:  # NumPy would read None as float64
        raise TypeError("Cannot convert the argument `type_value`: None to a TensorFlow DType.")
    dtype = dtypes.as_dtype(dtype)
    if (type(x) is Tensor or isinstance(x, (Tensor, Variable))) and x.dtype is dtype:
        return x
    x = convert_to_tensor(x)
    if x._dtype is dtype:
        return x
    if x._dtype is dtypes.string or dtype is dtypes.string:
        raise UnimplementedError(None, None, f"Cast {tf_type_name(x._dtype)} to "
                                 f"{tf_type_name(dtype)} is not supported [Op:Cast] name: ")
    return execute(CAST, _cast_kernel, (x,), (dtype.torch,))


@CAST.gradient
def _(node, grad):
    src = node.inputs[0].dtype
    if (src.is_floating or src.is_complex) and (grad.dtype.is_floating or grad.dtype.is_complex):
        return cast(grad, src)
    return None


# -- clip_by_value -------------------------------------------------------------------------------

def clip_by_value(t, clip_value_min, clip_value_max, name=None):
    """`t` clipped to [clip_value_min, clip_value_max] elementwise.

    As in TF, this is `maximum(minimum(t, max), min)`: the gradient passes to `t` where it lies
    inside the bounds (bounds included), and the bounds may not broadcast `t` to a larger shape.
    """
    values = convert_to_tensor(t)
    clipped = minimum(values, clip_value_max)
    _same_shape(values, clipped)
    clipped = maximum(clipped, clip_value_min)
    _same_shape(values, clipped)
    return clipped


def _same_shape(values, clipped):
    if values._t.shape != clipped._t.shape:
        raise ValueError(f"Shapes {values.shape} and {clipped.shape} are incompatible")


# -- complex parts -------------------------------------------------------------------------------

REAL = define("Real")
IMAG = define("Imag")


def _real_kernel(t):
    return t.real.clone()


def _imag_kernel(t):
    return t.imag.clone()


def _numeric(x, what):
    if type(x) is not Tensor:
        x = convert_to_tensor(x)
    if x._dtype is dtypes.string or (x._dtype.is_bool and what == "real"):
        raise TypeError(f"input must be a numeric tensor, but got tensor with dtype {x._dtype}")
    return x


def real(input, name=None):  # noqa: A002 - TF's argument name
    """The real part of a complex tensor; real tensors are returned unchanged."""
    x = _numeric(input, "real")
    if not x._dtype.is_complex:
        return x
    return execute(REAL, _real_kernel, (x,))


def imag(input, name=None):  # noqa: A002 - TF's argument name
    """The imaginary part of a complex tensor; zeros for real tensors."""
    x = _numeric(input, "imag")
    if not x._dtype.is_complex:
        return zeros_like(x)
    return execute(IMAG, _imag_kernel, (x,))


REAL.gradient(lambda node, grad: cast(grad, node.inputs[0].dtype))
IMAG.gradient(lambda node, grad: multiply(cast(grad, node.inputs[0].dtype), 1j))

COMPLEX = define("Complex")


def complex(real, imag, name=None):  # noqa: A001 - TF's public name
    """`real + 1j * imag` from two float32 (complex64) or float64 (complex128) tensors."""
    re, im = convert_to_tensor(real), convert_to_tensor(imag)
    if re._dtype is not im._dtype or re._dtype not in (dtypes.float32, dtypes.float64):
        raise TypeError(f"The `real` and `imag` components have incorrect types: "
                        f"{re._dtype.name} {im._dtype.name}. They must be consistent, and one "
                        f"of [tf.float32, tf.float64]")
    return binary(COMPLEX, torch.complex, re, im)


@COMPLEX.gradient
def _(node, grad):
    re, im = node.inputs
    return unbroadcast(real(grad), re), unbroadcast(imag(grad), im)


ANGLE = define("Angle")


def angle(input, name=None):  # noqa: A002 - TF's argument name
    """The argument (phase) of a complex tensor; for real tensors pi where negative, else 0."""
    x = _numeric(input, "real")
    if not x._dtype.is_complex:
        return where(less(x, 0), convert_to_tensor(math.pi, dtype=x._dtype), 0)
    return execute(ANGLE, torch.angle, (x,))


@ANGLE.gradient
def _(node, grad):
    x, = node.inputs
    z = reciprocal(complex(imag(x), real(x)))  # TF's -grad / (Im(x) + i Re(x))
    return negative(multiply(cast(grad, x.dtype), z))


# -- pow (its gradient takes a log, so it lives beside log) -----------------------------------

POW = define("Pow")
_POW_TYPES = (dtypes.bfloat16, dtypes.float32, dtypes.float16, dtypes.float64, dtypes.int8,
              dtypes.int16, dtypes.int32, dtypes.int64, dtypes.complex64, dtypes.complex128)
_POW_OK = enums(_POW_TYPES)


@host_check
def _pow_kernel(a, b):
    if not (a.is_floating_point() or a.is_complex()) and not b.is_meta and bool((b < 0).any()):
        raise kernel_error("Integers to negative integer powers are not allowed", POW, a.device)
    return torch.pow(a, b)


def pow(x, y, name=None):  # noqa: A001 - TF's public name
    """`x ** y` elementwise; integers to negative integer powers raise, as in TF."""
    x, y = binary_operands(x, y, POW)
    if x._dtype._enum not in _POW_OK:
        check_dtype(x, _POW_TYPES, POW, signature=_BINARY)
    return binary(POW, _pow_kernel, x, y)


@POW.gradient
def _(node, grad):
    x, y = node.inputs
    z, = node.outputs
    gx = multiply(grad, multiply(y, pow(x, subtract(y, 1))))
    if 1 in node.skip_input_indices:  # a constant exponent (x ** 2): as TF eager, skip gy
        return unbroadcast(gx, x), None
    positive = greater(x, 0)  # log(x) only where it is real; TF's guard against x <= 0
    log_x = where(positive, log(where(positive, x, ones_like(x))), zeros_like(x))
    gy = multiply(grad, multiply(z, log_x))
    return unbroadcast(gx, x), unbroadcast(gy, y)


_OPERATORS = {"__abs__": abs, "__pow__": pow, "__rpow__": reverse_operands(pow)}
install_operators(Tensor, _OPERATORS)
install_operators(Variable, _OPERATORS)
