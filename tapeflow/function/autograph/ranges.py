"""`tf.range` (and `range()` of tensors) in converted code: a loop bound only known when the
function runs makes a `SymbolicRange`, which `for` turns into a counting graph loop without
materialising the range (whose length tapeflow could not know while tracing)."""
from tapeflow._core import dtypes
from tapeflow._core.tensor import Tensor, convert_to_tensor
from tapeflow.function.graph import Untraceable
from tapeflow.function.subgraphs import current_graph
from tapeflow.ops import creation
from tapeflow.ops.elementwise import cast

_RANK = {dtypes.int32: 0, dtypes.int64: 1, dtypes.float32: 2, dtypes.float64: 3}


def _symbolic(x):
    return isinstance(x, Tensor) and x._is_symbolic()


class SymbolicRange:
    """`tf.range(start, limit, delta)` with a bound known only when the function runs."""

    def __init__(self, start, limit, delta, dtype):
        self.start, self.limit, self.delta, self.dtype = start, limit, delta, dtype

    def trip_count(self):
        """The number of iterations when every bound is known while tracing, else None."""
        values = []
        for b in (self.start, self.limit, self.delta):
            if _symbolic(b):
                return None
            values.append(b.numpy().item() if isinstance(b, Tensor) else b)
        start, limit, delta = values
        return max(0, -(-(limit - start) // delta)) if delta else None

    def __tf_tensor__(self, dtype=None, name=None):
        raise Untraceable("a tf.range whose bounds are only known when the function runs, "
                          "used as a tensor (its length is unknown while tracing)")

    def __repr__(self):
        return f"<tf.range({self.start}, {self.limit}, {self.delta})>"


def tf_range(start, limit=None, delta=1, dtype=None, name="range"):
    """`tf.range` as converted code calls it."""
    if limit is None:
        start, limit = 0, start
    if current_graph() is None or not any(_symbolic(b) for b in (start, limit, delta)):
        return creation.range(start, limit, delta, dtype=dtype, name=name)
    bounds = [convert_to_tensor(b) if not isinstance(b, Tensor) else b
              for b in (start, limit, delta)]
    if dtype is None:
        dtype = max((b.dtype for b in bounds), key=lambda d: _RANK.get(d, -1))
    else:
        dtype = dtypes.as_dtype(dtype)
    return SymbolicRange(start, limit, delta, dtype)


def range_bounds(r):
    """(start, limit, delta) of a SymbolicRange as tensors of its dtype."""
    out = []
    for b in (r.start, r.limit, r.delta):
        t = b if isinstance(b, Tensor) else convert_to_tensor(b, dtype=r.dtype)
        out.append(t if t.dtype is r.dtype else cast(t, r.dtype))
    return tuple(out)
