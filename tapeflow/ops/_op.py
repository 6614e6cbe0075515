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

`execute` hands the op to the current interpreter (`_core/dispatch.py`): eager execution
calls the kernel on the torch tensors and wraps the result; a tape sees the finished op; a
tf.function trace records it. A kernel is a pure function of torch tensors followed by
hashable attrs, so a traced graph can replay it.
"""
import numpy as np
import torch

from tapeflow._core import dtypes
from tapeflow._core.context import current_device, state
from tapeflow._core.dispatch import execute, op_error as error  # noqa: F401 - the ops' names
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
    `stateful=True` marks ops whose every run matters (random numbers, printing): graph passes
    never merge, fold or drop them.
    """

    __slots__ = ("name", "grad_fn", "differentiable", "stateful", "meta_fn", "value_fn",
                 "shape_only")

    def __init__(self, name, differentiable=True, stateful=False):
        self.name = name
        self.grad_fn = None
        self.differentiable = differentiable
        self.stateful = stateful
        # For kernels that must not run while tracing (printing, RNG draws): a function of
        # the same arguments returning `meta` tensors of the output shapes (or () for none).
        self.meta_fn = None
        # For the ops of shape arithmetic (slicing, stacking, adding sizes...): the same
        # computation on NumPy arrays, some holding symbolic sizes, so a trace serving every
        # size of a `None` dimension knows the value of `tf.shape(x)[0] * 2` (a shape for the
        # ops after it) while it runs; returns None where it cannot tell.
        self.value_fn = None
        # The output depends only on the input's shape and dtype (ones_like): a traced step
        # on a static shape folds to a constant.
        self.shape_only = False

    def gradient(self, fn):
        """Decorator: `fn(node, *output_grads)` returns the gradient of each input (or None)."""
        self.grad_fn = fn
        return fn

    def __repr__(self):
        return f"<Op {self.name}>"


REWRITES = []  # (name, rule): graph rewrite rules, in registration order


def rewrite(name):
    """Decorator: registers `rule(program)`, a rewrite of the steps of every tf.function plan
    (function/plan.py runs the rules after its generic passes). An op module registers the
    rules that use its kernels (fusions), so the compiler never needs to know them."""
    def register(rule):
        REWRITES.append((name, rule))
        return rule
    return register


def define(name, differentiable=True, stateful=False):
    if name in REGISTRY:
        raise ValueError(f"Op {name!r} is already registered.")
    op = REGISTRY[name] = Op(name, differentiable, stateful)
    return op


def host_check(kernel):
    """Marks a kernel that reads tensor values on the host to raise TF's error (labels out of
    range, a singular matrix) or to print: under `jit_compile=True` it runs eagerly between
    the compiled regions of the plan (function/jit.py), so it sees real values."""
    kernel.host_check = True
    return kernel


def kernel_error(message, op, device, name_suffix=True):
    """InvalidArgumentError worded as TF's kernels word it: the message is prefixed with the
    wrapped function node on `device` (a torch device) and ends in `[Op:Name]`."""
    text = (f"{{{{function_node __wrapped__{op.name}_device_{device_name(device)}}}}} "
            f"{message} [Op:{op.name}]" + (" name: " if name_suffix else ""))
    return InvalidArgumentError(None, None, text)


# -- operands -------------------------------------------------------------------------------

_scalar_cache = {}


def scalar(value, dtype, device=None):
    """A (cached, immutable) scalar tensor of `dtype` for a Python number."""
    if device is None or device.type == "meta":  # meta: a symbolic operand in a trace
        device = current_device()
    key = (value, type(value), dtype, device)
    try:
        t = _scalar_cache.get(key)
    except TypeError:  # a symbolic size of a trace (a torch SymInt is unhashable)
        return state.interpreter.sized_tensor(np.array(value, dtype=object), dtype)
    if t is None:
        if len(_scalar_cache) > 4096:
            _scalar_cache.clear()
        t = _scalar_cache[key] = wrap(torch.tensor(value, dtype=dtype.torch, device=device),
                                      dtype)
    return t


def known_values(t):
    """The value of a tensor an op takes as attrs (a shape, a size), as a NumPy array: its
    data or, for a symbolic tensor of a trace, what the trace knows of it (sizes computed from
    `None` dimensions). A symbolic tensor of unknown value raises as `.numpy()` does."""
    if t._is_symbolic():
        known = state.interpreter.static_value(t)
        if known is not None:
            return known
    return t._numpy_array()


def as_size(v):
    """An element of `known_values` as a Python int, or as the symbolic size it is."""
    return int(v) if isinstance(v, (int, np.integer)) else v


def is_tensor_like(value):
    return isinstance(value, Tensor) or hasattr(value, "_as_tensor_for_ops")


def _like(value, other, hint):
    """A non-tensor operand as a tensor of `other`'s dtype. TF's op fast path converts it
    strictly (TypeError when it does not fit, e.g. 2.5 for an int32 tensor); with `hint` (what
    `tf.add` does) it falls back to its own default dtype and the dtype check reports it."""
    dtype = other._dtype
    if type(value) is int or (type(value) is float and (dtype.is_floating or dtype.is_complex)):
        if dtype is not dtypes.string and dtype is not dtypes.bool:
            return scalar(value, dtype, other._t.device)
    if not hint:
        return convert_to_tensor(value, dtype=dtype)
    try:
        return convert_to_tensor(value, dtype=dtype)
    except (TypeError, ValueError):
        return convert_to_tensor(value)


def binary_operands(x, y, op, hint=False):
    """Both operands as tensors of one dtype, by TF's rules: no promotion between tensors;
    Python numbers, lists and arrays take the dtype of the first tensor operand (strictly, as
    TF's eager fast path does; `hint=True` for `tf.add`'s dtype-hint conversion)."""
    if type(x) is not Tensor or type(y) is not Tensor:
        x_is, y_is = is_tensor_like(x), is_tensor_like(y)
        if x_is:
            x = convert_to_tensor(x)
        if y_is:
            y = convert_to_tensor(y)
        if not x_is:
            x = _like(x, y, hint) if y_is else convert_to_tensor(x)
        if not y_is:
            y = _like(y, x, hint)
    if x._dtype is not y._dtype:
        raise error(f"cannot compute {op.name} as input #1(zero-based) was expected to be a "
                    f"{tf_type_name(x._dtype)} tensor but is a {tf_type_name(y._dtype)} tensor",
                    op)
    return x, y


def check_dtype(x, allowed, op, attr="T", signature=None, traits=()):
    """Raises TF's 'not in the list of allowed values' error when x's dtype is not allowed.
    With the op's `signature` (e.g. "x:T -> y:T") the text ends with TF's `Op<...>` part too,
    followed by the op's `traits` (e.g. "is_commutative=true")."""
    if x._dtype not in allowed:
        names = ", ".join(tf_type_name(d) for d in allowed)
        text = (f"Value for attr '{attr}' of {tf_type_name(x._dtype)} is not in the list of "
                f"allowed values: {names}\n\t; NodeDef: {{{{node {op.name}}}}}")
        if signature is not None:
            enums = ", ".join("DT_" + tf_type_name(d).upper() for d in allowed)
            text += (f"; Op<name={op.name}; signature={signature}; attr={attr}:type,allowed="
                     f"[{enums}]{''.join('; ' + t for t in traits)}>")
        raise error(text, op)


# -- operators ------------------------------------------------------------------------------

def reverse_operands(fn):
    """`fn` for a reflected operator (`2.0 * x` calls `x.__rmul__(2.0)`): `fn(other, self)`,
    the Python number converted to self's dtype."""
    def r(self, other):
        dtype = self.dtype
        if type(other) is int and dtype is not dtypes.bool and dtype is not dtypes.string or (
                type(other) is float and (dtype.is_floating or dtype.is_complex)):
            # the common `0.1 * grad`: a cached scalar, no conversion machinery
            t = getattr(self, "_t", None)
            return fn(scalar(other, dtype, None if t is None else t.device), self)
        return fn(convert_to_tensor(other, dtype=dtype), self)
    return r


def install_operators(cls, ops):
    """Attaches `name -> function` as methods of `cls` (Tensor, Variable): each op family
    installs its operators when it is imported."""
    for name, fn in ops.items():
        setattr(cls, name, fn)
