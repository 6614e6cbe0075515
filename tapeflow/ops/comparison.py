"""Comparisons, logical and bitwise ops, `tf.where`, and the operators `== != < <= > >= & | ^ ~`.

None of these has a gradient except `where` (SelectV2), whose gradient routes `grad` to the
branch each element came from. Operands follow TF's rule: no promotion between tensors; a
Python or NumPy operand takes the tensor operand's dtype. `==` and `!=` are elementwise as in
TF 2.x, but give a scalar False/True for shapes that do not broadcast (and `t == None` is
False). `&`, `|`, `^`, `~` are logical on bool tensors and bitwise on integer tensors.
"""
import numpy as np
import torch

from tapeflow._core import dtypes
from tapeflow._core.errors import InvalidArgumentError
from tapeflow._core.tensor import Tensor, convert_to_tensor, wrap
from tapeflow._core.variable import Variable
from tapeflow.ops._op import (binary_operands, check_dtype, define, error, execute,
                              install_operators, is_tensor_like, kernel_error,
                              reverse_operands as _reverse, tf_type_name)
from tapeflow.ops import strings
from tapeflow.ops.broadcast import _COMMUTATIVE, binary, enums, unbroadcast

_ORDERED = (dtypes.float32, dtypes.float64, dtypes.int32, dtypes.uint8, dtypes.int16,
            dtypes.int8, dtypes.int64, dtypes.bfloat16, dtypes.uint16, dtypes.float16,
            dtypes.uint32, dtypes.uint64)  # TF's order, as its error message lists them
_ORDERED_OK = enums(_ORDERED)
_COMPARE = "x:T, y:T -> z:bool"


def _broadcastable(xs, ys):
    for a, b in zip(reversed(xs), reversed(ys)):
        if a != b and a != 1 and b != 1:
            return False
    return True


def _strings_equal(x, y, negate):
    return strings.string_not_equal(x, y) if negate else strings.string_equal(x, y)


# -- equality ------------------------------------------------------------------------------------

EQUAL = define("Equal", differentiable=False)
NOT_EQUAL = define("NotEqual", differentiable=False)


def equal(x, y, name=None):
    """`x == y` elementwise, with broadcasting (any dtype, strings included)."""
    x, y = binary_operands(x, y, EQUAL)
    if x._dtype is dtypes.string:
        return _strings_equal(x, y, False)
    return binary(EQUAL, torch.eq, x, y)


def not_equal(x, y, name=None):
    """`x != y` elementwise, with broadcasting (any dtype, strings included)."""
    x, y = binary_operands(x, y, NOT_EQUAL)
    if x._dtype is dtypes.string:
        return _strings_equal(x, y, True)
    return binary(NOT_EQUAL, torch.ne, x, y)


def _equals(x, y, negate):
    """TF's `Tensor.__eq__`/`__ne__`: Equal with `incompatible_shape_error=False`."""
    op = NOT_EQUAL if negate else EQUAL
    x, y = binary_operands(x, y, op)
    if not _broadcastable(x._t.shape, y._t.shape):
        return wrap(torch.tensor(negate, device=x._t.device if x._dtype is not dtypes.string
                                 else None), dtypes.bool)
    if x._dtype is dtypes.string:
        return _strings_equal(x, y, negate)
    return execute(op, torch.ne if negate else torch.eq, (x, y))


def _tensor_eq(self, other):
    if other is None:
        return False
    return _equals(self, other, False)


def _tensor_ne(self, other):
    if other is None:
        return True
    return _equals(self, other, True)


def _variable_eq(self, other):  # TF's Variable.__eq__ has no None shortcut (None fails to convert)
    return _equals(self, other, False)


def _variable_ne(self, other):
    return _equals(self, other, True)


# -- ordering ------------------------------------------------------------------------------------

def _ordering(tf_name, public_name, kernel):
    op = define(tf_name, differentiable=False)

    def fn(x, y, name=None):
        x, y = binary_operands(x, y, op)
        if x._dtype._enum not in _ORDERED_OK:
            check_dtype(x, _ORDERED, op, signature=_COMPARE)
        return binary(op, kernel, x, y)

    fn.__name__ = fn.__qualname__ = public_name
    fn.__doc__ = f"`x {kernel.__doc__} y` elementwise, with broadcasting (real dtypes)."
    return op, fn


def _lt(a, b):
    """<"""
    return torch.lt(a, b)


def _le(a, b):
    """<="""
    return torch.le(a, b)


def _gt(a, b):
    """>"""
    return torch.gt(a, b)


def _ge(a, b):
    """>="""
    return torch.ge(a, b)


LESS, less = _ordering("Less", "less", _lt)
LESS_EQUAL, less_equal = _ordering("LessEqual", "less_equal", _le)
GREATER, greater = _ordering("Greater", "greater", _gt)
GREATER_EQUAL, greater_equal = _ordering("GreaterEqual", "greater_equal", _ge)


# -- logical ops (bool tensors only) -------------------------------------------------------------

LOGICAL_AND = define("LogicalAnd", differentiable=False)
LOGICAL_OR = define("LogicalOr", differentiable=False)
LOGICAL_NOT = define("LogicalNot", differentiable=False)


def _as_bool(x, index, op):
    """An input of a bool-only op: non-tensors convert to bool; tensors must be bool."""
    if type(x) is not Tensor:
        x = convert_to_tensor(x) if is_tensor_like(x) else convert_to_tensor(x, dtype=dtypes.bool)
    if x._dtype is not dtypes.bool:
        raise error(f"cannot compute {op.name} as input #{index}(zero-based) was expected to be "
                    f"a bool tensor but is a {tf_type_name(x._dtype)} tensor", op)
    return x


def logical_and(x, y, name=None):
    """`x AND y` elementwise for bool tensors, with broadcasting."""
    return binary(LOGICAL_AND, torch.logical_and, _as_bool(x, 0, LOGICAL_AND),
                  _as_bool(y, 1, LOGICAL_AND))


def logical_or(x, y, name=None):
    """`x OR y` elementwise for bool tensors, with broadcasting."""
    return binary(LOGICAL_OR, torch.logical_or, _as_bool(x, 0, LOGICAL_OR),
                  _as_bool(y, 1, LOGICAL_OR))


def logical_not(x, name=None):
    """`NOT x` elementwise for a bool tensor."""
    return execute(LOGICAL_NOT, torch.logical_not, (_as_bool(x, 0, LOGICAL_NOT),))


def logical_xor(x, y, name="LogicalXor"):
    """`x XOR y` elementwise; as in TF, `(x OR y) AND NOT (x AND y)`."""
    return logical_and(logical_or(x, y), logical_not(logical_and(x, y)))


# -- bitwise ops (integer tensors only; tf.bitwise) ----------------------------------------------

_INTEGERS = (dtypes.int8, dtypes.int16, dtypes.int32, dtypes.int64, dtypes.uint8, dtypes.uint16,
             dtypes.uint32, dtypes.uint64)
_INTEGERS_OK = enums(_INTEGERS)


def _clamped_shift(shift):
    """TF clamps the shift amount to [0, bits - 1] instead of leaving it undefined. The shift
    runs in int64 (torch has no shifts for uint16/32/64) and wraps back to the input's dtype."""
    def kernel(a, b):
        amount = b.to(torch.int64).clamp(0, a.element_size() * 8 - 1)
        return shift(a.to(torch.int64), amount).to(a.dtype)
    kernel.__name__ = shift.__name__
    return kernel


_SIGNED_TWIN = {torch.uint16: torch.int16, torch.uint32: torch.int32, torch.uint64: torch.int64}


def _invert_kernel(t):
    twin = _SIGNED_TWIN.get(t.dtype)  # torch's bitwise_not lacks uint16/32/64: same bits
    return torch.bitwise_not(t) if twin is None else torch.bitwise_not(t.view(twin)).view(t.dtype)


def _bitwise(tf_name, public_name, kernel, doc, traits=_COMMUTATIVE):
    op = define(tf_name, differentiable=False)

    def fn(x, y, name=None):
        x, y = binary_operands(x, y, op)
        if x._dtype._enum not in _INTEGERS_OK:
            check_dtype(x, _INTEGERS, op, signature="x:T, y:T -> z:T", traits=traits)
        return binary(op, kernel, x, y)

    fn.__name__ = fn.__qualname__ = public_name
    fn.__doc__ = doc
    return op, fn


BITWISE_AND, bitwise_and = _bitwise("BitwiseAnd", "bitwise_and", torch.bitwise_and,
                                    "`x & y` bit by bit, for integer tensors.")
BITWISE_OR, bitwise_or = _bitwise("BitwiseOr", "bitwise_or", torch.bitwise_or,
                                  "`x | y` bit by bit, for integer tensors.")
BITWISE_XOR, bitwise_xor = _bitwise("BitwiseXor", "bitwise_xor", torch.bitwise_xor,
                                    "`x ^ y` bit by bit, for integer tensors.")
LEFT_SHIFT, left_shift = _bitwise("LeftShift", "left_shift",
                                  _clamped_shift(torch.bitwise_left_shift),
                                  "`x << y`, the shift clamped to [0, bits - 1] as in TF.",
                                  traits=())
RIGHT_SHIFT, right_shift = _bitwise("RightShift", "right_shift",
                                    _clamped_shift(torch.bitwise_right_shift),
                                    "`x >> y` (arithmetic for signed types), the shift "
                                    "clamped to [0, bits - 1] as in TF.", traits=())
INVERT = define("Invert", differentiable=False)


def invert(x, name=None):
    """`~x` bit by bit, for an integer tensor."""
    if type(x) is not Tensor:
        x = convert_to_tensor(x)
    if x._dtype._enum not in _INTEGERS_OK:
        check_dtype(x, _INTEGERS, INVERT, signature="x:T -> y:T")
    return execute(INVERT, _invert_kernel, (x,))


# -- where ---------------------------------------------------------------------------------------

SELECT = define("SelectV2")
WHERE = define("Where", differentiable=False)


_WHERE_TYPES = (dtypes.float32, dtypes.float64, dtypes.int32, dtypes.uint8, dtypes.int16,
                dtypes.int8, dtypes.complex64, dtypes.int64, dtypes.bfloat16, dtypes.uint16,
                dtypes.complex128, dtypes.float16, dtypes.uint32, dtypes.uint64, dtypes.bool)


def _nonzero_kernel(t):
    return torch.nonzero(t)


# the integer type of each float type's bits, for `_select_kernel`
_BITS = {torch.float32: torch.int32, torch.float64: torch.int64, torch.float16: torch.int16,
         torch.bfloat16: torch.int16}
_compiling = torch.compiler.is_compiling


def _select_kernel(c, a, b):
    """`torch.where(c, a, b)`, as a bitwise select for floats on the CPU: torch's CPU `where`
    reads its bool condition one element at a time (455 us for 128x1600 float32 on 2 cores,
    where `a + 1` takes 26 us), while a mask of all-ones integers from it and two bitwise ops
    over the floats' bits run vectorized (~90 us) and keep every bit of the chosen value
    (NaN payloads, signed zeros). A zero `b` (dropout's) drops its half of the select."""
    bits = _BITS.get(a.dtype)
    if bits is None or b.dtype is not a.dtype or not a.is_cpu or c.dtype is not torch.bool \
            or _compiling():
        return torch.where(c, a, b)
    mask = c.to(bits).neg_()
    out = torch.bitwise_and(a.view(bits), mask)
    b_bits = b.view(bits)
    if b.ndim or b_bits.item():
        out = out.bitwise_or_(torch.bitwise_and(b_bits, mask.bitwise_not_())) \
            if b.ndim <= out.ndim and out.shape == torch.broadcast_shapes(out.shape, b.shape) \
            else torch.bitwise_or(out, torch.bitwise_and(b_bits, mask.bitwise_not_()))
    return out.view(a.dtype)


def _select_strings_kernel(c, a, b):  # string tensors hold NumPy object arrays
    return np.where(c.cpu().numpy(), a, b)


def where(condition, x=None, y=None, name=None):
    """`x` where `condition` holds, else `y` (all three broadcast together).

    With only `condition`: the coordinates of its true (non-zero) elements, as an int64 tensor
    of shape [count, rank].
    """
    if x is None and y is None:
        c = condition if type(condition) is Tensor else convert_to_tensor(condition)
        if c._dtype is dtypes.string:
            check_dtype(c, _WHERE_TYPES, WHERE, signature="input:T -> index:int64")
        if c._t.ndim == 0:
            raise kernel_error("WhereOp : Unhandled input dimensions: 0", WHERE, c._t.device)
        return execute(WHERE, _nonzero_kernel, (c,))
    if x is None or y is None:
        raise ValueError("x and y must both be non-None or both be None.")
    c = _as_bool(condition, 0, SELECT)
    try:
        x, y = binary_operands(x, y, SELECT)
    except InvalidArgumentError as e:  # TF counts the condition: x and y are inputs 1 and 2
        raise InvalidArgumentError(None, None, e.message.replace("input #1(", "input #2(", 1)) \
            from None
    cs, xs, ys = c._t.shape, x._t.shape, y._t.shape
    if not (cs == xs == ys or (_broadcastable(cs, xs) and _broadcastable(cs, ys)
                               and _broadcastable(xs, ys))):
        raise kernel_error(f"condition {list(cs)}, then {list(xs)}, and else {list(ys)} must be "
                           "broadcastable", SELECT, x._t.device)
    if x._dtype is dtypes.string:
        return execute(SELECT, _select_strings_kernel, (c, x, y))
    return execute(SELECT, _select_kernel, (c, x, y))


@SELECT.gradient
def _(node, grad):
    c, x, y = node.inputs
    return None, unbroadcast(where(c, grad, 0), x), unbroadcast(where(c, 0, grad), y)


# -- operators -----------------------------------------------------------------------------------

def _and(x, y):
    """TF's `Tensor.__and__`: logical for bool tensors, bitwise for integer tensors."""
    return logical_and(x, y) if x.dtype is dtypes.bool else bitwise_and(x, y)


def _or(x, y):
    return logical_or(x, y) if x.dtype is dtypes.bool else bitwise_or(x, y)


def _xor(x, y):
    return logical_xor(x, y) if x.dtype is dtypes.bool else bitwise_xor(x, y)


def _invert(x):
    return logical_not(x) if x.dtype is dtypes.bool else invert(x)


OPERATORS = {
    "__lt__": less, "__le__": less_equal, "__gt__": greater, "__ge__": greater_equal,
    "__and__": _and, "__rand__": _reverse(_and),
    "__or__": _or, "__ror__": _reverse(_or),
    "__xor__": _xor, "__rxor__": _reverse(_xor),
    "__invert__": _invert,
}
install_operators(Tensor, {**OPERATORS, "__eq__": _tensor_eq, "__ne__": _tensor_ne})
install_operators(Variable, {**OPERATORS, "__eq__": _variable_eq, "__ne__": _variable_ne})
