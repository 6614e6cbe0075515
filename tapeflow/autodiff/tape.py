"""`tf.GradientTape`: reverse-mode autodiff by recording ops as they run.

How it works, in the spirit of micrograd: while a tape is active, every op whose inputs
include a tensor the tape watches is appended to the tape as a `Node` (op, inputs, outputs,
attrs), and its outputs become watched too. Because ops run in order, the node list is already
a topological order. `gradient()` seeds the targets with ones, walks the nodes backwards,
calls each op's gradient function (registered beside the op's kernel in `tapeflow.ops`) on the
gradients of its outputs, and sums the results per input (see `backprop.py`). Gradient
functions are written in tapeflow ops, so an outer tape records them and nested tapes give
higher derivatives.

Trainable variables read inside the tape are watched automatically: a read shows up as an
identity node from the variable to the tensor it produced. A non-persistent tape forgets its
recording after one `gradient()` (or `jacobian()`), so nothing it saw is kept alive.
"""

from tapeflow._core import nest, threads
from tapeflow._core.dispatch import pop_recorder, push_recorder
from tapeflow._core.logs import warn_first_n
from tapeflow._core.tensor import Tensor, convert_to_tensor
from tapeflow._core.variable import Variable
from tapeflow.autodiff import backprop, jacobian as jacobian_lib
from tapeflow.autodiff.backprop import Node, UnconnectedGradients  # noqa: F401 (re-export)
from tapeflow.ops import _op

READ_VARIABLE = _op.define("ReadVariableOp")
READ_VARIABLE.gradient(lambda node, grad: grad)

# `tape.graph()` draws with this function, set by tapeflow/export/pictures.py when it loads
# (drawing sits above autodiff in the layers)
draw_hook = None

_LEAVES = (Tensor, Variable)  # exact types: the single-tensor fast path of gradient()
_CONSUMED = ("A non-persistent GradientTape can only be used to compute one set of gradients "
             "(or jacobians)")

def _not_tensor(obj):
    return ValueError(f"Passed in object {obj} of type {type(obj).__name__!r}, not tf.Tensor or "
                      "tf.Variable or ExtensionType.")


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
        self._recording = False
        self._alive = False      # TF's `_tape is not None`: a recording exists to differentiate
        self._nodes = []
        self._ids = {}           # id -> watched object (held so ids stay unique)
        self._variables = {}     # id -> watched Variable
        self._last_gradient = None  # a persistent tape's last (targets, seeds, sources)

    # -- recording ---------------------------------------------------------------------------
    def __enter__(self):
        self._push()
        return self

    def __exit__(self, *exc):
        if self._recording:
            self._pop()

    def _push(self):
        if self._recording:
            raise ValueError("Tape is still recording, This can happen if you try to re-enter "
                             "an already-active tape.")
        if not self._alive:
            self._nodes, self._ids, self._variables = [], {}, {}
            self._last_gradient = None
            self._alive = True
        push_recorder(self)
        self._recording = True

    def _pop(self):
        if not self._recording:
            raise ValueError("Tape is not recording.")
        pop_recorder(self)
        self._recording = False

    def record_op(self, op, kernel, inputs, attrs, outputs):
        """Called by every op while the tape is active; keeps the ops that touch the tape."""
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
        key = id(variable)
        if key not in self._ids:
            if not (self._watch_accessed_variables and variable._trainable):
                return tensor
            self._variables[key] = variable
            self._ids[key] = variable
        if id(tensor) in self._ids:  # a traced graph hands out one tensor for repeated reads
            return tensor
        self._nodes.append(Node(READ_VARIABLE, (variable,), (tensor,), ()))
        self._ids[id(tensor)] = tensor
        return tensor

    def assign_variable(self, variable, value, kind):
        return False  # eager writes are not the tape's business

    def watch(self, tensor):
        """Ensures `tensor` (a tensor, variable, or nested structure of them) is traced."""
        for t in nest.flatten(tensor):
            if not isinstance(t, (Tensor, Variable)):
                raise _not_tensor(t)
            if not backprop.differentiable(t.dtype):
                warn_first_n("watch", 5, "The dtype of the watched tensor must be floating "
                             "(e.g. tf.float32), got %r", t.dtype)
            if not self._alive:  # watch() before the first `with`, or after a used tape
                self._nodes, self._ids, self._variables = [], {}, {}
                self._alive = True
            if isinstance(t, Variable):
                self._variables[id(t)] = t
            self._ids[id(t)] = t

    def watched_variables(self):
        """The variables this tape watches, in order of construction."""
        return tuple(sorted(self._variables.values(), key=lambda v: v._uid))

    def stop_recording(self):
        """A context in which ops are not recorded on this tape."""
        if not self._alive:
            raise RuntimeError("Trying to stop recording a tape which is not recording.")
        return _Paused(self)

    def reset(self):
        """Forgets everything recorded so far (as if the context were exited and re-entered)."""
        self._pop()
        self._alive = False
        self._push()

    # -- differentiation -------------------------------------------------------------------------
    def gradient(self, target, sources, output_gradients=None,
                 unconnected_gradients=UnconnectedGradients.NONE):
        """The gradient of `target` (summed over its elements, and over a list of targets)
        with respect to each of `sources`, in the structure of `sources`."""
        threads.tick()  # once a step of an eager training loop: threads follow the load
        flat_targets, flat_sources, seeds, unconnected = self._prepare(
            target, sources, output_gradients, unconnected_gradients)
        grads = backprop.walk(self._nodes, flat_targets, seeds, flat_sources)
        result = backprop.collect(grads, flat_sources, unconnected)
        if self._persistent:
            self._last_gradient = (flat_targets, seeds, flat_sources)
        self._consume()
        if type(sources) in _LEAVES:
            return result[0]
        return nest.pack_sequence_as(sources, result)

    def _prepare(self, target, sources, output_gradients, unconnected_gradients):
        """Checks shared by gradient() and the jacobians; stops recording as TF does."""
        if not self._alive:
            raise RuntimeError(_CONSUMED)
        if self._recording:
            if not self._persistent:
                self._pop()
            else:
                warn_first_n("persistent", 1, (
                    "Calling GradientTape.gradient on a persistent tape inside its context is "
                    "significantly less efficient than calling it outside the context (it causes "
                    "the gradient ops to be recorded on the tape, leading to increased CPU and "
                    "memory usage). Only call GradientTape.gradient inside the context if you "
                    "actually want to trace the gradient in order to compute higher order "
                    "derivatives."))
        if target is None:
            raise TypeError("Argument `target` should be a list or nested structure of Tensors, "
                            "Variables or CompositeTensors to be differentiated, but received "
                            "None.")
        flat_targets = [target] if type(target) in _LEAVES else nest.flatten(target)
        for t in flat_targets:
            if not isinstance(t, (Tensor, Variable)):
                if t is None:
                    raise TypeError("Cannot convert the argument `type_value`: None to a "
                                    "TensorFlow DType.")
                raise AttributeError(f"'{type(t).__name__}' object has no attribute 'dtype'")
        flat_sources = [sources] if type(sources) in _LEAVES else nest.flatten(sources)
        for s in flat_sources:
            if not isinstance(s, (Tensor, Variable)):
                raise AttributeError(f"'{type(s).__name__}' object has no attribute 'dtype'")
        if output_gradients is None:
            seeds = [None] * len(flat_targets)
        else:
            seeds = nest.flatten(output_gradients)
            if len(seeds) != len(flat_targets) and isinstance(output_gradients, (list, tuple)) \
                    and len(output_gradients) == len(flat_targets):
                seeds = list(output_gradients)  # one (nested-list) value per target
            for g in seeds:
                if g is None:
                    raise ValueError("Attempt to convert a value (None) with an unsupported "
                                     "type (<class 'NoneType'>) to a Tensor.")
            # As TF: converted on their own (a Python float is float32 whatever the target).
            seeds = [convert_to_tensor(g) for g in seeds]
            if len(seeds) != len(flat_targets):
                raise ValueError(f"Length mismatch. Expected {len(flat_targets)} output "
                                 f"gradients, got {len(seeds)}.")
        if unconnected_gradients is not UnconnectedGradients.NONE:
            unconnected_gradients = backprop.as_unconnected(unconnected_gradients)
        return flat_targets, flat_sources, seeds, unconnected_gradients

    def _consume(self):
        """A non-persistent tape lets go of its recording (TF frees it at this point)."""
        if not self._persistent:
            self._alive = False
            self._nodes, self._ids = [], {}

    def graph(self, target=None, sources=None, output_gradients=None, names=None):
        """A picture of what the tape recorded: ops as nodes, inputs, variables and constants
        as leaves, each with its value (or shape); with a `target` (or after `gradient()` on a
        persistent tape) each edge carries the gradient flowing back along it. Renders as
        SVG/PNG with Graphviz, as text without it, inline in Jupyter (tapeflow/export)."""
        if draw_hook is None:
            raise ImportError("Drawing a tape needs tapeflow.export (import tapeflow).")
        return draw_hook(self, target, sources, output_gradients, names)

    def jacobian(self, target, sources, unconnected_gradients=UnconnectedGradients.NONE,
                 parallel_iterations=None, experimental_use_pfor=True):
        """The Jacobian of `target` with respect to each of `sources`: for a source of shape
        S and a target of shape T, a tensor of shape T + S."""
        return jacobian_lib.jacobian(self, target, sources, unconnected_gradients,
                                     experimental_use_pfor)

    def batch_jacobian(self, target, source, unconnected_gradients=UnconnectedGradients.NONE,
                       parallel_iterations=None, experimental_use_pfor=True):
        """Per-example Jacobians: target [b, y...] and source [b, x...] give [b, y..., x...],
        assuming `target[i]` depends only on `source[i]`."""
        return jacobian_lib.batch_jacobian(self, target, source, unconnected_gradients,
                                           parallel_iterations, experimental_use_pfor)


class _Paused:
    """Context that stops a tape recording (`tape.stop_recording()`)."""

    __slots__ = ("_tape", "_was")

    def __init__(self, tape):
        self._tape = tape
        self._was = False

    def __enter__(self):
        self._was = self._tape._recording
        if not self._was:
            raise ValueError("Tape is not recording.")
        self._tape._pop()
        return self

    def __exit__(self, *exc):
        if self._was and not self._tape._recording:
            self._tape._push()
