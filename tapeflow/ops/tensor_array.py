"""`tf.TensorArray`: a list of same-dtype tensors, written one at a time and stacked.

Like TF's eager TensorArray it is a Python list of tensors: `write` stores a tensor and returns
the array, `stack`/`gather`/`concat` are the stack/gather/concat ops over the stored tensors, so
gradients flow through the tape with no gradient of its own. Inside a tf.function, a Python
loop filling it is unrolled while tracing; a graph loop (AutoGraph's `for i in tf.range(n)`,
`tf.while_loop`) carries it as a buffer tensor instead (tapeflow/function/loop_arrays.py), and
`read` with an index known only when the function runs gathers from the stacked elements.
"""
from tapeflow._core import dtypes
from tapeflow._core.errors import InvalidArgumentError, OutOfRangeError
from tapeflow._core.shape import TensorShape
from tapeflow._core.tensor import Tensor, convert_to_tensor
from tapeflow.ops.creation import zeros
from tapeflow.ops.joining import concat, stack, unstack
from tapeflow.ops.gather import gather


class TensorArray:
    """A dynamically filled array of tensors of one dtype.

    Args:
        dtype: the dtype of every element.
        size: the initial number of elements.
        dynamic_size: whether writes past the end grow the array.
        element_shape: the shape of every element, if known (also taken from the first
            write when `infer_shape`).

    Example:
    >>> ta = tf.TensorArray(tf.float32, size=0, dynamic_size=True)
    >>> for i in range(3):
    ...     ta = ta.write(i, float(i) * 2)
    >>> ta.stack()
    <tf.Tensor: shape=(3,), dtype=float32, numpy=array([0., 2., 4.], dtype=float32)>
    """

    def __init__(self, dtype, size=None, dynamic_size=None, clear_after_read=None,
                 tensor_array_name=None, handle=None, flow=None, infer_shape=True,
                 element_shape=None, colocate_with_first_write_call=True, name=None):
        self._dtype = dtypes.as_dtype(dtype)
        self._dynamic_size = bool(dynamic_size)
        self._infer_shape = infer_shape
        self._element_shape = TensorShape(element_shape)
        size = 0 if size is None else int(size)
        self._values = [None] * size

    @property
    def dtype(self):
        return self._dtype

    @property
    def dynamic_size(self):
        return self._dynamic_size

    @property
    def element_shape(self):
        return self._element_shape

    @property
    def flow(self):
        return convert_to_tensor(0.0)

    def size(self, name=None):
        return convert_to_tensor(len(self._values))

    def _index(self, index):
        return int(index.numpy()) if isinstance(index, Tensor) else int(index)

    def _check_value(self, value):
        value = value if type(value) is Tensor else convert_to_tensor(value,
                                                                      dtype_hint=self._dtype)
        if value.dtype is not self._dtype:
            raise InvalidArgumentError(
                None, None, f"TensorArray dtype is {self._dtype.name} but Op is trying to "
                            f"write dtype {value.dtype.name}")
        if self._infer_shape:
            if not self._element_shape.is_compatible_with(value.shape):
                raise ValueError(f"Inconsistent shapes: saw {value.shape} but expected "
                                 f"{self._element_shape} (and infer_shape=True)")
            self._element_shape = self._element_shape.merge_with(value.shape)
        return value

    def write(self, index, value, name=None):
        """Stores `value` at `index`; returns the array (TF's eager arrays write in place)."""
        index = self._index(index)
        value = self._check_value(value)
        if index < 0:
            raise InvalidArgumentError(None, None, f"Writing to negative indices "
                                                   f"(index {index}) is not allowed.")
        if index >= len(self._values):
            if not self._dynamic_size:
                raise OutOfRangeError(
                    None, None, f"Tried to write to index {index} but array is not "
                                f"resizeable and size is: {len(self._values)}")
            self._values.extend([None] * (index + 1 - len(self._values)))
        self._values[index] = value
        return self

    def read(self, index, name=None):
        if isinstance(index, Tensor) and index._is_symbolic():  # a graph loop's counter
            return gather(self.stack(), index)
        index = self._index(index)
        if not 0 <= index < len(self._values):
            raise OutOfRangeError(None, None, f"Tried to read from index {index} but array "
                                              f"size is: {len(self._values)}")
        return self._value_at(index)

    def _value_at(self, index):
        value = self._values[index]
        if value is not None:
            return value
        if not self._element_shape.is_fully_defined():
            raise InvalidArgumentError(
                None, None, f"Could not read from TensorArray index {index}. Furthermore, the "
                            f"element shape is not fully defined: {self._element_shape}.")
        return zeros(self._element_shape.as_list(), self._dtype)

    def stack(self, name=None):
        """All elements stacked along a new first axis."""
        if not self._values:
            shape = self._element_shape.as_list() if self._element_shape.rank is not None \
                else []
            return zeros([0] + [d or 0 for d in shape], self._dtype)
        return stack([self._value_at(i) for i in range(len(self._values))])

    def gather(self, indices, name=None):
        indices = indices.numpy().tolist() if isinstance(indices, Tensor) else list(indices)
        if not indices:
            return zeros([0] + self._element_shape.as_list(), self._dtype)
        return stack([self.read(i) for i in indices])

    def concat(self, name=None):
        """All elements concatenated along their first axis."""
        if not self._values:
            return zeros([0], self._dtype)
        return concat([self._value_at(i) for i in range(len(self._values))], 0)

    def unstack(self, value, name=None):
        """Fills the array with the slices of `value` along its first axis."""
        value = convert_to_tensor(value, dtype=self._dtype)
        for i, v in enumerate(unstack(value)):
            self.write(i, v)
        return self

    def scatter(self, indices, value, name=None):
        indices = indices.numpy().tolist() if isinstance(indices, Tensor) else list(indices)
        value = convert_to_tensor(value, dtype=self._dtype)
        for i, v in zip(indices, unstack(value)):
            self.write(i, v)
        return self

    def split(self, value, lengths, name=None):
        value = convert_to_tensor(value, dtype=self._dtype)
        lengths = lengths.numpy().tolist() if isinstance(lengths, Tensor) else list(lengths)
        # pieces of different lengths: no shape inference across them, as in TF
        self._values, start = [], 0
        for n in lengths:
            self._values.append(value[start:start + n])
            start += n
        return self

    def identity(self):
        return self

    def close(self, name=None):
        self._values = []

    def __repr__(self):
        return f"<tapeflow TensorArray dtype={self._dtype.name} size={len(self._values)}>"
