"""`tf.TensorSpec`: the dtype and (possibly partial) shape of a tensor, without a value.

Used by `tf.function` input signatures and `tf.data` element specs.
"""
from tapeflow._core import dtypes
from tapeflow._core.shape import TensorShape, as_shape


class TensorSpec:
    """Describes a tensor: `TensorSpec(shape, dtype=tf.float32, name=None)`."""

    __slots__ = ("_shape", "_dtype", "_name")

    def __init__(self, shape, dtype=dtypes.float32, name=None):
        self._shape = as_shape(shape)
        self._dtype = dtypes.as_dtype(dtype)
        self._name = name

    @classmethod
    def from_tensor(cls, tensor, name=None):
        return cls(tensor.shape, tensor.dtype, name)

    @property
    def shape(self):
        return self._shape

    @property
    def dtype(self):
        return self._dtype

    @property
    def name(self):
        return self._name

    def is_compatible_with(self, other):
        """True when `other` (a spec or tensor) has this dtype and a compatible shape."""
        return other.dtype == self._dtype and self._shape.is_compatible_with(other.shape)

    def most_specific_common_supertype(self, others):
        shape = self._shape
        for o in others:
            if o.dtype != self._dtype:
                return None
            if shape.rank != o.shape.rank:
                shape = TensorShape(None)
            elif shape.rank is not None:
                shape = TensorShape([a if a == b else None for a, b in zip(shape, o.shape)])
        return TensorSpec(shape, self._dtype)

    def __eq__(self, other):
        return (type(other) is type(self) and self._shape == other._shape and
                self._dtype == other._dtype and self._name == other._name)

    def __hash__(self):
        return hash((self._shape, self._dtype, self._name))

    def __repr__(self):
        name = None if self._name is None else repr(self._name)
        return f"TensorSpec(shape={self._shape}, dtype={self._dtype!r}, name={name})"
