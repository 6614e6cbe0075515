"""Colour spaces and pixel types: `tf.image.convert_image_dtype` (TF's scale and saturate
rules), `tf.dtypes.saturate_cast`, `rgb_to_grayscale` / `grayscale_to_rgb`, `rgb_to_hsv` /
`hsv_to_rgb`, and the YIQ and YUV conversions.

All are compositions of elementwise ops, tensordot and tile (the HSV formulas are TF's
colorspace kernel written in ops), so they trace, and their gradients come from those ops:
TF has a gradient for RGBToHSV but none for HSVToRGB; here both have one.
"""
import numpy as np

from tapeflow._core import dtypes
from tapeflow._core.errors import FailedPreconditionError
from tapeflow._core.tensor import convert_to_tensor
from tapeflow.ops._op import Op, check_dtype, is_tensor_like, kernel_error
from tapeflow.ops.array import expand_dims, identity, tile
from tapeflow.ops.comparison import equal, greater, less, where
from tapeflow.ops.einsum import tensordot
from tapeflow.ops.elementwise import abs as _abs, cast, clip_by_value, real
from tapeflow.ops.joining import stack, unstack
from tapeflow.ops.math import (add, divide_no_nan, floordiv, maximum, minimum, multiply,
                               subtract)
from tapeflow.ops.reduction import reduce_max, reduce_min

# TF's op names, for the texts of errors these compositions raise as TF's kernels would
RGB_TO_HSV = Op("RGBToHSV", differentiable=False)
HSV_TO_RGB = Op("HSVToRGB", differentiable=False)
_HSV_TYPES = (dtypes.float16, dtypes.bfloat16, dtypes.float32, dtypes.float64)


def _const(value, dtype):
    return convert_to_tensor(np.asarray(value, dtype=dtype.as_numpy_dtype))


# -- saturate_cast and convert_image_dtype -----------------------------------------------------

def saturate_cast(value, dtype, name=None):
    """Casts `value` to `dtype`, clamping first to what `dtype` can hold (TF's limits: the
    nearest representable bound toward zero when the bound itself is not representable)."""
    x = convert_to_tensor(value)
    dtype = dtypes.as_dtype(dtype)
    in_dtype = x.dtype
    if in_dtype.is_complex:
        if dtype.is_complex:
            return cast(x, dtype)
        x, in_dtype = real(x), in_dtype.real_dtype
    out = dtype.real_dtype
    if in_dtype is not dtypes.bool:
        np_type = np.dtype(in_dtype.as_numpy_dtype)
        try:
            promoted = np.promote_types(np_type, out.as_numpy_dtype)
        except TypeError:
            promoted = float
        low = np_type.type(np.maximum(in_dtype.min, out.min))
        if np.array([low, out.min], dtype=promoted)[0] < np.array([low, out.min],
                                                                   dtype=promoted)[1]:
            low = np.nextafter(low, np_type.type(0), dtype=np_type)
        high = np_type.type(np.minimum(float(in_dtype.max), float(out.max)))
        if np.array([high, out.max], dtype=promoted)[0] > np.array([high, out.max],
                                                                    dtype=promoted)[1]:
            high = np.nextafter(high, np_type.type(0), dtype=np_type)
        x = clip_by_value(x, _const(low, in_dtype), _const(high, in_dtype))
    return cast(x, dtype)


def convert_image_dtype(image, dtype, saturate=False, name=None):
    """Converts `image` to `dtype`, rescaling values: floats span [0, 1), integers [0, MAX]
    of their type (integer to integer keeps the top bits). `saturate` clamps before casts
    that could overflow."""
    x = convert_to_tensor(image)
    dtype = dtypes.as_dtype(dtype)
    if not dtype.is_floating and not dtype.is_integer:
        raise AttributeError("dtype must be either floating point or integer")
    if not x.dtype.is_floating and not x.dtype.is_integer:
        raise AttributeError("image dtype must be either floating point or integer")
    if dtype is x.dtype:
        return identity(x)
    if x.dtype.is_integer and dtype.is_integer:
        scale_in, scale_out = x.dtype.max, dtype.max
        if scale_in > scale_out:
            # (torch has no floor division of uint16/uint32: divide them as int64)
            work = cast(x, dtypes.int64) if x.dtype in (dtypes.uint16, dtypes.uint32) else x
            scaled = floordiv(work, _const((scale_in + 1) // (scale_out + 1), work.dtype))
            return saturate_cast(scaled, dtype) if saturate else cast(scaled, dtype)
        converted = saturate_cast(x, dtype) if saturate else cast(x, dtype)
        return multiply(converted, _const((scale_out + 1) // (scale_in + 1), dtype))
    if x.dtype.is_floating and dtype.is_floating:
        return cast(x, dtype)
    if x.dtype.is_integer:
        return multiply(cast(x, dtype), _const(1.0 / x.dtype.max, dtype))
    scaled = multiply(x, _const(dtype.max + 0.5, x.dtype))  # +0.5: TF's rounding guard
    return saturate_cast(scaled, dtype) if saturate else cast(scaled, dtype)


# -- grayscale ---------------------------------------------------------------------------------

def rgb_to_grayscale(images, name=None):
    """Luma (0.2989 R + 0.5870 G + 0.1140 B) with a last axis of size 1, in `images`' dtype."""
    x = convert_to_tensor(images)
    flt = convert_image_dtype(x, dtypes.float32)
    gray = tensordot(flt, _const([0.2989, 0.5870, 0.1140], dtypes.float32), [-1, -1])
    return convert_image_dtype(expand_dims(gray, -1), x.dtype)


def grayscale_to_rgb(images, name=None):
    """Repeats the single channel of `images` three times."""
    x = convert_to_tensor(images)
    if x.ndim < 2:
        raise ValueError(f"A grayscale image (shape {x.shape}) must be at least "
                         "two-dimensional.")
    if x.shape[-1] != 1:
        raise ValueError("Last dimension of a grayscale image should be size 1.")
    return tile(x, [1] * (x.ndim - 1) + [3])


# -- HSV (TF's colorspace_op.h, in ops) --------------------------------------------------------

def _three_channels(x, op):
    check_dtype(x, _HSV_TYPES, op)
    if x.ndim == 0 or x.shape[-1] != 3:
        channels = x.shape[-1] if x.ndim else 0
        raise FailedPreconditionError(None, None, kernel_error(
            f"input must have 3 channels but input only has {channels} channels.", op,
            x._t.device).message)


def _hsv_input(images):
    """TF's op wrapper converts non-tensor input with the op's default type, float32."""
    if is_tensor_like(images):
        return convert_to_tensor(images)
    return convert_to_tensor(np.asarray(images).astype(np.float32))


def rgb_to_hsv(images, name=None):
    """RGB values in [0, 1] to hue, saturation, value (each in [0, 1])."""
    x = _hsv_input(images)
    _three_channels(x, RGB_TO_HSV)
    r, g, b = unstack(x, axis=-1)
    v = reduce_max(x, -1)
    spread = subtract(v, reduce_min(x, -1))
    zero, one = _const(0, x.dtype), _const(1, x.dtype)
    s = where(greater(v, zero), divide_no_nan(spread, v), zero)
    norm = divide_no_nan(_const(1.0 / 6.0, x.dtype), spread)
    h = where(equal(r, v), multiply(norm, subtract(g, b)),
              where(equal(g, v), add(multiply(norm, subtract(b, r)), _const(2 / 6, x.dtype)),
                    add(multiply(norm, subtract(r, g)), _const(4 / 6, x.dtype))))
    h = where(greater(spread, zero), h, zero)
    h = where(less(h, zero), add(h, one), h)
    return stack([h, s, v], axis=-1)


def hsv_to_rgb(images, name=None):
    """Hue, saturation, value (each in [0, 1]) to RGB."""
    x = _hsv_input(images)
    _three_channels(x, HSV_TO_RGB)
    h, s, v = unstack(x, axis=-1)
    zero, one, two = _const(0, x.dtype), _const(1, x.dtype), _const(2, x.dtype)
    dh = multiply(h, _const(6, x.dtype))

    def channel(shift, sign):
        c = _abs(subtract(dh, _const(shift, x.dtype)))
        c = subtract(c, one) if sign > 0 else subtract(two, c)
        return minimum(maximum(c, zero), one)
    one_minus_s = subtract(one, s)
    rgb = [multiply(add(one_minus_s, multiply(s, channel(shift, sign))), v)
           for shift, sign in ((3, 1), (2, -1), (4, -1))]
    return stack(rgb, axis=-1)


# -- YIQ and YUV -------------------------------------------------------------------------------

_RGB_TO_YIQ = [[0.299, 0.59590059, 0.2115], [0.587, -0.27455667, -0.52273617],
               [0.114, -0.32134392, 0.31119955]]
_YIQ_TO_RGB = [[1, 1, 1], [0.95598634, -0.27201283, -1.10674021],
               [0.6208248, -0.64720424, 1.70423049]]
_RGB_TO_YUV = [[0.299, -0.14714119, 0.61497538], [0.587, -0.28886916, -0.51496512],
               [0.114, 0.43601035, -0.10001026]]
_YUV_TO_RGB = [[1, 1, 1], [0, -0.394642334, 2.03206185], [1.13988303, -0.58062185, 0]]


def _mix(images, kernel):
    x = convert_to_tensor(images)
    return tensordot(x, _const(kernel, x.dtype), [[x.ndim - 1], [0]])


def rgb_to_yiq(images):
    return _mix(images, _RGB_TO_YIQ)


def yiq_to_rgb(images):
    return _mix(images, _YIQ_TO_RGB)


def rgb_to_yuv(images):
    return _mix(images, _RGB_TO_YUV)


def yuv_to_rgb(images):
    return _mix(images, _YUV_TO_RGB)
