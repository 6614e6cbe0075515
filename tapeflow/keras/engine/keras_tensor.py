"""`KerasTensor`: a symbolic tensor of the functional API (shape with `None` dims, dtype, and
the layer call that produced it). `keras.Input` makes one; calling a layer on one records a node
(functional.py). Arithmetic operators on KerasTensors become small operator layers, so
`keras.Model(inp, (dense(inp) + inp) * 2)` works as in Keras.
"""
from tapeflow._core.dtypes import as_dtype
from tapeflow.keras.engine import naming


class KerasTensor:
    """A symbolic placeholder: `shape` (a tuple, `None` for unknown dims) and `dtype`."""

    def __init__(self, shape, dtype="float32", sparse=False, name=None, record_history=None):
        self.shape = tuple(None if d is None else int(d) for d in shape)
        self.dtype = as_dtype(dtype).name
        self.sparse = sparse
        self.name = name or naming.uniquify("keras_tensor")
        self._keras_history = record_history  # (layer, node_index, tensor_index)

    @property
    def ndim(self):
        return len(self.shape)

    def __repr__(self):
        return (f"<KerasTensor shape={self.shape}, dtype={self.dtype}, sparse={self.sparse}, "
                f"ragged=False, name={self.name}>")

    def __len__(self):
        raise TypeError("A KerasTensor is symbolic: it has no length. Use `x.shape[0]`.")

    def __bool__(self):
        raise TypeError("A symbolic KerasTensor cannot be used as a Python `bool`: its value "
                        "is only known when the model runs.")

    def numpy(self):
        raise ValueError("A KerasTensor is symbolic: it's a placeholder for a shape and a "
                         "dtype. It doesn't have any actual numerical value. You cannot "
                         "convert it to a NumPy array.")

    __array__ = numpy

    def __iter__(self):
        raise TypeError("A KerasTensor is symbolic and cannot be iterated.")

    __hash__ = object.__hash__

    # -- operators: recorded as operator layers ------------------------------------------------
    def _op(self, name, fn, *others):
        from tapeflow.keras.engine.functional import OperatorLayer
        return OperatorLayer(name, fn)(self, *others)

    def __add__(self, o):
        return self._op("add", lambda a, b: a + b, o)

    def __radd__(self, o):
        return self._op("add", lambda a, b: b + a, o)

    def __sub__(self, o):
        return self._op("subtract", lambda a, b: a - b, o)

    def __rsub__(self, o):
        return self._op("subtract", lambda a, b: b - a, o)

    def __mul__(self, o):
        return self._op("multiply", lambda a, b: a * b, o)

    def __rmul__(self, o):
        return self._op("multiply", lambda a, b: b * a, o)

    def __truediv__(self, o):
        return self._op("divide", lambda a, b: a / b, o)

    def __rtruediv__(self, o):
        return self._op("divide", lambda a, b: b / a, o)

    def __matmul__(self, o):
        return self._op("matmul", lambda a, b: a @ b, o)

    def __pow__(self, o):
        return self._op("power", lambda a, b: a ** b, o)

    def __neg__(self):
        return self._op("negative", lambda a: -a)

    def __getitem__(self, key):
        return self._op("get_item", lambda a: a[key])
