"""Elementwise arithmetic: add, subtract, multiply, the division family (truediv, floordiv,
floormod, divide_no_nan), maximum/minimum, squared_difference, atan2, negate, ones_like and
zeros_like, and the arithmetic operators (`+ - * / // %`, unary `-`; `**` is with pow in
elementwise.py).

TensorFlow's rules: no implicit promotion between tensors (both operands must share a dtype),
Python numbers adopt the tensor's dtype, shapes broadcast like NumPy (broadcast.py). Each op's
gradient is beside it; `unbroadcast` sums a gradient back to the shape of an input that was
broadcast.
"""
import numpy as np
import torch

from tapeflow._core import dtypes
from tapeflow._core.errors import NotFoundError
from tapeflow._core.tensor import Tensor, convert_to_tensor, wrap
from tapeflow._core.variable import Variable
from tapeflow.ops._op import (_like, binary_operands, check_dtype, define, execute,
                              install_operators, is_tensor_like, kernel_error,
                              reverse_operands as _reverse, tf_type_name)
from tapeflow.ops.broadcast import _BINARY, _COMMUTATIVE, binary, enums, unbroadcast
from tapeflow.ops.comparison import greater_equal, less_equal, where
from tapeflow.ops.strings import string_add

_F = torch.float32


def no_kernel(op, dtype):
    """TF's error for a dtype its op accepts but for which TF has no CPU kernel."""
    return NotFoundError(None, None, f"Could not find device for node: {{{{node {op.name}}}}} = "
                         f"{op.name}[T=DT_{tf_type_name(dtype).upper()}] [Op:{op.name}] name: ")


# -- arithmetic ------------------------------------------------------------------------------

ADD = define("AddV2")
_ADD_TYPES = (dtypes.bfloat16, dtypes.float16, dtypes.float32, dtypes.float64, dtypes.uint8,
              dtypes.uint16, dtypes.uint32, dtypes.uint64, dtypes.int8, dtypes.int16,
              dtypes.int32, dtypes.int64, dtypes.complex64, dtypes.complex128)
_ADD_OK = enums(_ADD_TYPES)


def add(x, y, name=None):
    """`x + y` elementwise, with broadcasting."""
    x, y = binary_operands(x, y, ADD, True)  # TF's add: x's dtype is only a hint for y
    if x._dtype._enum not in _ADD_OK:
        if x._dtype is dtypes.string:
            return string_add(x, y)
        check_dtype(x, _ADD_TYPES, ADD, signature=_BINARY,
                    traits=_COMMUTATIVE + ("is_aggregate=true",))
    return binary(ADD, torch.add, x, y)


ADD.value_fn = np.add  # (on object arrays of symbolic sizes too: see Op.value_fn)


@ADD.gradient
def _(node, grad):
    x, y = node.inputs
    return unbroadcast(grad, x), unbroadcast(grad, y)


SUB = define("Sub")
_SUB_TYPES = (dtypes.bfloat16, dtypes.float16, dtypes.float32, dtypes.float64, dtypes.uint8,
              dtypes.int8, dtypes.uint16, dtypes.int16, dtypes.int32, dtypes.int64,
              dtypes.complex64, dtypes.complex128, dtypes.uint32, dtypes.uint64)
_SUB_OK = enums(_SUB_TYPES)


def subtract(x, y, name=None):
    """`x - y` elementwise, with broadcasting."""
    x, y = binary_operands(x, y, SUB)
    if x._dtype._enum not in _SUB_OK:
        check_dtype(x, _SUB_TYPES, SUB, signature=_BINARY)
    return binary(SUB, torch.sub, x, y)


SUB.value_fn = np.subtract


@SUB.gradient
def _(node, grad):
    x, y = node.inputs
    if 1 in node.skip_input_indices:  # `x - 4`: no gradient wanted for the constant
        return unbroadcast(grad, x), None
    return unbroadcast(grad, x), unbroadcast(negative(grad), y)


MUL = define("Mul")
_MUL_TYPES = _FLOOR_DIV_TYPES = (
    dtypes.bfloat16, dtypes.float16, dtypes.float32, dtypes.float64, dtypes.uint8, dtypes.int8,
    dtypes.uint16, dtypes.int16, dtypes.int32, dtypes.uint32, dtypes.uint64, dtypes.int64,
    dtypes.complex64, dtypes.complex128)
_MUL_OK = enums(_MUL_TYPES)


def multiply(x, y, name=None):
    """`x * y` elementwise, with broadcasting."""
    x, y = binary_operands(x, y, MUL)
    if x._dtype._enum not in _MUL_OK:
        check_dtype(x, _MUL_TYPES, MUL, signature=_BINARY, traits=_COMMUTATIVE)
    return binary(MUL, torch.mul, x, y)


MUL.value_fn = np.multiply


@MUL.gradient
def _(node, grad):
    x, y = node.inputs
    skip = node.skip_input_indices  # as TF eager: no work for inputs that lead to no source
    gx = None if 0 in skip else unbroadcast(multiply(grad, conj(y)), x)
    gy = None if 1 in skip else unbroadcast(multiply(grad, conj(x)), y)
    return gx, gy


DIV = define("RealDiv")
DIV_NO_NAN = define("DivNoNan")
# TF's _TRUEDIV_TABLE: the dtypes true division accepts, and the floating type integers are
# divided in (None: the dtype itself). Its order is the order of TF's error message.
_TRUEDIV = {dtypes.uint8: dtypes.float32, dtypes.int8: dtypes.float32,
            dtypes.uint16: dtypes.float32, dtypes.int16: dtypes.float32,
            dtypes.uint32: dtypes.float64, dtypes.int32: dtypes.float64,
            dtypes.uint64: dtypes.float64, dtypes.int64: dtypes.float64,
            dtypes.bfloat16: None, dtypes.float16: None, dtypes.float32: None,
            dtypes.float64: None, dtypes.complex64: None, dtypes.complex128: None}


def _div_kernel(a, b):
    return torch.div(a, b)


def _div_f32_kernel(a, b):  # integer division: the Cast TF inserts, fused into the kernel
    return torch.div(a.to(torch.float32), b.to(torch.float32))


def _div_f64_kernel(a, b):
    return torch.div(a.to(torch.float64), b.to(torch.float64))


def _div_no_nan_kernel(a, b):
    if not (a.is_floating_point() or a.is_complex()):
        a, b = a.to(_TRUEDIV_TORCH[a.dtype]), b.to(_TRUEDIV_TORCH[a.dtype])
    return torch.div(a, b).masked_fill(b == 0, 0)


_TRUEDIV_TORCH = {k.torch: v.torch for k, v in _TRUEDIV.items() if v is not None}
_INT_DIV_KERNELS = {dtypes.float32: _div_f32_kernel, dtypes.float64: _div_f64_kernel}


def _true_division_operands(x, y, where):
    """TF's truediv conversion: y takes x's dtype as a hint, then both must share a dtype that
    true division accepts (TypeError otherwise, as in TF's Python wrapper)."""
    if type(x) is not Tensor:
        x = convert_to_tensor(x)
    if type(y) is not Tensor:
        y = convert_to_tensor(y) if is_tensor_like(y) else _like(y, x, True)
    if x._dtype is not y._dtype:
        raise TypeError(f"`x` and `y` must have the same dtype, got {x._dtype!r} != "
                        f"{y._dtype!r}.")
    if not (x._dtype.is_floating or x._dtype.is_integer or x._dtype.is_complex):
        raise TypeError(f"Invalid dtype {x._dtype!r} in {where}. Expected one of "
                        f"{{{', '.join(repr(d) for d in _TRUEDIV)}}}.")
    return x, y


def truediv(x, y, name=None):
    """`x / y` (`tf.math.truediv`): both operands of one dtype; integers are divided in float32
    (8- and 16-bit) or float64, as TF does."""
    if type(x) is not Tensor or type(y) is not Tensor or x._dtype is not y._dtype or \
            not x._dtype.is_floating:
        x, y = _true_division_operands(x, y, "__truediv__")
        if not (x._dtype.is_floating or x._dtype.is_complex):
            return binary(DIV, _INT_DIV_KERNELS[_TRUEDIV[x._dtype]], x, y)
    return binary(DIV, _div_kernel, x, y)


def divide(x, y, name=None):
    """`x / y` (`tf.divide`): like `truediv`, but a non-tensor `x` takes `y`'s dtype."""
    if type(x) is not Tensor and not is_tensor_like(x) and is_tensor_like(y):
        y = convert_to_tensor(y)
        x = _like(x, y, False)
    return truediv(x, y)


@DIV.gradient
def _(node, grad):
    x, y = node.inputs
    if not (x.dtype.is_floating or x.dtype.is_complex):
        return None, None
    x, y = conj(x), conj(y)
    gx = divide(grad, y)
    gy = negative(multiply(gx, divide(x, y)))
    return unbroadcast(gx, x), unbroadcast(gy, y)


def divide_no_nan(x, y, name=None):
    """`x / y`, but 0 wherever `y` is 0 (even for `x` NaN or infinite)."""
    if not is_tensor_like(x) and is_tensor_like(y):
        y = convert_to_tensor(y)
        x = _like(x, y, False)
    x, y = _true_division_operands(x, y, "tf.math.divide_no_nan")
    return binary(DIV_NO_NAN, _div_no_nan_kernel, x, y)


@DIV_NO_NAN.gradient
def _(node, grad):
    x, y = node.inputs
    if not (x.dtype.is_floating or x.dtype.is_complex):
        return None, None
    x, y = conj(x), conj(y)
    gx = divide_no_nan(grad, y)
    gy = multiply(grad, divide_no_nan(divide_no_nan(negative(x), y), y))
    return unbroadcast(gx, x), unbroadcast(gy, y)


FLOOR_DIV = define("FloorDiv", differentiable=False)  # TF's gradient for FloorDiv is None
_FLOOR_DIV_OK = enums(_FLOOR_DIV_TYPES[:-2])  # TF has no CPU kernel for complex FloorDiv


def _integer_division(op):
    """Wraps a torch division kernel: an integer division by zero gets TF's error."""
    def wrap_kernel(fn):
        def kernel(a, b):
            try:
                return fn(a, b)
            except RuntimeError as e:
                if "ZeroDivisionError" in str(e):
                    raise kernel_error("Integer division by zero", op, a.device) from None
                raise
        kernel.__name__ = fn.__name__
        return kernel
    return wrap_kernel


@_integer_division(FLOOR_DIV)
def _floordiv_kernel(a, b):
    return torch.div(a, b, rounding_mode="floor")


FLOOR_DIV.value_fn = np.floor_divide


def floordiv(x, y, name=None):
    """`x // y`: division rounded towards negative infinity (integers and floats)."""
    x, y = binary_operands(x, y, FLOOR_DIV)
    if x._dtype._enum not in _FLOOR_DIV_OK:
        check_dtype(x, _FLOOR_DIV_TYPES, FLOOR_DIV, signature=_BINARY)
        raise no_kernel(FLOOR_DIV, x._dtype)
    return binary(FLOOR_DIV, _floordiv_kernel, x, y)


FLOOR_MOD = define("FloorMod")
_FLOOR_MOD_TYPES = (dtypes.int8, dtypes.int16, dtypes.int32, dtypes.int64, dtypes.uint8,
                    dtypes.uint16, dtypes.uint32, dtypes.uint64, dtypes.bfloat16,
                    dtypes.float16, dtypes.float32, dtypes.float64)
_FLOOR_MOD_OK = enums(_FLOOR_MOD_TYPES)


@_integer_division(FLOOR_MOD)
def _floormod_kernel(a, b):
    return torch.remainder(a, b)


def floormod(x, y, name=None):
    """`x % y` with the sign of `y`, like Python's `%` (`tf.math.floormod`, `tf.math.mod`)."""
    x, y = binary_operands(x, y, FLOOR_MOD)
    if x._dtype._enum not in _FLOOR_MOD_OK:
        check_dtype(x, _FLOOR_MOD_TYPES, FLOOR_MOD, signature=_BINARY)
    return binary(FLOOR_MOD, _floormod_kernel, x, y)


mod = floormod


@FLOOR_MOD.gradient
def _(node, grad):
    x, y = node.inputs
    return unbroadcast(grad, x), unbroadcast(multiply(grad, negative(floordiv(x, y))), y)


MAXIMUM = define("Maximum")
MINIMUM = define("Minimum")
_MINMAX_TYPES = (dtypes.bfloat16, dtypes.float16, dtypes.float32, dtypes.float64, dtypes.int8,
                 dtypes.uint8, dtypes.int16, dtypes.uint16, dtypes.int32, dtypes.uint32,
                 dtypes.int64, dtypes.uint64)
_MINMAX_OK = enums(_MINMAX_TYPES)


def maximum(x, y, name=None):
    """The elementwise maximum of `x` and `y` (NaN propagates)."""
    x, y = binary_operands(x, y, MAXIMUM)
    if x._dtype._enum not in _MINMAX_OK:
        check_dtype(x, _MINMAX_TYPES, MAXIMUM, signature=_BINARY)
    return binary(MAXIMUM, torch.maximum, x, y)


def minimum(x, y, name=None):
    """The elementwise minimum of `x` and `y` (NaN propagates)."""
    x, y = binary_operands(x, y, MINIMUM)
    if x._dtype._enum not in _MINMAX_OK:
        check_dtype(x, _MINMAX_TYPES, MINIMUM, signature=_BINARY)
    return binary(MINIMUM, torch.minimum, x, y)


def _select_grad(node, grad, selector):
    """The gradient goes to x where `selector(x, y)` holds (ties included), else to y."""
    x, y = node.inputs
    mask = selector(x, y)
    zeros = zeros_like(grad)
    return unbroadcast(where(mask, grad, zeros), x), unbroadcast(where(mask, zeros, grad), y)


MAXIMUM.value_fn = np.vectorize(lambda a, b: torch.sym_max(a, b), otypes=[object])
MINIMUM.value_fn = np.vectorize(lambda a, b: torch.sym_min(a, b), otypes=[object])


@MAXIMUM.gradient
def _(node, grad):
    return _select_grad(node, grad, greater_equal)


@MINIMUM.gradient
def _(node, grad):
    return _select_grad(node, grad, less_equal)


SQUARED_DIFFERENCE = define("SquaredDifference")
_SQUARED_DIFFERENCE_TYPES = (dtypes.bfloat16, dtypes.float16, dtypes.float32, dtypes.float64,
                             dtypes.int32, dtypes.int64, dtypes.complex64, dtypes.complex128)
_SQUARED_DIFFERENCE_OK = enums(_SQUARED_DIFFERENCE_TYPES)


def _squared_difference_kernel(a, b):
    d = a - b
    return d * d.conj() if d.is_complex() else d * d


def squared_difference(x, y, name=None):
    """`(x - y) * conj(x - y)` elementwise."""
    x, y = binary_operands(x, y, SQUARED_DIFFERENCE)
    if x._dtype._enum not in _SQUARED_DIFFERENCE_OK:
        check_dtype(x, _SQUARED_DIFFERENCE_TYPES, SQUARED_DIFFERENCE, signature=_BINARY,
                    traits=_COMMUTATIVE)
    return binary(SQUARED_DIFFERENCE, _squared_difference_kernel, x, y)


@SQUARED_DIFFERENCE.gradient
def _(node, grad):
    x, y = node.inputs
    gx = multiply(multiply(grad, 2), subtract(x, y))
    return unbroadcast(gx, x), unbroadcast(negative(gx), y)


ATAN2 = define("Atan2")
_FLOAT_TYPES = (dtypes.bfloat16, dtypes.float16, dtypes.float32, dtypes.float64)
_FLOAT_OK = enums(_FLOAT_TYPES)


def atan2(y, x, name=None):
    """The angle of the point (x, y): `atan(y / x)` in the right quadrant."""
    y, x = binary_operands(y, x, ATAN2)
    if y._dtype._enum not in _FLOAT_OK:
        check_dtype(y, _FLOAT_TYPES, ATAN2, signature="y:T, x:T -> z:T")
    return binary(ATAN2, torch.atan2, y, x)


@ATAN2.gradient
def _(node, grad):
    y, x = node.inputs
    scale = divide(grad, add(multiply(x, x), multiply(y, y)))
    return unbroadcast(multiply(x, scale), y), unbroadcast(negative(multiply(y, scale)), x)


NEG = define("Neg")
_NEG_TYPES = (dtypes.bfloat16, dtypes.float16, dtypes.float32, dtypes.float64, dtypes.int8,
              dtypes.int16, dtypes.int32, dtypes.int64, dtypes.complex64, dtypes.complex128)
_NEG_OK = enums(_NEG_TYPES)


def negative(x, name=None):
    """`-x` elementwise."""
    if type(x) is not Tensor:
        x = convert_to_tensor(x)
    if x._dtype._enum not in _NEG_OK:
        check_dtype(x, _NEG_TYPES, NEG, signature="x:T -> y:T")
    return execute(NEG, torch.neg, (x,))


@NEG.gradient
def _(node, grad):
    return negative(grad)


CONJ = define("Conj")


def conj(x, name=None):
    """The complex conjugate. Real tensors are returned unchanged, as TF does (so gradient
    code can call it for every dtype at the cost of one check)."""
    if type(x) is not Tensor:
        x = convert_to_tensor(x)
    if not x._dtype.is_complex:
        if x._dtype.is_bool or x._dtype is dtypes.string:
            raise TypeError(f"Expected numeric or variant tensor, got dtype {x._dtype!r}.")
        return x
    return execute(CONJ, torch.conj_physical, (x,))


@CONJ.gradient
def _(node, grad):
    return conj(grad)


# -- helpers for autodiff --------------------------------------------------------------------

# Ops (not plain torch calls) so that a tf.function trace records them like any other.
ONES_LIKE = define("OnesLike", differentiable=False)
ZEROS_LIKE = define("ZerosLike", differentiable=False)
ONES_LIKE.shape_only = ZEROS_LIKE.shape_only = True


def _ones_like_kernel(t, dtype):
    return torch.ones_like(t, dtype=dtype)


def _zeros_like_kernel(t, dtype):
    return torch.zeros_like(t, dtype=dtype)


def ones_like(x, dtype=None, name=None):
    x = convert_to_tensor(x)
    d = x._dtype if dtype is None else dtypes.as_dtype(dtype)
    return execute(ONES_LIKE, _ones_like_kernel, (x,), (d.torch,))


def zeros_like(x, dtype=None, name=None):
    x = convert_to_tensor(x)
    d = x._dtype if dtype is None else dtypes.as_dtype(dtype)
    return execute(ZEROS_LIKE, _zeros_like_kernel, (x,), (d.torch,))


def convert_like(value, like):
    """`value` as a tensor of `like`'s dtype (for output_gradients and seeds)."""
    return convert_to_tensor(value, dtype_hint=like.dtype)


# -- operators on Tensor ---------------------------------------------------------------------

OPERATORS = {
    "__add__": add, "__radd__": _reverse(add),
    "__sub__": subtract, "__rsub__": _reverse(subtract),
    "__mul__": multiply, "__rmul__": _reverse(multiply),
    "__truediv__": truediv, "__rtruediv__": _reverse(truediv),
    "__floordiv__": floordiv, "__rfloordiv__": _reverse(floordiv),
    "__mod__": floormod, "__rmod__": _reverse(floormod),
    "__neg__": negative,
}
install_operators(Tensor, OPERATORS)
install_operators(Variable, OPERATORS)
