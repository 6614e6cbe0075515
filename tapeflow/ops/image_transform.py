"""Sampling images at computed positions: TF's ImageProjectiveTransformV3 kernel (what
Keras's RandomRotation, RandomZoom and RandomTranslation call through `affine_transform`),
and `tf.image.crop_and_resize` (composed of gathers and lerps, so it has TF's gradients with
respect to the image and the boxes).

Each output pixel (x, y) samples the input at ((a0 x + a1 y + a2) / k, (b0 x + b1 y + b2) / k),
k = c0 x + c1 y + 1, for a transform [a0, a1, a2, b0, b1, b2, c0, c1] per image; the sample
position is folded back into the image by the fill mode (TF's MapCoordinate: reflect, wrap,
nearest, or constant = `fill_value` outside), then read by nearest or bilinear
interpolation, all in float32 as TF computes it. TF's gradient for this op is an
approximation (the inverse transform); this op has none.
"""
import numpy as np
import torch

from tapeflow._core import dtypes
from tapeflow._core.errors import InvalidArgumentError, OutOfRangeError
from tapeflow._core.tensor import convert_to_tensor
from tapeflow.ops._op import Op, define, execute, kernel_error
from tapeflow.ops.array import reshape
from tapeflow.ops.comparison import greater_equal, less_equal, logical_and, where
from tapeflow.ops.elementwise import cast, ceil, clip_by_value, floor
from tapeflow.ops.gather import gather
from tapeflow.ops.joining import unstack
from tapeflow.ops.math import add, multiply, subtract

PROJECTIVE_TRANSFORM = define("ImageProjectiveTransformV3", differentiable=False)
FILL_MODES = ("REFLECT", "WRAP", "CONSTANT", "NEAREST")
INTERPOLATIONS = ("NEAREST", "BILINEAR")


def _map_coordinate(c, n, mode):
    """TF's MapCoordinate for one axis of length n (float32 coordinates)."""
    if mode == "CONSTANT":
        return c
    if mode == "NEAREST" or n <= 1:
        return c.clamp(0, n - 1) if n > 1 else torch.zeros_like(c)
    if mode == "REFLECT":
        sz2 = 2 * n
        low = sz2 * torch.trunc(-c / sz2) + c
        low = torch.where(low < -n, low + sz2, -low - 1)
        high = c - sz2 * torch.trunc(c / sz2)
        high = torch.where(high >= n, sz2 - high - 1, high)
        c = torch.where(c < 0, low, torch.where(c > n - 1, high, c))
    else:  # WRAP
        sz = n - 1
        low = c + n * (torch.trunc(-c / sz) + 1)
        high = c - n * torch.trunc(c / sz)
        c = torch.where(c < 0, low, torch.where(c > n - 1, high, c))
    return c.clamp(0, n - 1)


def _round_half_away(v):
    return torch.sign(v) * torch.floor(torch.abs(v) + 0.5)


def _transform_kernel(images, transforms, out_h, out_w, fill_value, interpolation, mode):
    b, h, w, c = images.shape
    if images.device.type == "meta":
        return images.new_empty((b, out_h, out_w, c))
    t = transforms.to(torch.float32)
    if t.shape[0] == 1 and b > 1:
        t = t.expand(b, 8)
    ys = torch.arange(out_h, dtype=torch.float32, device=images.device)[None, :, None]
    xs = torch.arange(out_w, dtype=torch.float32, device=images.device)[None, None, :]
    a0, a1, a2, b0, b1, b2, c0, c1 = (t[:, i, None, None] for i in range(8))
    k = c0 * xs + c1 * ys + 1.0
    safe = torch.where(k == 0, torch.ones_like(k), k)
    x = _map_coordinate((a0 * xs + a1 * ys + a2) / safe, w, mode)
    y = _map_coordinate((b0 * xs + b1 * ys + b2) / safe, h, mode)
    flat = images.reshape(b, h * w, c).to(torch.float32)
    if not images.dtype.is_floating_point:
        fill_value = int(fill_value)  # TF holds the fill value in the image's type
    fill = torch.tensor(float(fill_value), dtype=torch.float32, device=images.device)

    def read(yi, xi):
        """Pixels at integer (yi, xi) [b, oh, ow], fill_value outside the image."""
        inside = (yi >= 0) & (yi < h) & (xi >= 0) & (xi < w) & (k != 0)
        index = (yi.clamp(0, h - 1) * w + xi.clamp(0, w - 1)).long().reshape(b, -1, 1)
        values = torch.gather(flat, 1, index.expand(b, index.shape[1], c))
        return torch.where(inside.reshape(b, -1, 1), values, fill)

    if interpolation == "NEAREST":
        out = read(_round_half_away(y), _round_half_away(x))
    else:
        y0, x0 = torch.floor(y), torch.floor(x)
        wy1, wx1 = (y - y0).reshape(b, -1, 1), (x - x0).reshape(b, -1, 1)
        wy0, wx0 = (y0 + 1 - y).reshape(b, -1, 1), (x0 + 1 - x).reshape(b, -1, 1)
        top = wx0 * read(y0, x0) + wx1 * read(y0, x0 + 1)
        bottom = wx0 * read(y0 + 1, x0) + wx1 * read(y0 + 1, x0 + 1)
        out = wy0 * top + wy1 * bottom
    out = torch.where((k == 0).reshape(b, -1, 1), fill, out)
    if not images.dtype.is_floating_point:
        out = torch.trunc(out)  # C++'s float-to-integer conversion
    return out.reshape(b, out_h, out_w, c).to(images.dtype)


def projective_transform(images, transforms, output_shape=None, fill_value=0.0,
                         interpolation="BILINEAR", fill_mode="CONSTANT"):
    """Applies one projective transform per image of the 4-D `images` (NHWC); `transforms`
    is [batch or 1, 8]. TF's `raw_ops.ImageProjectiveTransformV3`."""
    x = convert_to_tensor(images)
    t = convert_to_tensor(transforms)
    if t.dtype is not dtypes.float32:
        t = cast(t, dtypes.float32)
    interpolation, fill_mode = str(interpolation).upper(), str(fill_mode).upper()
    if interpolation not in INTERPOLATIONS:
        raise ValueError(f"Invalid value for argument `interpolation`: {interpolation}")
    if fill_mode not in FILL_MODES:
        raise ValueError(f"Invalid value for argument `fill_mode`: {fill_mode}")
    if t.ndim != 2 or t.shape[1] != 8 or t.shape[0] not in (1, x.shape[0]):
        raise ValueError("Input transform should be num_images x 8 or 1 x 8; got "
                         f"{t.shape}")
    out_h, out_w = (x.shape[1], x.shape[2]) if output_shape is None else \
        (int(v) for v in output_shape)
    fill = float(fill_value.numpy() if hasattr(fill_value, "numpy") else fill_value)
    return execute(PROJECTIVE_TRANSFORM, _transform_kernel, (x, t),
                   (out_h, out_w, fill, interpolation, fill_mode))


# -- crop_and_resize (TF's CropAndResize, composed of ops) ----------------------------------------

CROP_AND_RESIZE = Op("CropAndResize", differentiable=False)  # for its error texts only
_CROP_SIGNATURE = (
    "image:T, boxes:float, box_ind:int32, crop_size:int32 -> crops:float; attr=T:type,allowed="
    "[DT_UINT8, DT_UINT16, DT_INT8, DT_INT16, DT_INT32, DT_INT64, DT_HALF, DT_FLOAT, DT_DOUBLE]; "
    "attr=method:string,default=\"bilinear\",allowed=[\"bilinear\", \"nearest\"]; "
    "attr=extrapolation_value:float,default=0")


def _const(value):
    return convert_to_tensor(np.asarray(value, dtype=np.float32))


def _crop_error(message, device, cls=InvalidArgumentError):
    return cls(None, None, kernel_error(message, CROP_AND_RESIZE, device, name_suffix=False)
               .message)


def _sample_positions(low, high, n_out, n_in):
    """TF's sample positions along one axis for each box: [boxes, n_out] (float32)."""
    scale = float(n_in - 1)
    if n_out > 1:
        steps = _const(np.arange(n_out, dtype=np.float32) / (n_out - 1))
        return add(multiply(low[:, None], scale),
                   multiply(multiply(subtract(high, low)[:, None], scale), steps[None, :]))
    return multiply(add(low, high), 0.5 * scale)[:, None]


def crop_and_resize(image, boxes, box_indices, crop_size, method="bilinear",
                    extrapolation_value=0.0, name=None):
    """Crops the normalised `boxes` [y1, x1, y2, x2] from the images `box_indices` picks and
    resizes each crop to `crop_size` by bilinear or nearest sampling; samples outside the
    image are `extrapolation_value`. Differentiable in the image and the boxes."""
    x = convert_to_tensor(image)
    b = convert_to_tensor(boxes, dtype=dtypes.float32) if not hasattr(boxes, "dtype") else \
        cast(convert_to_tensor(boxes), dtypes.float32)
    index = convert_to_tensor(box_indices, dtype=dtypes.int32)
    if method not in ("bilinear", "nearest"):
        raise InvalidArgumentError(
            None, None, f"Value for attr 'method' of \"{method}\" is not in the list of allowed "
            f"values: \"bilinear\", \"nearest\"\n\t; NodeDef: {{{{node CropAndResize}}}}; "
            f"Op<name=CropAndResize; signature={_CROP_SIGNATURE}> [Op:CropAndResize]")
    device = x._t.device
    if x.ndim != 4:
        raise _crop_error(f"input image must be 4-D[{','.join(map(str, x.shape))}]", device)
    crop_h, crop_w = (int(v) for v in convert_to_tensor(crop_size, dtype=dtypes.int32).numpy())
    if crop_h <= 0 or crop_w <= 0:
        raise _crop_error("crop dimensions must be positive", device)
    if b.ndim != 2 or b.shape[1] != 4:
        raise _crop_error("boxes must have 4 columns", device)
    if index.shape.as_list() != [b.shape[0]]:
        raise _crop_error("box_index has incompatible shape", device)
    batch, height, width, channels = x.shape.as_list()
    picked = index.numpy() if not index._is_symbolic() else None
    if picked is not None and picked.size and (picked.min() < 0 or picked.max() >= batch):
        raise _crop_error("box_index has values outside [0, batch_size)", device,
                          OutOfRangeError)
    y1, x1, y2, x2 = unstack(b, axis=1)
    ys = _sample_positions(y1, y2, crop_h, height)             # [n, crop_h]
    xs = _sample_positions(x1, x2, crop_w, width)              # [n, crop_w]
    inside = logical_and(
        logical_and(greater_equal(ys, _const(0.0)), less_equal(ys, _const(height - 1.0)))[
            :, :, None],
        logical_and(greater_equal(xs, _const(0.0)), less_equal(xs, _const(width - 1.0)))[
            :, None, :])
    flat = reshape(cast(x, dtypes.float32), [batch * height * width, channels])
    base = multiply(index, height * width)[:, None, None]

    def read(yi, xi):  # [n, crop_h, crop_w, channels] at integer positions (clamped)
        yi = clip_by_value(cast(yi, dtypes.int32), 0, height - 1)[:, :, None]
        xi = clip_by_value(cast(xi, dtypes.int32), 0, width - 1)[:, None, :]
        return gather(flat, add(base, add(multiply(yi, width), xi)))

    if method == "nearest":  # std::round: half away from zero (positions inside are >= 0)
        out = read(floor(add(ys, 0.5)), floor(add(xs, 0.5)))
    else:
        top, left = floor(ys), floor(xs)
        y_lerp = subtract(ys, top)[:, :, None, None]
        x_lerp = subtract(xs, left)[:, None, :, None]
        bottom, right = ceil(ys), ceil(xs)
        upper = add(read(top, left), multiply(subtract(read(top, right), read(top, left)),
                                              x_lerp))
        lower = add(read(bottom, left), multiply(subtract(read(bottom, right),
                                                          read(bottom, left)), x_lerp))
        out = add(upper, multiply(subtract(lower, upper), y_lerp))
    fill = _const(np.full((1, 1, 1, channels), extrapolation_value, np.float32))
    return where(inside[:, :, :, None], out, fill)
