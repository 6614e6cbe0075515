"""Elementwise arithmetic: add, subtract, multiply, divide, negate, and their operators.

TensorFlow's rules: no implicit promotion between tensors (both operands must share a dtype),
Python numbers adopt the tensor's dtype, shapes broadcast like NumPy. Each op's gradient is
beside it; `unbroadcast` sums a gradient back to the shape of an input that was broadcast.
"""
import torch

from tapeflow._core import dtypes
from tapeflow._core.tensor import Tensor, convert_to_tensor, wrap
from tapeflow._core.variable import Variable
from tapeflow.ops._op import binary_operands, define, error, execute

_F = torch.float32


def _broadcast_error(x, y, op):
    return error(f"Incompatible shapes: {list(x._t.shape)} vs. {list(y._t.shape)}", op)


def binary(op, kernel, x, y):
    """Runs a broadcasting binary op on operands already made compatible."""
    xs, ys = x._t.shape, y._t.shape
    if xs != ys:
        for a, b in zip(reversed(xs), reversed(ys)):
            if a != b and a != 1 and b != 1:
                raise _broadcast_error(x, y, op)
    return execute(op, kernel, (x, y))


def unbroadcast(grad, x):
    """Sums `grad` over the dimensions along which `x` was broadcast, back to `x`'s shape."""
    shape = tuple(x.shape)
    gshape = tuple(grad._t.shape)
    if gshape == shape:
        return grad
    lead = len(gshape) - len(shape)
    axes = list(range(lead)) + [i + lead for i, d in enumerate(shape)
                                 if d == 1 and gshape[i + lead] != 1]
    g = reduce_sum_raw(grad, tuple(axes), False) if axes else grad
    return reshape_raw(g, shape) if tuple(g._t.shape) != shape else g


# -- ops the gradient machinery itself needs (sum and reshape to undo broadcasting) ---------

SUM = define("Sum")


def _sum_kernel(t, axes, keepdims):
    # dtype= keeps integer sums in their own dtype (torch would widen int32 to int64).
    return torch.sum(t, dim=axes, keepdim=keepdims, dtype=t.dtype) if axes != () or keepdims \
        else t.sum(dtype=t.dtype)


def reduce_sum_raw(x, axes, keepdims):
    """`reduce_sum` over normalised axes (a tuple of non-negative ints); no validation."""
    return execute(SUM, _sum_kernel, (x,), (axes, keepdims))


def expand_reduced(grad, shape, axes, keepdims):
    """The gradient of a reduction over `axes` broadcast back to the input's `shape`."""
    if not keepdims:
        grad = reshape_raw(grad, tuple(1 if i in axes else d for i, d in enumerate(shape)))
    return broadcast_to_raw(grad, shape)


@SUM.gradient
def _(node, grad):
    axes, keepdims = node.attrs
    return expand_reduced(grad, tuple(node.inputs[0].shape), axes, keepdims)


RESHAPE = define("Reshape")


def _reshape_kernel(t, shape):
    return t.reshape(shape)


def reshape_raw(x, shape):
    return execute(RESHAPE, _reshape_kernel, (x,), (tuple(shape),))


@RESHAPE.gradient
def _(node, grad):
    return reshape_raw(grad, tuple(node.inputs[0].shape))


BROADCAST_TO = define("BroadcastTo")


def _broadcast_kernel(t, shape):
    return t.expand(shape).contiguous() if t.shape != shape else t


def broadcast_to_raw(x, shape):
    return execute(BROADCAST_TO, _broadcast_kernel, (x,), (tuple(shape),))


@BROADCAST_TO.gradient
def _(node, grad):
    return unbroadcast(grad, node.inputs[0])


# -- arithmetic ------------------------------------------------------------------------------

ADD = define("AddV2")


def add(x, y, name=None):
    """`x + y` elementwise, with broadcasting."""
    x, y = binary_operands(x, y, ADD)
    if x._dtype is dtypes.string:
        from tapeflow.ops.strings import string_add
        return string_add(x, y)
    return binary(ADD, torch.add, x, y)


@ADD.gradient
def _(node, grad):
    x, y = node.inputs
    return unbroadcast(grad, x), unbroadcast(grad, y)


SUB = define("Sub")


def subtract(x, y, name=None):
    """`x - y` elementwise, with broadcasting."""
    x, y = binary_operands(x, y, SUB)
    return binary(SUB, torch.sub, x, y)


@SUB.gradient
def _(node, grad):
    x, y = node.inputs
    return unbroadcast(grad, x), unbroadcast(negative(grad), y)


MUL = define("Mul")


def multiply(x, y, name=None):
    """`x * y` elementwise, with broadcasting."""
    x, y = binary_operands(x, y, MUL)
    return binary(MUL, torch.mul, x, y)


@MUL.gradient
def _(node, grad):
    x, y = node.inputs
    return unbroadcast(multiply(grad, y), x), unbroadcast(multiply(grad, x), y)


DIV = define("RealDiv")


def _div_kernel(a, b):
    return torch.div(a, b)


def divide(x, y, name=None):
    """`x / y` (true division). Integer inputs are cast to float64 (int8/16 to float32) first,
    as TF's `tf.math.truediv` does."""
    x, y = binary_operands(x, y, DIV)
    if not (x._dtype.is_floating or x._dtype.is_complex):
        target = dtypes.float32 if x._dtype.size <= 2 else dtypes.float64
        x = wrap(x._t.to(target.torch), target)
        y = wrap(y._t.to(target.torch), target)
    return binary(DIV, _div_kernel, x, y)


truediv = divide


@DIV.gradient
def _(node, grad):
    x, y = node.inputs
    gx = divide(grad, y)
    gy = negative(multiply(gx, divide(x, y)))
    return unbroadcast(gx, x), unbroadcast(gy, y)


NEG = define("Neg")
_NEG_TYPES = (dtypes.bfloat16, dtypes.float16, dtypes.float32, dtypes.float64, dtypes.int8,
              dtypes.int16, dtypes.int32, dtypes.int64, dtypes.complex64, dtypes.complex128)


def negative(x, name=None):
    """`-x` elementwise."""
    x = convert_to_tensor(x)
    if x._dtype not in _NEG_TYPES:
        from tapeflow.ops._op import check_dtype
        check_dtype(x, _NEG_TYPES, NEG)
    return execute(NEG, torch.neg, (x,))


@NEG.gradient
def _(node, grad):
    return negative(grad)


# -- helpers for autodiff --------------------------------------------------------------------

def ones_like(x, dtype=None, name=None):
    x = convert_to_tensor(x)
    d = x._dtype if dtype is None else dtypes.as_dtype(dtype)
    return wrap(torch.ones(x._t.shape, dtype=d.torch, device=x._t.device), d)


def zeros_like(x, dtype=None, name=None):
    x = convert_to_tensor(x)
    d = x._dtype if dtype is None else dtypes.as_dtype(dtype)
    return wrap(torch.zeros(x._t.shape, dtype=d.torch, device=x._t.device), d)


def convert_like(value, like):
    """`value` as a tensor of `like`'s dtype (for output_gradients and seeds)."""
    return convert_to_tensor(value, dtype_hint=like.dtype)


# -- operators on Tensor ---------------------------------------------------------------------

def _reverse(fn):
    def r(self, other):
        return fn(convert_to_tensor(other, dtype=self.dtype), self)
    return r


def install_operators(cls, ops):
    """Attaches `name -> function` as methods of `cls` (Tensor, Variable)."""
    for name, fn in ops.items():
        setattr(cls, name, fn)


OPERATORS = {
    "__add__": add, "__radd__": _reverse(add),
    "__sub__": subtract, "__rsub__": _reverse(subtract),
    "__mul__": multiply, "__rmul__": _reverse(multiply),
    "__truediv__": divide, "__rtruediv__": _reverse(divide),
    "__neg__": negative,
}
install_operators(Tensor, OPERATORS)
install_operators(Variable, OPERATORS)
