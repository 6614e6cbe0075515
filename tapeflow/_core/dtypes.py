"""TensorFlow's dtypes as `DType` singletons, and the map to and from torch and NumPy.

Every tapeflow tensor carries one of these. A `DType` knows the torch dtype that stores it
(`None` for `string`, kept as a NumPy object array) and the NumPy type `.numpy()` returns.
Conversion rules for Python values (float -> float32, int -> int32) live in `tensor.py`.
"""
import builtins

import ml_dtypes
import numpy as np
import torch


class DType:
    """A TensorFlow element type, e.g. `tf.float32`."""

    __slots__ = ("name", "torch", "as_numpy_dtype", "size", "is_floating", "is_integer",
                 "is_complex", "is_bool", "is_unsigned", "_enum")

    def __init__(self, name, torch_dtype, numpy_type, size, kind, enum):
        self.name = name
        self.torch = torch_dtype
        self.as_numpy_dtype = numpy_type
        self.size = size
        self.is_floating = kind == "f"
        self.is_integer = kind in "iu"
        self.is_unsigned = kind == "u"
        self.is_complex = kind == "c"
        self.is_bool = kind == "b"
        self._enum = enum

    @property
    def is_numpy_compatible(self):
        return True

    @property
    def is_quantized(self):
        return False

    @property
    def base_dtype(self):
        return self

    @property
    def real_dtype(self):
        return {"complex64": float32, "complex128": float64}.get(self.name, self)

    @property
    def as_datatype_enum(self):
        return self._enum

    @property
    def min(self):
        return self._limits().min

    @property
    def max(self):
        return self._limits().max

    @property
    def limits(self):
        return (self.min, self.max)

    def _limits(self):
        if self.is_floating:
            return ml_dtypes.finfo(self.as_numpy_dtype)
        if self.is_integer:
            return np.iinfo(self.as_numpy_dtype)
        raise TypeError(f"Cannot find minimum value of {self} with type {self}.")

    def is_compatible_with(self, other):
        return as_dtype(other) is self

    def __eq__(self, other):
        if other is None:
            return False
        if isinstance(other, DType):
            return self is other
        try:
            return as_dtype(other) is self
        except TypeError:
            return False

    def __ne__(self, other):
        return not self.__eq__(other)

    def __hash__(self):
        return self._enum

    def __repr__(self):
        return "tf." + self.name

    def __str__(self):
        return f"<dtype: '{self.name}'>"

    def __reduce__(self):
        return as_dtype, (self.name,)


def _d(name, torch_dtype, numpy_type, size, kind, enum):
    return DType(name, torch_dtype, numpy_type, size, kind, enum)


float16 = half = _d("float16", torch.float16, np.float16, 2, "f", 19)
bfloat16 = _d("bfloat16", torch.bfloat16, ml_dtypes.bfloat16, 2, "f", 14)
float32 = _d("float32", torch.float32, np.float32, 4, "f", 1)
float64 = double = _d("float64", torch.float64, np.float64, 8, "f", 2)
int8 = _d("int8", torch.int8, np.int8, 1, "i", 6)
int16 = _d("int16", torch.int16, np.int16, 2, "i", 5)
int32 = _d("int32", torch.int32, np.int32, 4, "i", 3)
int64 = _d("int64", torch.int64, np.int64, 8, "i", 9)
uint8 = _d("uint8", torch.uint8, np.uint8, 1, "u", 4)
uint16 = _d("uint16", torch.uint16, np.uint16, 2, "u", 17)
uint32 = _d("uint32", torch.uint32, np.uint32, 4, "u", 22)
uint64 = _d("uint64", torch.uint64, np.uint64, 8, "u", 23)
bool = _d("bool", torch.bool, np.bool_, 1, "b", 10)  # noqa: A001 - TF's public name
complex64 = _d("complex64", torch.complex64, np.complex64, 8, "c", 8)
complex128 = _d("complex128", torch.complex128, np.complex128, 16, "c", 18)
string = _d("string", None, object, None, "s", 7)

ALL = (float16, bfloat16, float32, float64, int8, int16, int32, int64, uint8, uint16, uint32,
       uint64, bool, complex64, complex128, string)
_BY_NAME = {d.name: d for d in ALL}
_BY_NAME.update(half=float16, double=float64)
FROM_TORCH = {d.torch: d for d in ALL if d.torch is not None}
_BY_NUMPY = {np.dtype(d.as_numpy_dtype): d for d in ALL if d is not string}
_BY_PYTHON = {float: float32, builtins.bool: bool}  # exactly the Python types TF accepts

FLOATING = (float16, bfloat16, float32, float64)
INTEGER = (int8, int16, int32, int64, uint8, uint16, uint32, uint64)
COMPLEX = (complex64, complex128)


def as_dtype(type_value):
    """Converts a name, NumPy/torch dtype, Python type or DType to a `tf.DType`."""
    if isinstance(type_value, DType):
        return type_value
    if type_value is None:  # NumPy would read None as float64; TF refuses it
        raise TypeError("Cannot convert the argument `type_value`: None to a TensorFlow DType.")
    if isinstance(type_value, str):
        d = _BY_NAME.get(type_value)
        if d is not None:
            return d
    elif isinstance(type_value, torch.dtype):
        d = FROM_TORCH.get(type_value)
        if d is not None:
            return d
    elif isinstance(type_value, type) and type_value in _BY_PYTHON:
        return _BY_PYTHON[type_value]
    elif any(type_value is t for t in (int, complex, str, bytes)):
        pass
    else:
        try:
            npd = np.dtype(type_value)
        except TypeError:
            npd = None
        if npd is not None:
            if npd.kind in "OSU":
                return string
            d = _BY_NUMPY.get(npd)
            if d is not None:
                return d
    raise TypeError(f"Cannot convert the argument `type_value`: {type_value!r} to a TensorFlow "
                    "DType.")
