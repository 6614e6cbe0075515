"""`tf.RaggedTensor`: rows of different lengths, as `values` (a Tensor, or a RaggedTensor for
more ragged dimensions) cut into rows by `row_splits` (int64, `nrows + 1` offsets).

This module owns the type: its factories (`from_row_splits`, `from_row_lengths`,
`from_value_rowids`, `from_tensor`) with TF's validation errors, its accessors, `to_tensor`,
`to_list`, `numpy`, row indexing, the elementwise operators (applied to the flat values, so
gradients flow through the ordinary ops), and how it shows itself. `tf.ragged.constant`,
`map_flat_values` and tf.print's text for it are in ragged.py.
"""
import numpy as np

from tapeflow._core import dtypes
from tapeflow._core.errors import InvalidArgumentError
from tapeflow._core.shape import TensorShape, as_shape
from tapeflow._core.tensor import Tensor, convert_to_tensor, wrap
from tapeflow.ops import comparison, elementwise, math
from tapeflow.ops.gather import boolean_mask, gather, tensor_scatter_nd_update
from tapeflow.ops.joining import concat
from tapeflow.ops.reduction import cumsum

_INT64 = dtypes.int64


def _assert_equal_text(x, y, summarize=3):
    """The text of TF's assert_equal failure for int arrays `x`, `y` of one shape."""
    lines = ["Condition x == y did not hold."]
    if x.ndim and x.shape == y.shape:
        diff = np.flatnonzero(x != y)[:summarize]
        lines += [f"Indices of first {len(diff)} different values:", str(diff.reshape(-1, 1)),
                  "Corresponding x values:", str(x[diff]), "Corresponding y values:",
                  str(y[diff])]
    n = min(summarize, x.size)
    lines += [f"First {n} elements of x:", str(np.reshape(x, -1)[:n]),
              f"First {min(summarize, y.size)} elements of y:",
              str(np.reshape(y, -1)[:min(summarize, y.size)])]
    return "\n".join(lines)


def _nonnegative_text(prefix, x):
    shown = "[" + ", ".join(repr(str(v)) for v in x.tolist()) + "]"
    return (f"{prefix}  \nCondition x >= 0 did not hold element-wise:\n"
            f"x (shape={TensorShape(x.shape)} dtype=int64) = \n{shown}")


def _invalid(text):
    return InvalidArgumentError(None, None, text)


def _as_values(values):
    return values if isinstance(values, RaggedTensor) else convert_to_tensor(values)


def _as_partition(x):
    """A row-partition tensor: int64 for Python values, as given for int32/int64 tensors."""
    if isinstance(x, Tensor) and x.dtype in (dtypes.int32, _INT64):
        return x
    return convert_to_tensor(x, dtype=_INT64)


def _nvals(values):
    return values.nrows_value() if isinstance(values, RaggedTensor) else values.shape[0]


class RaggedTensor:
    """A tensor with rows of different lengths (ragged dimensions).

    Make one with `tf.ragged.constant` or the `from_*` class methods; `to_tensor()` pads it
    into a dense tensor.

    Example:
    >>> rt = tf.ragged.constant([[1, 2], [3]])
    >>> rt.row_lengths().numpy()
    array([2, 1])
    """

    __slots__ = ("_values", "_row_splits", "__weakref__")
    _tf_composite = True  # tf.is_tensor is true of it
    __array_priority__ = 101  # NumPy defers `ndarray + RaggedTensor` to us

    @classmethod
    def _from_parts(cls, values, row_splits):
        out = object.__new__(cls)
        out._values, out._row_splits = values, row_splits
        return out

    # -- factories ------------------------------------------------------------------------------
    @classmethod
    def from_row_splits(cls, values, row_splits, name=None, validate=True):
        """Rows `values[row_splits[i]:row_splits[i + 1]]`."""
        values, splits = _as_values(values), _as_partition(row_splits)
        splits.shape.assert_has_rank(1)
        if validate and not splits._is_symbolic():
            s = splits.numpy().astype(np.int64)
            where = "Arguments to from_row_splits do not form a valid RaggedTensor:"
            if not s.size or s[0] != 0:
                raise _invalid(f"{where}zero\n" + _assert_equal_text(
                    np.array(s[0] if s.size else 0), np.array(0)))
            if (np.diff(s) < 0).any():
                raise _invalid(_nonnegative_text(f"{where}monotonic.", np.diff(s)))
            cls._check_nvals(values, s[-1], "_from_row_partition")
        return cls._from_parts(values, splits)

    @staticmethod
    def _check_nvals(values, total, what):
        n = _nvals(values)
        if n is not None and int(total) != n:
            raise _invalid(f"Arguments to {what} do not form a valid RaggedTensor\n" +
                           _assert_equal_text(np.array(int(total)), np.array(n)))

    @classmethod
    def from_row_lengths(cls, values, row_lengths, name=None, validate=True):
        """Consecutive rows of `values` of the given lengths."""
        values, lengths = _as_values(values), _as_partition(row_lengths)
        lengths.shape.assert_has_rank(1)
        if validate and not lengths._is_symbolic():
            n = lengths.numpy().astype(np.int64)
            if (n < 0).any():
                raise _invalid(_nonnegative_text(
                    "Arguments to from_row_lengths do not form a valid RowPartition.", n))
            cls._check_nvals(values, n.sum(), "_from_row_partition")
        zero = convert_to_tensor([0], dtype=lengths.dtype)
        return cls._from_parts(values, concat([zero, cumsum(lengths)], 0))

    @classmethod
    def from_value_rowids(cls, values, value_rowids, nrows=None, name=None, validate=True):
        """Row `value_rowids[i]` holds `values[i]` (ids sorted; `nrows` rows, by default one
        more than the last id)."""
        values, ids = _as_values(values), _as_partition(value_rowids)
        rowids = ids.numpy().astype(np.int64)
        if validate and (np.diff(rowids) < 0).any():
            raise _invalid(_nonnegative_text(
                "Arguments to from_value_rowids do not form a valid RowPartition.",
                np.diff(rowids)))
        n = int(nrows) if nrows is not None else (int(rowids[-1]) + 1 if rowids.size else 0)
        lengths = np.bincount(rowids, minlength=n)[:n] if rowids.size else np.zeros(n, np.int64)
        return cls.from_row_lengths(values, convert_to_tensor(lengths.astype(
            ids.dtype.as_numpy_dtype)), validate=validate)

    @classmethod
    def from_tensor(cls, tensor, lengths=None, padding=None, ragged_rank=1, name=None,
                    row_splits_dtype=_INT64):
        """The rows of a dense tensor, cut to `lengths`, or with trailing `padding` removed."""
        t = convert_to_tensor(tensor)
        rows, width = t.shape[0], t.shape[1]
        if lengths is not None:
            n = np.asarray(convert_to_tensor(lengths).numpy(), np.int64)
        elif padding is not None:
            pad = t.numpy() == convert_to_tensor(padding, dtype=t.dtype).numpy()
            pad = pad.reshape(rows, width, -1).all(axis=2)
            n = np.array([width - (np.argmin(p[::-1]) if not p.all() else width) for p in pad],
                         np.int64)
        else:
            n = np.full(rows, width, np.int64)
        keep = np.arange(width)[None, :] < n[:, None]
        values = boolean_mask(t, convert_to_tensor(keep))
        return cls.from_row_lengths(values, convert_to_tensor(n), validate=False)

    @classmethod
    def from_nested_row_splits(cls, flat_values, nested_row_splits, name=None, validate=True):
        out = flat_values
        for splits in reversed(list(nested_row_splits)):
            out = cls.from_row_splits(out, splits, validate=validate)
        return out

    @classmethod
    def from_nested_row_lengths(cls, flat_values, nested_row_lengths, name=None,
                                validate=True):
        out = flat_values
        for lengths in reversed(list(nested_row_lengths)):
            out = cls.from_row_lengths(out, lengths, validate=validate)
        return out

    # -- accessors -----------------------------------------------------------------------------
    @property
    def values(self):
        return self._values

    @property
    def row_splits(self):
        return self._row_splits

    @property
    def flat_values(self):
        v = self._values
        while isinstance(v, RaggedTensor):
            v = v._values
        return v

    @property
    def nested_row_splits(self):
        out, v = [self._row_splits], self._values
        while isinstance(v, RaggedTensor):
            out.append(v._row_splits)
            v = v._values
        return tuple(out)

    @property
    def dtype(self):
        return self.flat_values.dtype

    @property
    def ragged_rank(self):
        return len(self.nested_row_splits)

    @property
    def row_splits_dtype(self):
        return self._row_splits.dtype

    @property
    def shape(self):
        n = self._row_splits.shape[0]
        inner = self.flat_values.shape[1:]
        return TensorShape([None if n is None else n - 1] + [None] * self.ragged_rank) \
            .concatenate(inner)

    def get_shape(self):
        return self.shape

    @property
    def ndim(self):
        return self.shape.rank

    def nrows_value(self):
        n = self._row_splits.shape[0]
        return None if n is None else n - 1

    def nrows(self, out_type=None, name=None):
        n = convert_to_tensor(self.nrows_value(), dtype=self._row_splits.dtype)
        return n if out_type is None else elementwise.cast(n, out_type)

    def row_lengths(self, axis=1, name=None):
        if axis == 1:
            s = self._row_splits
            return s[1:] - s[:-1]
        return self.with_values(self._values.row_lengths(axis - 1))

    def nested_row_lengths(self, name=None):
        out, v = [], self
        while isinstance(v, RaggedTensor):
            out.append(v.row_lengths())
            v = v._values
        return tuple(out)

    def value_rowids(self, name=None):
        lengths = self.row_lengths().numpy().astype(np.int64)
        ids = np.repeat(np.arange(len(lengths)), lengths)
        return convert_to_tensor(ids.astype(self._row_splits.dtype.as_numpy_dtype))

    def bounding_shape(self, axis=None, name=None, out_type=None):
        shape = [self.nrows_value()]
        v = self
        while isinstance(v, RaggedTensor):
            lengths = v.row_lengths().numpy()
            shape.append(int(lengths.max()) if lengths.size else 0)
            v = v._values
        shape += list(v.shape[1:])
        out = convert_to_tensor(shape, dtype=out_type or self._row_splits.dtype)
        return out if axis is None else out[axis]

    def with_values(self, new_values):
        return RaggedTensor.from_row_splits(new_values, self._row_splits, validate=False)

    def with_flat_values(self, new_values):
        if isinstance(self._values, RaggedTensor):
            return self.with_values(self._values.with_flat_values(new_values))
        return self.with_values(new_values)

    def with_row_splits_dtype(self, dtype):
        dtype = dtypes.as_dtype(dtype)
        values = self._values.with_row_splits_dtype(dtype) \
            if isinstance(self._values, RaggedTensor) else self._values
        return RaggedTensor._from_parts(values, elementwise.cast(self._row_splits, dtype))

    @property
    def _type_spec(self):
        return RaggedTensorSpec(self.shape, self.dtype, self.ragged_rank, self.row_splits_dtype)

    # the composite-tensor protocol (nest.flatten(expand_composites=True), tf.function)
    def _tf_components(self):
        return (self.flat_values,) + self.nested_row_splits

    def _tf_rebuild(self, components):
        out = components[0]
        for splits in reversed(components[1:]):
            out = RaggedTensor._from_parts(out, splits)
        return out

    def _tf_signature(self):
        return (self.dtype, self.ragged_rank)

    # -- conversions ----------------------------------------------------------------------------
    def to_tensor(self, default_value=None, name=None, shape=None):
        """The dense tensor with each row padded by `default_value` (0 / b"") to the longest
        row, or cut and padded to `shape` (None entries: the bounding size)."""
        dense_values = self._values.to_tensor(default_value) \
            if isinstance(self._values, RaggedTensor) else self._values
        lengths = self.row_lengths().numpy().astype(np.int64)
        bound = [len(lengths), int(lengths.max()) if lengths.size else 0] + \
            list(dense_values.shape[1:])
        if shape is not None:
            shape = as_shape(shape)
            bound = [b if d is None else d for b, d in zip(bound, shape.as_list())]
        rows = np.repeat(np.arange(len(lengths)), lengths)
        cols = np.arange(rows.size) - np.repeat(self._row_splits.numpy()[:-1].astype(np.int64),
                                                lengths)
        keep = (rows < bound[0]) & (cols < bound[1])
        inner = tuple(bound[2:])
        if tuple(dense_values.shape[1:]) != inner:  # inner dims cut or padded to `shape`
            dense_values = _fit_inner(dense_values, inner, default_value)
        kept = boolean_mask(dense_values, convert_to_tensor(keep)) if not keep.all() else \
            dense_values
        fill = _default(default_value, self.dtype)
        base = _filled(bound, fill)
        if self.dtype is dtypes.string:  # host data: placed with NumPy
            out = base.numpy()
            out[rows[keep], cols[keep]] = kept.numpy()
            return convert_to_tensor(out)
        if not keep.any():
            return base
        indices = convert_to_tensor(np.stack([rows[keep], cols[keep]], axis=1))
        return tensor_scatter_nd_update(base, indices, kept)

    def to_list(self):
        splits = self._row_splits.numpy()
        if isinstance(self._values, RaggedTensor):
            return [self._values[int(splits[i]):int(splits[i + 1])].to_list()
                    for i in range(len(splits) - 1)]
        values = self._values.numpy().tolist()
        return [values[splits[i]:splits[i + 1]] for i in range(len(splits) - 1)]

    def numpy(self):
        """Rows as NumPy arrays in an object array (one array when all rows have one length),
        as TF's."""
        values = self._values.numpy()
        splits = self._row_splits.numpy()
        rows = [values[splits[i]:splits[i + 1]] for i in range(len(splits) - 1)]
        if not rows:
            return np.zeros((0, 0) + values.shape[1:], dtype=values.dtype)
        ragged = any(len(row) != len(rows[0]) for row in rows)
        if not ragged:
            return np.array(rows)
        out = np.empty(len(rows), dtype=object)
        for i, row in enumerate(rows):
            out[i] = row
        return out

    def __tf_tensor__(self, dtype=None, name=None):
        raise ValueError("TypeError: object of type 'RaggedTensor' has no len()\n")

    # -- Python protocols -----------------------------------------------------------------------
    def __repr__(self):
        if self.flat_values._is_symbolic() or self._row_splits._is_symbolic():
            return f"tf.RaggedTensor(values={self._values}, row_splits={self._row_splits})"
        with np.printoptions(formatter={"all": _formatter}):
            return f"<tf.RaggedTensor {_formatter(self.numpy())}>"

    __str__ = __repr__

    def __bool__(self):
        raise TypeError("RaggedTensor may not be used as a boolean.")

    def __iter__(self):
        return (self[i] for i in range(self.nrows_value()))

    def __getitem__(self, key):
        return _getitem(self, key)


# -- helpers for to_tensor and repr ---------------------------------------------------------------

def _default(default_value, dtype):
    if default_value is None:
        return convert_to_tensor(b"" if dtype is dtypes.string else 0, dtype=dtype)
    return convert_to_tensor(default_value, dtype=dtype)


def _filled(shape, fill):
    if fill.dtype is dtypes.string:
        return convert_to_tensor(np.full(shape, fill.numpy(), dtype=object))
    return wrap(fill._t.expand(shape).clone(), fill.dtype)


def _fit_inner(values, inner, default_value):
    """`values` [n, ...] with its inner dimensions cut or padded to `inner`."""
    t = values
    for axis, size in enumerate(inner, start=1):
        have = t.shape[axis]
        if have > size:
            t = t[(slice(None),) * axis + (slice(0, size),)]
        elif have < size:
            pad_shape = list(t.shape)
            pad_shape[axis] = size - have
            t = concat([t, _filled(pad_shape, _default(default_value, t.dtype))], axis)
    return t


def _formatter(x):
    """TF's element formatter for RaggedTensor's repr: NumPy text separated by commas."""
    if isinstance(x, np.ndarray):
        if x.size != 0:
            return np.array2string(x, separator=", ")
        return repr(x.tolist())
    return str(x)


# -- indexing ------------------------------------------------------------------------------------

def _row_range(rt, i):
    splits = rt._row_splits.numpy()
    return int(splits[i]), int(splits[i + 1])


def _take_rows(rt, rows):
    """The RaggedTensor of the given rows (a NumPy array of row numbers)."""
    splits = rt._row_splits.numpy().astype(np.int64)
    starts, ends = splits[rows], splits[rows + 1]
    positions = np.concatenate([np.arange(s, e) for s, e in zip(starts, ends)]) \
        if len(rows) else np.zeros(0, np.int64)
    values = rt._values
    picked = _take_values(values, positions)
    lengths = (ends - starts).astype(rt._row_splits.dtype.as_numpy_dtype)
    return RaggedTensor.from_row_lengths(picked, convert_to_tensor(lengths), validate=False)


def _take_values(values, positions):
    if isinstance(values, RaggedTensor):
        return _take_rows(values, positions)
    return gather(values, convert_to_tensor(positions.astype(np.int64)))


def _getitem(rt, key):
    if not isinstance(key, tuple):
        key = (key,)
    if not key:
        return rt
    first, rest = key[0], key[1:]
    n = rt.nrows_value()
    if isinstance(first, Tensor):
        first = int(first)
    if isinstance(first, (int, np.integer)):
        i = int(first) + n if first < 0 else int(first)
        if not 0 <= i < n:
            raise IndexError(f"Row key {first} out of bounds")
        start, end = _row_range(rt, i)
        row = _take_values(rt._values, np.arange(start, end)) \
            if isinstance(rt._values, RaggedTensor) else rt._values[start:end]
        return row[rest] if rest else row
    if isinstance(first, slice):
        rows = np.arange(n)[first]
        out = _take_rows(rt, rows) if first != slice(None) else rt
        if not rest:
            return out
        inner = rest[0]
        if not isinstance(inner, slice):
            raise ValueError("Cannot index into an inner ragged dimension.")
        return _slice_inner(out, inner, rest[1:])
    raise TypeError(f"RaggedTensor indices must be integers or slices, got {key!r}")


def _slice_inner(rt, inner, rest):
    """`rt[:, inner, *rest]` with `inner` a slice of each row."""
    splits = rt._row_splits.numpy().astype(np.int64)
    positions, lengths = [], []
    for i in range(len(splits) - 1):
        picked = np.arange(splits[i], splits[i + 1])[inner]
        positions.append(picked)
        lengths.append(len(picked))
    positions = np.concatenate(positions) if positions else np.zeros(0, np.int64)
    values = _take_values(rt._values, positions)
    if rest:
        values = values[(slice(None),) + tuple(rest)]
    lengths = np.asarray(lengths, rt._row_splits.dtype.as_numpy_dtype)
    return RaggedTensor.from_row_lengths(values, convert_to_tensor(lengths), validate=False)


# -- elementwise operators -----------------------------------------------------------------------

def same_partition(a, b, prefix=""):
    """Raises TF's InvalidArgumentError (its text after `prefix`) unless RaggedTensors `a` and
    `b` cut their values into the same rows."""
    if a.ragged_rank != b.ragged_rank:
        raise ValueError(f"Ragged ranks differ: {a.ragged_rank} and {b.ragged_rank}")
    for x, y in zip(a.nested_row_splits, b.nested_row_splits):
        xs, ys = x.numpy().astype(np.int64), y.numpy().astype(np.int64)
        if xs.shape != ys.shape or (xs != ys).any():
            raise _invalid(prefix + _assert_equal_text(xs, ys))


def _broadcast_operand(rt, other):
    """`other` as values matching `rt`'s flat values: its own flat values (same rows), or a
    dense [nrows, 1] column spread over each row's values; scalars stay as they are."""
    if isinstance(other, RaggedTensor):
        same_partition(rt, other)
        return other.flat_values
    t = other if isinstance(other, Tensor) or hasattr(other, "_as_tensor_for_ops") else None
    if t is None:
        return other
    t = convert_to_tensor(t)
    if t.shape.rank in (0, None) or rt.ragged_rank != 1:
        return t
    if t.shape.rank == 2 and t.shape[1] == 1 and t.shape[0] in (1, rt.nrows_value()):
        return gather(t[:, 0], rt.value_rowids()) if t.shape[0] != 1 else t[0, 0]
    # TF compares the dense operand's (uniform) row splits with the ragged ones, and fails so
    uniform = np.arange(rt.nrows_value() + 1, dtype=np.int64) * t.shape[-1]
    raise _invalid(_assert_equal_text(uniform, rt._row_splits.numpy().astype(np.int64)))


def _binary(fn, reverse=False):
    def operator(self, other):
        o = _broadcast_operand(self, other)
        v = self.flat_values
        return self.with_flat_values(fn(o, v) if reverse else fn(v, o))
    return operator


def _unary(fn):
    return lambda self: self.with_flat_values(fn(self.flat_values))


for _name, _fn in (("add", math.add), ("sub", math.subtract), ("mul", math.multiply),
                   ("truediv", math.truediv), ("floordiv", math.floordiv),
                   ("mod", math.floormod), ("pow", elementwise.pow), ("and", comparison._and),
                   ("or", comparison._or), ("xor", comparison._xor)):
    setattr(RaggedTensor, f"__{_name}__", _binary(_fn))
    setattr(RaggedTensor, f"__r{_name}__", _binary(_fn, reverse=True))
for _name, _fn in (("lt", comparison.less), ("le", comparison.less_equal),
                   ("gt", comparison.greater), ("ge", comparison.greater_equal),
                   ("eq", comparison.equal), ("ne", comparison.not_equal)):
    setattr(RaggedTensor, f"__{_name}__", _binary(_fn))
RaggedTensor.__hash__ = None
RaggedTensor.__neg__ = _unary(math.negative)
RaggedTensor.__abs__ = _unary(elementwise.abs)
RaggedTensor.__invert__ = _unary(comparison._invert)


class RaggedTensorSpec:
    """`tf.RaggedTensorSpec(shape, dtype, ragged_rank, row_splits_dtype)`: the type of a
    RaggedTensor."""

    __slots__ = ("_shape", "_dtype", "_ragged_rank", "_row_splits_dtype")

    def __init__(self, shape=None, dtype=dtypes.float32, ragged_rank=None,
                 row_splits_dtype=_INT64, flat_values_spec=None):
        self._shape = as_shape(shape)
        self._dtype = dtypes.as_dtype(dtype)
        rank = self._shape.rank
        self._ragged_rank = (rank - 1 if rank is not None else 1) if ragged_rank is None \
            else ragged_rank
        self._row_splits_dtype = dtypes.as_dtype(row_splits_dtype)

    @property
    def shape(self):
        return self._shape

    @property
    def dtype(self):
        return self._dtype

    @property
    def ragged_rank(self):
        return self._ragged_rank

    @property
    def row_splits_dtype(self):
        return self._row_splits_dtype

    @property
    def value_type(self):
        return RaggedTensor

    @classmethod
    def from_value(cls, value):
        return value._type_spec

    def is_compatible_with(self, other):
        if isinstance(other, RaggedTensor):
            other = other._type_spec
        return (isinstance(other, RaggedTensorSpec) and other._dtype == self._dtype and
                other._ragged_rank == self._ragged_rank and
                self._shape.is_compatible_with(other._shape))

    def __eq__(self, other):
        return isinstance(other, RaggedTensorSpec) and (
            self._shape, self._dtype, self._ragged_rank, self._row_splits_dtype) == (
            other._shape, other._dtype, other._ragged_rank, other._row_splits_dtype)

    def __hash__(self):
        return hash((RaggedTensorSpec, self._shape, self._dtype, self._ragged_rank))

    def __repr__(self):
        return (f"RaggedTensorSpec({self._shape!r}, {self._dtype!r}, {self._ragged_rank}, "
                f"{self._row_splits_dtype!r})")

