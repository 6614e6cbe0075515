"""Moving pixels without computing new ones: flips (and their random and stateless forms),
`rot90`, `transpose`, the crops (`central_crop`, `crop_to_bounding_box`, `random_crop`,
`stateless_random_crop`), `pad_to_bounding_box`, `resize_with_crop_or_pad`, and
`extract_patches` (a gather of patch taps; its gradient scatters them back).

Each is a composition of reverse / transpose / slice / pad, exactly as TF's
image_ops_impl.py composes them, so gradients come from those ops and TF's ValueErrors for
bad shapes and offsets are raised here, before any op runs. Images are 3-D (height, width,
channels) or 4-D (batch first), as TF accepts.
"""
import numpy as np
import torch

from tapeflow._core import dtypes
from tapeflow._core.errors import InvalidArgumentError, UnimplementedError
from tapeflow._core.tensor import convert_to_tensor
from tapeflow.ops._op import define, execute, kernel_error
from tapeflow.ops.array import (dims_text, expand_dims, reshape, reverse, squeeze,
                                transpose as _transpose)
from tapeflow.ops.comparison import greater_equal, less, where
from tapeflow.ops.elementwise import cast, round as _round
from tapeflow.ops.indexing import slice as _slice
from tapeflow.ops.math import add, floormod, multiply, subtract
from tapeflow.ops.padding import pad
from tapeflow.ops.random import stateless_uniform, uniform
from tapeflow.ops.reduction import reduce_all


# -- shape checks (TF's _CheckAtLeast3DImage and friends) -------------------------------------

def image_tensor(image):
    return convert_to_tensor(image)


def check_at_least_3d(x, name="image"):
    shape = x.shape
    if x.ndim < 3:
        raise ValueError(f"'{name}' (shape {shape}) must be at least three-dimensional.")
    if any(d == 0 for d in shape.as_list()[-3:]):
        raise ValueError(f"inner 3 dims of '{name}.shape' must be > 0: {shape}")


def _rank_3_or_4(x, gap=" "):
    if x.ndim not in (3, 4):
        # (TF's flips word it without the space)
        raise ValueError(f"'image' (shape {x.shape}){gap}must have either 3 or 4 dimensions.")


def _as_batch(x):
    """(4-D image, whether it was a batch) for the ops that work on batches."""
    if x.ndim == 3:
        return expand_dims(x, 0), False
    if x.ndim != 4:
        raise ValueError(f"'image' (shape {x.shape}) must have either 3 or 4 dimensions.")
    return x, True


# -- flips, rotations, transposes -------------------------------------------------------------

def _flip(image, axis):
    x = image_tensor(image)
    check_at_least_3d(x)
    _rank_3_or_4(x, gap="")
    return reverse(x, [axis + (x.ndim == 4)])


def flip_left_right(image):
    """Mirrors `image` horizontally (the width axis)."""
    return _flip(image, 1)


def flip_up_down(image):
    """Mirrors `image` vertically (the height axis)."""
    return _flip(image, 0)


def _random_flip(image, axis, draw):
    x = image_tensor(image)
    check_at_least_3d(x)
    _rank_3_or_4(x)
    if x.ndim == 3:
        # TF draws one number and flips when it is below one half (a select, not a Python
        # branch, so it traces)
        return where(less(draw([]), 0.5), reverse(x, [axis]), x)
    batch = x.shape[0]
    flips = cast(_round(reshape(draw([batch]), [batch, 1, 1, 1])), x.dtype)
    one = convert_to_tensor(np.ones((), x.dtype.as_numpy_dtype))
    # TF's blend of the flipped and the original batch, one 0/1 factor per image
    return add(multiply(flips, reverse(x, [axis + 1])), multiply(subtract(one, flips), x))


def random_flip_left_right(image, seed=None):
    """Flips `image` (each image of a batch independently) left-right with probability 1/2."""
    return _random_flip(image, 1, lambda shape: uniform(shape, 0, 1.0, seed=seed))


def random_flip_up_down(image, seed=None):
    return _random_flip(image, 0, lambda shape: uniform(shape, 0, 1.0, seed=seed))


def stateless_random_flip_left_right(image, seed):
    """`random_flip_left_right` whose outcome depends only on `seed` (a pair of ints)."""
    return _random_flip(image, 1, lambda shape: stateless_uniform(shape, seed, 0, 1.0))


def stateless_random_flip_up_down(image, seed):
    return _random_flip(image, 0, lambda shape: stateless_uniform(shape, seed, 0, 1.0))


def rot90(image, k=1, name=None):
    """Rotates `image` by `k` quarter turns counter-clockwise."""
    x = image_tensor(image)
    check_at_least_3d(x)
    kt = convert_to_tensor(k, dtype=dtypes.int32)
    if kt.ndim:
        raise ValueError(f"Shape {kt.shape} must have rank 0")
    _rank_3_or_4(x)
    turns = int(kt.numpy()) % 4
    h, w = (0, 1) if x.ndim == 3 else (1, 2)
    perm = [0, 2, 1, 3] if x.ndim == 4 else [1, 0, 2]
    if turns == 1:
        return _transpose(reverse(x, [w]), perm)
    if turns == 2:
        return reverse(x, [h, w])
    if turns == 3:
        return reverse(_transpose(x, perm), [w])
    return x


def transpose(image, name=None):
    """Swaps the height and width axes of `image`."""
    x = image_tensor(image)
    check_at_least_3d(x)
    _rank_3_or_4(x)
    return _transpose(x, [1, 0, 2] if x.ndim == 3 else [0, 2, 1, 3])


# -- crops and pads ---------------------------------------------------------------------------

def _int(value):
    return int(value.numpy()) if hasattr(value, "numpy") else int(value)


def central_crop(image, central_fraction):
    """The central `central_fraction` (in (0, 1]) of `image`'s height and width."""
    x = image_tensor(image)
    fraction = float(central_fraction.numpy() if hasattr(central_fraction, "numpy")
                     else central_fraction)
    if fraction <= 0.0 or fraction > 1.0:
        raise ValueError("central_fraction must be within (0, 1]")
    if fraction == 1.0:
        return x
    check_at_least_3d(x)
    if x.ndim not in (3, 4):
        raise ValueError("`image` should either be a Tensor with rank = 3 or rank = 4. Had "
                         f"rank = {x.ndim}.")
    h_axis = x.ndim - 3
    h, w = x.shape[h_axis], x.shape[h_axis + 1]
    top = int((float(h) - float(h) * fraction) / 2)
    left = int((float(w) - float(w) * fraction) / 2)
    begin = [top, left, 0] if x.ndim == 3 else [0, top, left, 0]
    size = [h - 2 * top, w - 2 * left, -1] if x.ndim == 3 else [-1, h - 2 * top,
                                                               w - 2 * left, -1]
    return _slice(x, begin, size)


def crop_to_bounding_box(image, offset_height, offset_width, target_height, target_width):
    """The `target_height` x `target_width` window of `image` whose top-left corner is at
    (`offset_height`, `offset_width`)."""
    x, is_batch = _as_batch(image_tensor(image))
    check_at_least_3d(x)
    oh, ow, th, tw = (_int(v) for v in (offset_height, offset_width, target_height,
                                        target_width))
    _, h, w, _ = x.shape.as_list()
    for ok, message in ((ow >= 0, "offset_width must be >= 0."),
                        (oh >= 0, "offset_height must be >= 0."),
                        (tw > 0, "target_width must be > 0."),
                        (th > 0, "target_height must be > 0."),
                        (w >= tw + ow, "width must be >= target + offset."),
                        (h >= th + oh, "height must be >= target + offset.")):
        if not ok:
            raise ValueError(message)
    cropped = _slice(x, [0, oh, ow, 0], [-1, th, tw, -1])
    return cropped if is_batch else squeeze(cropped, [0])


def pad_to_bounding_box(image, offset_height, offset_width, target_height, target_width):
    """`image` placed at (`offset_height`, `offset_width`) in a zero image of
    `target_height` x `target_width`."""
    x, is_batch = _as_batch(image_tensor(image))
    oh, ow, th, tw = (_int(v) for v in (offset_height, offset_width, target_height,
                                        target_width))
    _, h, w, _ = x.shape.as_list()
    after_w, after_h = tw - ow - w, th - oh - h
    check_at_least_3d(x)
    for ok, message in ((oh >= 0, "offset_height must be >= 0"),
                        (ow >= 0, "offset_width must be >= 0"),
                        (after_w >= 0, "width must be <= target - offset"),
                        (after_h >= 0, "height must be <= target - offset")):
        if not ok:
            raise ValueError(message)
    padded = pad(x, [[0, 0], [oh, after_h], [ow, after_w], [0, 0]])
    return padded if is_batch else squeeze(padded, [0])


def resize_with_crop_or_pad(image, target_height, target_width):
    """Crops (centrally) or zero-pads (evenly) `image` to `target_height` x `target_width`."""
    x, is_batch = _as_batch(image_tensor(image))
    check_at_least_3d(x)
    th, tw = _int(target_height), _int(target_width)
    if not tw > 0:
        raise ValueError("target_width must be > 0.")
    if not th > 0:
        raise ValueError("target_height must be > 0.")
    _, h, w, _ = x.shape.as_list()
    dw, dh = tw - w, th - h
    cropped = crop_to_bounding_box(x, max(-dh // 2, 0), max(-dw // 2, 0), min(th, h),
                                   min(tw, w))
    resized = pad_to_bounding_box(cropped, max(dh // 2, 0), max(dw // 2, 0), th, tw)
    return resized if is_batch else squeeze(resized, [0])


def _random_crop(value, size, draw):
    x = convert_to_tensor(value)
    size = convert_to_tensor(size, dtype=dtypes.int32)
    shape = convert_to_tensor(np.array(x.shape.as_list(), np.int32))
    if not bool(reduce_all(greater_equal(shape, size)).numpy()):
        got = ", ".join(str(d) for d in x.shape.as_list())
        want = ", ".join(str(d) for d in size.numpy().tolist())
        raise InvalidArgumentError(
            None, None, "Expected 'tf.Tensor(False, shape=(), dtype=bool)' to be true. "
            f"Summarized data: b'Need value.shape >= size, got '\n{got}\n{want}")
    limit = add(subtract(shape, size), convert_to_tensor(np.int32(1)))
    offset = floormod(draw([x.ndim]), limit)
    return _slice(x, offset.numpy().tolist(), size.numpy().tolist())


def random_crop(value, size, seed=None, name=None):
    """A random `size`-shaped slice of `value` (every offset equally likely)."""
    return _random_crop(value, size, lambda shape: uniform(
        shape, maxval=dtypes.int32.max, dtype=dtypes.int32, seed=seed))


def stateless_random_crop(value, size, seed, name=None):
    """`random_crop` whose offset depends only on `seed` (a pair of ints)."""
    return _random_crop(value, size, lambda shape: stateless_uniform(
        shape, seed, minval=0, maxval=dtypes.int32.max, dtype=dtypes.int32))


# -- extract_patches (ExtractImagePatches) ----------------------------------------------------

EXTRACT_PATCHES = define("ExtractImagePatches")
EXTRACT_PATCHES_GRAD = define("ExtractImagePatchesGrad")
_PATCH_SIGNATURE = (
    "images:T -> patches:T; attr=ksizes:list(int),min=4; attr=strides:list(int),min=4; "
    "attr=rates:list(int),min=4; attr=T:type,allowed=[DT_BFLOAT16, DT_HALF, DT_FLOAT, "
    "DT_DOUBLE, DT_INT8, DT_INT16, DT_INT32, DT_INT64, DT_UINT8, DT_UINT16, DT_UINT32, "
    "DT_UINT64, DT_COMPLEX64, DT_COMPLEX128, DT_BOOL]; attr=padding:string,allowed=[\"SAME\", "
    "\"VALID\"]")


def _patch_geometry(n, k, stride, rate, padding):
    """(output size, padding before) of one spatial axis, TF's SAME/VALID rules."""
    span = (k - 1) * rate + 1
    if padding == "VALID":
        return max(-(-(n - span + 1) // stride), 0), 0
    out = -(-n // stride)
    return out, max((out - 1) * stride + span - n, 0) // 2


def _patch_index(n, k, stride, rate, padding, device):
    """For each (output position, kernel tap): the source index, or -1 in the padding."""
    out, before = _patch_geometry(n, k, stride, rate, padding)
    src = (torch.arange(out, device=device)[:, None] * stride - before
           + torch.arange(k, device=device)[None, :] * rate)
    return torch.where((src >= 0) & (src < n), src, torch.full_like(src, -1))


def _patches_kernel(t, k, stride, rate, padding):
    b, h, w, d = t.shape
    rows = _patch_index(h, k[0], stride[0], rate[0], padding, t.device)   # [oh, kh]
    cols = _patch_index(w, k[1], stride[1], rate[1], padding, t.device)   # [ow, kw]
    if t.device.type == "meta":
        return t.new_empty((b, rows.shape[0], cols.shape[0], k[0] * k[1] * d))
    # index a zero-padded copy: the -1s (padding) land on the extra zero row/column
    padded = torch.nn.functional.pad(t.movedim(3, 1), (0, 1, 0, 1)).movedim(1, 3) \
        if t.dtype != torch.bool else torch.cat(
            [torch.cat([t, t.new_zeros((b, 1, w, d))], 1), t.new_zeros((b, h + 1, 1, d))], 2)
    r = torch.where(rows < 0, h, rows)[:, None, :, None]
    c = torch.where(cols < 0, w, cols)[None, :, None, :]
    out = padded[:, r, c, :]                    # [b, oh, ow, kh, kw, d]
    return out.reshape(b, rows.shape[0], cols.shape[0], k[0] * k[1] * d)


def _patches_grad_kernel(g, shape, k, stride, rate, padding):
    b, h, w, d = shape
    rows = _patch_index(h, k[0], stride[0], rate[0], padding, g.device)
    cols = _patch_index(w, k[1], stride[1], rate[1], padding, g.device)
    if g.device.type == "meta":
        return g.new_empty(shape)
    oh, ow = rows.shape[0], cols.shape[0]
    r = torch.where(rows < 0, h, rows)[:, None, :, None].expand(oh, ow, k[0], k[1])
    c = torch.where(cols < 0, w, cols)[None, :, None, :].expand(oh, ow, k[0], k[1])
    flat = (r * (w + 1) + c).reshape(-1)
    values = g.reshape(b, oh * ow * k[0] * k[1], d)
    out = g.new_zeros((b, (h + 1) * (w + 1), d)).index_add_(1, flat, values)
    return out.reshape(b, h + 1, w + 1, d)[:, :h, :w, :]


@EXTRACT_PATCHES.gradient
def _(node, grad):
    x = node.inputs[0]
    return execute(EXTRACT_PATCHES_GRAD, _patches_grad_kernel, (grad,),
                   (tuple(x._t.shape),) + node.attrs)


@EXTRACT_PATCHES_GRAD.gradient
def _(node, grad):
    return execute(EXTRACT_PATCHES, _patches_kernel, (grad,), node.attrs[1:])


def _four(values, attr):
    values = [int(v) for v in values]
    if len(values) < 4:
        raise InvalidArgumentError(
            None, None, f"Length for attr '{attr}' of {len(values)} must be at least minimum 4"
            f"\n\t; NodeDef: {{{{node ExtractImagePatches}}}}; Op<name=ExtractImagePatches; "
            f"signature={_PATCH_SIGNATURE}> [Op:ExtractImagePatches] name: ")
    return values


def extract_patches(images, sizes, strides, rates, padding, name=None):
    """The `sizes[1] x sizes[2]` patches of `images` (4-D), taken every `strides` pixels with
    taps `rates` apart, each flattened (rows, columns, channels) into the last axis."""
    x = convert_to_tensor(images)
    sizes, strides, rates = (_four(v, a) for v, a in ((sizes, "ksizes"), (strides, "strides"),
                                                      (rates, "rates")))
    padding = padding.decode() if isinstance(padding, bytes) else str(padding)
    if padding not in ("SAME", "VALID"):
        raise InvalidArgumentError(
            None, None, f"Value for attr 'padding' of \"{padding}\" is not in the list of "
            f"allowed values: \"SAME\", \"VALID\"\n\t; NodeDef: {{{{node ExtractImagePatches}}}}"
            f"; Op<name=ExtractImagePatches; signature={_PATCH_SIGNATURE}> "
            "[Op:ExtractImagePatches] name: ")
    device = x._t.device
    for values, what in ((sizes, "ksizes"), (strides, "strides"), (rates, "rates")):
        if values[0] != 1 or values[3] != 1:
            raise UnimplementedError(None, None, kernel_error(
                f"Only support {what} across space.", EXTRACT_PATCHES, device).message)
    if x.ndim != 4:
        raise kernel_error(f"input must be 4-dimensional{dims_text(x.shape.as_list())}",
                           EXTRACT_PATCHES, device)
    if padding == "VALID":
        for n, k, stride, rate in zip(x.shape.as_list()[1:3], sizes[1:3], strides[1:3],
                                      rates[1:3]):
            span = (k - 1) * rate + 1
            out = int((n - span + stride) / stride)  # C++ division: toward zero
            if out < 0:
                raise kernel_error(
                    f"Computed output size would be negative: {out} [input_size: {n}, "
                    f"effective_filter_size: {span}, stride: {stride}]", EXTRACT_PATCHES,
                    device, name_suffix=False)
    return execute(EXTRACT_PATCHES, _patches_kernel, (x,),
                   (tuple(sizes[1:3]), tuple(strides[1:3]), tuple(rates[1:3]), padding))
