"""Photometric adjustments: `adjust_brightness`, `adjust_contrast`, `adjust_gamma`,
`adjust_hue`, `adjust_saturation`, their `random_*` and `stateless_random_*` forms, and
`per_image_standardization`.

As in TF, integer images are converted to float32 first and back (saturating) after.
Brightness, contrast, gamma and standardization are compositions of ops, so they have
gradients. Hue and saturation are TF's AdjustHue / AdjustSaturation kernels (its own
hue-and-value-range arithmetic, vectorised here in torch), which TF does not differentiate.
"""
import numpy as np
import torch

from tapeflow._core import dtypes
from tapeflow._core.tensor import convert_to_tensor
from tapeflow.ops._op import define, execute, kernel_error
from tapeflow.ops.elementwise import cast, rsqrt
from tapeflow.ops.image_color import convert_image_dtype
from tapeflow.ops.image_geometry import check_at_least_3d
from tapeflow.ops.math import add, maximum, multiply, subtract, truediv
from tapeflow.ops.random import stateless_uniform, uniform
from tapeflow.ops.reduction import reduce_mean, reduce_std

ADJUST_HUE = define("AdjustHue", differentiable=False)
ADJUST_SATURATION = define("AdjustSaturation", differentiable=False)
ADJUST_CONTRAST = define("AdjustContrastv2", differentiable=False)

_FAST = (dtypes.float16, dtypes.float32)  # adjusted without a round trip through float32


def _as_float(image):
    x = convert_to_tensor(image)
    return x, (x if x.dtype in _FAST else convert_image_dtype(x, dtypes.float32))


def _scalar(value, dtype):
    return cast(convert_to_tensor(value), dtype) if hasattr(value, "dtype") else \
        convert_to_tensor(np.asarray(value, dtype=dtype.as_numpy_dtype))


# -- brightness, contrast, gamma --------------------------------------------------------------

def adjust_brightness(image, delta):
    """`image + delta` (in float; integer images are converted and saturated back)."""
    x, flt = _as_float(image)
    adjusted = add(flt, _scalar(delta, flt.dtype))
    return convert_image_dtype(adjusted, x.dtype, saturate=True)


def _contrast_kernel(t, factor):
    work = t.float() if t.dtype == torch.float16 else t
    mean = work.mean(dim=(-3, -2), keepdim=True)
    return ((work - mean) * factor.to(work.dtype) + mean).to(t.dtype)


def adjust_contrast(images, contrast_factor):
    """`(x - mean) * contrast_factor + mean`, with the mean of each channel of each image."""
    x, flt = _as_float(images)
    if flt.ndim < 3:
        raise kernel_error("input must be at least 3-D, got shape"
                           f"[{','.join(str(d) for d in flt.shape.as_list())}]",
                           ADJUST_CONTRAST, flt._t.device)
    factor = convert_to_tensor(contrast_factor, dtype=dtypes.float32) \
        if not hasattr(contrast_factor, "dtype") else cast(contrast_factor, dtypes.float32)
    if factor.ndim:
        raise kernel_error("contrast_factor must be scalar: "
                           f"[{','.join(str(d) for d in factor.shape.as_list())}]",
                           ADJUST_CONTRAST, flt._t.device, name_suffix=False)
    adjusted = execute(ADJUST_CONTRAST, _contrast_kernel, (flt, factor))
    return convert_image_dtype(adjusted, x.dtype, saturate=True)


def adjust_gamma(image, gamma=1, gain=1):
    """`gain * image ** gamma` (in float; `gamma` must be non-negative)."""
    x, flt = _as_float(image)
    g = gamma.numpy() if hasattr(gamma, "numpy") else gamma
    if not np.all(np.asarray(g) >= 0):
        raise ValueError("Gamma should be a non-negative real number.")
    adjusted = multiply(_scalar(gain, flt.dtype), flt ** _scalar(gamma, flt.dtype))
    return convert_image_dtype(adjusted, x.dtype, saturate=True)


# -- hue and saturation (TF's adjust_hue_op.cc / adjust_saturation_op.cc arithmetic) ---------

def _hue_range(r, g, b):
    """TF's rgb_to_hv: hue in [0, 6) and the value range (v_min, v_max)."""
    r_lt_g = r < g
    cases = [  # (condition, max, mid, min, category), TF's comparisons in its order
        (r_lt_g & (b < r), g, r, b, 1), (r_lt_g & (b > g), b, g, r, 3),
        (r_lt_g & ~(b < r) & ~(b > g), g, b, r, 2),
        (~r_lt_g & (b < g), r, g, b, 0), (~r_lt_g & (b > r), b, r, g, 4),
        (~r_lt_g & ~(b < g) & ~(b > r), r, b, g, 5)]
    v_max, v_mid, v_min, cat = (torch.zeros_like(r) for _ in range(4))
    for cond, hi, mid, lo, c in cases:
        v_max = torch.where(cond, hi, v_max)
        v_mid = torch.where(cond, mid, v_mid)
        v_min = torch.where(cond, lo, v_min)
        cat = torch.where(cond, torch.full_like(r, c), cat)
    span = v_max - v_min
    ratio = (v_mid - v_min) / torch.where(span == 0, torch.ones_like(span), span)
    even = torch.remainder(cat, 2) == 0
    h = torch.where(span == 0, torch.zeros_like(r), cat + torch.where(even, ratio, 1 - ratio))
    return h, v_min, v_max


def _rgb_from_hue_range(h, v_min, v_max):
    cat = torch.floor(h)
    ratio = h - cat
    ratio = torch.where(torch.remainder(cat, 2) == 0, ratio, 1 - ratio)
    v_mid = v_min + ratio * (v_max - v_min)
    table = {0: (v_max, v_mid, v_min), 1: (v_mid, v_max, v_min), 2: (v_min, v_max, v_mid),
             3: (v_min, v_mid, v_max), 4: (v_mid, v_min, v_max)}
    r, g, b = v_max, v_min, v_mid  # category 5 (and TF's default)
    for c, (cr, cg, cb) in table.items():
        hit = cat == c
        r, g, b = torch.where(hit, cr, r), torch.where(hit, cg, g), torch.where(hit, cb, b)
    return torch.stack([r, g, b], dim=-1)


def _hue_kernel(t, delta):
    x = t.float()
    h, v_min, v_max = _hue_range(*x.unbind(-1))
    h = h + delta.float() * 6
    for _ in range(2):  # back into [0, 6), as TF's loops do
        h = torch.where(h < 0, h + 6, h)
        h = torch.where(h >= 6, h - 6, h)
    return _rgb_from_hue_range(h, v_min, v_max).to(t.dtype)


def _hsv(r, g, b):
    """TF's scalar rgb_to_hsv of adjust_saturation_op.cc."""
    v = torch.maximum(r, torch.maximum(g, b))
    span = v - torch.minimum(r, torch.minimum(g, b))
    s = torch.where(v > 0, span / torch.where(v > 0, v, torch.ones_like(v)), torch.zeros_like(v))
    norm = 1.0 / (6.0 * span)
    h = torch.where(r == v, norm * (g - b), torch.where(g == v, norm * (b - r) + 2.0 / 6.0,
                                                        norm * (r - g) + 4.0 / 6.0))
    h = torch.where(span <= 0, torch.zeros_like(h), h)
    return torch.where(h < 0, h + 1, h), s, v


def _rgb(h, s, v):
    c = s * v
    m = v - c
    dh = h * 6
    cat = torch.trunc(dh)
    fmodu = torch.remainder(dh, 2.0)
    x = c * (1 - torch.abs(fmodu - 1))
    zero = torch.zeros_like(c)
    table = {0: (c, x, zero), 1: (x, c, zero), 2: (zero, c, x), 3: (zero, x, c), 4: (x, zero, c),
             5: (c, zero, x)}
    r = g = b = zero
    for k, (cr, cg, cb) in table.items():
        hit = cat == k
        r, g, b = torch.where(hit, cr, r), torch.where(hit, cg, g), torch.where(hit, cb, b)
    return torch.stack([r + m, g + m, b + m], dim=-1)


def _saturation_kernel(t, scale):
    h, s, v = _hsv(*t.float().unbind(-1))
    s = torch.clamp(s * scale.float(), 0.0, 1.0)
    return _rgb(h, s, v).to(t.dtype)


def _check_rgb(x, op):
    channels = x.shape[-1] if x.ndim else 0
    if channels != 3:
        raise kernel_error(f"input must have 3 channels but instead has {channels} channels.",
                           op, x._t.device)


def adjust_hue(image, delta, name=None):
    """Rotates the hue of RGB `image` by `delta` (a fraction of the colour circle, in
    [-1, 1])."""
    d = float(delta.numpy()) if hasattr(delta, "numpy") else float(delta)
    if d < -1 or d > 1:
        raise ValueError("delta must be in the interval [-1, 1]")
    x, flt = _as_float(image)
    _check_rgb(flt, ADJUST_HUE)
    out = execute(ADJUST_HUE, _hue_kernel, (flt, _scalar(delta, dtypes.float32)))
    return convert_image_dtype(out, x.dtype)


def adjust_saturation(image, saturation_factor, name=None):
    """Scales the saturation of RGB `image` by `saturation_factor` (clipped to [0, 1])."""
    x, flt = _as_float(image)
    _check_rgb(flt, ADJUST_SATURATION)
    out = execute(ADJUST_SATURATION, _saturation_kernel,
                  (flt, _scalar(saturation_factor, dtypes.float32)))
    return convert_image_dtype(out, x.dtype)


# -- random forms -----------------------------------------------------------------------------

def _draw(seed, stateless):
    if stateless:
        return lambda low, high: stateless_uniform([], seed, low, high)
    return lambda low, high: uniform([], low, high, seed=seed)


def _brightness(image, max_delta, draw):
    if max_delta < 0:
        raise ValueError("max_delta must be non-negative.")
    return adjust_brightness(image, draw(-max_delta, max_delta))


def _range_factor(lower, upper, draw):
    if upper <= lower:
        raise ValueError("upper must be > lower.")
    if lower < 0:
        raise ValueError("lower must be non-negative.")
    return draw(lower, upper)


def _hue(image, max_delta, draw):
    if max_delta > 0.5:
        raise ValueError("max_delta must be <= 0.5.")
    if max_delta < 0:
        raise ValueError("max_delta must be non-negative.")
    return adjust_hue(image, draw(-max_delta, max_delta))


def random_brightness(image, max_delta, seed=None):
    """`adjust_brightness` by a delta drawn uniformly from [-max_delta, max_delta)."""
    return _brightness(image, max_delta, _draw(seed, False))


def stateless_random_brightness(image, max_delta, seed):
    return _brightness(image, max_delta, _draw(seed, True))


def random_contrast(image, lower, upper, seed=None):
    """`adjust_contrast` by a factor drawn uniformly from [lower, upper)."""
    return adjust_contrast(image, _range_factor(lower, upper, _draw(seed, False)))


def stateless_random_contrast(image, lower, upper, seed):
    return adjust_contrast(image, _range_factor(lower, upper, _draw(seed, True)))


def random_saturation(image, lower, upper, seed=None):
    return adjust_saturation(image, _range_factor(lower, upper, _draw(seed, False)))


def stateless_random_saturation(image, lower, upper, seed=None):
    return adjust_saturation(image, _range_factor(lower, upper, _draw(seed, True)))


def random_hue(image, max_delta, seed=None):
    return _hue(image, max_delta, _draw(seed, False))


def stateless_random_hue(image, max_delta, seed):
    return _hue(image, max_delta, _draw(seed, True))


# -- standardization --------------------------------------------------------------------------

def per_image_standardization(image):
    """Each image scaled to mean 0 and variance 1 over all its pixels and channels (the
    standard deviation floored at 1/sqrt(number of values)), as float32."""
    x = convert_to_tensor(image)
    check_at_least_3d(x)
    x = cast(x, dtypes.float32)
    count = int(np.prod(x.shape.as_list()[-3:]))
    mean = reduce_mean(x, axis=[-1, -2, -3], keepdims=True)
    std = reduce_std(x, axis=[-1, -2, -3], keepdims=True)
    floor = rsqrt(convert_to_tensor(np.float32(count)))
    return truediv(subtract(x, mean), maximum(std, floor))
