"""Slicing: `tensor[key]` (StridedSlice), `tf.slice`, `tf.strided_slice`, and sliced variable
assignment (`v[key].assign`). Selection by index tensors (gather ...) is in `gather.py`.

`tensor[key]` parses the key once into a hashable spec (tapeflow/_core/indexing.py) and runs
one torch basic-indexing kernel: a view, no copy. The gradient writes the incoming gradient
into zeros where the elements came from (StridedSliceGrad), an op too whose own gradient slices
again, so second derivatives work. `variable[key]` returns a tensor that also has `.assign` (TF's sliced
assignment, the TensorStridedSliceUpdate op then `assign`); both are installed on `Variable`
here because they run these ops.
"""
import builtins
import weakref

import numpy as np
import torch

from tapeflow._core import dtypes
from tapeflow._core.errors import InvalidArgumentError, invalid_argument
from tapeflow._core.indexing import (DYNAMIC, apply_spec, apply_spec_dynamic, apply_spec_numpy,
                                     dynamic_entries, flip, parse_key, region_shape, torch_index,
                                     zeros_with, zeros_with_dynamic)
from tapeflow._core.tensor import Tensor, convert_to_tensor, wrap_strings
from tapeflow._core.variable import Variable
from tapeflow.ops._op import define, execute, kernel_error
from tapeflow.ops.array import int_list
from tapeflow.ops.gather import boolean_mask
from tapeflow.ops.broadcast import reshape_raw, unbroadcast
from tapeflow.ops.math import zeros_like

_STRING = dtypes.string
_CPU = torch.device("cpu")


def _device(x):
    return _CPU if x._dtype is _STRING else x._t.device


# -- tensor[key]: StridedSlice and its gradient ----------------------------------------------------

STRIDED_SLICE = define("StridedSlice")
STRIDED_SLICE_GRAD = define("StridedSliceGrad")
SLICE = define("Slice")


def _slice_value(a, *rest):
    """StridedSlice of shape arithmetic (`tf.shape(x)[0]`); with index tensors: unknown."""
    return apply_spec_numpy(a, *rest) if len(rest) == 2 else None


STRIDED_SLICE.value_fn = SLICE.value_fn = _slice_value


def strided_slice_raw(x, index, flips):
    """`x[spec]` for an already-parsed spec (see tapeflow/_core/indexing.py)."""
    return execute(STRIDED_SLICE, apply_spec, (x,), (index, flips))


def _spec(x, key, op=STRIDED_SLICE):
    try:
        return parse_key(key, tuple(x._t.shape))
    except InvalidArgumentError as e:
        raise kernel_error(e.message.split(" [Op:")[0], op, _device(x)) from None


def _is_mask(key):
    return type(key) is bool or (
        isinstance(key, (Tensor, np.ndarray)) and key.dtype in (dtypes.bool, np.bool_))


def getitem(self, key):
    """`tensor[key]`, NumPy-style: ints, slices (any step), `...`, `tf.newaxis`, scalar integer
    tensors; a boolean key is `tf.boolean_mask`."""
    if _is_mask(key):
        return boolean_mask(self, key)
    index, flips = _spec(self, key)
    if self._dtype is _STRING:
        return wrap_strings(apply_spec_numpy(self._t, index, flips))
    if DYNAMIC in index:  # symbolic index tensors (tf.function): they are inputs of the op
        return execute(STRIDED_SLICE, apply_spec_dynamic, (self,) + dynamic_entries(key),
                       (index, flips))
    return execute(STRIDED_SLICE, apply_spec, (self,), (index, flips))


class SlicedVariable(Tensor):
    """What `variable[key]` returns: the slice's value (the StridedSlice op's own output, so
    tapes and traces see it as any tensor) that can also be assigned to, so
    `v[0, 0].assign(3.0)` updates the variable as in TF."""

    __slots__ = ()  # the same layout as Tensor: the op's output is re-classed, not copied
    _sources = {}   # id(slice) -> (variable, key), dropped when the slice is collected

    def assign(self, value, use_locking=None, name=None, read_value=True):
        variable, key = SlicedVariable._sources[id(self)]
        return assign_slice(variable, key, value)


def _forget(i):
    SlicedVariable._sources.pop(i, None)


def _variable_getitem(variable, key):
    """`variable[key]`: the slice of the current value, as a tensor with `.assign`."""
    out = getitem(variable.value(), key)
    if type(out) is Tensor and not _is_mask(key):
        out.__class__ = SlicedVariable
        SlicedVariable._sources[id(out)] = (variable, key)
        weakref.finalize(out, _forget, id(out))
    return out


Tensor.__getitem__ = getitem
Variable.__getitem__ = _variable_getitem

TENSOR_STRIDED_SLICE_UPDATE = define("TensorStridedSliceUpdate")


def _update_kernel(t, value, index, flips):
    out = t.clone()
    region = out[torch_index(index)]
    extra = value.ndim - region.ndim
    if extra > 0:  # leading 1s beyond the region's rank (checked by the caller)
        value = value.reshape(value.shape[extra:])
    out[torch_index(index)] = flip(value.expand(region.shape), flips) if flips else value
    return out


def assign_slice(variable, key, value):
    """`variable[key].assign(value)`: TF's ResourceStridedSliceAssign, done as the
    TensorStridedSliceUpdate op on the variable's value then `assign` (so a trace records it,
    and a failed check leaves the variable as it was)."""
    new = strided_slice_update(variable.value(), key,
                               convert_to_tensor(value, dtype=variable.dtype),
                               "ResourceStridedSliceAssign")
    return variable.assign(new)


def strided_slice_update(x, key, value, op_name="TensorStridedSliceUpdate"):
    """A copy of `x` with `x[key]` replaced by `value` (broadcast to that region)."""
    index, flips = _spec(x, key)
    if DYNAMIC in index:
        raise NotImplementedError("Sliced assignment with a symbolic index tensor is not "
                                  "supported inside tf.function yet.")
    target = tuple(region_shape(tuple(x._t.shape), index)) if x._dtype is not _STRING else \
        apply_spec_numpy(x._t, index, flips).shape
    vshape = tuple(value._t.shape)
    extra = max(len(vshape) - len(target), 0)
    if any(d != 1 for d in vshape[:extra]) or any(
            a != b and a != 1 for a, b in zip(reversed(vshape), reversed(target))):
        shown = vshape if any(d != 1 for d in vshape[:extra]) else vshape[extra:]
        raise invalid_argument(f"Cannot broadcast input shape {list(shown)} into final shape "
                               f"{list(target)}", op_name)
    if x._dtype is _STRING:
        new = x._t.copy()
        v = np.broadcast_to(value._t.reshape(vshape[extra:]), target)
        new[torch_index(index) + (Ellipsis,)] = np.flip(v, flips) if flips else v
        return wrap_strings(new)
    return execute(TENSOR_STRIDED_SLICE_UPDATE, _update_kernel, (x, value), (index, flips))


@TENSOR_STRIDED_SLICE_UPDATE.gradient
def _(node, grad):
    x, value = node.inputs
    index, flips = node.attrs
    cleared = execute(TENSOR_STRIDED_SLICE_UPDATE, _update_kernel, (grad, zeros_like(value)),
                      node.attrs)
    g = strided_slice_raw(grad, index, flips)
    vshape = tuple(value._t.shape)
    if len(vshape) > g._t.ndim:
        g = reshape_raw(g, (1,) * (len(vshape) - g._t.ndim) + tuple(g._t.shape))
    return cleared, unbroadcast(g, value)


def _slice_gradient(node, grad):
    index, flips = node.attrs
    x, *tensors = node.inputs
    shape = tuple(x._t.shape)
    if tensors:
        return (execute(STRIDED_SLICE_GRAD, zeros_with_dynamic, (grad, *tensors),
                        (shape, index, flips)),) + (None,) * len(tensors)
    return execute(STRIDED_SLICE_GRAD, zeros_with, (grad,), (shape, index, flips))


STRIDED_SLICE.gradient(_slice_gradient)
SLICE.gradient(_slice_gradient)


@STRIDED_SLICE_GRAD.gradient
def _(node, grad):
    _, index, flips = node.attrs
    _, *tensors = node.inputs
    if tensors:
        return (execute(STRIDED_SLICE, apply_spec_dynamic, (grad, *tensors), (index, flips)),) \
            + (None,) * len(tensors)
    return strided_slice_raw(grad, index, flips)


def slice(input_, begin, size, name=None):  # noqa: A001 - TF's public name
    """The block of `input_` starting at `begin` with `size` (-1: to the end) per dimension."""
    x = convert_to_tensor(input_)
    begin, _ = int_list(begin, SLICE, "Index")
    size, _ = int_list(size, SLICE, "Index")
    shape = tuple(x._t.shape)
    if len(begin) != len(shape) or len(size) != len(shape):
        raise kernel_error(f"Expected begin and size arguments to be 1-D tensors of size "
                           f"{len(shape)}, but got shapes [{len(begin)}] and [{len(size)}] "
                           "instead.", SLICE, _device(x), name_suffix=False)
    index = []
    for i, (b, s, n) in enumerate(zip(begin, size, shape)):
        if s == -1:
            s = n - b
        if not 0 <= b <= n:
            raise kernel_error(f"Expected begin[{i}] in [0, {n}], but got {b}", SLICE,
                               _device(x), name_suffix=False)
        if not 0 <= s <= n - b:
            raise kernel_error(f"Expected size[{i}] in [0, {n - b}], but got {s}", SLICE,
                               _device(x), name_suffix=False)
        index.append((b, b + s, 1))
    index = tuple(index)
    if x._dtype is _STRING:
        return wrap_strings(apply_spec_numpy(x._t, index, ()))
    return execute(SLICE, apply_spec, (x,), (index, ()))


def strided_slice(input_, begin, end, strides=None, begin_mask=0, end_mask=0, ellipsis_mask=0,
                  new_axis_mask=0, shrink_axis_mask=0, var=None, name=None):
    """TF's strided slice with explicit begin/end/strides vectors and bit masks; the same op
    as `input_[key]` for the key those describe."""
    begin, _ = int_list(begin, STRIDED_SLICE, "Index")
    end, _ = int_list(end, STRIDED_SLICE, "Index")
    strides = (1,) * len(begin) if strides is None else int_list(strides, STRIDED_SLICE,
                                                                  "Index")[0]
    key = []
    for i, (b, e, s) in enumerate(zip(begin, end, strides)):
        bit = 1 << i
        if ellipsis_mask & bit:
            key.append(Ellipsis)
        elif new_axis_mask & bit:
            key.append(None)
        elif shrink_axis_mask & bit:
            key.append(b)
        else:
            key.append(builtins.slice(None if begin_mask & bit else b,
                                      None if end_mask & bit else e, s))
    return getitem(convert_to_tensor(input_), tuple(key))
