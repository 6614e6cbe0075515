"""The op registry and the one way an op runs.

An op module defines an op in one place:

    ADD = define("AddV2")                      # registered under TF's op name

    def add(x, y, name=None):                  # the public function: validate, then run
        x, y = binary_operands(x, y, ADD)
        return execute(ADD, torch.add, (x, y))

    @ADD.gradient                              # the gradient, written in tapeflow ops
    def _(node, grad):
        x, y = node.inputs
        return unbroadcast(grad, x), unbroadcast(grad, y)

`execute` calls the kernel on the torch tensors, wraps the result, and shows the op to the
active recorders (tapes, tf.function tracing) only when there are any. A kernel is a pure
function of torch tensors followed by hashable attrs, so a traced graph can replay it.
"""
import torch

from tapeflow._core import dtypes
from tapeflow._core.context import current_device, record, state
from tapeflow._core.errors import InvalidArgumentError
from tapeflow._core.tensor import Tensor, convert_to_tensor, device_name, wrap

REGISTRY = {}

# TF's C++ names for dtypes, as they appear in its error messages.
TF_TYPE_NAMES = {"float32": "float", "float64": "double", "float16": "half"}


def tf_type_name(dtype):
    return TF_TYPE_NAMES.get(dtype.name, dtype.name)


class Op:
    """A registered op: TF's name, and its gradient function once one is attached.

    `differentiable=False` marks ops whose outputs have no gradient (comparisons, argmax, casts
    to integers...): tapes do not record them and their outputs are constants to autodiff.
    """

    __slots__ = ("name", "grad_fn", "differentiable")

    def __init__(self, name, differentiable=True):
        self.name = name
        self.grad_fn = None
        self.differentiable = differentiable

    def gradient(self, fn):
        """Decorator: `fn(node, *output_grads)` returns the gradient of each input (or None)."""
        self.grad_fn = fn
        return fn

    def __repr__(self):
        return f"<Op {self.name}>"


def define(name, differentiable=True):
    if name in REGISTRY:
        raise ValueError(f"Op {name!r} is already registered.")
    op = REGISTRY[name] = Op(name, differentiable)
    return op


def error(message, op):
    """InvalidArgumentError with the text TF's eager runtime gives, ending in `[Op:Name]`."""
    return InvalidArgumentError(None, None, f"{message} [Op:{op.name}] name: ")


def kernel_error(message, op, device, name_suffix=True):
    """InvalidArgumentError worded as TF's kernels word it: the message is prefixed with the
    wrapped function node on `device` (a torch device) and ends in `[Op:Name]`."""
    text = (f"{{{{function_node __wrapped__{op.name}_device_{device_name(device)}}}}} "
            f"{message} [Op:{op.name}]" + (" name: " if name_suffix else ""))
    return InvalidArgumentError(None, None, text)


def execute(op, kernel, inputs, attrs=()):
    """Runs `kernel(*input_tensors, *attrs)` and returns the wrapped output(s).

    A kernel returning a tuple or list makes a multi-output op (returned as a tuple).
    Torch's RuntimeErrors become InvalidArgumentError naming the op.
    """
    try:
        out = kernel(*[x._t for x in inputs], *attrs)
    except (RuntimeError, IndexError, ValueError) as e:
        raise error(str(e).split("\n")[0], op) from None
    if type(out) is torch.Tensor:
        result = wrap(out)
        if state.recorders:
            record(op, kernel, inputs, attrs, (result,))
        return result
    result = tuple(wrap(o) for o in out)
    if state.recorders:
        record(op, kernel, inputs, attrs, result)
    return result


# -- operands -------------------------------------------------------------------------------

_scalar_cache = {}


def scalar(value, dtype, device=None):
    """A (cached, immutable) scalar tensor of `dtype` for a Python number."""
    if device is None:
        device = current_device()
    key = (value, type(value), dtype, device)
    t = _scalar_cache.get(key)
    if t is None:
        if len(_scalar_cache) > 4096:
            _scalar_cache.clear()
        t = _scalar_cache[key] = wrap(torch.tensor(value, dtype=dtype.torch, device=device),
                                      dtype)
    return t


def is_tensor_like(value):
    return isinstance(value, Tensor) or hasattr(value, "_as_tensor_for_ops")


def _like(value, other):
    """A non-tensor operand as a tensor of `other`'s dtype when it converts cleanly, else with
    its own default dtype (the dtype check then reports the mismatch as TF does)."""
    dtype = other._dtype
    if type(value) is int or (type(value) is float and (dtype.is_floating or dtype.is_complex)):
        if dtype is not dtypes.string and dtype is not dtypes.bool:
            return scalar(value, dtype, other._t.device)
    try:
        return convert_to_tensor(value, dtype=dtype)
    except (TypeError, ValueError):
        return convert_to_tensor(value)


def binary_operands(x, y, op):
    """Both operands as tensors of one dtype, by TF's rules: no promotion between tensors;
    Python numbers and lists adopt the other operand's dtype when they convert cleanly."""
    if type(x) is not Tensor or type(y) is not Tensor:
        x_is, y_is = is_tensor_like(x), is_tensor_like(y)
        if x_is:
            x = convert_to_tensor(x)
        if y_is:
            y = convert_to_tensor(y)
        if not x_is:
            x = _like(x, y) if y_is else convert_to_tensor(x)
        if not y_is:
            y = _like(y, x)
    if x._dtype is not y._dtype:
        raise error(f"cannot compute {op.name} as input #1(zero-based) was expected to be a "
                    f"{tf_type_name(x._dtype)} tensor but is a {tf_type_name(y._dtype)} tensor",
                    op)
    return x, y


def check_dtype(x, allowed, op, attr="T"):
    """Raises TF's 'not in the list of allowed values' error when x's dtype is not allowed."""
    if x._dtype not in allowed:
        names = ", ".join(tf_type_name(d) for d in allowed)
        raise error(f"Value for attr '{attr}' of {tf_type_name(x._dtype)} is not in the list of "
                    f"allowed values: {names}\n\t; NodeDef: {{{{node {op.name}}}}}", op)
