"""`tf.pad`: constant padding (TF's Pad and PadV2 ops) and mirror padding (MirrorPad, with
REFLECT and SYMMETRIC modes).

Mirror padding is one `index_select` per padded dimension, with the mirrored source index of
every output position, so it works for every dtype and shape; its gradient (MirrorPadGrad)
adds the output gradient back onto those source positions with `index_add`, and the gradient
of that is MirrorPad again. A constant pad's gradient is the slice of the interior.
"""
import numpy as np
import torch

from tapeflow._core import dtypes
from tapeflow._core.indexing import torch_index
from tapeflow._core.tensor import convert_to_tensor, wrap_strings
from tapeflow.ops._op import define, error, execute, is_tensor_like, kernel_error, tf_type_name
from tapeflow.ops.array import dims_text, int_list
from tapeflow.ops.indexing import strided_slice_raw

PAD = define("Pad")
PADV2 = define("PadV2")
MIRROR_PAD = define("MirrorPad")
MIRROR_PAD_GRAD = define("MirrorPadGrad")


def pad(tensor, paddings, mode="CONSTANT", constant_values=0, name=None):
    """Pads `tensor` with `paddings[i] = [before, after]` entries along dimension i.

    `mode` is "CONSTANT" (fill with `constant_values`), "REFLECT" (mirror, not repeating the
    edge) or "SYMMETRIC" (mirror, repeating the edge); case-insensitive.
    """
    if is_tensor_like(constant_values) and not is_tensor_like(tensor):
        x = convert_to_tensor(tensor, dtype=convert_to_tensor(constant_values)._dtype)
    else:
        x = convert_to_tensor(tensor)
    mode = str(mode).upper()
    if mode not in ("CONSTANT", "REFLECT", "SYMMETRIC"):
        raise ValueError('Value of argument `mode` expected to be one of "CONSTANT", '
                         f'"REFLECT", or "SYMMETRIC". Received `mode` = {mode}')
    op = MIRROR_PAD if mode != "CONSTANT" else (
        PAD if not is_tensor_like(constant_values) and _is_zero(constant_values) else PADV2)
    pads = _check_paddings(x, paddings, op)
    device = x._t.device if x._dtype is not dtypes.string else torch.device("cpu")
    if op is MIRROR_PAD:
        offset = 1 if mode == "REFLECT" else 0
        for (before, after), n in zip(pads, x._t.shape):
            if before > n - offset or after > n - offset:
                word = "less than" if offset else "no greater than"
                verb = "not less than" if offset else "greater than"
                raise kernel_error(f"paddings must be {word} the dimension size: {before}, "
                                   f"{after} {verb} {n}", op, device, name_suffix=False)
        if x._dtype is dtypes.string:
            return wrap_strings(np.pad(x._t, pads, mode=mode.lower()))
        return execute(MIRROR_PAD, _mirror_pad_kernel, (x,), (pads, offset))
    value = _constant(x, constant_values, op)
    if x._dtype is dtypes.string:
        return wrap_strings(np.pad(x._t, pads, constant_values=value))
    return execute(op, _pad_kernel, (x,), (pads, value))


def _is_zero(v):
    try:
        return v == 0 and not isinstance(v, str)
    except (TypeError, ValueError):
        return False


def _constant(x, value, op):
    """The fill value as a Python scalar of `x`'s dtype (TF's errors for a mismatch)."""
    if op is PAD:  # the zero of x's dtype (False, b"", 0)
        return b"" if x._dtype is dtypes.string else torch.zeros((), dtype=x._t.dtype).item()
    if x._dtype is dtypes.string:
        v = convert_to_tensor(value)
    elif is_tensor_like(value):
        v = convert_to_tensor(value)
        if v._dtype is not x._dtype:
            raise error(f"cannot compute {op.name} as input #2(zero-based) was expected to be "
                        f"a {tf_type_name(x._dtype)} tensor but is a {tf_type_name(v._dtype)} "
                        "tensor", op)
    else:
        v = convert_to_tensor(value, dtype=x._dtype)
    return v.numpy().item() if x._dtype is not dtypes.string else v.numpy()


def _check_paddings(x, paddings, op):
    values, r = int_list(paddings, op, "Tpaddings")
    rank = x._t.ndim
    device = x._t.device if x._dtype is not dtypes.string else torch.device("cpu")
    shape = np.shape(paddings) if not is_tensor_like(paddings) else tuple(
        convert_to_tensor(paddings).shape)
    if r != 2 or shape[1] != 2:
        raise kernel_error(f"paddings must be a matrix with 2 columns: {dims_text(shape)}", op,
                           device, name_suffix=False)
    if shape[0] != rank:
        raise kernel_error(f"The first dimension of paddings must be the rank of inputs"
                           f"{dims_text(shape)} {dims_text(x._t.shape)}", op, device,
                           name_suffix=False)
    pads = tuple((values[2 * i], values[2 * i + 1]) for i in range(rank))
    for before, after in pads:
        if before < 0 or after < 0:
            raise kernel_error(f"Paddings must be non-negative: {before} {after}", op, device,
                               name_suffix=False)
    return pads


def _interior(shape, pads):
    return tuple((b, b + n, 1) for n, (b, _) in zip(shape, pads))


def _pad_kernel(t, pads, value):
    shape = tuple(b + n + a for n, (b, a) in zip(t.shape, pads))
    out = torch.full(shape, value, dtype=t.dtype, device=t.device)
    out[torch_index(_interior(t.shape, pads))] = t
    return out


def _constant_pad_gradient(node, grad):
    pads = node.attrs[0]
    index = _interior(tuple(node.inputs[0]._t.shape), pads)
    return strided_slice_raw(grad, index, ())


PAD.gradient(_constant_pad_gradient)
PADV2.gradient(_constant_pad_gradient)


def _mirror_index(n, before, after, offset, device):
    """Source positions of a mirror-padded dimension of size n (offset 1: REFLECT)."""
    left = range(before - 1 + offset, offset - 1, -1)
    right = range(n - 1 - offset, n - 1 - offset - after, -1)
    return torch.tensor([*left, *range(n), *right], dtype=torch.int64, device=device)


def _mirror_pad_kernel(t, pads, offset):
    for d, (before, after) in enumerate(pads):
        if before or after:
            t = t.index_select(d, _mirror_index(t.shape[d], before, after, offset, t.device))
    return t


def _mirror_pad_grad_kernel(g, pads, offset):
    for d, (before, after) in enumerate(pads):
        if before or after:
            n = g.shape[d] - before - after
            shape = g.shape[:d] + (n,) + g.shape[d + 1:]
            index = _mirror_index(n, before, after, offset, g.device)
            g = g.new_zeros(shape).index_add_(d, index, g)
    return g


@MIRROR_PAD.gradient
def _(node, grad):
    return execute(MIRROR_PAD_GRAD, _mirror_pad_grad_kernel, (grad,), node.attrs)


@MIRROR_PAD_GRAD.gradient
def _(node, grad):
    return execute(MIRROR_PAD, _mirror_pad_kernel, (grad,), node.attrs)
