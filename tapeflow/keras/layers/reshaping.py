"""Spatial reshaping layers: UpSampling1D/2D, ZeroPadding1D/2D/3D and Cropping1D/2D/3D
(Keras 3's, in tapeflow ops)."""
from tapeflow._core.tensor import constant
from tapeflow.ops import array as array_ops, gather as gather_ops, padding as padding_ops
from tapeflow.keras.engine.layer import Layer
from tapeflow.keras.layers.convolutional import normalize_tuple, standardize_data_format


def _spatial_axes(rank, data_format, ndim):
    start = 2 if data_format == "channels_first" else 1
    return list(range(start, start + rank))


class UpSampling1D(Layer):
    """Repeats each step `size` times: (batch, steps, features) -> (batch, steps * size, ...)."""

    def __init__(self, size=2, **kwargs):
        super().__init__(**kwargs)
        self.size = int(size)
        self.built = True

    def call(self, inputs):
        return _repeat(inputs, 1, self.size)

    def get_config(self):
        config = super().get_config()
        config["size"] = self.size
        return config


def _repeat(x, axis, times):
    """Each slice of x along `axis` repeated `times` times (nearest-neighbour upsampling)."""
    if times == 1:
        return x
    shape = list(x.shape)
    batch = shape[0] if shape[0] is not None else -1
    expanded = array_ops.expand_dims(x, axis + 1)
    multiples = [1] * (len(shape) + 1)
    multiples[axis + 1] = times
    tiled = array_ops.tile(expanded, multiples)
    new_shape = [batch] + shape[1:]
    new_shape[axis] = shape[axis] * times
    return array_ops.reshape(tiled, new_shape)


class UpSampling2D(Layer):
    """Repeats rows and columns `size` times (interpolation 'nearest'), or interpolates them
    ('bilinear', as tf.image.resize).

    Example:
    >>> keras.layers.UpSampling2D()(tf.ones((1, 3, 3, 2))).shape
    TensorShape([1, 6, 6, 2])
    """

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        super().__init__(**kwargs)
        self.size = normalize_tuple(size, 2, "size")
        self.data_format = standardize_data_format(data_format)
        if interpolation not in ("nearest", "bilinear"):
            raise ValueError("`interpolation` must be 'nearest' or 'bilinear'. Received: "
                             f"interpolation={interpolation}")
        self.interpolation = interpolation
        self.built = True

    def call(self, inputs):
        h_axis, w_axis = _spatial_axes(2, self.data_format, inputs.ndim)
        if self.interpolation == "nearest":
            return _repeat(_repeat(inputs, h_axis, self.size[0]), w_axis, self.size[1])
        x = _bilinear(inputs, h_axis, self.size[0])
        return _bilinear(x, w_axis, self.size[1])

    def get_config(self):
        config = super().get_config()
        config.update({"size": self.size, "data_format": self.data_format,
                       "interpolation": self.interpolation})
        return config


def _bilinear(x, axis, times):
    """x resized `times` times along `axis` by linear interpolation, as tf.image.resize
    (bilinear, half-pixel centres) does it: each output is a blend of two gathered inputs."""
    import numpy as np
    size = x.shape[axis]
    src = np.clip((np.arange(size * times) + 0.5) / times - 0.5, 0, size - 1)
    low = np.floor(src).astype("int32")
    high = np.minimum(low + 1, size - 1)
    weight_shape = [1] * x.ndim
    weight_shape[axis] = size * times
    frac = constant((src - low).reshape(weight_shape), x.dtype)
    a, b = gather_ops.gather(x, low, axis=axis), gather_ops.gather(x, high, axis=axis)
    return a + (b - a) * frac


def _pairs(value, rank, name):
    """Keras's padding/cropping argument as `rank` (before, after) pairs."""
    if isinstance(value, int):
        return ((value, value),) * rank
    value = tuple(value)
    if len(value) != rank:
        raise ValueError(f"`{name}` should have {rank} elements. Received: {name}={value}")
    out = []
    for v in value:
        if isinstance(v, int):
            out.append((v, v))
        else:
            out.append(normalize_tuple(v, 2, f"{name}[{len(out)}]", allow_zero=True))
    return tuple(out)


class _ZeroPadding(Layer):
    rank = None

    def __init__(self, padding=1, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.padding = _pairs(padding, self.rank, "padding")
        self.data_format = standardize_data_format(data_format)
        self.built = True

    def call(self, inputs):
        pads = [[0, 0]] * inputs.ndim
        for axis, pair in zip(_spatial_axes(self.rank, self.data_format, inputs.ndim),
                              self.padding):
            pads[axis] = list(pair)
        return padding_ops.pad(inputs, pads)

    def get_config(self):
        config = super().get_config()
        config.update({"padding": self.padding, "data_format": self.data_format})
        return config


class ZeroPadding1D(_ZeroPadding):
    """Zeros added before and after the steps: `padding` an int or (before, after)."""
    rank = 1

    def __init__(self, padding=1, data_format=None, **kwargs):
        super().__init__(padding if isinstance(padding, int) else (tuple(padding),),
                         data_format, **kwargs)

    def get_config(self):
        config = super().get_config()
        config["padding"] = self.padding[0]
        return config


class ZeroPadding2D(_ZeroPadding):
    """Rows and columns of zeros around an image: `padding` an int, (rows, cols) or
    ((top, bottom), (left, right)).

    Example:
    >>> keras.layers.ZeroPadding2D(((1, 0), (2, 2)))(tf.ones((1, 3, 3, 1))).shape
    TensorShape([1, 4, 7, 1])
    """
    rank = 2

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(padding, data_format, **kwargs)


class ZeroPadding3D(_ZeroPadding):
    rank = 3

    def __init__(self, padding=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(padding, data_format, **kwargs)


class _Cropping(Layer):
    rank = None

    def __init__(self, cropping, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.cropping = _pairs(cropping, self.rank, "cropping")
        self.data_format = standardize_data_format(data_format)
        self.built = True

    def call(self, inputs):
        index = [slice(None)] * inputs.ndim
        shape = inputs.shape
        for axis, (before, after) in zip(_spatial_axes(self.rank, self.data_format,
                                                       inputs.ndim), self.cropping):
            if before + after >= shape[axis]:
                raise ValueError(f"Values in `cropping` argument should be smaller than the "
                                 f"corresponding spatial dimension of the input. Received: "
                                 f"inputs.shape={tuple(shape)}, cropping={self.cropping}")
            index[axis] = slice(before, shape[axis] - after)
        return inputs[tuple(index)]

    def get_config(self):
        config = super().get_config()
        config.update({"cropping": self.cropping, "data_format": self.data_format})
        return config


class Cropping1D(_Cropping):
    """Steps cut from the start and the end."""
    rank = 1

    def __init__(self, cropping=(1, 1), **kwargs):
        super().__init__((tuple(cropping),) if not isinstance(cropping, int) else cropping,
                         **kwargs)

    def get_config(self):
        config = super().get_config()
        config.pop("data_format")
        config["cropping"] = self.cropping[0]
        return config


class Cropping2D(_Cropping):
    """Rows and columns cut from an image's edges: `cropping` an int, (rows, cols) or
    ((top, bottom), (left, right))."""
    rank = 2

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(cropping, data_format, **kwargs)


class Cropping3D(_Cropping):
    rank = 3

    def __init__(self, cropping=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(cropping, data_format, **kwargs)
