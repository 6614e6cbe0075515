"""What broadcasting needs and what undoes it: the binary-op runner (`binary`: checks NumPy
broadcasting, then runs the kernel), and the ops that sum a gradient back to the shape of an
input that was broadcast (`unbroadcast`): Sum, Reshape, BroadcastTo, each with its gradient.

Every family of elementwise ops (math.py, comparison.py, elementwise.py) builds on this module,
and it imports none of them.
"""
import torch

from tapeflow._core import dtypes
from tapeflow.ops._op import define, execute, kernel_error


def _dims(t):  # TF prints shapes as [2,3]
    return "[" + ",".join(str(d) for d in t.shape) + "]"


def _broadcast_error(x, y, op):
    device = torch.device("cpu") if x._dtype is dtypes.string else x._t.device
    return kernel_error(f"Incompatible shapes: {_dims(x._t)} vs. {_dims(y._t)}", op,
                        device)


_BINARY = "x:T, y:T -> z:T"  # the signature TF's binary ops print in dtype errors
_COMMUTATIVE = ("is_commutative=true",)


def enums(types):
    """A fast membership set for an op's allowed dtypes (`x._dtype._enum in ...`)."""
    return frozenset(d._enum for d in types)


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
    shape = tuple(x._t.shape)
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
    return expand_reduced(grad, tuple(node.inputs[0]._t.shape), axes, keepdims)


RESHAPE = define("Reshape")


def _reshape_kernel(t, shape):
    return t.reshape(shape)


def reshape_raw(x, shape):
    return execute(RESHAPE, _reshape_kernel, (x,), (tuple(shape),))


RESHAPE.value_fn = _reshape_kernel  # NumPy's reshape takes the same arguments


@RESHAPE.gradient
def _(node, grad):
    return reshape_raw(grad, tuple(node.inputs[0]._t.shape))


BROADCAST_TO = define("BroadcastTo")


def _broadcast_kernel(t, shape):
    return t.expand(shape).contiguous() if t.shape != shape else t


def broadcast_to_raw(x, shape):
    return execute(BROADCAST_TO, _broadcast_kernel, (x,), (tuple(shape),))


@BROADCAST_TO.gradient
def _(node, grad):
    return unbroadcast(grad, node.inputs[0])
