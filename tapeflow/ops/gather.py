"""Selecting by index tensors: gather, gather_nd, boolean_mask, one_hot, and the scatters
(scatter_nd, tensor_scatter_nd_update/add).

Indices are checked eagerly with TF's messages (`indices[1,1] = 2 is not in [0, 2)`); inside a
traced tf.function they have no values, so the kernels run unchecked. A gather's gradient is
dense (TF returns IndexedSlices): GatherV2Grad scatter-adds it back, and the gradient of that is
a gather again; gather_nd and scatter_nd are each other's gradients.
"""
import numpy as np
import torch

from tapeflow._core import dtypes
from tapeflow._core.indexing import SIGNED_OF
from tapeflow._core.shape import TensorShape
from tapeflow._core.tensor import Tensor, convert_to_tensor, wrap_strings
from tapeflow.ops._op import check_dtype, define, error, execute, is_tensor_like, kernel_error
from tapeflow.ops.array import dims_text, int_arg, int_list, reshape
from tapeflow.ops.math import zeros_like

_STRING = dtypes.string
_CPU = torch.device("cpu")


def _device(x):
    return _CPU if x._dtype is _STRING else x._t.device


# -- gather ----------------------------------------------------------------------------------------

GATHER = define("GatherV2")
GATHER_GRAD = define("GatherV2Grad")  # the dense form of TF's IndexedSlices gradient
_INDEX_TYPES = (dtypes.int16, dtypes.int32, dtypes.int64)


def _prod(dims):
    n = 1
    for d in dims:
        n *= d
    return n


def _gather_kernel(p, i, axis, batch_dims):
    i = i.long()
    if not batch_dims:
        out = p.index_select(axis, i.reshape(-1))
        return out.reshape(p.shape[:axis] + i.shape + p.shape[axis + 1:])
    signed = SIGNED_OF.get(p.dtype)
    if signed is not None:
        return _gather_kernel(p.view(signed), i, axis, batch_dims).view(p.dtype)
    b, gathered = batch_dims, p.shape[axis]
    batch, outer, inner = p.shape[:b], p.shape[b:axis], p.shape[axis + 1:]
    n_b, n_o, n_i, n_k = _prod(batch), _prod(outer), _prod(inner), _prod(i.shape[b:])
    index = i.reshape(n_b, 1, n_k, 1).expand(n_b, n_o, n_k, n_i)
    out = torch.gather(p.reshape(n_b, n_o, gathered, n_i), 2, index)
    return out.reshape(batch + outer + i.shape[b:] + inner)


def _gather_grad_kernel(g, i, shape, axis, batch_dims):
    i = i.long()
    b = batch_dims
    batch, outer, inner = shape[:b], shape[b:axis], shape[axis + 1:]
    n_b, n_o, n_i, n_k = _prod(batch), _prod(outer), _prod(inner), _prod(i.shape[b:])
    index = i.reshape(n_b, 1, n_k, 1).expand(n_b, n_o, n_k, n_i)
    out = g.new_zeros((n_b, n_o, shape[axis], n_i))
    out.scatter_add_(2, index, g.reshape(n_b, n_o, n_k, n_i))
    return out.reshape(shape)


def gather_raw(x, indices, axis, batch_dims):
    return execute(GATHER, _gather_kernel, (x, indices), (axis, batch_dims))


def gather(params, indices, validate_indices=None, axis=None, batch_dims=0, name=None):
    """Slices of `params` along `axis` at `indices` (per batch for `batch_dims` > 0)."""
    x = convert_to_tensor(params)
    idx = convert_to_tensor(indices)
    if idx._dtype not in _INDEX_TYPES:
        check_dtype(idx, _INDEX_TYPES, GATHER, "Tindices")
    rank, irank = x._t.ndim, idx._t.ndim
    batch_dims = int_arg(batch_dims)
    axis = batch_dims if axis is None else int_arg(axis)
    if axis == 0:
        batch_dims = 0  # TF's Python wrapper drops batch_dims for axis 0
    if batch_dims < 0:
        batch_dims += irank
    if axis < 0:
        axis += rank
    device = _device(x)
    if batch_dims and batch_dims >= rank:
        raise kernel_error(f"batch_dims ({batch_dims}) must be less than rank(params) "
                           f"({rank}).", GATHER, device, name_suffix=False)
    if not 0 <= axis < rank:
        raise kernel_error(f"Shape must be at least rank {axis + 1} but is rank {rank}", GATHER,
                           device, name_suffix=False)
    if batch_dims > axis or batch_dims > irank:
        raise kernel_error(f"batch_dims ({batch_dims}) must be less than or equal to axis "
                           f"({axis}).", GATHER, device, name_suffix=False)
    for d in range(batch_dims):
        if x._t.shape[d] != idx._t.shape[d]:
            raise kernel_error(f"params.shape[{d}]: {x._t.shape[d]} should be equal to "
                               f"indices.shape[{d}]: {idx._t.shape[d]}", GATHER, device,
                               name_suffix=False)
    _check_range(idx, x._t.shape[axis], GATHER, device)
    if x._dtype is _STRING:
        if batch_dims:
            raise NotImplementedError("gather with batch_dims on string tensors")
        return wrap_strings(np.take(x._t, idx.numpy(), axis))
    return gather_raw(x, idx, axis, batch_dims)


def _check_range(idx, n, op, device):
    t = idx._t
    if t.is_meta or not t.numel():
        return
    low, high = torch.aminmax(t)  # one pass; find the first bad index only on failure
    if low.item() < 0 or high.item() >= n:
        bad = (t < 0) | (t >= n)
        where = np.unravel_index(int(bad.reshape(-1).nonzero()[0, 0]), tuple(t.shape))
        value = int(t[where] if where else t)
        raise kernel_error(f"indices[{','.join(str(int(w)) for w in where)}] = {value} is not "
                           f"in [0, {n})", op, device, name_suffix=False)


@GATHER.gradient
def _(node, grad):
    x, idx = node.inputs
    axis, batch_dims = node.attrs
    shape = tuple(x._t.shape)
    return execute(GATHER_GRAD, _gather_grad_kernel, (grad, idx),
                   (shape, axis, batch_dims)), None


@GATHER_GRAD.gradient
def _(node, grad):
    _, idx = node.inputs
    _, axis, batch_dims = node.attrs
    return gather_raw(grad, idx, axis, batch_dims), None


# -- gather_nd and the scatters -------------------------------------------------------------------

GATHER_ND = define("GatherNd")
SCATTER_ND = define("ScatterNd")
TENSOR_SCATTER_UPDATE = define("TensorScatterUpdate")
TENSOR_SCATTER_ADD = define("TensorScatterAdd")


def _nd_index(i, shape, batch_dims):
    """The torch advanced index for `indices` into a tensor of `shape`, and the shape
    `(batch, positions, *slice)` the selected values take."""
    i = i.long()
    b, k = batch_dims, i.shape[-1]
    n_b = _prod(shape[:b])
    n_m = _prod(i.shape[b:-1])
    flat = i.reshape(n_b, n_m, k)
    batch = torch.arange(n_b, device=i.device).reshape(n_b, 1).expand(n_b, n_m)
    return (batch,) + tuple(flat[..., j] for j in range(k)), (n_b, n_m) + tuple(shape[b + k:])


def _gather_nd_kernel(p, i, batch_dims):
    index, _ = _nd_index(i, p.shape, batch_dims)
    flat = p.reshape((_prod(p.shape[:batch_dims]),) + p.shape[batch_dims:])
    return flat[index].reshape(i.shape[:-1] + p.shape[batch_dims + i.shape[-1]:])


def _scatter_nd_kernel(i, u, shape, batch_dims):
    index, values = _nd_index(i, shape, batch_dims)
    signed = SIGNED_OF.get(u.dtype)
    v = u if signed is None else u.view(signed)
    out = v.new_zeros((_prod(shape[:batch_dims]),) + shape[batch_dims:])
    out.index_put_(index, v.reshape(values), accumulate=True)
    out = out.reshape(shape)
    return out if signed is None else out.view(u.dtype)


def _tensor_scatter_kernel(t, i, u, accumulate):
    index, values = _nd_index(i, t.shape, 0)
    signed = SIGNED_OF.get(t.dtype)
    if signed is not None:
        t, u = t.view(signed), u.view(signed)
    out = t.clone().reshape((1,) + t.shape)
    out.index_put_(index, u.reshape(values), accumulate=accumulate)
    out = out.reshape(t.shape)
    return out if signed is None else out.view(_UNSIGNED[signed])


_UNSIGNED = {v: k for k, v in SIGNED_OF.items()}


def gather_nd_raw(x, indices, batch_dims=0):
    return execute(GATHER_ND, _gather_nd_kernel, (x, indices), (batch_dims,))


def scatter_nd_raw(indices, updates, shape, batch_dims=0):
    return execute(SCATTER_ND, _scatter_nd_kernel, (indices, updates), (shape, batch_dims))


def _check_nd(idx, shape, batch_dims, op, device):
    """TF's checks that `idx` (last dim: a position) indexes into `shape`."""
    if idx._dtype not in _INDEX_TYPES:
        check_dtype(idx, _INDEX_TYPES, op, "Tindices")
    ishape = tuple(idx._t.shape)
    if not ishape:
        raise kernel_error("indices must be at least a vector", op, device, name_suffix=False)
    k = ishape[-1]
    if k > len(shape) - batch_dims:
        raise kernel_error(f"index innermost dimension length must be <= params rank; saw: "
                           f"{k} vs. {len(shape)}", op, device, name_suffix=False)
    t = idx._t
    if t.is_meta or not t.numel():
        return
    bounds = torch.tensor(shape[batch_dims:batch_dims + k], device=t.device)
    bad = ((t < 0) | (t >= bounds)).reshape(-1, k).any(-1)
    if bool(bad.any()):
        pos = int(bad.nonzero()[0, 0])
        pos_text = ",".join(str(int(w)) for w in np.unravel_index(pos, ishape[:-1])) \
            if len(ishape) > 1 else str(pos)
        value = ", ".join(str(int(v)) for v in t.reshape(-1, k)[pos])
        into = ("param shape", ", node name: GatherNd") if op is GATHER_ND else ("shape", "")
        raise kernel_error(f"indices[{pos_text}] = [{value}] does not index into {into[0]} "
                           f"{dims_text(shape)}{into[1]}", op, device, name_suffix=False)


def gather_nd(params, indices, batch_dims=0, name=None):
    """Slices of `params` at the positions in `indices` (innermost dimension: a position)."""
    x = convert_to_tensor(params)
    idx = convert_to_tensor(indices)
    batch_dims = int_arg(batch_dims)
    _check_nd(idx, tuple(x._t.shape), batch_dims, GATHER_ND, _device(x))
    if x._dtype is _STRING:
        i = idx.numpy()
        return wrap_strings(x._t[tuple(np.moveaxis(i, -1, 0))] if not batch_dims else
                            np.stack([x._t[n][tuple(np.moveaxis(i[n], -1, 0))]
                                      for n in range(i.shape[0])]))
    return gather_nd_raw(x, idx, batch_dims)


@GATHER_ND.gradient
def _(node, grad):
    x, idx = node.inputs
    return scatter_nd_raw(idx, grad, tuple(x._t.shape), node.attrs[0]), None


def _updates(updates, dtype, op):
    if is_tensor_like(updates):
        u = convert_to_tensor(updates)
        if dtype is not None and u._dtype is not dtype:
            raise error(f"cannot compute {op.name} as input #2(zero-based) was expected to be "
                        f"a {dtype.name} tensor but is a {u._dtype.name} tensor", op)
        return u
    return convert_to_tensor(updates, dtype=dtype)


def _check_updates(idx, u, shape, op, device):
    expected = tuple(idx._t.shape[:-1]) + tuple(shape[idx._t.shape[-1]:])
    if tuple(u._t.shape) != expected:
        raise kernel_error(f"Outer dimensions of indices and update must match. Indices shape: "
                           f"{dims_text(idx._t.shape)}, updates shape:{dims_text(u._t.shape)}",
                           op, device, name_suffix=False)


def scatter_nd(indices, updates, shape, name=None):
    """Zeros of `shape` with `updates` added at the positions in `indices` (duplicates sum)."""
    u = _updates(updates, None, SCATTER_ND)
    idx = convert_to_tensor(indices)
    shape, _ = int_list(shape, SCATTER_ND, "Tindices")
    _check_nd(idx, shape, 0, SCATTER_ND, _device(u))
    _check_updates(idx, u, shape, SCATTER_ND, _device(u))
    return scatter_nd_raw(idx, u, shape)


@SCATTER_ND.gradient
def _(node, grad):
    idx, _ = node.inputs
    return None, gather_nd_raw(grad, idx, node.attrs[1])


def _tensor_scatter(op, tensor, indices, updates, accumulate):
    if is_tensor_like(updates) and not is_tensor_like(tensor):
        x = convert_to_tensor(tensor, dtype=convert_to_tensor(updates)._dtype)
    else:
        x = convert_to_tensor(tensor)
    idx = convert_to_tensor(indices)
    u = _updates(updates, x._dtype, op)
    _check_nd(idx, tuple(x._t.shape), 0, op, _device(x))
    _check_updates(idx, u, tuple(x._t.shape), op, _device(x))
    return execute(op, _tensor_scatter_kernel, (x, idx, u), (accumulate,))


def tensor_scatter_nd_update(tensor, indices, updates, name=None):
    """A copy of `tensor` with `updates` written at the positions in `indices`."""
    return _tensor_scatter(TENSOR_SCATTER_UPDATE, tensor, indices, updates, False)


def tensor_scatter_nd_add(tensor, indices, updates, name=None):
    """A copy of `tensor` with `updates` added at the positions in `indices`."""
    return _tensor_scatter(TENSOR_SCATTER_ADD, tensor, indices, updates, True)


@TENSOR_SCATTER_UPDATE.gradient
def _(node, grad):
    _, idx, u = node.inputs
    cleared = execute(TENSOR_SCATTER_UPDATE, _tensor_scatter_kernel,
                      (grad, idx, zeros_like(u)), (False,))
    return cleared, None, gather_nd_raw(grad, idx)


@TENSOR_SCATTER_ADD.gradient
def _(node, grad):
    _, idx, _ = node.inputs
    return grad, None, gather_nd_raw(grad, idx)


# -- boolean_mask / one_hot -------------------------------------------------------------------

def boolean_mask(tensor, mask, axis=None, name="boolean_mask"):
    """The elements (or slices along `axis`) of `tensor` where `mask` is true, flattened over
    the masked dimensions."""
    x = convert_to_tensor(tensor)
    m = convert_to_tensor(mask)
    k = m._t.ndim
    if k == 0:
        raise ValueError("mask cannot be scalar.")
    axis = 0 if axis is None else int_arg(axis)
    shape = tuple(x._t.shape)
    masked = shape[axis:axis + k]  # TF slices the shape as is: a negative axis never fits
    if masked != tuple(m._t.shape):
        raise ValueError(f"Shapes {TensorShape(masked)} and {TensorShape(m._t.shape)} are "
                         "incompatible")
    flat = reshape(x, shape[:axis] + (-1,) + shape[axis + k:])
    where = np.flatnonzero(m.numpy()) if m._dtype is _STRING else \
        m._t.reshape(-1).nonzero().reshape(-1)
    indices = convert_to_tensor(np.asarray(where)) if m._dtype is _STRING else \
        Tensor(where, dtypes.int64)
    return gather(flat, indices, axis=axis)


ONE_HOT = define("OneHot", differentiable=False)
_ONE_HOT_INDEX_TYPES = (dtypes.uint8, dtypes.int8, dtypes.int32, dtypes.int64)


def _one_hot_kernel(i, on, off, depth, axis):
    hot = i.unsqueeze(-1) == torch.arange(depth, device=i.device)
    out = torch.where(hot, on, off)
    return out if axis == -1 else out.movedim(-1, axis)


def one_hot(indices, depth, on_value=None, off_value=None, axis=None, dtype=None, name=None):
    """`on_value` where the last (or `axis`) dimension equals the index, `off_value` elsewhere
    (indices outside [0, depth) give a row of `off_value`)."""
    idx = convert_to_tensor(indices)
    if idx._dtype not in _ONE_HOT_INDEX_TYPES:
        check_dtype(idx, _ONE_HOT_INDEX_TYPES, ONE_HOT, "TI")
    if dtype is not None:
        dtype = dtypes.as_dtype(dtype)
    on = None if on_value is None else convert_to_tensor(on_value, dtype_hint=dtype)
    off = None if off_value is None else convert_to_tensor(off_value, dtype_hint=dtype)
    if on is not None or off is not None:
        for v, what in ((on, "on_value"), (off, "off_value")):
            if v is not None and dtype is not None and v._dtype is not dtype:
                raise TypeError(f"dtype {v._dtype} of {what} does not match dtype parameter "
                                f"{dtype}")
        dtype = dtype or (on._dtype if on is not None else off._dtype)
    else:
        dtype = dtype or dtypes.float32
    on = convert_to_tensor(1, dtype=dtype) if on is None else on
    off = convert_to_tensor(0, dtype=dtype) if off is None else off
    if on._dtype is not off._dtype:
        raise TypeError(f"dtype {on._dtype} of on_value does not match dtype {off._dtype} of "
                        "off_value")
    depth = int_arg(depth)
    rank = idx._t.ndim
    axis = -1 if axis is None else int_arg(axis)
    device = idx._t.device
    if axis != -1 and not 0 <= axis <= rank:
        raise kernel_error(f"Expected axis to be -1 or between [0, {rank + 1}).  But received: "
                           f"{axis}", ONE_HOT, device, name_suffix=False)
    if depth < 0:
        raise kernel_error(f"depth must be non-negative, got: {depth}", ONE_HOT, device,
                           name_suffix=False)
    if on._t.device != device and device.type != "meta":  # tracing: the values are constants
        on, off = Tensor(on._t.to(device), on._dtype), Tensor(off._t.to(device), off._dtype)
    return execute(ONE_HOT, _one_hot_kernel, (idx, on, off), (depth, axis))
