"""`tf.GradientTape`: reverse-mode autodiff by recording ops as they run.

How it works, in the spirit of micrograd: while a tape is active, every op whose inputs
include a tensor the tape watches is appended to the tape as a `Node` (op, inputs, outputs,
attrs), and its outputs become watched too. Because ops run in order, the node list is already
a topological order. `gradient()` seeds the targets with ones, walks the nodes backwards,
calls each op's gradient function (registered beside the op's kernel in `tapeflow.ops`) on the
gradients of its outputs, and sums the results per input. Gradient functions are written in
tapeflow ops, so an outer tape records them and nested tapes give higher derivatives.

Trainable variables read inside the tape are watched automatically: a read shows up as an
identity node from the variable to the tensor it produced.
"""
import enum
import logging

from tapeflow._core import dtypes, nest
from tapeflow._core.context import pop_recorder, push_recorder, state
from tapeflow._core.tensor import Tensor
from tapeflow._core.variable import Variable
from tapeflow.ops import _op
from tapeflow.ops import math as math_ops

READ_VARIABLE = _op.define("ReadVariableOp")
READ_VARIABLE.gradient(lambda node, grad: grad)


class UnconnectedGradients(enum.Enum):
    """What `gradient()` returns for a source the target does not depend on."""
    NONE = "none"
    ZERO = "zero"


class Node:
    """One recorded op application: what a gradient function receives."""

    __slots__ = ("op", "inputs", "outputs", "attrs")

    def __init__(self, op, inputs, outputs, attrs):
        self.op = op
        self.inputs = inputs
        self.outputs = outputs
        self.attrs = attrs


def _differentiable(dtype):
    return dtype.is_floating or dtype.is_complex


class GradientTape:
    """Records operations for automatic differentiation.

    Args:
        persistent: allow more than one `gradient()` call (and keep the recording until the
            tape is deleted).
        watch_accessed_variables: watch trainable variables read while the tape is active.

    Example:
    >>> x = tf.Variable(3.0)
    >>> with tf.GradientTape() as tape:
    ...     y = x * x
    >>> tape.gradient(y, x)  # 6.0
    """

    def __init__(self, persistent=False, watch_accessed_variables=True):
        self._persistent = persistent
        self._watch_accessed_variables = watch_accessed_variables
        self._nodes = []
        self._ids = {}           # id -> watched object (held so ids stay unique)
        self._variables = {}     # id -> watched Variable, in watch order
        self._recording = False
        self._used = False

    # -- recording -------------------------------------------------------------------------------
    def __enter__(self):
        if self._recording:
            raise ValueError("Tape is still recording, This can happen if you try to re-enter "
                             "an already-active tape.")
        push_recorder(self)
        self._recording = True
        return self

    def __exit__(self, *exc):
        if self._recording:
            pop_recorder(self)
            self._recording = False

    def record_op(self, op, kernel, inputs, attrs, outputs):
        if not op.differentiable:
            return
        ids = self._ids
        for x in inputs:
            if id(x) in ids:
                break
        else:
            return
        self._nodes.append(Node(op, inputs, outputs, attrs))
        for o in outputs:
            ids[id(o)] = o

    def read_variable(self, variable, tensor):
        if self._watch_accessed_variables and variable._trainable:
            self._watch_variable(variable)
        if id(variable) in self._ids:
            self._nodes.append(Node(READ_VARIABLE, (variable,), (tensor,), ()))
            self._ids[id(tensor)] = tensor
        return tensor

    def assign_variable(self, variable, value, kind):
        return False  # eager writes are not the tape's business

    def _watch_variable(self, variable):
        if id(variable) not in self._variables:
            self._variables[id(variable)] = variable
            self._ids[id(variable)] = variable

    def watch(self, tensor):
        """Ensures `tensor` (a tensor, variable, or nested structure of them) is traced."""
        for t in nest.flatten(tensor):
            if isinstance(t, Variable):
                self._watch_variable(t)
            elif isinstance(t, Tensor):
                if not _differentiable(t.dtype):
                    logging.warning("The dtype of the watched tensor must be floating (e.g. "
                                    "tf.float32), got %r", t.dtype)
                self._ids[id(t)] = t
            else:
                raise ValueError(f"Passed in object {t!r} of type '{type(t).__name__}', not "
                                 "tf.Tensor or tf.Variable or ExtensionType.")

    def watched_variables(self):
        return tuple(self._variables.values())

    def stop_recording(self):
        return _Paused(self)

    def reset(self):
        self._nodes = []
        self._ids = {}
        self._variables = {}

    # -- differentiation ---------------------------------------------------------------------------
    def gradient(self, target, sources, output_gradients=None,
                 unconnected_gradients=UnconnectedGradients.NONE):
        """The gradient of `target` (summed over its elements, and over a list of targets)
        with respect to each of `sources`, in the structure of `sources`."""
        if self._used and not self._persistent:
            raise RuntimeError("A non-persistent GradientTape can only be used to compute one "
                               "set of gradients (or jacobians)")
        if self._recording and self._persistent:
            logging.warning("Calling GradientTape.gradient on a persistent tape inside its "
                            "context is significantly less efficient than calling it "
                            "outside the context.")
        unconnected_gradients = UnconnectedGradients(unconnected_gradients)
        flat_sources = nest.flatten(sources)
        for s in flat_sources:
            if not isinstance(s, (Tensor, Variable)):
                raise ValueError(f"Passed in object {s!r} of type '{type(s).__name__}', not "
                                 "tf.Tensor or tf.Variable or ExtensionType.")
        flat_targets = nest.flatten(target)
        seeds = [None] * len(flat_targets) if output_gradients is None else \
            nest.flatten(output_gradients)
        self._used = True
        with _Paused(self):
            grads = backward(self._nodes, flat_targets, seeds)
        if not self._persistent:
            self.reset()
        result = []
        for s in flat_sources:
            g = grads.get(id(s))
            if g is not None and not _differentiable(s.dtype):
                logging.warning("The dtype of the source tensor must be floating (e.g. "
                                "tf.float32) when calling GradientTape.gradient, got %r",
                                s.dtype)
                g = None
            if g is None and unconnected_gradients is UnconnectedGradients.ZERO:
                g = math_ops.zeros_like(s)
            result.append(g)
        return nest.pack_sequence_as(sources, result)


def backward(nodes, targets, seeds):
    """Reverse accumulation over `nodes`: returns {id(tensor or variable): gradient}."""
    grads = {}
    for t, seed in zip(targets, seeds):
        if t is None or not _differentiable(t.dtype):
            continue
        g = math_ops.ones_like(t) if seed is None else math_ops.convert_like(seed, t)
        key = id(t)
        grads[key] = g if key not in grads else math_ops.add(grads[key], g)
    for node in reversed(nodes):
        out_grads = [grads.get(id(o)) for o in node.outputs]
        if all(g is None for g in out_grads):
            continue
        grad_fn = node.op.grad_fn
        if grad_fn is None:
            raise LookupError(f"gradient registry has no entry for: {node.op.name}")
        if len(out_grads) > 1:
            out_grads = [math_ops.zeros_like(o) if g is None and _differentiable(o.dtype) else g
                         for g, o in zip(out_grads, node.outputs)]
        in_grads = grad_fn(node, *out_grads)
        if not isinstance(in_grads, (tuple, list)):
            in_grads = (in_grads,)
        for x, g in zip(node.inputs, in_grads):
            if g is None or not _differentiable(x.dtype):
                continue
            key = id(x)
            prev = grads.get(key)
            grads[key] = g if prev is None else math_ops.add(prev, g)
    return grads


class _Paused:
    """Context that stops a tape recording (`tape.stop_recording()`, and during gradient())."""

    def __init__(self, tape):
        self._tape = tape
        self._was = False

    def __enter__(self):
        self._was = self._tape._recording
        if self._was:
            pop_recorder(self._tape)
            self._tape._recording = False
        return self

    def __exit__(self, *exc):
        if self._was:
            push_recorder(self._tape)
            self._tape._recording = True
