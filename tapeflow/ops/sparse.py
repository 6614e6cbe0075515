"""`tf.sparse`: the ops on `SparseTensor`s (the type is in _core/sparse_tensor.py).

Two ops are primitives with kernels and gradients of their own: SparseToDense (`to_dense`,
with TF's index validation) and SparseTensorDenseMatMul (`sparse_dense_matmul`, gradients for
the values and the dense operand). The rest are compositions of tapeflow ops, so gradients
flow to the values through gather / scatter / boolean_mask: `from_dense`, `add` (sparse +
sparse and sparse + dense), `reorder`, `reshape`, `retain`, `reduce_sum`, `to_indicator`,
`map_values`, `transpose`, and the `*` and `/` operators of a SparseTensor. Where the result's
sparsity pattern depends on index values (the union in `add`), it is computed on the host, so
such ops run eagerly inside tf.function (a data-dependent shape, as in TF's kernels).
"""
import numpy as np
import torch

from tapeflow._core import dtypes
from tapeflow._core.shape import TensorShape
from tapeflow._core.sparse_tensor import SparseTensor
from tapeflow._core.tensor import Tensor, convert_to_tensor, wrap, wrap_strings
from tapeflow.ops._op import define, error, execute, host_check, kernel_error, tf_type_name
from tapeflow.ops.array import reshape as dense_reshape
from tapeflow.ops.array import transpose as dense_transpose
from tapeflow.ops.comparison import where
from tapeflow.ops.elementwise import abs as dense_abs
from tapeflow.ops.gather import boolean_mask, gather, gather_nd, tensor_scatter_nd_add
from tapeflow.ops.joining import concat
from tapeflow.ops.broadcast import broadcast_to_raw
from tapeflow.ops.math import conj, divide, multiply
from tapeflow.ops.reduction import reduce_sum as dense_reduce_sum

_STRING = dtypes.string
SPARSE_TO_DENSE = define("SparseToDense")
SPARSE_MATMUL = define("SparseTensorDenseMatMul")


class _Named:
    """An op TF names in its error texts that tapeflow composes from other ops."""

    def __init__(self, name):
        self.name = name


_SPARSE_ADD, _SPARSE_RESHAPE = _Named("SparseAdd"), _Named("SparseReshape")


def _sparse(x, arg="sp_input"):
    if not isinstance(x, SparseTensor):
        raise TypeError(f"Input must be a SparseTensor. Received: {arg}={x!r} of type "
                        f"{type(x).__name__}.")
    return x


def _shape_of(sp):
    """The dense shape as Python ints: the static shape, else the dense_shape's value."""
    if sp.shape.is_fully_defined():
        return tuple(sp.shape.as_list())
    return tuple(int(d) for d in sp.dense_shape.numpy())  # symbolic: runs eagerly instead


def _index_text(row):
    return "[" + ",".join(str(int(v)) for v in row) + "]"


# -- to_dense --------------------------------------------------------------------------------

def _first_bad_index(indices, shape):
    """TF's SparseToDense validation, index by index: out of bounds, then out of order or
    repeated (row-major order). The message for the first bad index, or None."""
    idx = indices.cpu().numpy() if isinstance(indices, torch.Tensor) else indices
    if not idx.shape[0]:
        return None
    bounds = np.asarray(shape, dtype=np.int64)
    out = ((idx < 0) | (idx >= bounds)).any(axis=1)
    strides = np.concatenate([np.cumprod(bounds[::-1])[::-1][1:], [1]]).astype(np.int64)
    linear = idx @ strides
    step = np.concatenate([[1], np.sign(np.diff(linear))])
    bad = np.flatnonzero(out | (step <= 0))
    if not bad.size:
        return None
    i = int(bad[0])
    row = _index_text(idx[i])
    if out[i]:
        return f"indices[{i}] = {row} is out of bounds: need 0 <= index < {_index_text(shape)}"
    if step[i] == 0:
        return f"indices[{i}] = {row} is repeated"
    return (f"indices[{i}] = {row} is out of order. Many sparse ops require sorted indices.\n"
            "    Use `tf.sparse.reorder` to create a correctly ordered copy.\n\n")


@host_check
def _to_dense_kernel(indices, values, default, shape, validate):
    if validate and not indices.is_meta:
        message = _first_bad_index(indices, shape)
        if message is not None:
            raise kernel_error(message, SPARSE_TO_DENSE, indices.device)
    out = default.expand(shape).clone()
    if indices.shape[0]:
        out[tuple(indices.t().long())] = values
    return out


def _to_dense_strings(indices, values, default, shape, validate):
    if validate:
        message = _first_bad_index(indices, shape)
        if message is not None:
            raise kernel_error(message, SPARSE_TO_DENSE, torch.device("cpu"))
    out = np.full(shape, default[()], dtype=object)
    if indices.shape[0]:
        out[tuple(indices.cpu().numpy().T)] = values
    return out


def to_dense(sp_input, default_value=None, validate_indices=True, name=None):
    """The dense tensor a SparseTensor stands for, `default_value` (0 / b"") elsewhere.
    `validate_indices`: raise TF's error for indices out of bounds, out of order or repeated.

    Example:
    >>> st = tf.SparseTensor([[0, 1]], [5.0], [2, 2])
    >>> tf.sparse.to_dense(st).numpy()
    array([[0., 5.],
           [0., 0.]], dtype=float32)
    """
    sp = _sparse(sp_input)
    shape = _shape_of(sp)
    dtype = sp.dtype
    if default_value is None:
        default_value = b"" if dtype is _STRING else 0
    default = convert_to_tensor(default_value, dtype=dtype)
    attrs = (shape, bool(validate_indices))
    if dtype is _STRING:
        return wrap_strings(_to_dense_strings(sp.indices._t, sp.values._t, default._t, *attrs))
    return execute(SPARSE_TO_DENSE, _to_dense_kernel, (sp.indices, sp.values, default), attrs)


@SPARSE_TO_DENSE.gradient
def _(node, grad):
    indices = node.inputs[0]
    values_grad = gather_nd(grad, indices)
    return None, values_grad, dense_reduce_sum(grad) - dense_reduce_sum(values_grad)


def from_dense(tensor, name=None):
    """A SparseTensor of the non-zero (non-empty) elements of `tensor`."""
    x = convert_to_tensor(tensor)
    nonzero = x != (b"" if x.dtype is _STRING else 0) if x.shape.rank else x
    indices = where(nonzero)
    dense_shape = convert_to_tensor(list(x.shape), dtype=dtypes.int64)
    return SparseTensor._from_parts(indices, gather_nd(x, indices), dense_shape,
                                    TensorShape(x.shape))


# -- sparse_dense_matmul ------------------------------------------------------------------------

@host_check
def _matmul_kernel(indices, values, b, shape, adjoint_a, adjoint_b):
    rows, cols = indices[:, 0], indices[:, 1]
    m, k = shape
    if not indices.is_meta and indices.shape[0]:
        for dim, (coords, bound, name) in enumerate(((rows, m, "m"), (cols, k, "k"))):
            bad = torch.nonzero((coords < 0) | (coords >= bound))
            if bad.numel():
                i = int(bad[0, 0])
                raise kernel_error(f"{name} ({int(coords[i])}) from index[{i},{dim}] out of "
                                   f"bounds (>={bound})", SPARSE_MATMUL, indices.device)
    if adjoint_a:
        rows, cols, m = cols, rows, k
        values = values.conj()
    b = b.mH if adjoint_b else b
    out = torch.zeros((m, b.shape[1]), dtype=b.dtype, device=b.device)
    return out.index_add_(0, rows, values[:, None] * b[cols])


def sparse_dense_matmul(sp_a, b, adjoint_a=False, adjoint_b=False, name=None):
    """`sp_a @ b` for a rank-2 SparseTensor and a dense matrix (either may come first);
    `adjoint_*` take the conjugate transpose of that operand first. Gradients flow to the
    sparse operand's values and to the dense operand.

    Example:
    >>> st = tf.SparseTensor([[0, 1]], [2.0], [2, 2])
    >>> tf.sparse.sparse_dense_matmul(st, tf.ones([2, 1])).numpy()
    array([[2.],
           [0.]], dtype=float32)
    """
    if isinstance(b, SparseTensor) and not isinstance(sp_a, SparseTensor):
        # dense @ sparse, as TF computes it: the transpose of sparse^T @ dense^T
        if adjoint_a != adjoint_b:
            return dense_transpose(sparse_dense_matmul(b, sp_a, adjoint_a, adjoint_b))
        return dense_transpose(sparse_dense_matmul(b, sp_a, not adjoint_a, not adjoint_b))
    sp = _sparse(sp_a, "sp_a")
    dense = convert_to_tensor(b)
    if dense.dtype is not sp.dtype:
        raise error(f"cannot compute {SPARSE_MATMUL.name} as input #3(zero-based) was expected "
                    f"to be a {tf_type_name(sp.dtype)} tensor but is a "
                    f"{tf_type_name(dense.dtype)} tensor", SPARSE_MATMUL)
    shape = _shape_of(sp)
    if len(shape) != 2 or dense.shape.rank != 2:
        raise kernel_error(f"Tensor 'a_shape' is not a vector of length 2, and 'b' is not a "
                           f"matrix: {list(shape)}, {list(dense.shape)}", SPARSE_MATMUL,
                           dense._t.device)
    inner_a = shape[0] if adjoint_a else shape[1]
    inner_b = dense.shape[1] if adjoint_b else dense.shape[0]
    if inner_a != inner_b:
        raise kernel_error(f"Cannot multiply A and B because inner dimension does not match: "
                           f"{inner_a} vs. {inner_b}.  Did you forget a transpose?  Dimensions "
                           f"of A: [{shape[0]}, {shape[1]}).  Dimensions of B: "
                           f"{_index_text(dense.shape)}", SPARSE_MATMUL, dense._t.device)
    return execute(SPARSE_MATMUL, _matmul_kernel, (sp.indices, sp.values, dense),
                   (shape, bool(adjoint_a), bool(adjoint_b)))


@SPARSE_MATMUL.gradient
def _(node, grad):
    indices, values, b = node.inputs
    shape, adjoint_a, adjoint_b = node.attrs
    sp = SparseTensor._from_parts(indices, values, convert_to_tensor(list(shape), dtypes.int64),
                                  TensorShape(shape))
    # out = A' @ B' with A' = adj?(A), B' = adj?(b): dB' = A'^H @ grad
    d_b = sparse_dense_matmul(sp, grad, adjoint_a=not adjoint_a)
    if adjoint_b:
        d_b = conj(dense_transpose(d_b))
    b_used = conj(dense_transpose(b)) if adjoint_b else b
    rows, cols = indices[:, 0], indices[:, 1]
    if adjoint_a:  # entry (r, c) holds conj(v) at A'[c, r]
        d_values = conj(dense_reduce_sum(gather(grad, cols) * gather(b_used, rows), axis=1))
    else:
        d_values = dense_reduce_sum(gather(grad, rows) * gather(b_used, cols), axis=1)
    return None, d_values, d_b


# -- compositions ------------------------------------------------------------------------------

def _host_indices(sp):
    return sp.indices.numpy().reshape(-1, sp.indices.shape[1] or 0)


def _from_host(indices, values, shape):
    return SparseTensor._from_parts(convert_to_tensor(np.asarray(indices, np.int64)
                                                      .reshape(-1, len(shape))),
                                    values, convert_to_tensor(list(shape), dtype=dtypes.int64),
                                    TensorShape(shape))


def add(a, b, threshold=None, thresh=None, name=None):
    """`a + b`. Two SparseTensors give a SparseTensor (the union of their entries, summed;
    sums of magnitude below `threshold` dropped); a SparseTensor and a dense tensor give a dense
    tensor.

    Example:
    >>> a = tf.SparseTensor([[0, 0]], [1.0], [2, 2])
    >>> tf.sparse.to_dense(tf.sparse.add(a, a)).numpy()[0, 0]
    2.0
    """
    threshold = thresh if threshold is None else threshold
    if not isinstance(a, SparseTensor) and not isinstance(b, SparseTensor):
        raise TypeError("At least one input should be SparseTensor; do you mean to use tf.add?")
    if not isinstance(a, SparseTensor):
        a, b = b, a
    if not isinstance(b, SparseTensor):  # SparseTensorDenseAdd
        dense = convert_to_tensor(b, dtype=a.dtype)
        return tensor_scatter_nd_add(dense, a.indices, a.values)
    if b.dtype is not a.dtype:
        raise error(f"cannot compute SparseAdd as input #4(zero-based) was expected to be a "
                    f"{tf_type_name(a.dtype)} tensor but is a {tf_type_name(b.dtype)} tensor",
                    _SPARSE_ADD)
    shape_a, shape_b = _shape_of(a), _shape_of(b)
    if len(shape_a) != len(shape_b) or shape_a != shape_b:
        dim = next((i for i, (x, y) in enumerate(zip(shape_a, shape_b)) if x != y), 0)
        raise kernel_error(f"Operands' shapes do not match: got {shape_a[dim]} and "
                           f"{shape_b[dim]} for dimension {dim}", _SPARSE_ADD,
                           a.values._t.device)
    both = np.concatenate([_host_indices(a), _host_indices(b)])
    union, where_in_union = np.unique(both, axis=0, return_inverse=True)
    values = concat([a.values, b.values], 0)
    summed = tensor_scatter_nd_add(
        wrap(torch.zeros((len(union),), dtype=values._t.dtype, device=values._t.device)),
        convert_to_tensor(where_in_union.reshape(-1, 1).astype(np.int64)), values)
    if threshold is not None:
        keep = (dense_abs(summed) >= convert_to_tensor(threshold, dtype=summed.dtype)).numpy()
        union, summed = union[keep], boolean_mask(summed, keep)
    return _from_host(union, summed, shape_a)


def reorder(sp_input, name=None):
    """The same SparseTensor with its entries in row-major order of their indices."""
    sp = _sparse(sp_input)
    idx = _host_indices(sp)
    order = np.lexsort(idx.T[::-1]) if idx.size else np.zeros(0, np.int64)
    return _from_host(idx[order], gather(sp.values, order.astype(np.int64)), _shape_of(sp))


def reshape(sp_input, shape, name=None):
    """The SparseTensor with a new dense shape of the same size (one dimension may be -1)."""
    sp = _sparse(sp_input)
    old = _shape_of(sp)
    new = [int(d) for d in (shape.numpy() if isinstance(shape, Tensor) else shape)]
    size = int(np.prod(old, dtype=np.int64))
    if new.count(-1) == 1:
        known = int(np.prod([d for d in new if d != -1], dtype=np.int64))
        if known and size % known == 0:
            new[new.index(-1)] = size // known
    if int(np.prod(new, dtype=np.int64)) != size or -1 in new:
        raise kernel_error(f"Input to reshape is a tensor with {size} dense values, but the "
                           f"requested shape has {int(np.prod(new, dtype=np.int64))}. "
                           f"input_shape={_index_text(old)} output_shape={_index_text(new)}",
                           _SPARSE_RESHAPE, sp.values._t.device)
    linear = np.ravel_multi_index(_host_indices(sp).T, old) if old else \
        np.zeros(sp.values.shape[0], np.int64)
    indices = np.stack(np.unravel_index(linear, new), axis=1) if new else \
        np.zeros((len(linear), 0), np.int64)
    return _from_host(indices, sp.values, new)


def retain(sp_input, to_retain):
    """The entries of `sp_input` where the boolean vector `to_retain` is true."""
    sp = _sparse(sp_input)
    keep = convert_to_tensor(to_retain, dtype=dtypes.bool)
    keep.shape.assert_has_rank(1)
    if sp.values.shape[0] != keep.shape[0]:
        raise ValueError(f"Dimensions {sp.values.shape[0]} and {keep.shape[0]} are not "
                         "compatible")
    return SparseTensor._from_parts(boolean_mask(sp.indices, keep),
                                    boolean_mask(sp.values, keep), sp.dense_shape, sp.shape)


def reduce_sum(sp_input, axis=None, keepdims=None, output_is_sparse=False, name=None):
    """The sum of the entries over `axis` (all axes by default): a dense tensor, or with
    `output_is_sparse` a SparseTensor holding the groups that have entries."""
    sp = _sparse(sp_input)
    shape = _shape_of(sp)
    if axis is None and not output_is_sparse:
        total = dense_reduce_sum(sp.values)
        return dense_reshape(total, [1] * len(shape)) if keepdims else total
    axes = sorted({a % len(shape) for a in (range(len(shape)) if axis is None else
                                              np.atleast_1d(axis).tolist())})
    if not output_is_sparse:
        return dense_reduce_sum(to_dense(sp), axis=axes, keepdims=bool(keepdims))
    kept = [d for d in range(len(shape)) if d not in axes or keepdims]
    idx = _host_indices(sp)
    idx = np.where(np.isin(np.arange(len(shape)), axes), 0, idx)[:, kept] if idx.size else \
        np.zeros((0, len(kept)), np.int64)
    groups, which = np.unique(idx, axis=0, return_inverse=True)
    summed = tensor_scatter_nd_add(
        wrap(torch.zeros((len(groups),), dtype=sp.values._t.dtype, device=sp.values._t.device)),
        convert_to_tensor(which.reshape(-1, 1).astype(np.int64)), sp.values)
    out_shape = [1 if d in axes else shape[d] for d in kept]
    return _from_host(groups, summed, out_shape)


def to_indicator(sp_input, vocab_size, name=None):
    """A dense bool tensor of shape `dense_shape[:-1] + [vocab_size]`, true at each id the
    last dimension of `sp_input` (integer ids) holds."""
    sp = _sparse(sp_input)
    if not sp.dtype.is_integer:
        raise TypeError(f"sp_input.values must be an integer tensor, got {sp.dtype.name}")
    shape = _shape_of(sp)[:-1] + (int(vocab_size),)
    idx = _host_indices(sp)
    ids = sp.values.numpy().astype(np.int64).reshape(-1, 1)
    indices = np.concatenate([idx[:, :-1], ids], axis=1)
    ones = wrap(torch.ones((len(indices),), dtype=torch.bool))
    return execute(SPARSE_TO_DENSE, _to_dense_kernel,
                   (convert_to_tensor(indices), ones, convert_to_tensor(False)),
                   (shape, False))


def map_values(op, *args, **kwargs):
    """`op` applied to the values of the SparseTensor arguments (which must share indices);
    other arguments are passed as they are."""
    sparse = [a for a in list(args) + list(kwargs.values()) if isinstance(a, SparseTensor)]
    if not sparse:
        raise ValueError("No SparseTensor in argument list of map_values")
    first = sparse[0]

    def values(a):
        return a.values if isinstance(a, SparseTensor) else a
    result = op(*[values(a) for a in args], **{k: values(v) for k, v in kwargs.items()})
    return SparseTensor._from_parts(first.indices, convert_to_tensor(result), first.dense_shape,
                                    first.shape)


def transpose(sp_input, perm=None, name=None):
    """The SparseTensor with its dimensions permuted (reversed by default), reordered."""
    sp = _sparse(sp_input)
    shape = _shape_of(sp)
    perm = list(range(len(shape)))[::-1] if perm is None else [int(p) for p in perm]
    idx = _host_indices(sp)[:, perm]
    return reorder(_from_host(idx, sp.values, [shape[p] for p in perm]))


# -- operators: SparseTensor * dense, SparseTensor / dense (SparseDenseCwiseMul / Div) ----------

def _cwise(fn):
    def operator(self, other):
        dense = convert_to_tensor(other, dtype=self.dtype)
        at = gather_nd(broadcast_to_raw(dense, _shape_of(self)), self.indices)
        return self.with_values(fn(self.values, at))
    return operator


SparseTensor.__mul__ = _cwise(multiply)
SparseTensor.__truediv__ = SparseTensor.__div__ = _cwise(divide)
