"""`tf.TensorArray` as a loop variable of a graph loop: a buffer tensor and a size.

An eager TensorArray is a Python list (ops/tensor_array.py); a graph loop needs a fixed set of
tensors to carry from one iteration to the next. So on entering a graph loop an array becomes
a `GraphTensorArray`: a `[capacity, *element_shape]` buffer that `write` updates with a
scatter and `read` gathers from, plus its size as an int32 scalar. Both are ops with
gradients, so a loop filling an array is differentiable like any other loop.

The capacity must be known when tracing: the array's size for a fixed-size array; for
`dynamic_size=True`, its size before the loop plus the loop's trip count when that is known
(a `for` over a tensor or a `tf.range` of known bounds, without `break`). `stack()` of a grown
array then checks at run time that every slot was written (TF would return the written part:
a shape tapeflow cannot know when tracing). An array whose element shape is unknown on entry
gets its buffer when the body first writes it.
"""
import torch

from tapeflow._core import dtypes
from tapeflow._core.shape import TensorShape
from tapeflow._core.tensor import convert_to_tensor, wrap
from tapeflow.function.graph import Untraceable
from tapeflow.ops.array import reshape
from tapeflow.ops.comparison import equal
from tapeflow.ops.creation import zeros
from tapeflow.ops.gather import gather, tensor_scatter_nd_update
from tapeflow.ops.joining import stack
from tapeflow.ops.logging import Assert
from tapeflow.ops.math import maximum
from tapeflow.ops.tensor_array import TensorArray
from tapeflow.ops.joining import concat

def _int32(x):
    t = convert_to_tensor(x)
    return t if t._dtype is dtypes.int32 else wrap(t._t.to(torch.int32), dtypes.int32)


class GraphTensorArray(TensorArray):
    """A TensorArray inside (or coming out of) a graph loop: buffer + size tensors."""

    def __init__(self, dtype, capacity, element_shape, buffer, size, dynamic, on_first_write=None):
        self._dtype = dtype
        self._capacity = capacity
        self._element_shape = TensorShape(element_shape)
        self._buffer = buffer            # None until the element shape is known
        self._size = size                # int32 scalar tensor
        self._dynamic_size = dynamic
        self._infer_shape = True
        self._on_first_write = on_first_write  # makes the buffer placeholder of a loop body

    def _replace(self, buffer, size):
        return GraphTensorArray(self._dtype, self._capacity, self._element_shape, buffer, size,
                                self._dynamic_size)

    def _need_buffer(self, what):
        if self._buffer is None:
            raise Untraceable(f"TensorArray.{what} before the first write, with an unknown "
                              "element shape, inside a graph loop")
        return self._buffer

    def size(self, name=None):
        return self._size

    def write(self, index, value, name=None):
        value = self._check_value(value)
        index = _int32(index)
        buffer = self._buffer
        if buffer is None:
            if self._on_first_write is None:
                raise Untraceable("a TensorArray of unknown element shape written after a loop")
            buffer = self._on_first_write(self, value)
        new = tensor_scatter_nd_update(buffer, reshape(index, [1, 1]),
                                       reshape(value, [1] + list(value.shape)))
        return self._replace(new, maximum(self._size, index + 1))

    def read(self, index, name=None):
        return gather(self._need_buffer("read"), _int32(index))

    def gather(self, indices, name=None):
        return gather(self._need_buffer("gather"), _int32(indices))

    def stack(self, name=None):
        buffer = self._need_buffer("stack")
        if self._dynamic_size:
            Assert(equal(self._size, self._capacity), [
                f"A TensorArray with dynamic_size=True grown in a tf.function loop was stacked "
                f"before all of its {self._capacity} elements were written: tapeflow gives such "
                "an array one element per iteration of the loop. Write every iteration, or give "
                "the array a fixed size."])
        return buffer

    def concat(self, name=None):
        buffer = self.stack()
        shape = list(buffer.shape)
        return reshape(buffer, [shape[0] * shape[1]] + shape[2:]) if len(shape) > 1 else buffer

    def unstack(self, value, name=None):
        value = convert_to_tensor(value, dtype=self._dtype)
        if value.shape[0] != self._capacity:
            raise Untraceable("TensorArray.unstack of another length inside a graph loop")
        return self._replace(value, _int32(self._capacity))

    def scatter(self, indices, value, name=None):
        raise Untraceable("TensorArray.scatter inside a graph loop")

    def split(self, value, lengths, name=None):
        raise Untraceable("TensorArray.split inside a graph loop")

    def close(self, name=None):
        return None

    def __repr__(self):
        return f"<tapeflow TensorArray dtype={self._dtype.name} capacity={self._capacity}>"


class NeedsBuffer(Exception):
    """An emitting array turned out to be read (or written under a cond or an inner loop):
    the loop that owns it (`layout`, value `key`) is traced again carrying it as a buffer."""

    def __init__(self, layout, key):
        super().__init__(f"TensorArray {key} of a loop needs a buffer")
        self.layout, self.key = layout, key


class EmittingTensorArray(GraphTensorArray):
    """An array inside a loop body that the body only writes: each write is emitted to the
    loop step (which assembles the array once, after the loop) instead of copying a buffer;
    anything else asks for the buffer form."""

    def __init__(self, dtype, capacity, element_shape, size, dynamic, origin, emit):
        super().__init__(dtype, capacity, element_shape, None, size, dynamic)
        self._origin, self._emit = origin, emit

    def _refuse(self, *args, **kwargs):
        raise NeedsBuffer(*self._origin)

    read = gather = stack = concat = unstack = scatter = split = _refuse

    def write(self, index, value, name=None):
        value = self._check_value(value)
        index = _int32(index)
        if self._emit is None:  # written in a loop's condition
            raise NeedsBuffer(*self._origin)
        self._emit(index, value)
        return EmittingTensorArray(self._dtype, self._capacity, self._element_shape,
                                   maximum(self._size, index + 1), self._dynamic_size,
                                   self._origin, self._emit)


def is_array(value):
    return isinstance(value, TensorArray)


def capacity_of(ta, trip_count):
    """How many elements the array can hold in the loop (see the module docstring)."""
    if isinstance(ta, GraphTensorArray):
        return ta._capacity
    size = len(ta._values)
    if not ta._dynamic_size:
        return size
    if trip_count is None:
        raise Untraceable("a TensorArray with dynamic_size=True grown in a loop whose trip "
                          "count is only known when the function runs")
    return size + trip_count


def entry_tensors(ta, capacity):
    """The (size, buffer or None) an array enters a loop with."""
    if isinstance(ta, GraphTensorArray):
        return ta._size, ta._buffer
    size = _int32(len(ta._values))
    shape = ta._element_shape
    if not shape.is_fully_defined():
        return size, None
    return size, initial_buffer(ta, capacity, shape.as_list())


def initial_buffer(ta, capacity, element_shape):
    """The buffer holding an eager array's elements (zeros where none was written)."""
    if isinstance(ta, GraphTensorArray):
        if ta._buffer is not None:
            return ta._buffer
        if ta._on_first_write is not None:  # an enclosing loop's array: its placeholder
            like = wrap(torch.empty(tuple(element_shape), dtype=ta._dtype.torch,
                                    device="meta"), ta._dtype)
            return ta._on_first_write(ta, like)
        return zeros([capacity] + list(element_shape), ta._dtype)
    rows = [v if v is not None else zeros(element_shape, ta._dtype) for v in ta._values]
    rest = capacity - len(rows)
    if not rows:
        return zeros([capacity] + list(element_shape), ta._dtype)
    parts = stack(rows)
    if rest:
        parts = concat([parts, zeros([rest] + list(element_shape), ta._dtype)], 0)
    return parts


def template(ta, capacity, size, buffer):
    """A GraphTensorArray like `ta` over the given tensors."""
    shape = ta._element_shape if buffer is None else TensorShape(tuple(buffer.shape)[1:])
    return GraphTensorArray(ta._dtype, capacity, shape, buffer, size, ta._dynamic_size)


def is_symbolic_array(value):
    return isinstance(value, GraphTensorArray)

