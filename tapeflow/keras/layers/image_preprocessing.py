"""Keras 3's image preprocessing layers: Resizing and CenterCrop (also at inference), and the
augmentations RandomFlip, RandomCrop, RandomRotation, RandomZoom and RandomTranslation
(only while training: called directly they augment, as in Keras 3, and `fit` turns them off
for evaluation and prediction).

They are written with tf.image and tapeflow ops as Keras 3's TensorFlow backend writes them
(the affine ones through the ImageProjectiveTransformV3 kernel of ops/image_transform.py),
so they trace inside `fit`. Random draws come from tapeflow's generators: the same seed rules
as Keras (a seeded layer repeats after `keras.utils.set_random_seed`), not the same numbers.
"""
import math
import random as pyrandom

import numpy as np

from tapeflow._core import dtypes
from tapeflow._core.tensor import convert_to_tensor
from tapeflow.keras.engine.layer import Layer
from tapeflow.keras.layers.convolutional import standardize_data_format
from tapeflow.ops.array import expand_dims, reverse, squeeze, transpose
from tapeflow.ops.comparison import less_equal, where
from tapeflow.ops.elementwise import cast, clip_by_value, cos, round as _round, sin
from tapeflow.ops.image_resize import resize
from tapeflow.ops.image_transform import projective_transform
from tapeflow.ops.joining import stack
from tapeflow.ops.gather import gather
from tapeflow.ops.math import add, multiply, subtract
from tapeflow.ops.padding import pad
from tapeflow.ops.random import uniform

_INTERPOLATIONS = ("bilinear", "nearest", "lanczos3", "lanczos5", "bicubic", "area")


def _c(value, dtype=dtypes.float32):
    return convert_to_tensor(np.asarray(value, dtype=dtype.as_numpy_dtype))


class _ImageLayer(Layer):
    """What the image layers share: the data format, rank checks, channels-last views."""

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(data_format)
        self.built = True

    def _hw_axes(self, rank):
        return (rank - 2, rank - 1) if self.data_format == "channels_first" else \
            (rank - 3, rank - 2)

    def _check_rank(self, x):
        if x.ndim not in (3, 4):
            raise ValueError("Expected image tensor to have rank 3 (single image) or 4 (batch "
                             f"of images). Received: data.shape={x.shape}")

    def _as_nhwc(self, x):
        """(4-D channels-last view, a function that undoes it)."""
        single = x.ndim == 3
        y = expand_dims(x, 0) if single else x
        first = self.data_format == "channels_first"
        if first:
            y = transpose(y, [0, 2, 3, 1])

        def undo(z):
            if first:
                z = transpose(z, [0, 3, 1, 2])
            return squeeze(z, [0]) if single else z
        return y, undo

    def _floats(self, x):
        x = convert_to_tensor(x)
        return x if x.dtype is self._dtype else cast(x, self._dtype)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config["data_format"] = self.data_format
        return config


def _crop_window(height, width, target_h, target_w):
    """Keras's centred crop to the target aspect ratio: (top, left, height, width)."""
    crop_h = max(min(height, int(float(width * target_h) / target_w)), 1)
    crop_w = max(min(width, int(float(height * target_w) / target_h)), 1)
    return int(float(height - crop_h) / 2), int(float(width - crop_w) / 2), crop_h, crop_w


def smart_resize(images, size, interpolation="bilinear"):
    """Crops NHWC `images` to the aspect ratio of `size` (centred), then resizes them."""
    top, left, h, w = _crop_window(images.shape[1], images.shape[2], *size)
    return resize(images[:, top:top + h, left:left + w, :], size, interpolation)


class Resizing(_ImageLayer):
    """Resizes images to `height` x `width` (integer images come back rounded, in their
    dtype). `crop_to_aspect_ratio` / `pad_to_aspect_ratio` keep the aspect ratio.

    Example:
    >>> keras.layers.Resizing(224, 224)(tf.zeros((2, 32, 48, 3))).shape
    TensorShape([2, 224, 224, 3])
    """

    def __init__(self, height, width, interpolation="bilinear", crop_to_aspect_ratio=False,
                 pad_to_aspect_ratio=False, fill_mode="constant", fill_value=0.0,
                 antialias=False, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        if pad_to_aspect_ratio and crop_to_aspect_ratio:
            raise ValueError("Only one of `pad_to_aspect_ratio` & `crop_to_aspect_ratio` can "
                             "be `True`.")
        self.height, self.width = height, width
        self.interpolation = interpolation
        self.crop_to_aspect_ratio = crop_to_aspect_ratio
        self.pad_to_aspect_ratio = pad_to_aspect_ratio
        self.fill_mode, self.fill_value = fill_mode, fill_value
        self.antialias = bool(antialias)

    def call(self, inputs):
        if self.interpolation not in _INTERPOLATIONS:  # Keras checks when called
            raise ValueError("Invalid value for argument `interpolation`. Expected of one "
                             f"{_INTERPOLATIONS}. Received: interpolation={self.interpolation}")
        x = convert_to_tensor(inputs)
        self._check_rank(x)
        y, undo = self._as_nhwc(x)
        size = (self.height, self.width)
        if self.crop_to_aspect_ratio:
            top, left, h, w = _crop_window(y.shape[1], y.shape[2], *size)
            y = y[:, top:top + h, left:left + w, :]
        elif self.pad_to_aspect_ratio:
            height, width = y.shape[1], y.shape[2]
            pad_h = max(height, int(float(width * self.height) / self.width))
            pad_w = max(width, int(float(height * self.width) / self.height))
            top, left = int(float(pad_h - height) / 2), int(float(pad_w - width) / 2)
            y = pad(y, [[0, 0], [top, top], [left, left], [0, 0]],
                    constant_values=_c(self.fill_value, y.dtype) if y.dtype.is_floating
                    else int(self.fill_value))
        out = resize(y, size, self.interpolation, antialias=self.antialias)
        if out.dtype is not x.dtype:
            if x.dtype.is_integer:
                out = _round(out)
                out = clip_by_value(out, _c(x.dtype.min, out.dtype),
                                    _c(x.dtype.max, out.dtype))
            out = cast(out, x.dtype)
        return undo(out)

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        h, w = self._hw_axes(len(shape))
        shape[h], shape[w] = self.height, self.width
        return tuple(shape)

    def get_config(self):
        config = super().get_config()
        config.update(height=self.height, width=self.width, interpolation=self.interpolation,
                      crop_to_aspect_ratio=self.crop_to_aspect_ratio,
                      pad_to_aspect_ratio=self.pad_to_aspect_ratio, fill_mode=self.fill_mode,
                      fill_value=self.fill_value, antialias=self.antialias)
        return config


class CenterCrop(_ImageLayer):
    """The central `height` x `width` of each image (an image smaller than that is cropped
    to the target aspect ratio and resized up instead)."""

    def __init__(self, height, width, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self.height, self.width = height, width

    def call(self, inputs):
        x = self._floats(inputs)
        self._check_rank(x)
        y, undo = self._as_nhwc(x)
        dh, dw = y.shape[1] - self.height, y.shape[2] - self.width
        if dh >= 0 and dw >= 0:
            top, left = dh // 2, dw // 2
            return undo(y[:, top:top + self.height, left:left + self.width, :])
        return undo(smart_resize(y, (self.height, self.width)))

    compute_output_shape = Resizing.compute_output_shape

    def get_config(self):
        config = super().get_config()
        config.update(height=self.height, width=self.width)
        return config


class RandomFlip(_ImageLayer):
    """Flips each image left-right and/or up-down with probability 1/2 while training.
    `mode` is "horizontal", "vertical" or "horizontal_and_vertical" (which, as in Keras 3,
    flips an image both ways or neither)."""

    def __init__(self, mode="horizontal_and_vertical", seed=None, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self.mode, self.seed = mode, seed

    def call(self, inputs, training=True):
        x = self._floats(inputs)
        self._check_rank(x)
        if not training:
            return x
        y, undo = self._as_nhwc(x)
        flips = less_equal(uniform([y.shape[0], 1, 1, 1], seed=self.seed), _c(0.5))
        if self.mode in ("horizontal", "horizontal_and_vertical"):
            y = where(flips, reverse(y, [2]), y)
        if self.mode in ("vertical", "horizontal_and_vertical"):
            y = where(flips, reverse(y, [1]), y)
        return undo(y)

    def get_config(self):
        config = super().get_config()
        config.update(seed=self.seed, mode=self.mode)
        return config


class RandomCrop(_ImageLayer):
    """A random `height` x `width` window of the batch while training (resized when the
    images are smaller than that); at inference the images pass unchanged (Keras 3)."""

    def __init__(self, height, width, seed=None, data_format=None, name=None, **kwargs):
        super().__init__(data_format=data_format, name=name, **kwargs)
        # Keras draws a seed for an unseeded RandomCrop (it shows in the config)
        self.height, self.width = height, width
        self.seed = seed or pyrandom.randint(1, int(1e9))

    def call(self, inputs, training=True):
        if not training:
            return convert_to_tensor(inputs)  # as it came, even integer images (Keras 3)
        x = self._floats(inputs)
        self._check_rank(x)
        y, undo = self._as_nhwc(x)
        height, width = y.shape[1], y.shape[2]
        if height > self.height and width > self.width:
            # the window's rows and columns gathered by tensor indices, so it traces in fit
            top = cast(uniform([], 0, float(height - self.height + 1), seed=self.seed),
                       dtypes.int32)
            left = cast(uniform([], 0, float(width - self.width + 1), seed=self.seed),
                        dtypes.int32)
            rows = add(top, _c(np.arange(self.height), dtypes.int32))
            cols = add(left, _c(np.arange(self.width), dtypes.int32))
            y = gather(gather(y, rows, axis=1), cols, axis=2)
        else:
            top, left, _, _ = _crop_window(height, width, self.height, self.width)
            y = y[:, top:top + self.height, left:left + self.width, :]
        if (y.shape[1], y.shape[2]) != (self.height, self.width):
            y = resize(y, (self.height, self.width))
        return undo(y)

    def compute_output_shape(self, input_shape):
        return Resizing.compute_output_shape(self, input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(height=self.height, width=self.width, seed=self.seed)
        return config


# -- affine augmentations -----------------------------------------------------------------------

_FILL_MODES = ("reflect", "wrap", "constant", "nearest")


def _factor_pair(factor, name, bounds=(-1, 1)):
    """Keras's `factor`: a number f (meaning [-f, f]) or a pair; TF's messages for bad ones."""
    message = ("The `factor` argument should be a number (or a list of two numbers) in the "
               f"range [{bounds[0]}, {bounds[1]}]. Received: factor={factor}")
    if isinstance(factor, (tuple, list)):
        if len(factor) != 2 or factor[0] > bounds[1] or factor[1] < bounds[0]:
            raise ValueError(message)
        return tuple(sorted(factor))
    if isinstance(factor, (int, float)):
        if factor < bounds[0] or factor > bounds[1]:
            raise ValueError(message)
        return max(-abs(factor), bounds[0]), abs(factor)
    raise ValueError(message)


def _zoom_factor(factor, name):
    message = (f"The `height_factor` and `width_factor` arguments should be a number (or a "
               "list of two numbers) in the range (-1.0, 1.0]. ")
    if isinstance(factor, (tuple, list)) and len(factor) == 2:
        values = factor
    elif isinstance(factor, (int, float)):
        values = [factor]
    else:
        raise ValueError(message + f"Received: {name}={factor}")
    for v in values:
        if v > 1.0 or v <= -1.0:
            raise ValueError(message + f"Received: input_number={v}")
    return tuple(sorted(values)) if len(values) == 2 else (-abs(factor), abs(factor))


class _AffineLayer(_ImageLayer):
    def __init__(self, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        if fill_mode not in _FILL_MODES:
            raise NotImplementedError(f"Unknown `fill_mode` {fill_mode}. Expected of one "
                                      f"{_FILL_MODES}.")
        if interpolation not in ("nearest", "bilinear"):
            raise NotImplementedError(f"Unknown `interpolation` {interpolation}. Expected of "
                                      "one ('nearest', 'bilinear').")
        self.fill_mode, self.interpolation = fill_mode, interpolation
        self.seed, self.fill_value = seed, fill_value

    def _matrix(self, batch, height, width):
        raise NotImplementedError

    def call(self, inputs, training=True):
        x = self._floats(inputs)
        self._check_rank(x)
        if not training:
            return x
        y, undo = self._as_nhwc(x)
        transforms = self._matrix(y.shape[0], y.shape[1], y.shape[2])
        return undo(projective_transform(y, transforms, None, self.fill_value,
                                         self.interpolation, self.fill_mode))

    def get_config(self):
        config = super().get_config()
        config.update(fill_mode=self.fill_mode, fill_value=self.fill_value,
                      interpolation=self.interpolation, seed=self.seed)
        return config


def _affine_rows(parts, batch):
    """[batch, 8] transforms from per-image (a0, a1, a2, b0, b1, b2) tensors (c0 = c1 = 0)."""
    zeros = _c(np.zeros(batch, np.float32))
    return stack(list(parts) + [zeros, zeros], axis=1)


class RandomRotation(_AffineLayer):
    """Rotates each image by a random angle of `factor` x 360 degrees (a number f: up to
    f turns either way; or a (low, high) pair) about its centre while training."""

    def __init__(self, factor, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, data_format=None, **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.factor = _factor_pair(factor, "factor")

    def _matrix(self, batch, height, width):
        degrees = uniform([batch], self.factor[0] * 360.0, self.factor[1] * 360.0,
                          seed=self.seed)
        angle = multiply(degrees, _c(math.pi / 180.0))
        c, s = cos(angle), sin(angle)
        cx, cy = _c(0.5 * (width - 1)), _c(0.5 * (height - 1))
        a2 = subtract(subtract(cx, multiply(cx, c)), multiply(cy, multiply(_c(-1.0), s)))
        b2 = subtract(subtract(cy, multiply(cx, s)), multiply(cy, c))
        return _affine_rows((c, multiply(_c(-1.0), s), a2, s, c, b2), batch)

    def get_config(self):
        config = super().get_config()
        config["factor"] = self.factor
        return config


class RandomZoom(_AffineLayer):
    """Zooms each image in or out by a random factor while training: `height_factor` 0.2
    means a zoom between 80% and 120% (negative values zoom in); `width_factor` None keeps
    the aspect ratio."""

    def __init__(self, height_factor, width_factor=None, fill_mode="reflect",
                 interpolation="bilinear", seed=None, fill_value=0.0, data_format=None,
                 **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.height_factor, self.width_factor = height_factor, width_factor
        self.height_lower, self.height_upper = _zoom_factor(height_factor, "height_factor")
        if width_factor is not None:
            self.width_lower, self.width_upper = _zoom_factor(width_factor, "width_factor")

    def _matrix(self, batch, height, width):
        zy = uniform([batch], 1.0 + self.height_lower, 1.0 + self.height_upper, seed=self.seed)
        zx = zy if self.width_factor is None else uniform(
            [batch], 1.0 + self.width_lower, 1.0 + self.width_upper, seed=self.seed)
        one, zeros = _c(1.0), _c(np.zeros(batch, np.float32))
        x_offset = multiply(_c((width - 1.0) / 2.0), subtract(one, zx))
        y_offset = multiply(_c((height - 1.0) / 2.0), subtract(one, zy))
        return _affine_rows((zx, zeros, x_offset, zeros, zy, y_offset), batch)

    def get_config(self):
        config = super().get_config()
        config.update(height_factor=self.height_factor, width_factor=self.width_factor)
        return config


class RandomTranslation(_AffineLayer):
    """Shifts each image by a random fraction of its height and width while training."""

    def __init__(self, height_factor, width_factor, fill_mode="reflect",
                 interpolation="bilinear", seed=None, fill_value=0.0, data_format=None,
                 **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.height_factor, self.width_factor = height_factor, width_factor
        self._height = _factor_pair(height_factor, "height_factor")
        self._width = _factor_pair(width_factor, "width_factor")

    def _matrix(self, batch, height, width):
        dy = multiply(uniform([batch], self._height[0], self._height[1], seed=self.seed),
                      _c(float(height)))
        dx = multiply(uniform([batch], self._width[0], self._width[1], seed=self.seed),
                      _c(float(width)))
        one, zeros = _c(np.ones(batch, np.float32)), _c(np.zeros(batch, np.float32))
        # the output pixel (x, y) reads the input at (x - dx, y - dy)
        return _affine_rows((one, zeros, multiply(_c(-1.0), dx), zeros, one,
                             multiply(_c(-1.0), dy)), batch)

    def get_config(self):
        config = super().get_config()
        config.update(height_factor=self.height_factor, width_factor=self.width_factor)
        return config

