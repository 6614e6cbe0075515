"""`tapeflow.export.to_onnx`: a `tf.function`, concrete function or Keras model as an ONNX
model, converted from tapeflow's own trace.

The function is traced for its input signature (`None` dimensions give one trace serving
every size; they become the ONNX model's dynamic axes). The trace's steps, as recorded before
the graph passes, are walked from the outputs back (dead code is left out); variables become
initializers and each op is written by its converter from the table in `_onnx_ops.py` and
`_onnx_nn.py`. The model is checked by `onnx.checker` and, given a path, written atomically.
`Model.export(path, format="onnx")` and `tapeflow export` reach it through model_export.py.
"""
import os

import numpy as np
import onnx
from onnx import helper

from tapeflow._version import __version__
from tapeflow._core import nest
from tapeflow._core.dtypes import as_dtype
from tapeflow._core.logs import warn
from tapeflow._core.spec import TensorSpec
from tapeflow.export import _onnx_nn
from tapeflow.export._dims import bindings, mentions_symbol
from tapeflow.export._onnx_graph import (Emitter, ExportError, Symbol, check, opset_imports,
                                         to_numpy)
from tapeflow.export._onnx_ops import CONVERTERS
from tapeflow.function.tf_function import ConcreteFunction, Function, function
from tapeflow.keras.engine.functional import Functional, InputLayer
from tapeflow.keras.engine.model import Model
from tapeflow.keras.engine.sequential import Sequential
from tapeflow.keras.saving.atomic import write_bytes

DEFAULT_OPSET = 17
MIN_OPSET = 13


def supported_ops():
    """The TF op names the ONNX export converts, sorted."""
    return sorted(CONVERTERS)


def to_onnx(fn_or_model, input_signature=None, path=None, opset=DEFAULT_OPSET,
            input_names=None, output_names=None):
    """Converts a `tf.function`, concrete function, Python function or Keras model to ONNX.

    Args:
        fn_or_model: what to convert. A Keras model is converted in inference mode
            (`training=False`: Dropout disappears, BatchNormalization uses its moving
            statistics).
        input_signature: a list of `tf.TensorSpec` (or anything with `shape` and `dtype`);
            `None` dimensions become dynamic axes. Optional for a Keras model with known
            inputs and for a `tf.function` that has its own.
        path: where to write the `.onnx` file (atomically); None writes nothing.
        opset: the ONNX opset to target (13 or later; default 17).
        input_names, output_names: names for the ONNX graph's inputs and outputs.

    Returns:
        The `onnx.ModelProto`, checked with `onnx.checker`.

    Raises:
        ExportError: for an op without an ONNX equivalent (naming the op, and for a Keras
            model the layer), a variable assigned inside the function, or a dimension that
            cannot stay dynamic.

    Example:
    >>> model = keras.Sequential([keras.Input(shape=(784,)), keras.layers.Dense(10)])
    >>> tapeflow.export.to_onnx(model, path="model.onnx")   # batch size stays dynamic
    """
    opset = _check_opset(opset)
    model = fn_or_model if isinstance(fn_or_model, Model) else None
    concrete, specs, default_names = _concrete(fn_or_model, input_signature)
    try:
        proto = _convert(concrete, specs, opset, input_names or default_names, output_names)
    except ExportError as err:
        raise _with_layers(err, model) from None
    check(proto)
    if path is not None:
        write_bytes(path, proto.SerializeToString())
    return proto


def _check_opset(opset):
    newest = onnx.defs.onnx_opset_version()
    if not isinstance(opset, int) or isinstance(opset, bool) or not MIN_OPSET <= opset <= newest:
        raise ValueError(f"`opset` must be an int from {MIN_OPSET} to {newest} (the newest the "
                         f"installed onnx knows). Received: opset={opset!r}")
    return opset


# -- what to trace -----------------------------------------------------------------------------

def _as_spec(x, name=None):
    if isinstance(x, TensorSpec):
        return x
    if hasattr(x, "shape") and hasattr(x, "dtype"):
        shape = x.shape if not hasattr(x.shape, "as_list") else x.shape.as_list()
        return TensorSpec([None if d is None else int(d) for d in shape], as_dtype(x.dtype),
                          name or getattr(x, "name", None))
    raise TypeError(f"`input_signature` entries must be tf.TensorSpec (or have a shape and a "
                    f"dtype). Received: {x!r}")


def _model_signature(model):
    """The specs of a Keras model's inputs, and their names (the Input layers')."""
    inner = model._functional if isinstance(model, Sequential) else model
    if isinstance(inner, Functional):
        specs = [TensorSpec(t.shape, t.dtype) for t in inner.inputs]
        return specs, [t._keras_history[0].name for t in inner.inputs]
    shapes = (getattr(model, "_build_shapes_dict", None) or {}).get("input_shape")
    if shapes is None:
        raise ValueError("The model provided has never been called. It must be called at "
                         "least once before export, or given an `input_signature`.")
    if shapes and isinstance(shapes[0], (list, tuple)):
        specs = [TensorSpec((None,) + tuple(s)[1:], model.dtype or "float32") for s in shapes]
    else:
        specs = [TensorSpec((None,) + tuple(shapes)[1:], model.dtype or "float32")]
    return specs, [f"input_{i}" for i in range(len(specs))]


def _concrete(fn_or_model, input_signature):
    """The concrete function to convert, the specs it was traced for, and default names for
    its inputs."""
    names = None
    if input_signature is not None:
        input_signature = [_as_spec(s) for s in nest.flatten(input_signature)]
        names = [s.name for s in input_signature]
    if isinstance(fn_or_model, ConcreteFunction):
        specs = [s for s in nest.flatten(fn_or_model.structured_input_signature)
                 if isinstance(s, TensorSpec)]
        return fn_or_model, specs, names
    if isinstance(fn_or_model, Model):
        model = fn_or_model
        if input_signature is None:
            input_signature, names = _model_signature(model)

        def serve(*inputs):
            return model(inputs[0] if len(inputs) == 1 else list(inputs), training=False)
        concrete = function(serve).get_concrete_function(*input_signature)
        return concrete, input_signature, names
    if isinstance(fn_or_model, Function):
        if input_signature is None:
            if fn_or_model.input_signature is None:
                raise ValueError("A tf.function without an input_signature needs one: pass "
                                 "`input_signature=[tf.TensorSpec(...), ...]`.")
            return fn_or_model.get_concrete_function(), list(fn_or_model.input_signature), \
                names
        return fn_or_model.get_concrete_function(*input_signature), input_signature, names
    if callable(fn_or_model):
        if input_signature is None:
            raise ValueError("A Python function needs an `input_signature` to be exported.")
        concrete = function(fn_or_model, input_signature=input_signature).get_concrete_function()
        return concrete, input_signature, names
    raise TypeError(f"Expected a tf.function, a concrete function, a Python function or a "
                    f"Keras model. Received: {fn_or_model!r}")


# -- converting --------------------------------------------------------------------------------

def _live_steps(graph, output_slots):
    """The steps the outputs need, in order. Variable writes and effects (printing) cannot be
    part of an ONNX model: writes are left out with a warning, reads after a write refused."""
    written = set()
    for s in graph.steps:
        if s.kind == "assign":
            written.add(id(s.target))
        elif s.kind == "read" and id(s.target) in written:
            raise ExportError(f"The function reads variable {s.target.name!r} after assigning "
                              "to it; ONNX models have no state, so this cannot be exported.")
    if written:
        warn("ONNX export: the function assigns to variables; the assignments are not part "
             "of the exported model (ONNX models have no state).")
    needed = set(output_slots)
    live = []
    for s in reversed(graph.steps):
        if s.kind in ("op", "read") and any(o in needed for o in s.outs):
            live.append(s)
            needed.update(s.ins)
    live.reverse()
    return live


def _symbols(concrete, input_names):
    """Each `None` dimension's symbol -> where ONNX reads its size, and its axis name."""
    symbols = {}
    for i, axis, symbol in bindings(concrete):
        name = input_names[i]
        axis_name = ("batch" if i == 0 else f"{name}_batch") if axis == 0 else \
            f"{name}_dim{axis}"
        symbols[symbol] = Symbol(name, axis, axis_name)
    return symbols


def _unique_names(names, default):
    out, seen = [], set()
    for i, n in enumerate(names):
        n = (n or f"{default}_{i}").split(":")[0].replace("/", "_")
        base, k = n, 0
        while n in seen:
            k += 1
            n = f"{base}_{k}"
        seen.add(n)
        out.append(n)
    return out


def _convert(concrete, specs, opset, input_names, output_names):
    graph = concrete.graph
    if not concrete._poly and _has_none(specs):
        warn("ONNX export: the trace could not serve every size of the `None` dimensions "
             "(see tf.function's debug log); the ONNX model has the sizes it was traced "
             "with.")
    input_names = _unique_names(_placeholder_names(graph, input_names), "input")
    out_slots = list(concrete._output_slots)
    output_names = _unique_names(output_names or [None] * len(out_slots), "output")
    if len(output_names) != len(out_slots):
        raise ValueError(f"`output_names` has {len(output_names)} names for {len(out_slots)} "
                         "outputs.")
    e = Emitter(graph, opset, _symbols(concrete, input_names))
    e._taken.update(input_names + output_names)
    for slot, name in zip(graph.inputs, input_names):
        e.bind(slot, name)
    variables = {}
    for step in _live_steps(graph, out_slots):
        e.step = step
        if step.kind == "read":
            name = variables.get(id(step.target))
            if name is None:
                name = variables[id(step.target)] = e.const(
                    to_numpy(step.target._t), _variable_name(step.target))
            e.bind(step.outs[0], name)
            continue
        _convert_step(e, step)
    e.step = None
    outputs = []
    for slot, name in zip(out_slots, output_names):
        e.nodes.append(helper.make_node("Identity", [e.value(slot)], [name],
                                        name=e.fresh("node_output")))
        outputs.append(e.value_info(name, slot))
    inputs = [e.value_info(name, slot) for slot, name in zip(graph.inputs, input_names)]
    return helper.make_model(e.make_graph("tapeflow", inputs, outputs),
                             opset_imports=opset_imports(opset), producer_name="tapeflow",
                             producer_version=__version__)


def _has_none(specs):
    return any(s.shape.rank is not None and None in s.shape.as_list() for s in specs)


def _placeholder_names(graph, names):
    if names is not None and len(names) == len(graph.inputs):
        return list(names)
    by_slot = {}
    for t in graph.held:
        slot = graph.slot_of.get(id(t))
        if slot in graph.inputs and slot not in by_slot:
            by_slot[slot] = graph.tensor_name(t)
    return [by_slot.get(slot) for slot in graph.inputs]


def _variable_name(variable):
    return str(getattr(variable, "path", None) or variable.name).split(":")[0]


def _convert_step(e, step):
    try:
        _convert_one(e, step)
    except ExportError as err:
        if err.op is None:
            err.op = step.op.name
        raise


def _convert_one(e, step):
    converter = _onnx_nn.KERNEL_CONVERTERS.get(step.kernel)
    sized = True
    if converter is None:
        entry = CONVERTERS.get(step.op.name)
        if entry is None:
            raise ExportError(f"Op {step.op.name!r} has no ONNX equivalent in tapeflow's "
                              "export table (tapeflow.export.supported_ops() lists those "
                              "that export).")
        converter, sized = entry
    if not sized and mentions_symbol(step.attrs):
        raise ExportError(f"Op {step.op.name!r} takes a `None` dimension as a fixed attribute, "
                          "which cannot stay dynamic in ONNX; give that dimension a fixed "
                          "size.", step.op.name)
    outs = converter(e, step)
    outs = (outs,) if isinstance(outs, str) else tuple(outs)
    if len(outs) != len(step.outs):
        raise AssertionError(f"the {step.op.name} converter gave {len(outs)} outputs for "
                             f"{len(step.outs)}")
    for slot, name in zip(step.outs, outs):
        e.bind(slot, name)


# -- naming the layer --------------------------------------------------------------------------

def _with_layers(err, model):
    """`err` with the layers of `model` whose trace holds the op (found by tracing each
    layer alone, only now that something failed)."""
    if model is None or err.op is None:
        return err
    layers = _layers_using(model, err.op)
    if not layers:
        return err
    which = ", ".join(repr(n) for n in layers)
    return ExportError(f"{err} It comes from layer {which}.", err.op)


def _layers_using(model, op_name):
    inner = model._functional if isinstance(model, Sequential) else model
    if not isinstance(inner, Functional):
        return []
    found = []
    for node in inner._nodes:
        layer = node.layer
        if isinstance(layer, InputLayer) or not node.input_tensors:
            continue
        if isinstance(layer, Model):
            nested = _layers_using(layer, op_name)
            if nested:
                found += [f"{layer.name}/{n}" for n in nested]
                continue
        specs = [TensorSpec(t.shape, t.dtype) for t in node.input_tensors]
        arg = node.args[0]

        def call(*xs, layer=layer, single=not isinstance(arg, (list, tuple))):
            return layer(xs[0] if single else list(xs), training=False)
        try:
            graph = function(call, input_signature=specs).get_concrete_function().graph
        except Exception:  # noqa: BLE001 - a layer that cannot be traced alone: not named
            continue
        if any(s.op is not None and s.op.name == op_name for s in graph.steps):
            found.append(layer.name)
    return found


def run(path_or_model, *inputs):
    """Runs an ONNX file (or ModelProto) with onnxruntime on NumPy inputs; returns the list of
    outputs. For tests and quick checks."""
    import onnxruntime as ort
    data = path_or_model.SerializeToString() if hasattr(path_or_model, "SerializeToString") \
        else os.fspath(path_or_model)
    session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    feed = {i.name: np.asarray(x) for i, x in zip(session.get_inputs(), inputs)}
    return session.run(None, feed)
