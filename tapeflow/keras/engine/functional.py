"""The functional API: `keras.Input`, the graph of layer calls on KerasTensors, and the
`Functional` model that replays it.

Calling a layer on KerasTensors builds the layer from their symbolic shapes, then infers the
output shapes and dtypes by running the layer on small zero-filled tensors: twice, with the
unknown dims set to two different sizes, so an output dim that follows an unknown input dim is
unknown too. The call is recorded as a `Node` (layer, call arguments, outputs); a `Functional`
model sorts the nodes between its inputs and outputs and runs them in order.
"""
import warnings

import numpy as np

from tapeflow.ops import array as array_ops, creation as creation_ops
from tapeflow._core import dtypes, nest
from tapeflow._core.tensor import Tensor, convert_to_tensor
from tapeflow.keras.engine import naming
from tapeflow.keras.engine.keras_tensor import KerasTensor
from tapeflow.keras.engine.layer import Layer, _ctx
from tapeflow.keras.engine.model import Model
from tapeflow.ops.elementwise import cast

_PROBE_SIZES = ((1, 7), (2, 8))  # (batch dim, other unknown dims) for the two probing runs


class Node:
    """One call of `layer` in a functional graph: its arguments (KerasTensors where the graph
    flows) and its output KerasTensors."""

    def __init__(self, layer, args, kwargs, outputs):
        self.layer = layer
        self.args = args          # tuple: (inputs, *rest)
        self.kwargs = kwargs
        self.outputs = outputs
        self.input_tensors = [t for t in nest.flatten((args, kwargs))
                              if isinstance(t, KerasTensor)]
        self.output_tensors = nest.flatten(outputs)

    @property
    def input_value(self):
        return self.args[0] if self.args else None

    @property
    def output_value(self):
        return self.outputs

    @property
    def parent_nodes(self):
        out = []
        for t in self.input_tensors:
            layer, node_index, _ = t._keras_history
            out.append(layer._inbound_nodes[node_index])
        return out


def _probe(structure, sizes):
    batch, other = sizes

    def make(x):
        if not isinstance(x, KerasTensor):
            return x
        shape = [(batch if i == 0 else other) if d is None else d
                 for i, d in enumerate(x.shape)]
        return creation_ops.zeros(shape, dtype=x.dtype)
    return nest.map_structure(make, structure)


def symbolic_call(layer, inputs, rest, kwargs):
    """Calls `layer` on KerasTensors: builds it, infers the outputs, records a Node."""
    args = (inputs,) + tuple(rest)
    flat_in = [t for t in nest.flatten((args, kwargs)) if isinstance(t, KerasTensor)]
    if not layer.built:
        layer._build_on_call(inputs)
    unknown = any(d is None for t in flat_in for d in t.shape)
    runs, sample = [], None
    for sizes in (_PROBE_SIZES if unknown else _PROBE_SIZES[:1]):
        p_args, p_kwargs = _probe((args, kwargs), sizes)
        out = layer(*p_args, **p_kwargs)
        if sample is None:
            sample = out
        runs.append(nest.flatten(out))
    # Throw away losses added while probing (e.g. activity regularizers).
    for probed in _ctx.loss_layers:
        probed._losses.clear()
    _ctx.loss_layers.clear()
    node_index = len(layer._inbound_nodes)
    out_kts = []
    for i, t in enumerate(runs[0]):
        shape = list(t.shape)
        if len(runs) > 1:
            shape = [None if a != b else a for a, b in zip(shape, runs[1][i].shape)]
        out_kts.append(KerasTensor(shape, t.dtype.name, record_history=(layer, node_index, i)))
    outputs = nest.pack_sequence_as(sample, out_kts)
    node = Node(layer, args, kwargs, outputs)
    layer._inbound_nodes.append(node)
    for t in flat_in:
        if t._keras_history is not None:
            t._keras_history[0]._outbound_nodes.append(node)
    return outputs


class InputLayer(Layer):
    """The layer behind `keras.Input`: it holds the input's shape and dtype."""

    def __init__(self, shape=None, batch_size=None, dtype=None, sparse=None, batch_shape=None,
                 input_tensor=None, name=None, **kwargs):
        if "input_shape" in kwargs:
            warnings.warn("Argument `input_shape` is deprecated. Use `shape` instead.",
                          stacklevel=2)
            shape = kwargs.pop("input_shape")
        if "batch_input_shape" in kwargs:
            batch_shape = kwargs.pop("batch_input_shape")
        super().__init__(name=name or naming.uniquify("input_layer"), dtype=dtype, **kwargs)
        if batch_shape is None:
            if shape is None:
                raise ValueError("You must pass a `shape` argument.")
            if isinstance(shape, int):
                shape = (shape,)
            batch_shape = (batch_size,) + tuple(shape)
        self.batch_shape = tuple(batch_shape)
        self.sparse = bool(sparse)
        self.built = True
        kt = KerasTensor(self.batch_shape, self.dtype, sparse=self.sparse, name=name,
                         record_history=(self, 0, 0))
        self._inbound_nodes.append(Node(self, (), {}, kt))
        self.output_tensor = kt

    def call(self, inputs):
        return inputs

    def get_config(self):
        return {"batch_shape": self.batch_shape, "dtype": self.dtype, "sparse": self.sparse,
                "name": self.name}


def Input(shape=None, batch_size=None, dtype=None, sparse=None, batch_shape=None, name=None,
          tensor=None, optional=False):
    """A symbolic input of a functional model: `keras.Input(shape=(784,))`."""
    layer = InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, sparse=sparse,
                       batch_shape=batch_shape, name=name)
    return layer.output_tensor


class OperatorLayer(Layer):
    """A Python operator (`+`, `*`, `[]`...) applied to KerasTensors, as a graph node."""

    def __init__(self, op_name, fn):
        super().__init__(name=naming.uniquify(op_name))
        self.fn = fn
        self._display_name = "".join(p.capitalize() for p in op_name.split("_"))
        self.built = True

    def call(self, *args):
        return self.fn(*args)


def _topological_nodes(outputs):
    """The nodes that produce `outputs`, in an order where each comes after its inputs."""
    order, seen = [], set()

    def visit(node):
        if id(node) in seen:
            return
        seen.add(id(node))
        for parent in node.parent_nodes:
            visit(parent)
        order.append(node)

    for t in outputs:
        layer, node_index, _ = t._keras_history
        visit(layer._inbound_nodes[node_index])
    return order


def conform_input(x, kt):
    """An input value as the `Input` `kt` takes it: a tensor of the Input's dtype (Keras
    converts and casts every input, so integer NumPy arrays feed a float32 model), with a
    missing or extra trailing axis of size 1 mended (`_adjust_rank`)."""
    dtype = kt.dtype
    if not isinstance(x, Tensor):
        x = convert_to_tensor(np.asarray(x), dtype=dtype) if isinstance(
            x, (np.ndarray, list)) else convert_to_tensor(x)
    if x.dtype.name != dtype and x.dtype is not dtypes.string and dtype != "string":
        x = cast(x, dtype)
    return _adjust_rank(x, kt.shape)


def _adjust_rank(x, ref_shape):
    """Keras's `_adjust_input_rank`: a missing or extra trailing axis of size 1 is added or
    squeezed (so `fit` takes `xs` of shape (n,) for `Input(shape=(1,))`)."""
    rank, ref_rank = len(x.shape), len(ref_shape)
    if rank == ref_rank + 1 and x.shape[-1] == 1:
        return array_ops.squeeze(x, axis=-1)
    if rank == ref_rank - 1 and ref_rank and ref_shape[-1] == 1:
        return array_ops.expand_dims(x, axis=-1)
    return x


class Functional(Model):
    """A model defined by its input and output KerasTensors: `keras.Model(inputs, outputs)`."""

    def __init__(self, inputs, outputs, name=None, trainable=True, **kwargs):
        super().__init__(name=name or naming.uniquify("functional"), trainable=trainable,
                         **kwargs)
        for t in nest.flatten(inputs) + nest.flatten(outputs):
            if not isinstance(t, KerasTensor):
                raise ValueError("All `inputs` and `outputs` values must be KerasTensors. "
                                 f"Received: inputs={inputs} and outputs={outputs}")
        if isinstance(inputs, (list, tuple)) and len(inputs) == 1 and not isinstance(
                inputs, dict):
            inputs = inputs[0]
        if isinstance(outputs, tuple):
            outputs = list(outputs)
        self._inputs_struct = inputs
        self._outputs_struct = outputs
        self._inputs = nest.flatten(inputs)
        self._outputs = nest.flatten(outputs)
        self._nodes = _topological_nodes(self._outputs)
        input_ids = {id(t) for t in self._inputs}
        for node in self._nodes:
            if not node.input_tensors and not isinstance(node.layer, InputLayer):
                continue
            if isinstance(node.layer, InputLayer) and id(node.outputs) not in input_ids:
                raise ValueError(f"Graph disconnected: cannot find parent for tensor "
                                 f"{node.outputs}. The input {node.outputs.name} was not "
                                 "passed to `keras.Model(inputs=...)`.")
        layers, seen = [], set()
        for node in self._nodes:
            if id(node.layer) not in seen:
                seen.add(id(node.layer))
                layers.append(node.layer)
        self._layers_list = layers
        self.built = True

    def _tracked(self):
        return list(self._layers_list), Layer._tracked(self)[1]

    @property
    def layers(self):
        return list(self._layers_list)

    @property
    def inputs(self):
        return list(self._inputs)

    @property
    def outputs(self):
        return list(self._outputs)

    @property
    def input(self):
        return self._inputs_struct

    @property
    def output(self):
        return self._outputs_struct

    @property
    def input_names(self):
        return [t._keras_history[0].name for t in self._inputs]

    @property
    def output_names(self):
        return [t._keras_history[0].name for t in self._outputs]

    def _flatten_inputs(self, inputs):
        if isinstance(inputs, dict) and not isinstance(self._inputs_struct, dict):
            return [inputs[t._keras_history[0].name] if t._keras_history[0].name in inputs
                    else inputs[t.name] for t in self._inputs]
        if isinstance(inputs, dict):
            return [inputs[k] for k in sorted(inputs)]
        flat = nest.flatten(inputs)
        if len(flat) != len(self._inputs):
            raise ValueError(f"Layer \"{self.name}\" expects {len(self._inputs)} input(s), but "
                             f"it received {len(flat)} input tensors.")
        return flat

    def call(self, inputs, training=None, mask=None):
        values = {}
        for kt, x in zip(self._inputs, self._flatten_inputs(inputs)):
            values[id(kt)] = conform_input(x, kt)
        for node in self._nodes:
            layer = node.layer
            if isinstance(layer, InputLayer):
                continue
            args, kwargs = nest.map_structure(
                lambda t: values[id(t)] if isinstance(t, KerasTensor) else t,
                (node.args, node.kwargs))
            out = layer(*args, **kwargs)
            for kt, o in zip(node.output_tensors, nest.flatten(out)):
                values[id(kt)] = o
        return nest.pack_sequence_as(self._outputs_struct,
                                     [values[id(t)] for t in self._outputs])

    def _build_on_call(self, inputs):
        self.built = True

    def get_config(self):
        from tapeflow.keras.saving.model_config import functional_config
        return functional_config(self)
