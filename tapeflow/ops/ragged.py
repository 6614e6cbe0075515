"""`tf.ragged`: building RaggedTensors from Python lists (`constant`), applying ops to their
flat values (`map_flat_values`), and the text tf.print shows for one (TF's
`ragged_tensor_to_string`). The type itself is in ragged_tensor.py.
"""
import numpy as np

from tapeflow._core import dtypes, nest
from tapeflow._core.tensor import Tensor, constant as dense_constant, convert_to_tensor
from tapeflow.ops.ragged_tensor import RaggedTensor, same_partition
from tapeflow.ops.strings import as_string


def _scalar_depth(x):
    """The nesting depth of the scalars in `x` (None when it holds none), raising TF's error
    when scalars sit at different depths."""
    if not isinstance(x, (list, tuple, np.ndarray)):
        return 0
    depths = {d for d in (_scalar_depth(v) for v in x) if d is not None}
    if len(depths) > 1:
        raise ValueError("all scalar values must have the same nesting depth")
    return depths.pop() + 1 if depths else None


def _list_depth(x):
    if not isinstance(x, (list, tuple, np.ndarray)):
        return 0
    return 1 + max((_list_depth(v) for v in x), default=0)


def constant(pylist, dtype=None, ragged_rank=None, inner_shape=None, name=None,
             row_splits_dtype=dtypes.int64):
    """A RaggedTensor from a nested Python list (a dense tensor when nothing is ragged:
    `ragged_rank` 0). The innermost `len(inner_shape)` levels must be uniform.

    Example:
    >>> tf.ragged.constant([[1, 2], [3]])
    <tf.RaggedTensor [[1, 2], [3]]>
    """
    if isinstance(pylist, (RaggedTensor, Tensor)):
        raise TypeError("pylist may not be a RaggedTensor or RaggedTensorValue.")
    depth = _scalar_depth(pylist)
    if depth is not None and ragged_rank is not None and ragged_rank >= depth:
        raise ValueError(f"pylist has scalar values depth {depth}, but ragged_rank="
                         f"{ragged_rank} requires scalar value depth greater than "
                         f"{ragged_rank}")
    if ragged_rank is None:
        if depth is None:
            ragged_rank = max(0, _list_depth(pylist) - 1 - (len(inner_shape) if inner_shape
                                                               else 0))
        else:
            ragged_rank = max(0, depth - 1 - (len(inner_shape) if inner_shape else 0))
    row_splits_dtype = dtypes.as_dtype(row_splits_dtype)
    if ragged_rank == 0:
        return dense_constant(pylist, dtype=dtype)
    nested_lengths, level = [], list(pylist)
    for _ in range(ragged_rank):
        nested_lengths.append([len(row) for row in level])
        level = [v for row in level for v in row]
    inner = () if depth is None else tuple(inner_shape or ())
    values = _inner_values(level, dtype, depth, ragged_rank, inner)
    out = values
    for lengths in reversed(nested_lengths):
        out = RaggedTensor.from_row_lengths(
            out, convert_to_tensor(np.asarray(lengths, row_splits_dtype.as_numpy_dtype)),
            validate=False)
    return out


def _inner_values(items, dtype, depth, ragged_rank, inner_shape):
    """The flat values: one tensor of the items left after the ragged levels."""
    if not items:
        uniform = 0 if depth is None else depth - 1 - ragged_rank
        shape = (0,) + tuple(inner_shape or (0,) * uniform)
        return convert_to_tensor(np.zeros(shape, np.float32), dtype=dtype or dtypes.float32) \
            if (dtype or dtypes.float32) is not dtypes.string else \
            convert_to_tensor(np.zeros(shape, dtype=object))
    try:
        return dense_constant(items, dtype=dtype)
    except ValueError:
        raise ValueError("inner values have inconsistent shape") from None


def map_flat_values(op, *args, **kwargs):
    """`op` applied to the flat values of the RaggedTensor arguments (which must share their
    row partitions), as a RaggedTensor of the first one's rows.

    Example:
    >>> tf.ragged.map_flat_values(tf.square, tf.ragged.constant([[1, 2], [3]]))
    <tf.RaggedTensor [[1, 4], [9]]>
    """
    ragged = [a for a in nest.flatten([list(args), kwargs]) if isinstance(a, RaggedTensor)]
    if not ragged:
        return op(*args, **kwargs)
    first = ragged[0]
    for other in ragged[1:]:
        same_partition(first, other, "RowPartition._merge_precomputed_encodings: partitions "
                                     "have incompatible row_splits\n")

    def flat(x):
        return x.flat_values if isinstance(x, RaggedTensor) else x
    result = op(*[nest.map_structure(flat, a) for a in args],
                **{k: nest.map_structure(flat, v) for k, v in kwargs.items()})
    return first.with_flat_values(convert_to_tensor(result))


def print_text(rt, summarize=3):
    """TF's `ragged_tensor_to_string`, what tf.print shows: elements as `tf.strings.as_string`
    writes them (strings quoted with '), rows joined by ", ", at most `summarize` rows at each
    end of every dimension."""
    flat = rt.flat_values
    if flat.dtype is dtypes.string:
        texts = np.array(["'" + v.decode("utf-8", "replace").replace("\\", "\\\\")
                          .replace("'", "\\'") + "'" for v in flat.numpy().reshape(-1)],
                         dtype=object).reshape(flat.shape)
    else:
        texts = np.vectorize(lambda b: b.decode(), otypes=[object])(as_string(flat).numpy())
    return _join(rt.with_flat_values(convert_to_tensor(texts)).to_list(), summarize)


def _join(pieces, summarize):
    if isinstance(pieces, list):
        parts = [_join(p, summarize) for p in pieces]
        if summarize not in (-1, None) and len(parts) > 2 * summarize:
            parts = parts[:summarize] + ["..."] + parts[-summarize:]
        return "[" + ", ".join(parts) + "]"
    return pieces.decode() if isinstance(pieces, bytes) else str(pieces)
