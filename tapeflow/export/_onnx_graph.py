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
import sympy
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper

from tapeflow.export._dims import symbolic_size
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
        self.symbols = symbols           # sympy symbol of a `None` dimension -> Symbol
        self.nodes = []
        self.initializers = []
        self._names = {}                 # slot -> ONNX value name
        self._taken = set()
        self._shape_of_input = {}        # input name -> its Shape node's output
        self._dims = {}                  # symbol -> int64 [1] tensor of its actual size
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
        return symbolic_size(value) is None

    def dim_param(self, d):
        """An ONNX dimension for traced size `d`: the int, or the dynamic axis' name (an
        expression of them for a size computed from several)."""
        expr = symbolic_size(d)
        if expr is None:
            return int(d)
        text = str(expr.xreplace({s: sympy.Symbol(sym.name) for s, sym in self.symbols.items()}))
        return text.replace(" ", "")

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
        return self.const(to_numpy(t), f"const_{slot}")

    def symbol_size(self, symbol):
        """An int64 [1] tensor: the actual size of a `None` dimension."""
        out = self._dims.get(symbol)
        if out is None:
            sym = self.symbols[symbol]
            shape = self._shape_of_input.get(sym.input)
            if shape is None:
                shape = self._shape_of_input[sym.input] = self.node(
                    "Shape", [sym.input], hint=f"shape_of_{sym.input}")
            out = self._dims[symbol] = self.node(
                "Gather", [shape, self.const(np.array([sym.axis], np.int64))], axis=0,
                hint=sym.name)
        return out

    def ints(self, values):
        """An int64 vector of `values` (ints), computed with shape arithmetic from the actual
        input sizes where a value holds a `None` dimension."""
        pieces, run = [], []
        for v in values:
            expr = symbolic_size(v)
            if expr is None:
                run.append(int(v))
                continue
            if run:
                pieces.append(self.const(np.array(run, np.int64), "ints"))
                run = []
            pieces.append(self._size_expr(expr))
        if run:
            pieces.append(self.const(np.array(run, np.int64), "ints"))
        if not pieces:
            return self.const(np.zeros((0,), np.int64), "ints")
        return pieces[0] if len(pieces) == 1 else self.node("Concat", pieces, axis=0)

    def _size_expr(self, expr):
        """An int64 [1] tensor computing a sympy size expression (the sums, products, floor
        divisions, remainders, minima and maxima shape arithmetic makes) from the sizes of
        the `None` dimensions."""
        if expr in self.symbols:
            return self.symbol_size(expr)
        if expr.is_Integer:
            return self.const(np.array([int(expr)], np.int64), "ints")
        name = type(expr).__name__
        ops = {"Add": "Add", "Mul": "Mul", "FloorDiv": "Div", "Mod": "Mod", "PythonMod": "Mod",
               "Max": "Max", "Min": "Min"}
        if name == "Pow" and expr.exp.is_Integer and expr.exp > 0:
            return self._size_expr(sympy.Mul(*([expr.base] * int(expr.exp)), evaluate=False))
        if name not in ops:
            raise ExportError(self._where() + f"computes a size as {expr}, which the ONNX "
                              "export cannot write as shape arithmetic.")
        args = [self._size_expr(a) for a in expr.args]
        out = args[0]
        for a in args[1:]:   # integer Div of sizes (non-negative) is floor division
            out = self.node(ops[name], [out, a]) if ops[name] != "Mod" else \
                self.node("Mod", [out, a], fmod=0)
        return out

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
