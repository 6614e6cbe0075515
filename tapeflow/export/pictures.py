"""Pictures of the graphs the lectures draw: a `GradientTape`'s recording with the values of
the forward pass and the gradient on each edge of the backward pass, and a `tf.function`'s
trace as its compiled plan runs it (after the passes: fused ops show as one node).

`tape_graph` reads what the tape records (its nodes: op, inputs, outputs) and, for the
gradients, walks them backwards as `tape.gradient` does (`backprop.walk`), keeping each
gradient a node sends to an input. Tensors are named after the caller's Python variables
(`x1 = w * x` draws as `x1`). Both functions return a `Picture` (keras/utils/picture.py):
DOT source, SVG/PNG with Graphviz, text without it, inline in Jupyter.
"""
import inspect

import numpy as np

from tapeflow._core import dispatch, nest
from tapeflow._core.tensor import Tensor, convert_to_tensor
from tapeflow._core.variable import Variable
from tapeflow.autodiff import backprop, tape as tape_module
from tapeflow.export._dims import dim_label
from tapeflow.function import polymorphic
from tapeflow.function.graph import Step
from tapeflow.function.plan import compile_plan
from tapeflow.function.tf_function import ConcreteFunction, Function
from tapeflow.keras.utils.picture import Picture
from tapeflow.ops import _gemm, conv, pooling

MAX_VALUES = 8  # tensors with more elements are labelled by shape and dtype


# -- labels -----------------------------------------------------------------------------------

def _number(v):
    return f"{v:.4g}" if isinstance(v, (float, np.floating)) else str(v)


def value_text(x, max_values=MAX_VALUES, dtype=None):
    """A small tensor's value (`6`, `[1, 2]`), else its dtype and shape. `x` is a tensor, a
    variable, or a torch tensor of tapeflow dtype `dtype` (a trace's captured constant)."""
    t = x._t if isinstance(x, (Tensor, Variable)) else x
    dtype = dtype or x.dtype
    if t.is_meta or t.numel() > max_values:
        return f"{dtype.name} {tuple(t.shape)}"
    a = t.detach().cpu().numpy() if dtype.name != "string" else t
    if a.ndim == 0:
        return _number(a.item())
    return np.array2string(a, separator=", ", formatter={"float_kind": _number},
                           max_line_width=1 << 20).replace("\n", "")


def _caller_names():
    """id -> name of the tensors and variables in the first frame outside tapeflow (the
    student's code), locals before globals."""
    frame = inspect.currentframe()
    while frame is not None and frame.f_globals.get("__name__", "").startswith("tapeflow"):
        frame = frame.f_back
    names = {}
    if frame is None:
        return names
    for scope in (frame.f_locals, frame.f_globals):
        for name, value in scope.items():
            if isinstance(value, (Tensor, Variable)) and not name.startswith("_"):
                names.setdefault(id(value), name)
    return names


def _variable_name(v):
    return str(getattr(v, "path", None) or v.name).split(":")[0]


# -- the tape -----------------------------------------------------------------------------------

_CONSUMED = ("A non-persistent GradientTape lets go of its recording in gradient(); draw it "
             "before (`tape.graph(target, sources)` shows the gradients too), or record with "
             "`tf.GradientTape(persistent=True)` to draw it after gradient().")


def _sources_of(tape, nodes):
    """Every leaf the tape watches: its variables and the tensors it was told to watch."""
    produced = {id(o) for n in nodes for o in n.outputs}
    leaves = list(tape.watched_variables())
    leaves += [t for k, t in tape._ids.items() if isinstance(t, Tensor) and k not in produced]
    return leaves


def _edge_gradients(tape, nodes, target, sources, output_gradients):
    """(per-edge gradients {(node index, input index): tensor}, per-tensor totals, targets)
    of a backward walk over the tape, or empty ones when there is no target."""
    if target is None and tape._last_gradient is not None:
        targets, seeds, sources = tape._last_gradient
    elif target is None:
        return {}, {}, []
    else:
        targets = nest.flatten(target)
        seeds = [None] * len(targets) if output_gradients is None else \
            [convert_to_tensor(g) for g in nest.flatten(output_gradients)]
        sources = nest.flatten(sources) if sources is not None else _sources_of(tape, nodes)
    edges = {}
    with dispatch.without_recorders(lambda r: True):  # the walk's ops are not in the picture
        totals = backprop.walk(nodes, targets, seeds, sources,
                               on_edge=lambda i, j, g: edges.__setitem__((i, j), g))
    # a gradient function may also compute what no source needs (the constant of `4 - x`):
    # drawn are only the gradients between the sources and the targets, as TF computes them
    live = {id(s) for s in sources}
    for node in nodes:
        if any(id(x) in live for x in node.inputs):
            live.update(id(o) for o in node.outputs)
    edges = {k: g for k, g in edges.items() if id(nodes[k[0]].inputs[k[1]]) in live}
    return edges, {k: g for k, g in totals.items() if k in live}, targets


def tape_graph(tape, target=None, sources=None, output_gradients=None, names=None,
               max_values=MAX_VALUES):
    """The tape's recording as a `Picture`.

    Args:
        tape: a `tf.GradientTape` that still holds its recording (non-persistent tapes let
            go of it in `gradient()`).
        target, sources: draw the backward pass of `tape.gradient(target, sources)` (default
            sources: every watched variable and tensor). Without them, after `gradient()` on
            a persistent tape, that call's gradients are drawn; else the forward pass only.
        output_gradients: the seeds, as for `gradient()`.
        names: {name: tensor} labels; default: the caller's variable names.
        max_values: tensors with more elements show their shape and dtype, not values.

    Example:
    >>> with tf.GradientTape(persistent=True) as tape:
    ...     x1 = w * x
    ...     loss = tf.abs(y_true - (x1 + b))
    >>> tape.gradient(loss, [w, b])
    >>> print(tape.graph())          # or display it in Jupyter, or .write("graph.svg")
    """
    if not tape._alive:
        raise RuntimeError(_CONSUMED)
    label_of = _caller_names()
    if names is not None:
        label_of.update({id(v): k for k, v in names.items()})
    nodes = list(tape._nodes)
    edges, totals, targets = _edge_gradients(tape, nodes, target, sources, output_gradients)
    target_ids = {id(t) for t in targets}
    picture = Picture("tape", rankdir="LR")
    drawn = {}   # id(tensor or variable) -> its picture node (the op node for an output)
    read = {}    # id(a variable's read) -> the variable: drawn as the variable itself

    def grad_line(x):
        g = totals.get(id(x))
        return [] if g is None else [f"grad = {value_text(g, max_values)}"]

    def leaf(x):
        x = read.get(id(x), x)
        node_id = drawn.get(id(x))
        if node_id is not None:
            return node_id
        node_id = drawn[id(x)] = f"leaf{len(drawn)}"
        if isinstance(x, Variable):
            name = label_of.get(id(x)) or _variable_name(x)
            lines = [f"{name} (Variable)", f"= {value_text(x, max_values)}"]
            style = {"style": "rounded,filled", "fillcolor": "lightyellow"}
        else:
            lines = [label_of.get(id(x), "constant"), f"= {value_text(x, max_values)}"]
            style = {"style": "rounded"}
        picture.node(node_id, "\n".join(lines + grad_line(x)), shape="box", **style)
        return node_id

    for i, node in enumerate(nodes):
        if node.op is tape_module.READ_VARIABLE:
            read[id(node.outputs[0])] = node.inputs[0]
            continue
        srcs = [leaf(x) for x in node.inputs]
        node_id = f"op{i}"
        lines = [node.op.name]
        for k, out in enumerate(node.outputs):
            name = label_of.get(id(out)) or (f"out{k}" if len(node.outputs) > 1 else None)
            lines.append(f"{name + ' ' if name else ''}= {value_text(out, max_values)}")
            lines += grad_line(out)
            drawn[id(out)] = node_id
        is_target = any(id(o) in target_ids for o in node.outputs)
        picture.node(node_id, "\n".join(lines), shape="ellipse",
                     **({"peripheries": 2} if is_target else {}))
        for j, src in enumerate(srcs):
            g = edges.get((i, j))
            picture.edge(src, node_id, None if g is None else
                         f"grad {value_text(g, max_values)}")
    return picture


def _tape_hook(tape, target, sources, output_gradients, names):
    return tape_graph(tape, target, sources, output_gradients, names)


tape_module.draw_hook = _tape_hook


# -- a traced function ---------------------------------------------------------------------------

# kernels the passes substitute, by the name TF's grappler gives the fused op
_FUSED = {_gemm.linear: "_FusedMatMul", conv.conv_bias_kernel: "_FusedConv2D",
          pooling.max_pool_argmax_kernel: "MaxPoolWithArgmax",
          pooling.max_pool_grad_argmax_kernel: "MaxPoolGradWithArgmax"}


def _planned(concrete):
    """The steps the function's plan runs, after the passes."""
    if concrete._plan is not None:
        return concrete._plan.steps
    graph = concrete.graph  # a trace for every size: its plan for the sizes traced with
    shapes = [tuple(polymorphic.hint(d) for d in graph.shapes[slot]) for slot in graph.inputs]
    return polymorphic.specialize(graph, shapes, concrete._output_slots, compile_plan,
                                  Step).plan.steps


def _step_name(step):
    fused = _FUSED.get(step.kernel)
    if fused is None:
        return step.op.name
    if step.kernel is _gemm.linear:  # MatMul + BiasAdd [+ Relu], as grappler names them
        return fused + (" (MatMul, BiasAdd, Relu)" if step.attrs[0] == "relu" else
                        " (MatMul, BiasAdd)")
    return fused


def function_graph(fn, *args, passes=True, max_values=MAX_VALUES, **kwargs):
    """A `tf.function`'s trace as a `Picture`: its inputs, variables and constants as leaves,
    its ops (fused ones as one node) labelled with their output shapes and dtypes.

    Args:
        fn: a `tf.function` (traced for `args`, or for its `input_signature`) or a concrete
            function.
        passes: draw the plan after the graph passes (constant folding, dead code, fusion);
            False draws the steps as traced.
    """
    if isinstance(fn, Function):
        concrete = fn.get_concrete_function(*args, **kwargs)
    elif isinstance(fn, ConcreteFunction):
        concrete = fn
    else:
        raise TypeError(f"Expected a tf.function or a concrete function. Received: {fn!r}")
    graph = concrete.graph
    steps = _planned(concrete) if passes else graph.steps
    label_of = _caller_names()
    picture = Picture("function", rankdir="TB")
    producer = {}

    def shape_text(slot):
        if slot >= len(graph.shapes):
            return ""
        dims = tuple(dim_label(d) for d in graph.shapes[slot])
        return f"{graph.dtypes[slot].name} {dims}"

    names = {graph.slot_of[id(t)]: n for t in graph.held if (n := graph.tensor_name(t))}
    for k, slot in enumerate(graph.inputs):
        node_id = producer[slot] = f"in{slot}"
        picture.node(node_id, f"{names.get(slot, f'input_{k}').split(':')[0]} (input)\n"
                     f"{shape_text(slot)}", shape="box", style="rounded,filled",
                     fillcolor="lightblue")

    def source(slot):
        if slot in producer:
            return producer[slot]
        node_id = producer[slot] = f"c{slot}"
        value = graph.constants.get(slot)
        text = "constant\n" + (value_text(value, max_values, graph.dtypes[slot])
                               if value is not None else shape_text(slot))
        picture.node(node_id, text, shape="box", style="rounded")
        return node_id

    for n, step in enumerate(steps):
        if step.kind == "read":
            node_id = producer[step.outs[0]] = f"v{n}"
            name = label_of.get(id(step.target)) or _variable_name(step.target)
            picture.node(node_id, f"{name} (variable)\n"
                         f"{shape_text(step.outs[0])}", shape="box",
                         style="rounded,filled", fillcolor="lightyellow")
            continue
        node_id = f"s{n}"
        srcs = [source(slot) for slot in step.ins]
        if step.kind == "assign":
            text = f"AssignVariableOp\n{_variable_name(step.target)}"
        else:
            text = "\n".join([_step_name(step)] + [shape_text(o) for o in step.outs])
        picture.node(node_id, text, shape="ellipse")
        for src in srcs:
            picture.edge(src, node_id)
        for slot in step.outs:
            producer[slot] = node_id
    for k, slot in enumerate(concrete._output_slots):
        node_id = f"out{k}"
        picture.node(node_id, f"output_{k}\n{shape_text(slot)}", shape="box",
                     style="rounded,filled", fillcolor="lightgrey")
        picture.edge(source(slot), node_id)
    return picture
