"""The sparse read and scatter methods of `tf.Variable` (`sparse_read`, `gather_nd`,
`scatter_nd_update`, `scatter_nd_add`, `scatter_nd_sub`), attached here because they are
compositions of ops (gather.py) that the core Variable may not import. Each scatter writes the
whole new value through `assign`, so tapes and traces see an ordinary variable write, and
returns what `assign` returns (TF's UnreadVariable)."""
from tapeflow._core.variable import Variable
from tapeflow.ops.gather import gather, gather_nd, tensor_scatter_nd_add, \
    tensor_scatter_nd_update
from tapeflow.ops.math import negative


def _sparse_read(self, indices, name=None):
    """`tf.gather(variable, indices)`: the rows at `indices`."""
    return gather(self.value(), indices)


def _gather_nd(self, indices, name=None):
    """`tf.gather_nd(variable, indices)`."""
    return gather_nd(self.value(), indices)


def _scatter_nd_update(self, indices, updates, name=None):
    """Writes `updates` at the positions `indices` (as `tf.tensor_scatter_nd_update`)."""
    return self.assign(tensor_scatter_nd_update(self.value(), indices, updates))


def _scatter_nd_add(self, indices, updates, name=None):
    """Adds `updates` at the positions `indices`."""
    return self.assign(tensor_scatter_nd_add(self.value(), indices, updates))


def _scatter_nd_sub(self, indices, updates, name=None):
    """Subtracts `updates` at the positions `indices`."""
    return self.assign(tensor_scatter_nd_add(self.value(), indices, negative(updates)))


Variable.sparse_read = _sparse_read
Variable.gather_nd = _gather_nd
Variable.scatter_nd_update = _scatter_nd_update
Variable.scatter_nd_add = _scatter_nd_add
Variable.scatter_nd_sub = _scatter_nd_sub
