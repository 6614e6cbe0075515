"""The one way an op runs: `execute` hands it to the current interpreter.

An interpreter gives ops and variable accesses their meaning. Each thread starts with eager
execution (`EAGER`): run the kernel now on the torch tensors. A `GradientTape` puts a
`Recorder` on top: it lets the interpreter below run the op, then shows the finished op to its
tape. A tf.function trace (function/graph.py) installs its graph builder in place of the whole
stack; it runs kernels on symbolic tensors and records them as steps, and tapes opened inside
the trace sit on top of it. Everything the ops, variables and tensors need from the runtime is
a method of `Interpreter`, so this layer knows nothing of what the interpreters above it do.
"""
import contextlib

import numpy as np
import torch

from tapeflow._core import context, dtypes
from tapeflow._core.context import current_device, state
from tapeflow._core.errors import InvalidArgumentError, OperatorNotAllowedInGraphError
from tapeflow._core.tensor import wrap, wrap_strings

_STRING = dtypes.string


def op_error(message, op):
    """InvalidArgumentError with the text TF's eager runtime gives, ending in `[Op:Name]`."""
    return InvalidArgumentError(None, None, f"{message} [Op:{op.name}] name: ")


class Interpreter:
    """Eager execution, and the hooks every interpreter provides (the defaults are eager's)."""

    eager = True          # False while ops build a graph instead of running (tf.function)

    def run_op(self, op, kernel, inputs, attrs):
        """Runs `kernel(*input torch tensors, *attrs)` and returns the wrapped output(s); a
        kernel returning a tuple or list makes a multi-output op (returned as a tuple)."""
        try:
            out = kernel(*[x._t for x in inputs], *attrs)
        except (RuntimeError, IndexError, ValueError) as e:
            out = _on_one_device(op, kernel, inputs, attrs, e)
        if type(out) is torch.Tensor:
            return wrap(out)
        if type(out) is np.ndarray:  # a string kernel's output: a NumPy object array
            return wrap_strings(out)
        return tuple(wrap(o) for o in out)

    def read_variable(self, variable):
        """The variable's value as a Tensor."""
        return wrap(variable._t, variable._dtype)

    def write_variable(self, variable, value, kind):
        """Makes checked `value` the variable's value (`kind`: "assign", "assign_add", ...)."""
        t = value._t
        if variable._dtype is not _STRING and t.device != variable._t.device:
            t = t.to(variable._t.device)
        variable._t = t

    def init_variable(self, variable, initial_value):
        """The initial value a variable being created here starts from."""
        return initial_value

    def python_value(self, tensor, what):
        """The value of `tensor` about to become a Python `what` (bool, int...), as a NumPy
        array; a symbolic tensor has none."""
        if tensor._is_symbolic():
            raise OperatorNotAllowedInGraphError(  # TF's text
                f"Using a symbolic `tf.Tensor` as a Python `{what}` is not allowed. You can "
                "attempt the following resolutions to the problem: If you are running in Graph "
                "mode, use Eager execution mode or decorate this function with @tf.function. If "
                "you are using AutoGraph, you can try decorating this function with "
                "@tf.function. If that does not work, then you may be using an unsupported "
                "feature or your source code may not be visible to AutoGraph. See "
                "https://github.com/tensorflow/tensorflow/blob/master/tensorflow/python/"
                "autograph/g3doc/reference/limitations.md#access-to-source-code for more "
                "information.")
        return tensor._numpy_array()

    def static_value(self, tensor):
        """The value of a symbolic tensor where it is known while tracing (a shape computed
        from symbolic sizes), as a NumPy object array; else None."""
        return None

    def sized_tensor(self, values, dtype):
        """A tensor holding `values` (a NumPy object array of sizes, some symbolic)."""
        raise TypeError("Symbolic sizes only exist while a tf.function is being traced.")

    def tensor_name(self, tensor):
        """TF's graph name of a symbolic tensor ("x:0"), or None."""
        return None

    def note_python_only(self, reason):
        """What runs now holds Python that only re-running it can show a tape (a custom
        gradient's function): a trace notes it so tapes outside re-run the function."""


class Recorder(Interpreter):
    """A layer that shows every finished op and variable access to `recorder` (a tape): it
    has `record_op(op, kernel, inputs, attrs, outputs)`, `read_variable(variable, tensor)`
    returning the tensor to use, and `assign_variable(variable, value, kind)` returning True
    when it took the write over."""

    __slots__ = ("recorder", "below")

    def __init__(self, recorder, below):
        self.recorder = recorder
        self.below = below

    @property
    def eager(self):
        return self.below.eager

    def run_op(self, op, kernel, inputs, attrs):
        out = self.below.run_op(op, kernel, inputs, attrs)
        if out is not None:
            self.recorder.record_op(op, kernel, inputs, attrs,
                                    out if type(out) is tuple else (out,))
        return out

    def read_variable(self, variable):
        return self.recorder.read_variable(variable, self.below.read_variable(variable))

    def write_variable(self, variable, value, kind):
        if not self.recorder.assign_variable(variable, value, kind):
            self.below.write_variable(variable, value, kind)

    def init_variable(self, variable, initial_value):
        return self.below.init_variable(variable, initial_value)

    def python_value(self, tensor, what):
        return self.below.python_value(tensor, what)

    def static_value(self, tensor):
        return self.below.static_value(tensor)

    def sized_tensor(self, values, dtype):
        return self.below.sized_tensor(values, dtype)

    def tensor_name(self, tensor):
        return self.below.tensor_name(tensor)


EAGER = Interpreter()
context.set_eager_interpreter(EAGER)


def execute(op, kernel, inputs, attrs=()):
    """Runs an op: the current interpreter decides what that means (see the module doc)."""
    return state.interpreter.run_op(op, kernel, inputs, attrs)


def _on_one_device(op, kernel, inputs, attrs, e):
    """TF copies an op's inputs to the op's device; torch refuses mixed devices. So a kernel
    that failed on inputs from several devices runs again with all of them on the current
    device; any other failure is TF's InvalidArgumentError naming the op."""
    devices = {x._t.device for x in inputs if x._dtype is not _STRING}
    if len(devices) < 2:
        raise op_error(str(e).split("\n")[0], op) from None
    target = current_device()
    moved = [x._t if x._dtype is _STRING else x._t.to(target) for x in inputs]
    try:
        return kernel(*moved, *attrs)
    except (RuntimeError, IndexError, ValueError) as e2:
        raise op_error(str(e2).split("\n")[0], op) from None


# -- the stack --------------------------------------------------------------------------------

def push_recorder(recorder):
    state.interpreter = Recorder(recorder, state.interpreter)


def pop_recorder(recorder):
    """Takes `recorder`'s layer out of the stack, wherever it is (tapes may close out of
    order)."""
    layer, above = state.interpreter, None
    while type(layer) is Recorder:
        if layer.recorder is recorder:
            if above is None:
                state.interpreter = layer.below
            else:
                above.below = layer.below
            return
        layer, above = layer.below, layer


def recording():
    """Whether a recorder (a tape) sees the ops run now."""
    return type(state.interpreter) is Recorder


def recorders():
    """The active recorders, innermost first."""
    out, layer = [], state.interpreter
    while type(layer) is Recorder:
        out.append(layer.recorder)
        layer = layer.below
    return out


def base_interpreter():
    """The interpreter below every recorder: eager, or the graph being traced."""
    layer = state.interpreter
    while type(layer) is Recorder:
        layer = layer.below
    return layer


def executing_eagerly():
    """`tf.executing_eagerly()`: False while a tf.function is being traced."""
    return state.interpreter.eager


@contextlib.contextmanager
def interpreting(interpreter):
    """Runs the block with `interpreter` in place of the whole stack (a trace, or eager
    execution inside one: `tf.init_scope`)."""
    saved, state.interpreter = state.interpreter, interpreter
    try:
        yield interpreter
    finally:
        state.interpreter = saved


@contextlib.contextmanager
def without_recorders(drop):
    """Runs the block with the recorders for which `drop(recorder)` is true taken out."""
    saved = state.interpreter
    kept = [r for r in recorders() if not drop(r)]
    layer = base_interpreter()
    for r in reversed(kept):
        layer = Recorder(r, layer)
    state.interpreter = layer
    try:
        yield
    finally:
        state.interpreter = saved
