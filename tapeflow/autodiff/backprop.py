"""The reverse walk behind `GradientTape.gradient` and `jacobian`.

A tape is a list of `Node`s in the order the ops ran, which is already a topological order.
`walk` first marks the nodes that lie on a path from a source (so it never calls the
gradient of an op the sources do not feed, and tells each gradient which inputs it may skip),
then seeds the targets and walks the marked nodes backwards, calling each op's gradient
function and summing the gradients arriving at each tensor. Gradients are keyed by `id()`:
the tape holds every recorded object, so ids are unique for as long as the walk needs them.
"""
import enum

import torch

from tapeflow._core.dispatch import executing_eagerly
from tapeflow._core.tensor import wrap
from tapeflow.ops import math as math_ops


class UnconnectedGradients(enum.Enum):
    """What `gradient()` returns for a source the target does not depend on."""
    NONE = "none"
    ZERO = "zero"


def as_unconnected(value):
    try:
        return UnconnectedGradients(value)
    except ValueError:
        raise ValueError(f"Unknown value for unconnected_gradients: {value!r}") from None


class Node:
    """One recorded op application: what a gradient function receives.

    `skip_input_indices` (TF's name) lists the inputs whose gradient the current walk does not
    need (they lead to no source); a gradient function may return None for them without
    computing anything, e.g. the exponent of `x ** 2`.
    """

    __slots__ = ("op", "inputs", "outputs", "attrs", "skip_input_indices")

    def __init__(self, op, inputs, outputs, attrs):
        self.op = op
        self.inputs = inputs
        self.outputs = outputs
        self.attrs = attrs
        self.skip_input_indices = ()


def differentiable(dtype):
    return dtype.is_floating or dtype.is_complex


def zeros_for(x):
    """Zeros of the shape and dtype of a tensor or variable (without reading the variable)."""
    if not executing_eagerly():  # tracing a tf.function: the graph must record the zeros
        return math_ops.zeros_like(x if not hasattr(x, "_as_tensor_for_ops") else x.value())
    return wrap(torch.zeros(x._t.shape, dtype=x._dtype.torch, device=x._t.device), x._dtype)


def _on_path(nodes, source_ids):
    """Indices of the nodes that consume (transitively) one of the sources; on each, notes
    which inputs lead to no source (`skip_input_indices`)."""
    live = set(source_ids)
    marked = []
    for i, node in enumerate(nodes):
        inputs = node.inputs
        if len(inputs) == 1:
            if id(inputs[0]) not in live:
                continue
            node.skip_input_indices = ()
        else:
            skip = ()
            for j, x in enumerate(inputs):
                if id(x) not in live:
                    skip += (j,)
            if len(skip) == len(inputs):
                continue
            node.skip_input_indices = skip
        marked.append(i)
        outputs = node.outputs
        if len(outputs) == 1:
            live.add(id(outputs[0]))
        else:
            live.update(map(id, outputs))
    return marked


def walk(nodes, targets, seeds, sources, on_edge=None):
    """Reverse accumulation over `nodes`: {id(tensor or variable): gradient} for the tensors
    between `sources` and `targets`. A seed of None means ones (the target is summed).
    `on_edge(node index, input index, gradient)` sees each gradient a node sends to an input
    (pictures of the backward pass label the edges with them)."""
    grads = {}
    for t, seed in zip(targets, seeds):
        if not differentiable(t.dtype):
            continue
        if seed is None and not executing_eagerly():
            g = math_ops.ones_like(t)
        elif seed is None:
            g = wrap(torch.ones(t._t.shape, dtype=t._dtype.torch, device=t._t.device), t._dtype)
        else:
            g = math_ops.convert_like(seed, t)
        key = id(t)
        prev = grads.get(key)
        grads[key] = g if prev is None else math_ops.add(prev, g)
    marked = _on_path(nodes, [id(s) for s in sources])
    # Indexing (not iterating) the list: a persistent tape differentiated inside its own
    # context appends the gradient's ops to `nodes` while we walk.
    get = grads.get
    for i in reversed(marked):
        node = nodes[i]
        outputs = node.outputs
        if len(outputs) == 1:
            g = get(id(outputs[0]))
            if g is None:
                continue
            grad_fn = node.op.grad_fn
            if grad_fn is None:
                raise LookupError(f"gradient registry has no entry for: {node.op.name}")
            in_grads = grad_fn(node, g)
        else:
            out_grads = [get(id(o)) for o in outputs]
            if all(g is None for g in out_grads):
                continue
            out_grads = [zeros_for(o) if g is None and differentiable(o._dtype) else g
                         for g, o in zip(out_grads, outputs)]
            grad_fn = node.op.grad_fn
            if grad_fn is None:
                raise LookupError(f"gradient registry has no entry for: {node.op.name}")
            in_grads = grad_fn(node, *out_grads)
        inputs = node.inputs
        if type(in_grads) is not tuple and type(in_grads) is not list:
            in_grads = (in_grads,)
        for j, (x, g) in enumerate(zip(inputs, in_grads)):
            if g is None:
                continue
            dtype = x._dtype
            if not (dtype.is_floating or dtype.is_complex):
                continue
            if on_edge is not None:
                on_edge(i, j, g)
            key = id(x)
            prev = get(key)
            grads[key] = g if prev is None else math_ops.add(prev, g)
    return grads


def collect(grads, sources, unconnected):
    """The gradient of each source (None or zeros where unconnected)."""
    out = []
    for s in sources:
        g = grads.get(id(s))
        if g is not None and not differentiable(s._dtype):
            g = None
        if g is None and unconnected is UnconnectedGradients.ZERO:
            g = zeros_for(s)
        out.append(g)
    return out
