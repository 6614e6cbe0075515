"""The ONNX graph under construction: value names, nodes, initializers, and the shape
arithmetic that keeps a traced `None` dimension dynamic.

The converters in `_onnx_ops.py` and `_onnx_nn.py` write ONNX through an `Emitter`: `node()`
appends a node, `const()` an initializer, `value(slot)` names a slot of the tapeflow trace
(an input, a variable read, a captured constant or an earlier step's output), and
`ints(values)` turns a shape-like attr into an int64 vector that ONNX computes from the actual
input sizes wherever the attr holds a `None` dimension. How a trace represents such a
dimension is known to `_dims.py` alone.
"""
import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper

from tapeflow.export._dims import mentions_symbol, symbolic_size
from tapeflow.export.errors import ExportError  # noqa: F401 (re-exported to the tables)

INT64_MAX = np.iinfo(np.int64).max
INT64_MIN = np.iinfo(np.int64).min


_ONNX_TYPES = {
    torch.float32: TensorProto.FLOAT, torch.float64: TensorProto.DOUBLE,
    torch.float16: TensorProto.FLOAT16, torch.bfloat16: TensorProto.BFLOAT16,
    torch.int8: TensorProto.INT8, torch.int16: TensorProto.INT16,
    torch.int32: TensorProto.INT32, torch.int64: TensorProto.INT64,
    torch.uint8: TensorProto.UINT8, torch.uint16: TensorProto.UINT16,
    torch.uint32: TensorProto.UINT32, torch.uint64: TensorProto.UINT64,
    torch.bool: TensorProto.BOOL, torch.complex64: TensorProto.COMPLEX64,
    torch.complex128: TensorProto.COMPLEX128,
}


def onnx_type(torch_dtype):
    try:
        return _ONNX_TYPES[torch_dtype]
    except KeyError:
        raise ExportError(f"ONNX has no tensor type for {torch_dtype}.") from None


def to_numpy(t):
    """A torch tensor's value as a NumPy array (bfloat16 through float32)."""
    t = t.detach().cpu()
    if t.dtype is torch.bfloat16:
        t = t.float()
    return t.numpy()


class Symbol:
    """A `None` dimension of the trace: the graph input and axis its size is read from, and
    the name of the dynamic axis in the ONNX model."""

    __slots__ = ("input", "axis", "name")

    def __init__(self, input_name, axis, name):
        self.input = input_name
        self.axis = axis
        self.name = name


class Emitter:
    """Builds the nodes and initializers of one ONNX graph from one tapeflow trace."""

    def __init__(self, graph, opset, symbols):
        self.graph = graph
        self.opset = opset
        self.symbols = symbols           # sentinel -> Symbol
        self.sentinels = tuple(symbols)
        self.nodes = []
        self.initializers = []
        self._names = {}                 # slot -> ONNX value name
        self._taken = set()
        self._shape_of_input = {}        # input name -> its Shape node's output
        self._dims = {}                  # sentinel -> int64 [1] tensor of its actual size
        self._small = {}                 # (dtype, value) -> initializer name, for scalars
        self.step = None                 # the step being converted, for error messages

    # -- names ---------------------------------------------------------------------------------
    def fresh(self, hint):
        hint = hint.replace(":", "_").replace("/", "_") or "v"
        name, n = hint, 0
        while name in self._taken:
            n += 1
            name = f"{hint}_{n}"
        self._taken.add(name)
        return name

    def bind(self, slot, name):
        self._names[slot] = name

    def has(self, slot):
        return slot in self._names or slot in self.graph.constants

    def value(self, slot):
        """The ONNX name of a trace slot (a captured constant becomes an initializer now)."""
        name = self._names.get(slot)
        if name is None:
            if slot not in self.graph.constants:
                raise ExportError(self._where() + f"reads a value (slot {slot}) that is not "
                                  "available in the exported graph.")
            name = self._names[slot] = self._constant(self.graph.constants[slot], slot)
        if name is False:
            raise ExportError(self._where() + "reads an output that has no ONNX equivalent "
                              "(the saved activations a gradient op would use).")
        return name

    def _where(self):
        if self.step is None or self.step.op is None:
            return ""
        return f"Op {self.step.op.name!r} "

    # -- traced facts --------------------------------------------------------------------------
    def shape(self, slot):
        return tuple(self.graph.shapes[slot])

    def rank(self, slot):
        return len(self.graph.shapes[slot])

    def torch_dtype(self, slot):
        return self.graph.dtypes[slot].torch

    def elem_type(self, slot):
        return onnx_type(self.torch_dtype(slot))

    def is_static(self, value):
        return symbolic_size(value, self.sentinels) is None

    def dim_param(self, d):
        """An ONNX dimension for traced size `d`: the int, or the dynamic axis' name."""
        m = symbolic_size(d, self.sentinels)
        if m is None:
            return int(d)
        k, powers = m
        parts = [self.symbols[s].name + (f"^{p}" if p > 1 else "") for s, p in powers]
        return "*".join(([str(k)] if k != 1 else []) + parts)

    # -- building ------------------------------------------------------------------------------
    def node(self, op_type, inputs, n_out=1, hint=None, **attrs):
        """Appends a node; returns its output name (or the list of them for n_out > 1)."""
        outs = [self.fresh(hint or op_type.lower()) for _ in range(n_out)]
        attrs = {k: v for k, v in attrs.items() if v is not None}
        self.nodes.append(helper.make_node(op_type, list(inputs), outs,
                                           name=self.fresh("node_" + op_type), **attrs))
        return outs[0] if n_out == 1 else outs

    def const(self, array, hint="const"):
        """An initializer holding `array` (a NumPy array or something np.asarray takes)."""
        array = np.asarray(array)
        if array.ndim == 0 or array.size == 1 and array.ndim == 1:
            key = (array.dtype.str, array.shape, array.tobytes())
            name = self._small.get(key)
            if name is not None:
                return name
        name = self.fresh(hint)
        self.initializers.append(numpy_helper.from_array(array, name))
        if array.size == 1 and array.ndim <= 1:
            self._small[(array.dtype.str, array.shape, array.tobytes())] = name
        return name

    def scalar(self, value, torch_dtype):
        """A 0-d constant of a torch dtype (the other operand of an elementwise op)."""
        return self.const(to_numpy(torch.tensor(value, dtype=torch_dtype)), "c")

    def _constant(self, t, slot):
        if t.numel() <= 4096 and mentions_symbol(t, self.sentinels):
            # a captured value made from a `None` dimension (tf.shape(x) and arithmetic on
            # it): computed from the actual input sizes
            flat = self.ints([int(v) for v in t.reshape(-1).tolist()])
            shaped = self.node("Reshape", [flat, self.const(np.array(t.shape, np.int64))])
            return self.node("Cast", [shaped], to=onnx_type(t.dtype))
        return self.const(to_numpy(t), f"const_{slot}")

    def symbol_size(self, sentinel):
        """An int64 [1] tensor: the actual size of a `None` dimension."""
        out = self._dims.get(sentinel)
        if out is None:
            sym = self.symbols[sentinel]
            shape = self._shape_of_input.get(sym.input)
            if shape is None:
                shape = self._shape_of_input[sym.input] = self.node(
                    "Shape", [sym.input], hint=f"shape_of_{sym.input}")
            out = self._dims[sentinel] = self.node(
                "Gather", [shape, self.const(np.array([sym.axis], np.int64))], axis=0,
                hint=sym.name)
        return out

    def ints(self, values):
        """An int64 vector of `values` (ints), computed with shape arithmetic from the actual
        input sizes where a value holds a `None` dimension."""
        values = [int(v) for v in values]
        pieces, run = [], []
        for v in values:
            m = symbolic_size(v, self.sentinels)
            if m is None:
                run.append(v)
                continue
            if run:
                pieces.append(self.const(np.array(run, np.int64), "ints"))
                run = []
            k, powers = m
            expr = None
            for s, p in powers:
                for _ in range(p):
                    d = self.symbol_size(s)
                    expr = d if expr is None else self.node("Mul", [expr, d])
            if k != 1:
                expr = self.node("Mul", [expr, self.const(np.array([k], np.int64))])
            pieces.append(expr)
        if run:
            pieces.append(self.const(np.array(run, np.int64), "ints"))
        if not pieces:
            return self.const(np.zeros((0,), np.int64), "ints")
        return pieces[0] if len(pieces) == 1 else self.node("Concat", pieces, axis=0)

    def axes(self, values):
        """An int64 vector of axes (an input from opset 13 on for Squeeze, Unsqueeze and
        ReduceSum, from 18 for the other reductions)."""
        return self.const(np.array(list(values), np.int64), "axes")

    # -- the model -----------------------------------------------------------------------------
    def value_info(self, name, slot):
        dims = [self.dim_param(d) for d in self.shape(slot)]
        return helper.make_tensor_value_info(name, self.elem_type(slot), dims)

    def make_graph(self, name, inputs, outputs):
        return helper.make_graph(self.nodes, name, inputs, outputs, self.initializers)


def opset_imports(opset):
    return [helper.make_opsetid("", opset)]


def check(model):
    """onnx's checker with full shape inference (it catches wrong attrs and ranks)."""
    onnx.checker.check_model(model, full_check=True)
