"""`tf.SparseTensor`: a composite of three tensors (`indices` int64 [N, rank], `values` [N],
`dense_shape` int64 [rank]) standing for a mostly-zero tensor, and its `tf.SparseTensorSpec`.

The class only holds and validates its parts and shows itself as TF does; the ops on sparse
tensors (to_dense, sparse_dense_matmul, add, reorder, ...) live in `tapeflow/ops/sparse.py`,
which also attaches the `*` and `/` operators, as it attaches Tensor's. `tf.io` parsing makes
these for `VarLenFeature`s.
"""
from tapeflow._core import dtypes
from tapeflow._core.shape import TensorShape, as_shape
from tapeflow._core.tensor import Tensor, convert_to_tensor


def _int64_part(value, name):
    try:
        return convert_to_tensor(value, dtype=dtypes.int64)
    except ValueError as e:
        if isinstance(value, Tensor):  # TF names the part in the dtype error
            raise ValueError(f"{name}: {e}") from None
        raise


_TF_CLASS = "<class 'tensorflow.python.framework.sparse_tensor.SparseTensor'>"  # as TF names it


def _merge_dims(a, b):
    if a is not None and b is not None and a != b:
        raise ValueError(f"Dimensions {a} and {b} are not compatible")
    return a if a is not None else b


class SparseTensor:
    """A sparse tensor: the `values` at `indices` of a tensor of shape `dense_shape`, zero
    elsewhere.

    Args:
        indices: int64 [N, rank], the coordinates of the N stored values (row-major order for
            most ops: see `tf.sparse.reorder`).
        values: a 1-D tensor of N values, of any dtype.
        dense_shape: int64 [rank], the shape of the dense tensor this stands for.

    Example:
    >>> st = tf.SparseTensor(indices=[[0, 0], [1, 2]], values=[1.0, 2.0], dense_shape=[3, 4])
    >>> tf.sparse.to_dense(st).shape
    TensorShape([3, 4])
    """

    __slots__ = ("_indices", "_values", "_dense_shape", "_shape", "__weakref__")
    _tf_composite = True  # tf.is_tensor is true of it

    def __init__(self, indices, values, dense_shape):
        indices = _int64_part(indices, "indices")
        values = convert_to_tensor(values)
        dense_shape = _int64_part(dense_shape, "dense_shape")
        index_shape = indices.shape
        index_shape.assert_has_rank(2)
        values.shape.assert_has_rank(1)
        dense_shape.shape.assert_has_rank(1)
        _merge_dims(index_shape[0], values.shape[0])
        _merge_dims(index_shape[1], dense_shape.shape[0])
        self._indices, self._values, self._dense_shape = indices, values, dense_shape
        self._shape = _static_shape(dense_shape)

    @classmethod
    def _from_parts(cls, indices, values, dense_shape, shape=None):
        """For ops and traces, whose parts are already checked: no conversion; `shape` is the
        static shape when `dense_shape` is symbolic (a tf.function argument's spec)."""
        out = object.__new__(cls)
        out._indices, out._values, out._dense_shape = indices, values, dense_shape
        out._shape = _static_shape(dense_shape) if shape is None else as_shape(shape)
        return out

    @classmethod
    def from_value(cls, sparse_tensor_value):
        if isinstance(sparse_tensor_value, SparseTensor):
            return sparse_tensor_value
        return cls(sparse_tensor_value.indices, sparse_tensor_value.values,
                   sparse_tensor_value.dense_shape)

    @property
    def indices(self):
        return self._indices

    @property
    def values(self):
        return self._values

    @property
    def dense_shape(self):
        return self._dense_shape

    @property
    def dtype(self):
        return self._values.dtype

    @property
    def shape(self):
        return self._shape

    def get_shape(self):
        return self._shape

    def set_shape(self, shape):
        shape = as_shape(shape)
        if not self._shape.is_compatible_with(shape):
            raise ValueError(f"Shapes {self._shape} and {shape} are incompatible")
        self._shape = self._shape.merge_with(shape)

    def with_values(self, new_values):
        """The same indices and shape with other values (of the same length)."""
        new_values = convert_to_tensor(new_values)
        new_values.shape.assert_has_rank(1)
        _merge_dims(self._values.shape[0], new_values.shape[0])
        return SparseTensor._from_parts(self._indices, new_values, self._dense_shape,
                                        self._shape)

    def consumers(self):
        return []

    @property
    def op(self):
        raise AttributeError("Tensor.op is undefined when eager execution is enabled.")

    @property
    def graph(self):
        raise AttributeError("Tensor.graph is undefined when eager execution is enabled.")

    @property
    def _type_spec(self):
        return SparseTensorSpec(self._shape, self.dtype)

    # the composite-tensor protocol (nest.flatten(expand_composites=True), tf.function)
    def _tf_components(self):
        return (self._indices, self._values, self._dense_shape)

    def _tf_rebuild(self, components):
        return SparseTensor._from_parts(*components, shape=self._shape)

    def _tf_signature(self):
        return (self.dtype, tuple(self._shape.as_list()) if self._shape.rank is not None
                else None)

    def __tf_tensor__(self, dtype=None, name=None):
        # a SparseTensor is not a dense tensor: tf.convert_to_tensor refuses it, as TF does
        raise ValueError(f"Attempt to convert a value ({self}) with an unsupported type "
                         f"({_TF_CLASS}) to a Tensor.")

    def __repr__(self):
        return (f"SparseTensor(indices={self._indices!s}, values={self._values!s}, "
                f"dense_shape={self._dense_shape!s})")

    __str__ = __repr__


def _static_shape(dense_shape):
    """The shape a dense_shape tensor gives statically: its value when known, else its rank's
    worth of None."""
    if dense_shape._is_symbolic():
        n = dense_shape.shape[0]
        return TensorShape(None if n is None else [None] * n)
    return TensorShape([int(d) for d in dense_shape.numpy()])


class SparseTensorSpec:
    """`tf.SparseTensorSpec(shape, dtype)`: the type of a SparseTensor, for `tf.function`
    signatures and `tf.data` element specs."""

    __slots__ = ("_shape", "_dtype")

    def __init__(self, shape=None, dtype=dtypes.float32):
        self._shape = as_shape(shape)
        self._dtype = dtypes.as_dtype(dtype)

    @classmethod
    def from_value(cls, value):
        return cls(value.shape, value.dtype)

    @property
    def shape(self):
        return self._shape

    @property
    def dtype(self):
        return self._dtype

    @property
    def value_type(self):
        return SparseTensor

    def is_compatible_with(self, other):
        if isinstance(other, SparseTensor):
            other = other._type_spec
        return (isinstance(other, SparseTensorSpec) and other._dtype == self._dtype and
                self._shape.is_compatible_with(other._shape))

    def most_specific_common_supertype(self, others):
        shape = self._shape
        for o in others:
            if not isinstance(o, SparseTensorSpec) or o._dtype != self._dtype:
                return None
            if shape.rank != o._shape.rank:
                shape = TensorShape(None)
            elif shape.rank is not None:
                shape = TensorShape([a if a == b else None for a, b in zip(shape, o._shape)])
        return SparseTensorSpec(shape, self._dtype)

    def __eq__(self, other):
        return (type(other) is SparseTensorSpec and self._shape == other._shape and
                self._dtype == other._dtype)

    def __hash__(self):
        return hash((SparseTensorSpec, self._shape, self._dtype))

    def __repr__(self):
        return f"SparseTensorSpec({self._shape!r}, {self._dtype!r})"

