"""`tf.image.resize` (every `ResizeMethod`, `antialias`, `preserve_aspect_ratio`) and
`resize_with_pad`, with TF's half-pixel-centre conventions and its kernels' ops:
ResizeBilinear, ResizeBicubic, ResizeArea, ScaleAndTranslate (lanczos3/5, gaussian,
mitchellcubic, and the antialiased bilinear/bicubic) and ResizeNearestNeighbor.

Every method but nearest is linear and separable: the output is `Wh @ image @ Ww^T` for a
weight matrix per axis, built here exactly as TF's kernels place their taps (float32 sample
positions; the bicubic coefficients from TF's 1024-entry table; area's box overlaps;
ScaleAndTranslate's normalised kernel spans), so values match TF to float rounding and the
gradient is the transposed product. Where torch's interpolate samples exactly as TF (plain
bilinear, antialiased bilinear and bicubic) it computes the forward values, faster. Nearest
neighbour is a gather (any dtype), its gradient a scatter-add. Weights are cached per
(method, sizes, device, dtype).
"""
import functools
import math

import numpy as np
import torch

from tapeflow._core import dtypes
from tapeflow._core.tensor import convert_to_tensor
from tapeflow.ops._op import check_dtype, define, execute, kernel_error
from tapeflow.ops.array import expand_dims, squeeze
from tapeflow.ops.elementwise import cast
from tapeflow.ops.image_geometry import pad_to_bounding_box

RESIZE_BILINEAR = define("ResizeBilinear")
RESIZE_BILINEAR_GRAD = define("ResizeBilinearGrad")
RESIZE_BICUBIC = define("ResizeBicubic")
RESIZE_BICUBIC_GRAD = define("ResizeBicubicGrad")
RESIZE_AREA = define("ResizeArea")  # TF has no gradient for it; it is linear, so we do
RESIZE_AREA_GRAD = define("ResizeAreaGrad")
SCALE_AND_TRANSLATE = define("ScaleAndTranslate")
SCALE_AND_TRANSLATE_GRAD = define("ScaleAndTranslateGrad")
RESIZE_NEAREST = define("ResizeNearestNeighbor")
RESIZE_NEAREST_GRAD = define("ResizeNearestNeighborGrad")

_REAL = (dtypes.int8, dtypes.uint8, dtypes.int16, dtypes.uint16, dtypes.int32, dtypes.int64)
_ALLOWED = {
    RESIZE_BILINEAR: _REAL + (dtypes.bfloat16, dtypes.float16, dtypes.float32, dtypes.float64),
    SCALE_AND_TRANSLATE: _REAL + (dtypes.bfloat16, dtypes.float16, dtypes.float32,
                                  dtypes.float64),
}
_ALLOWED_DEFAULT = _REAL + (dtypes.float16, dtypes.float32, dtypes.float64, dtypes.bfloat16)
_SIGNATURES = {
    RESIZE_BILINEAR: ("images:T, size:int32 -> resized_images:float",
                      ("attr=align_corners:bool,default=false",
                       "attr=half_pixel_centers:bool,default=false")),
    RESIZE_BICUBIC: ("images:T, size:int32 -> resized_images:float",
                     ("attr=align_corners:bool,default=false",
                      "attr=half_pixel_centers:bool,default=false")),
    RESIZE_AREA: ("images:T, size:int32 -> resized_images:float",
                  ("attr=align_corners:bool,default=false",)),
    RESIZE_NEAREST: ("images:T, size:int32 -> resized_images:T",
                     ("attr=align_corners:bool,default=false",
                      "attr=half_pixel_centers:bool,default=false")),
    SCALE_AND_TRANSLATE: ("images:T, size:int32, scale:float, translation:float -> "
                          "resized_images:float", ('attr=kernel_type:string,default="lanczos3"',
                                                   "attr=antialias:bool,default=true")),
}


class ResizeMethod:
    """The `method` names `tf.image.resize` accepts."""

    BILINEAR = "bilinear"
    NEAREST_NEIGHBOR = "nearest"
    BICUBIC = "bicubic"
    AREA = "area"
    LANCZOS3 = "lanczos3"
    LANCZOS5 = "lanczos5"
    GAUSSIAN = "gaussian"
    MITCHELLCUBIC = "mitchellcubic"


# -- sampling kernels (TF's sampling_kernels.h), as functions of |x| ----------------------------

def _lanczos(radius):
    def k(x):
        with np.errstate(divide="ignore", invalid="ignore"):
            v = radius * np.sin(np.pi * x) * np.sin(np.pi * x / radius) / (np.pi * np.pi * x * x)
        return np.where(x > radius, 0.0, np.where(x <= 1e-3, 1.0, v))
    return k, float(radius)


def _gaussian(x):
    sigma = 0.5
    return np.where(x >= 1.5, 0.0, np.exp(-x * x / (2.0 * sigma * sigma)))


def _triangle(x):
    return np.where(x < 1.0, 1.0 - x, 0.0)


def _keys_cubic(x):
    return np.where(x >= 2.0, 0.0, np.where(x >= 1.0, ((-0.5 * x + 2.5) * x - 4.0) * x + 2.0,
                                            ((1.5 * x - 2.5) * x) * x + 1.0))


def _mitchell_cubic(x):
    return np.where(x >= 2.0, 0.0, np.where(
        x >= 1.0, (((-7.0 / 18.0) * x + 2.0) * x - 10.0 / 3.0) * x + 16.0 / 9.0,
        (((7.0 / 6.0) * x - 2.0) * x) * x + 8.0 / 9.0))


_KERNELS = {"lanczos3": _lanczos(3), "lanczos5": _lanczos(5), "gaussian": (_gaussian, 1.5),
            "triangle": (_triangle, 1.0), "keyscubic": (_keys_cubic, 2.0),
            "mitchellcubic": (_mitchell_cubic, 2.0)}


# -- weight matrices [out, in] -----------------------------------------------------------------

def _f32(x):
    return np.float32(x)


def _bilinear_weights(n_in, n_out):
    scale = _f32(n_in) / _f32(n_out)
    w = np.zeros((n_out, n_in))
    for i in range(n_out):
        pos = (_f32(i) + _f32(0.5)) * scale - _f32(0.5)
        low_f = math.floor(pos)
        lower, upper = max(low_f, 0), min(math.ceil(pos), n_in - 1)
        lerp = float(pos - _f32(low_f))
        w[i, lower] += 1.0 - lerp
        w[i, upper] += lerp
    return w


@functools.lru_cache(maxsize=None)
def _cubic_table(a):
    """TF's bicubic coefficient table: 1025 pairs (near tap, far tap) for offsets i/1024."""
    x = np.arange(1025, dtype=np.float64) / 1024
    near = ((a + 2) * x - (a + 3)) * x * x + 1
    x1 = x + 1.0
    far = ((a * x1 - 5 * a) * x1 + 8 * a) * x1 - 4 * a
    return np.stack([near, far], axis=1).astype(np.float32).astype(np.float64)


def _bicubic_weights(n_in, n_out):
    scale = _f32(n_in) / _f32(n_out)
    table = _cubic_table(-0.5)  # Keys' a = -0.5 with half-pixel centres, as TF
    w = np.zeros((n_out, n_in))
    for i in range(n_out):
        pos = (_f32(i) + _f32(0.5)) * scale - _f32(0.5)
        base = math.floor(pos)
        offset = int(np.rint(_f32(pos - _f32(base)) * _f32(1024)))
        taps = ((base - 1, table[offset, 1]), (base, table[offset, 0]),
                (base + 1, table[1024 - offset, 0]), (base + 2, table[1024 - offset, 1]))
        # taps outside the image get no weight, and the rest are renormalised
        kept = [(j, c) for j, c in taps if 0 <= j < n_in]
        total = sum(c for _, c in kept)
        for j, c in kept:
            w[i, j] += c / total if abs(total) >= 1000 * np.finfo(np.float32).tiny else c
    return w


def _area_weights(n_in, n_out):
    scale = float(_f32(n_in) / _f32(n_out))
    w = np.zeros((n_out, n_in))
    for i in range(n_out):
        start, end = float(_f32(i * scale)), float(_f32((i + 1) * scale))
        for j in range(math.floor(start), math.ceil(end)):
            share = (min(j + 1, end) - max(j, start))
            w[i, min(j, n_in - 1)] += share / scale
    return w


def _span_weights(n_in, n_out, kernel_name, antialias):
    """ScaleAndTranslate's spans (scale = out/in, no translation)."""
    kernel, radius = _KERNELS[kernel_name]
    scale = _f32(n_out) / _f32(n_in)
    inv_scale = _f32(1.0) / scale
    kernel_scale = max(float(inv_scale), 1.0) if antialias else 1.0
    w = np.zeros((n_out, n_in))
    for i in range(n_out):
        sample = float((_f32(i) + _f32(0.5)) * inv_scale)
        if sample < 0 or sample > n_in:
            continue
        start = math.ceil(sample - radius * kernel_scale - 0.5)
        end = math.floor(sample + radius * kernel_scale - 0.5)
        start = min(max(start, 0), n_in - 1)
        end = min(max(end, 0), n_in - 1) + 1
        source = np.arange(start, end)
        weights = kernel(np.abs((source + 0.5 - sample) / kernel_scale)).astype(np.float32)
        total = float(weights.astype(np.float64).sum())
        if abs(total) >= 1000 * np.finfo(np.float32).tiny:
            w[i, start:end] = weights / total
    return w


def _weights_numpy(kind, n_in, n_out, antialias):
    if kind == "bilinear":
        return _bilinear_weights(n_in, n_out)
    if kind == "bicubic":
        return _bicubic_weights(n_in, n_out)
    if kind == "area":
        return _area_weights(n_in, n_out)
    return _span_weights(n_in, n_out, kind, antialias)


@functools.lru_cache(maxsize=256)
def _weights(kind, n_in, n_out, antialias, device, dtype):
    if device.type == "meta":
        return torch.empty((n_out, n_in), dtype=dtype, device=device)
    return torch.from_numpy(_weights_numpy(kind, n_in, n_out, antialias)).to(device, dtype)


# -- kernels (images NHWC; `kind` names the weights; compute dtype float32 or float64) ----------

# torch's own kernels for the cases where they sample exactly as TF does (checked against TF
# to float rounding): much faster than the matrix products; the gradient is still W^T g
_TORCH_MODES = {("bilinear", False): ("bilinear", False), ("triangle", True): ("bilinear", True),
                ("keyscubic", True): ("bicubic", True)}


def _compute_dtype(t):
    return torch.float64 if t.dtype == torch.float64 else torch.float32


def _resample_kernel(t, kind, out_h, out_w, antialias):
    ctype = _compute_dtype(t)
    x = t.to(ctype).permute(0, 3, 1, 2)  # NCHW: both products are plain matrix products
    mode = _TORCH_MODES.get((kind, antialias))
    if mode is not None:
        y = torch.nn.functional.interpolate(x, (out_h, out_w), mode=mode[0],
                                            align_corners=False, antialias=mode[1])
    else:
        wh = _weights(kind, t.shape[1], out_h, antialias, t.device, ctype)
        ww = _weights(kind, t.shape[2], out_w, antialias, t.device, ctype)
        y = torch.matmul(torch.matmul(wh, x), ww.T)
    return y.permute(0, 2, 3, 1)


def _resample_grad_kernel(g, kind, in_h, in_w, antialias):
    wh = _weights(kind, in_h, g.shape[1], antialias, g.device, g.dtype)
    ww = _weights(kind, in_w, g.shape[2], antialias, g.device, g.dtype)
    return torch.matmul(torch.matmul(wh.T, g.permute(0, 3, 1, 2)), ww).permute(0, 2, 3, 1)


_OPS_BY_KIND = {"bilinear": (RESIZE_BILINEAR, RESIZE_BILINEAR_GRAD),
                "bicubic": (RESIZE_BICUBIC, RESIZE_BICUBIC_GRAD),
                "area": (RESIZE_AREA, RESIZE_AREA_GRAD)}


def _linear_ops(kind):
    return _OPS_BY_KIND.get(kind, (SCALE_AND_TRANSLATE, SCALE_AND_TRANSLATE_GRAD))


def _resample_gradient(node, grad):
    kind, _, _, antialias = node.attrs
    x = node.inputs[0]
    _, grad_op = _linear_ops(kind)
    g = execute(grad_op, _resample_grad_kernel, (grad,),
                (kind, x._t.shape[1], x._t.shape[2], antialias))
    if not x._dtype.is_floating:
        return None
    return g if g._dtype is x._dtype else cast(g, x._dtype)


def _resample_grad_gradient(node, grad):
    kind, in_h, in_w, antialias = node.attrs
    op, _ = _linear_ops(kind)
    g = node.inputs[0]
    return execute(op, _resample_kernel, (grad,), (kind, g._t.shape[1], g._t.shape[2],
                                                   antialias))


for _op in (RESIZE_BILINEAR, RESIZE_BICUBIC, RESIZE_AREA, SCALE_AND_TRANSLATE):
    _op.gradient(_resample_gradient)
for _op in (RESIZE_BILINEAR_GRAD, RESIZE_BICUBIC_GRAD, RESIZE_AREA_GRAD,
            SCALE_AND_TRANSLATE_GRAD):
    _op.gradient(_resample_grad_gradient)


def _nearest_index(n_in, n_out, device):
    scale = _f32(n_in) / _f32(n_out)
    pos = (np.arange(n_out, dtype=np.float32) + _f32(0.5)) * scale
    index = np.minimum(np.floor(pos).astype(np.int64), n_in - 1)
    return torch.from_numpy(np.maximum(index, 0)).to(device)


def _nearest_kernel(t, out_h, out_w):
    if t.device.type == "meta":
        return t.new_empty((t.shape[0], out_h, out_w, t.shape[3]))
    rows = _nearest_index(t.shape[1], out_h, t.device)
    cols = _nearest_index(t.shape[2], out_w, t.device)
    return t.index_select(1, rows).index_select(2, cols)


def _nearest_grad_kernel(g, in_h, in_w):
    if g.device.type == "meta":
        return g.new_empty((g.shape[0], in_h, in_w, g.shape[3]))
    rows = _nearest_index(in_h, g.shape[1], g.device)
    cols = _nearest_index(in_w, g.shape[2], g.device)
    out = g.new_zeros((g.shape[0], in_h, g.shape[2], g.shape[3])).index_add_(1, rows, g)
    return g.new_zeros((g.shape[0], in_h, in_w, g.shape[3])).index_add_(2, cols, out)


@RESIZE_NEAREST.gradient
def _(node, grad):
    x = node.inputs[0]
    return execute(RESIZE_NEAREST_GRAD, _nearest_grad_kernel, (grad,),
                   (x._t.shape[1], x._t.shape[2]))


@RESIZE_NEAREST_GRAD.gradient
def _(node, grad):
    g = node.inputs[0]
    return execute(RESIZE_NEAREST, _nearest_kernel, (grad,), (g._t.shape[1], g._t.shape[2]))


# -- the raw ops (4-D images, validated sizes) ---------------------------------------------------

def _check_op_inputs(x, op, out_h, out_w):
    signature, traits = _SIGNATURES[op]
    check_dtype(x, _ALLOWED.get(op, _ALLOWED_DEFAULT), op, "T", signature, traits)
    device = x._t.device
    if out_h <= 0 or out_w <= 0:
        raise kernel_error("output dimensions must be positive", op, device)
    if x._t.shape[1] == 0 or x._t.shape[2] == 0:
        raise kernel_error("input image must be of non-zero size", op, device)
    if x._t.shape[3] == 0:
        raise kernel_error("image must have at least one channel", op, device)


def resample(images, out_h, out_w, kind, antialias=False):
    """The linear resize of 4-D `images` by `kind` ("bilinear", "bicubic", "area" or a
    ScaleAndTranslate kernel name), computed in float32 (float64 for float64 input)."""
    op, _ = _linear_ops(kind)
    _check_op_inputs(images, op, out_h, out_w)
    return execute(op, _resample_kernel, (images,), (kind, out_h, out_w, bool(antialias)))


def resize_nearest(images, out_h, out_w):
    _check_op_inputs(images, RESIZE_NEAREST, out_h, out_w)
    return execute(RESIZE_NEAREST, _nearest_kernel, (images,), (out_h, out_w))


# -- tf.image.resize -----------------------------------------------------------------------------

_SCALE_AND_TRANSLATE = ("lanczos3", "lanczos5", "gaussian", "mitchellcubic")


def _size_pair(size):
    try:
        s = convert_to_tensor(size, dtype=dtypes.int32)
    except (TypeError, ValueError):
        raise ValueError("'size' must be a 1-D int32 Tensor") from None
    if tuple(s.shape) != (2,):
        raise ValueError("'size' must be a 1-D Tensor of 2 elements: new_height, new_width")
    h, w = (int(v) for v in s.numpy())  # a symbolic size makes the caller's trace eager
    return h, w


def _batched(images, what="images"):
    x = convert_to_tensor(images)
    if x.ndim == 3:
        return expand_dims(x, 0), False
    if x.ndim != 4:
        raise ValueError(f"'{what}' must have either 3 or 4 dimensions.")
    return x, True


def resize(images, size, method=ResizeMethod.BILINEAR, preserve_aspect_ratio=False,
           antialias=False, name=None):
    """Resizes `images` ([batch,] height, width, channels) to `size` = [height, width].

    `method` is a `tf.image.ResizeMethod` name; the result is float32 except for "nearest",
    which keeps the input dtype. `antialias` widens the kernel when downsampling
    (bilinear, bicubic and the ScaleAndTranslate kernels); `preserve_aspect_ratio` fits the
    image inside `size` instead.

    Example:
    >>> tf.image.resize(tf.zeros([32, 32, 3]), [224, 224]).shape
    TensorShape([224, 224, 3])
    """
    x, is_batch = _batched(images)
    out_h, out_w = _size_pair(size)
    if preserve_aspect_ratio:
        h, w = _f32(x.shape[1]), _f32(x.shape[2])
        factor = min(_f32(out_h) / h, _f32(out_w) / w)
        out_h, out_w = int(np.round(factor * h)), int(np.round(factor * w))
    method = method if isinstance(method, str) else str(method)
    if method == ResizeMethod.BILINEAR:
        y = resample(x, out_h, out_w, "triangle" if antialias else "bilinear", antialias)
    elif method == ResizeMethod.NEAREST_NEIGHBOR:
        y = resize_nearest(x, out_h, out_w)
    elif method == ResizeMethod.BICUBIC:
        y = resample(x, out_h, out_w, "keyscubic" if antialias else "bicubic", antialias)
    elif method == ResizeMethod.AREA:
        y = resample(x, out_h, out_w, "area")
    elif method in _SCALE_AND_TRANSLATE:
        y = resample(x, out_h, out_w, method, antialias)
    else:
        raise ValueError(f"Resize method is not implemented: {method}")
    if method != ResizeMethod.NEAREST_NEIGHBOR and y._dtype is not dtypes.float32:
        y = cast(y, dtypes.float32)  # TF's resize kernels give float32 (we kept float64 exact)
    return y if is_batch else squeeze(y, [0])


def resize_with_pad(image, target_height, target_width, method=ResizeMethod.BILINEAR,
                    antialias=False):
    """Resizes `image` to fit inside target_height x target_width keeping its aspect ratio,
    then pads it with zeros (centred) to exactly that size."""
    x, is_batch = _batched(image, "image")
    if not target_width > 0:
        raise ValueError("target_width must be > 0.")
    if not target_height > 0:
        raise ValueError("target_height must be > 0.")
    f_h, f_w = _f32(x.shape[1]), _f32(x.shape[2])
    ratio = max(f_w / _f32(target_width), f_h / _f32(target_height))
    resized_h, resized_w = f_h / ratio, f_w / ratio
    pad_h = max(0, int(np.floor((_f32(target_height) - resized_h) / _f32(2))))
    pad_w = max(0, int(np.floor((_f32(target_width) - resized_w) / _f32(2))))
    resized = resize(x, [int(np.floor(resized_h)), int(np.floor(resized_w))], method,
                     antialias=antialias)
    padded = pad_to_bounding_box(resized, pad_h, pad_w, target_height, target_width)
    return padded if is_batch else squeeze(padded, [0])
