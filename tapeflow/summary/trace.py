"""`tf.summary.trace_on` / `trace_export` / `trace_off`, and tf.function graphs as `GraphDef`s.

While a trace is on, every tf.function trace made (each new ConcreteFunction, announced
through `tf_function.trace_listeners`) is collected; as in TF, a function traced before
`trace_on` is not collected again when it runs. `trace_export` writes them to the default
writer as TF's `run_metadata_graphs` does: a `RunMetadata` whose `function_graphs` hold each
trace's graph, under the `graph_run_metadata_graph` plugin, which TensorBoard's Graphs tab
shows. There is no profiler: `profiler=True` records the graphs only.

A trace becomes a GraphDef in two steps: `_trace_nodes` (the one reader of graph.py's
structures) lists its ops as plain records, and `_graph_def` writes those as `NodeDef`s
named and typed as TF's function graphs are (`_Arg` inputs, `Const`, `ReadVariableOp`,
`_Retval` outputs).
"""
import re
import threading

import numpy as np

from tapeflow._core import dtypes
from tapeflow._core.dispatch import executing_eagerly
from tapeflow._core.logs import warn
from tapeflow.function import polymorphic, tf_function
from tapeflow.function.graph import Graph
from tapeflow.summary import _encode
from tapeflow.summary._protos import DATA_TYPES, protos
from tapeflow.summary.summary_ops import _choose_step, _summary, plugin_metadata

_lock = threading.Lock()
_trace = None  # the concrete functions collected since trace_on, or None when off


def _collect(concrete):
    with _lock:
        if _trace is not None:
            _trace.append(concrete)


tf_function.trace_listeners.append(_collect)


def trace_on(graph=True, profiler=False, profiler_outdir=None):
    """`tf.summary.trace_on`: starts collecting the graphs of the tf.functions traced from
    now on (eagerly only), for `trace_export`."""
    global _trace
    if not executing_eagerly():
        warn("Cannot enable trace inside a tf.function.")
        return
    with _lock:
        if _trace is not None:
            warn("Trace already enabled")
            return
        if profiler:
            if profiler_outdir is None:
                warn("No `profiler_outdir` passed to trace_on(). Profiler won't be enabled.")
            else:
                warn("tapeflow has no profiler: trace_on(profiler=True) records the graphs "
                     "only.")
        _trace = []


def trace_export(name, step=None, profiler_outdir=None):
    """`tf.summary.trace_export`: stops the trace and writes the graphs it collected to the
    default writer (if any) as summary `name` at `step`."""
    if step is not None:
        _choose_step(step)
    if not executing_eagerly():
        warn("Cannot export trace inside a tf.function.")
        return
    with _lock:
        if _trace is None:
            raise ValueError("Must enable trace before export through tf.summary.trace_on.")
        collected = list(_trace)
    P = protos()
    run_metadata = P.RunMetadata(function_graphs=[
        P.RunMetadata_FunctionGraphs(pre_optimization_graph=_graph_def(*_trace_nodes(c)))
        for c in collected])
    serialized = run_metadata.SerializeToString()

    def prepare():
        proto = _encode.tensor_proto(np.array(serialized, dtype=object), "string")
        return (), lambda: proto
    _summary(name, step, lambda: plugin_metadata("graph_run_metadata_graph", None, b"1"),
             prepare)
    trace_off()


def trace_off():
    """`tf.summary.trace_off`: stops the trace and drops what it collected."""
    global _trace
    with _lock:
        _trace = None


def serialize_graph(graph_data):
    """The GraphDef bytes `tf.summary.graph` writes for a trace (a ConcreteFunction or its
    `.graph`) or a GraphDef message; None for anything else."""
    if isinstance(graph_data, tf_function.ConcreteFunction) or isinstance(graph_data, Graph):
        return _graph_def(*_trace_nodes(graph_data)).SerializeToString()
    if hasattr(graph_data, "SerializeToString") and hasattr(graph_data, "node"):
        return graph_data.SerializeToString()
    return None


# -- a trace as plain records ---------------------------------------------------------------------

class _Node:
    __slots__ = ("kind", "op", "label", "inputs", "outputs", "value")

    def __init__(self, kind, op, label, inputs, outputs, value=None):
        self.kind = kind        # "arg", "const", "variable", "op", "retval"
        self.op = op            # TF's op name
        self.label = label      # a name to base the node's name on
        self.inputs = inputs    # [(node index, output index)]
        self.outputs = outputs  # [(DType, shape with None for unknown sizes)]
        self.value = value      # a Const's NumPy value (small constants only)


def _trace_nodes(trace):
    """The nodes of a tf.function trace (a ConcreteFunction or a Graph) and its output refs.
    The only code here that reads graph.py's Graph and Step structures."""
    graph = trace.graph if isinstance(trace, tf_function.ConcreteFunction) else trace
    output_slots = getattr(trace, "_output_slots", ())
    names = {graph.slot_of[k]: n.split(":")[0] for k, n in graph.names.items()
             if k in graph.slot_of}
    nodes, made = [], {}   # made: slot -> (node index, output index)

    def spec(slot):
        shape = [None if polymorphic.is_symbolic(d) else int(d) for d in graph.shapes[slot]]
        return graph.dtypes[slot], shape

    def ref(slot):
        if slot not in made:  # a captured constant, made where first used
            value, dtype = graph.constants.get(slot), graph.dtypes[slot]
            small = value is not None and value.numel() <= 16 and \
                dtype not in (dtypes.string, dtypes.bfloat16)
            nodes.append(_Node("const", "Const", "Const", [], [spec(slot)],
                               value.cpu().numpy() if small else None))
            made[slot] = (len(nodes) - 1, 0)
        return made[slot]

    def add(kind, op, label, ins, outs, first=()):
        inputs = list(first) + [ref(i) for i in ins]
        nodes.append(_Node(kind, op, label, inputs, [spec(o) for o in outs]))
        for k, o in enumerate(outs):
            made[o] = (len(nodes) - 1, k)

    handles = {}

    def handle(variable):
        if id(variable) not in handles:
            label = getattr(variable, "path", None) or variable.name.split(":")[0]
            nodes.append(_Node("variable", "VarHandleOp", label, [],
                               [(variable.dtype, list(variable.shape))]))
            handles[id(variable)] = (len(nodes) - 1, 0)
        return handles[id(variable)]

    for i, slot in enumerate(graph.inputs):
        add("arg", "_Arg", names.get(slot, f"args_{i}"), (), (slot,))
    for step in graph.steps:
        if step.kind == "read":
            add("op", "ReadVariableOp", "ReadVariableOp", (), step.outs, [handle(step.target)])
        elif step.kind == "assign":
            add("op", "AssignVariableOp", "AssignVariableOp", step.ins, (), [handle(step.target)])
        else:
            add("op", step.op.name, step.op.name, step.ins, step.outs)
    outputs = [ref(slot) for slot in output_slots]
    return nodes, outputs


# -- records as a GraphDef ------------------------------------------------------------------------

_NAME_CHARS = re.compile(r"[^A-Za-z0-9_./\-]")


def _shape_proto(P, shape):
    return P.TensorShapeProto(dim=[P.TensorShapeProto_Dim(size=-1 if d is None else d)
                                   for d in shape])


def _attr(P, key, **value):
    return P.NodeDef_AttrEntry(key=key, value=P.AttrValue(**value))


def _graph_def(nodes, outputs):
    P = protos()
    taken, names = set(), []

    def unique(label):
        base = _NAME_CHARS.sub("_", label).lstrip("_/.-") or "node"
        name, n = base, 0
        while name in taken:  # TF's uniquifying: MatMul, MatMul_1, ...
            n += 1
            name = f"{base}_{n}"
        taken.add(name)
        return name

    def tensor_name(r):
        i, k = r
        return names[i] if k == 0 else f"{names[i]}:{k}"

    def shapes(outs):
        return _attr(P, "_output_shapes", list=P.AttrValue_ListValue(
            shape=[_shape_proto(P, s) for _, s in outs]))

    graph_def = P.GraphDef()
    arg_index = 0
    for node in nodes:
        names.append(unique(node.label))
        n = graph_def.node.add(name=names[-1], op=node.op,
                               input=[tensor_name(r) for r in node.inputs])
        if node.kind == "arg":
            dtype = node.outputs[0][0]
            n.attr.extend([_attr(P, "T", type=DATA_TYPES[dtype.name]),
                           _attr(P, "index", i=arg_index), shapes(node.outputs),
                           _attr(P, "_user_specified_name", s=node.label.encode())])
            arg_index += 1
        elif node.kind == "const":
            dtype, shape = node.outputs[0]
            n.attr.append(_attr(P, "dtype", type=DATA_TYPES[dtype.name]))
            if node.value is not None:
                n.attr.append(_attr(P, "value", tensor=_encode.tensor_proto(
                    np.asarray(node.value), dtype.name)))
            n.attr.append(shapes(node.outputs))
        elif node.kind == "variable":
            dtype, shape = node.outputs[0]
            n.attr.extend([_attr(P, "dtype", type=DATA_TYPES[dtype.name]),
                           _attr(P, "shape", shape=_shape_proto(P, shape)),
                           _attr(P, "shared_name", s=node.label.encode())])
        else:
            typed = node.outputs or [nodes[i].outputs[k] for i, k in node.inputs[-1:]]
            if typed and typed[0][0].name in DATA_TYPES:
                n.attr.append(_attr(P, "T", type=DATA_TYPES[typed[0][0].name]))
            if node.outputs:
                n.attr.append(shapes(node.outputs))
    for index, r in enumerate(outputs):
        dtype = nodes[r[0]].outputs[r[1]][0]
        name = unique("identity_RetVal" if index == 0 else f"identity_{index}_RetVal")
        graph_def.node.add(name=name, op="_Retval", input=[tensor_name(r)],
                           attr=[_attr(P, "T", type=DATA_TYPES[dtype.name]),
                                 _attr(P, "index", i=index)])
    return graph_def
