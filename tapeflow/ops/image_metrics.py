"""Measures of images: `total_variation`, `image_gradients`, `sobel_edges`, `psnr`, `ssim` and
`ssim_multiscale`, composed of ops exactly as TF's image_ops_impl.py composes them (a Gaussian
window by depthwise convolution for SSIM), so they trace and have gradients.
"""
import numpy as np

from tapeflow._core import dtypes
from tapeflow._core.errors import InvalidArgumentError
from tapeflow._core.tensor import convert_to_tensor
from tapeflow.ops.array import reshape, tile
from tapeflow.ops.conv import depthwise_conv2d
from tapeflow.ops.elementwise import abs as _abs, cast, log, square
from tapeflow.ops.image_color import convert_image_dtype
from tapeflow.ops.joining import concat, stack
from tapeflow.ops.math import add, multiply, squared_difference, subtract, truediv
from tapeflow.ops.nn import relu, softmax
from tapeflow.ops.padding import pad
from tapeflow.ops.pooling import avg_pool2d
from tapeflow.ops.reduction import reduce_mean, reduce_prod, reduce_sum


def _c(value, dtype=dtypes.float32):
    return convert_to_tensor(np.asarray(value, dtype=dtype.as_numpy_dtype))


def total_variation(images, name=None):
    """The sum of absolute differences between neighbouring pixels (one value per image)."""
    x = convert_to_tensor(images)
    if x.ndim == 3:
        d1, d2 = x[1:, :, :] - x[:-1, :, :], x[:, 1:, :] - x[:, :-1, :]
        axis = None
    elif x.ndim == 4:
        d1, d2 = x[:, 1:, :, :] - x[:, :-1, :, :], x[:, :, 1:, :] - x[:, :, :-1, :]
        axis = [1, 2, 3]
    else:
        raise ValueError("'images' must be either 3 or 4-dimensional.")
    return add(reduce_sum(_abs(d1), axis=axis), reduce_sum(_abs(d2), axis=axis))


def image_gradients(image):
    """(dy, dx): forward differences along height and width, zero in the last row/column."""
    x = convert_to_tensor(image)
    if x.ndim != 4:
        raise ValueError("image_gradients expects a 4D tensor [batch_size, h, w, d], not "
                         f"{x.shape}.")
    b, h, w, d = x.shape.as_list()
    zeros = convert_to_tensor(np.zeros((), x.dtype.as_numpy_dtype))
    dy = concat([x[:, 1:, :, :] - x[:, :-1, :, :], tile(reshape(zeros, [1, 1, 1, 1]),
                                                        [b, 1, w, d])], 1)
    dx = concat([x[:, :, 1:, :] - x[:, :, :-1, :], tile(reshape(zeros, [1, 1, 1, 1]),
                                                        [b, h, 1, d])], 2)
    return dy, dx


def sobel_edges(image):
    """The vertical and horizontal Sobel responses of a 4-D image, stacked last: shape
    `image.shape + [2]` (REFLECT-padded, as TF)."""
    x = convert_to_tensor(image)
    kernels = np.array([[[-1, -2, -1], [0, 0, 0], [1, 2, 1]],
                        [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]])
    kernels = np.expand_dims(np.transpose(kernels, (1, 2, 0)), -2)
    filters = tile(_c(kernels, x.dtype), [1, 1, x.shape[-1], 1])
    padded = pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]], mode="REFLECT")
    out = depthwise_conv2d(padded, filters, [1, 1, 1, 1], "VALID")
    return reshape(out, x.shape.as_list() + [2])


def _check_compatible(a, b):
    s1, s2 = a.shape, b.shape
    if a.ndim < 3 or b.ndim < 3:
        raise ValueError(f"Shape {s1 if a.ndim < 3 else s2} must have rank at least 3")
    if s1.as_list()[-3:] != s2.as_list()[-3:]:
        raise ValueError(f"Shapes {s1[-3:]} and {s2[-3:]} are incompatible")
    for d1, d2 in zip(reversed(s1.as_list()[:-3]), reversed(s2.as_list()[:-3])):
        if not (d1 == 1 or d2 == 1 or d1 == d2):
            raise ValueError(f"Two images are not compatible: {s1} and {s2}")


def psnr(a, b, max_val, name=None):
    """The peak signal-to-noise ratio of `a` against `b` in dB (one value per image)."""
    a, b = convert_to_tensor(a), convert_to_tensor(b)
    peak = convert_image_dtype(cast(convert_to_tensor(max_val), a.dtype), dtypes.float32)
    a, b = convert_image_dtype(a, dtypes.float32), convert_image_dtype(b, dtypes.float32)
    mse = reduce_mean(squared_difference(a, b), [-3, -2, -1])
    _check_compatible(a, b)
    return subtract(truediv(multiply(_c(20.0), log(peak)), log(_c(10.0))),
                    multiply(_c(np.float32(10 / np.log(10))), log(mse)))


# -- SSIM -------------------------------------------------------------------------------------

def _gauss_window(size, sigma):
    coords = subtract(cast(convert_to_tensor(np.arange(size, dtype=np.int32)), sigma.dtype),
                      truediv(_c(size - 1, sigma.dtype), _c(2.0, sigma.dtype)))
    g = multiply(square(coords), truediv(_c(-0.5, sigma.dtype), square(sigma)))
    g = add(reshape(g, [1, -1]), reshape(g, [-1, 1]))
    return reshape(softmax(reshape(g, [1, -1])), [size, size, 1, 1])


def _ssim_per_channel(img1, img2, max_val, filter_size, filter_sigma, k1, k2,
                      return_index_map=False):
    sigma = _c(filter_sigma, img1.dtype)
    for img in (img1, img2):
        if any(d < filter_size for d in img.shape.as_list()[-3:-1]):
            raise InvalidArgumentError(
                None, None, "Expected 'tf.Tensor(False, shape=(), dtype=bool)' to be true. "
                f"Summarized data: {', '.join(str(d) for d in img.shape.as_list())}\n"
                f"{filter_size}")
    window = tile(_gauss_window(filter_size, sigma), [1, 1, img1.shape[-1], 1])

    def reducer(x):
        shape = x.shape.as_list()
        y = depthwise_conv2d(reshape(x, [-1] + shape[-3:]), window, [1, 1, 1, 1], "VALID")
        return reshape(y, shape[:-3] + y.shape.as_list()[1:])

    c1 = square(multiply(_c(k1), max_val))
    c2 = square(multiply(_c(k2), max_val))
    mean0, mean1 = reducer(img1), reducer(img2)
    num0 = multiply(multiply(mean0, mean1), _c(2.0))
    den0 = add(square(mean0), square(mean1))
    luminance = truediv(add(num0, c1), add(den0, c1))
    num1 = multiply(reducer(multiply(img1, img2)), _c(2.0))
    den1 = reducer(add(square(img1), square(img2)))
    cs = truediv(add(subtract(num1, num0), c2), add(subtract(den1, den0), c2))
    if return_index_map:
        return multiply(luminance, cs), cs
    return reduce_mean(multiply(luminance, cs), [-3, -2]), reduce_mean(cs, [-3, -2])


def _ssim_inputs(img1, img2, max_val):
    img1, img2 = convert_to_tensor(img1), convert_to_tensor(img2)
    _check_compatible(img1, img2)
    peak = convert_image_dtype(cast(convert_to_tensor(max_val), img1.dtype), dtypes.float32)
    return convert_image_dtype(img1, dtypes.float32), convert_image_dtype(img2, dtypes.float32), \
        peak


def ssim(img1, img2, max_val, filter_size=11, filter_sigma=1.5, k1=0.01, k2=0.03,
         return_index_map=False):
    """The structural similarity of two images (or batches): one value per image in
    [-1, 1], over an 11x11 Gaussian window by default."""
    a, b, peak = _ssim_inputs(img1, img2, max_val)
    per_channel, _ = _ssim_per_channel(a, b, peak, filter_size, filter_sigma, k1, k2,
                                       return_index_map)
    return reduce_mean(per_channel, [-1])


_MSSSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)


def ssim_multiscale(img1, img2, max_val, power_factors=_MSSSIM_WEIGHTS, filter_size=11,
                    filter_sigma=1.5, k1=0.01, k2=0.03):
    """Multi-scale SSIM: SSIM's contrast-structure term at successively halved scales,
    weighted by `power_factors`."""
    a, b, peak = _ssim_inputs(img1, img2, max_val)
    imgs = [a, b]
    heads = [x.shape.as_list()[:-3] for x in imgs]
    mcs = []
    for k in range(len(power_factors)):
        if k > 0:
            flat = [reshape(x, [-1] + x.shape.as_list()[-3:]) for x in imgs]
            tail = flat[0].shape.as_list()[1:]
            remainder = [tail[0] % 2, tail[1] % 2]
            if any(remainder):
                paddings = [[0, 0], [0, remainder[0]], [0, remainder[1]], [0, 0]]
                flat = [pad(x, paddings, mode="SYMMETRIC") for x in flat]
            down = [avg_pool2d(x, [1, 2, 2, 1], [1, 2, 2, 1], "VALID") for x in flat]
            imgs = [reshape(x, h + x.shape.as_list()[1:]) for x, h in zip(down, heads)]
        per_channel, cs = _ssim_per_channel(*imgs, peak, filter_size, filter_sigma, k1, k2)
        mcs.append(relu(cs))
    mcs.pop()
    values = stack(mcs + [relu(per_channel)], axis=-1)
    factors = convert_to_tensor(np.asarray(power_factors, dtype=np.float32))
    return reduce_mean(reduce_prod(values ** factors, [-1]), [-1])
