"""Pooling layers: Max/AveragePooling1D/2D/3D and GlobalMax/GlobalAveragePooling1D/2D/3D
(Keras 3's, in tapeflow ops). One parameterised base per kind, as in Keras."""
from tapeflow.ops import (array as array_ops, elementwise as elementwise_ops,
                          pooling as pooling_ops, reduction as reduction_ops)
from tapeflow.keras.engine.layer import Layer
from tapeflow.keras.layers.convolutional import (check_ndim, normalize_tuple,
                                                 standardize_data_format, standardize_padding,
                                                 tf_data_format)


class BasePooling(Layer):
    """Pools each `pool_size` window (max or mean) with `strides` (default: `pool_size`)."""

    def __init__(self, rank, pool_type, pool_size, strides=None, padding="valid",
                 data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.rank = rank
        self.pool_type = pool_type
        self.pool_size = normalize_tuple(pool_size, rank, "pool_size")
        self.strides = self.pool_size if strides is None else \
            normalize_tuple(strides, rank, "strides")
        self.padding = standardize_padding(padding)
        self.data_format = standardize_data_format(data_format)
        self.built = True

    def call(self, inputs):
        if len(inputs.shape) != self.rank + 2:
            check_ndim(self, inputs.shape, self.rank + 2)
        fn = pooling_ops.max_pool if self.pool_type == "max" else pooling_ops.avg_pool
        return fn(inputs, self.pool_size, self.strides, self.padding.upper(),
                  data_format=tf_data_format(self.rank, self.data_format))

    def get_config(self):
        config = super().get_config()
        config.update({"pool_size": self.pool_size, "padding": self.padding,
                       "strides": self.strides, "data_format": self.data_format})
        return config


def _pooling(name, rank, pool_type, doc):
    if pool_type == "max":  # Keras's max pools default to 2; average pools take a size
        def __init__(self, pool_size=(2,) * rank if rank > 1 else 2, strides=None,
                     padding="valid", data_format=None, name=None, **kwargs):
            BasePooling.__init__(self, rank, pool_type, pool_size, strides, padding,
                                 data_format, name=name, **kwargs)
    else:
        def __init__(self, pool_size, strides=None, padding="valid", data_format=None,
                     name=None, **kwargs):
            BasePooling.__init__(self, rank, pool_type, pool_size, strides, padding,
                                 data_format, name=name, **kwargs)
    return type(name, (BasePooling,), {"__init__": __init__, "__doc__": doc})


MaxPooling1D = _pooling("MaxPooling1D", 1, "max", "Max pooling over steps: (batch, steps, "
                        "channels).")
MaxPooling2D = _pooling("MaxPooling2D", 2, "max", """Max pooling over 2-D windows.

    Example:
    >>> keras.layers.MaxPooling2D()(tf.ones((1, 28, 28, 3))).shape
    TensorShape([1, 14, 14, 3])
    """)
MaxPooling3D = _pooling("MaxPooling3D", 3, "max", "Max pooling over 3-D windows.")
AveragePooling1D = _pooling("AveragePooling1D", 1, "average",
                            "Average pooling over steps; 'same' padding is not counted.")
AveragePooling2D = _pooling("AveragePooling2D", 2, "average",
                            "Average pooling over 2-D windows; 'same' padding is not counted.")
AveragePooling3D = _pooling("AveragePooling3D", 3, "average",
                            "Average pooling over 3-D windows; 'same' padding is not counted.")
for _cls in (MaxPooling1D, MaxPooling2D, MaxPooling3D, AveragePooling1D, AveragePooling2D,
             AveragePooling3D):
    _cls.__module__ = __name__


class BaseGlobalPooling(Layer):
    """The max or mean over every spatial axis (kept with size 1 when `keepdims`)."""

    pool_type = None
    rank = None

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(data_format)
        self.keepdims = keepdims
        self.built = True

    def call(self, inputs):
        start = 2 if self.data_format == "channels_first" else 1
        axes = list(range(start, start + self.rank))
        fn = reduction_ops.reduce_max if self.pool_type == "max" else reduction_ops.reduce_mean
        return fn(inputs, axis=axes, keepdims=self.keepdims)

    def get_config(self):
        config = super().get_config()
        config.update({"data_format": self.data_format, "keepdims": self.keepdims})
        return config


class GlobalAveragePooling1D(BaseGlobalPooling):
    """The mean over steps: (batch, steps, channels) -> (batch, channels)."""
    pool_type, rank = "average", 1

    def call(self, inputs, mask=None):
        if mask is None:
            return super().call(inputs)
        axis = 2 if self.data_format == "channels_first" else 1
        mask = elementwise_ops.cast(mask, inputs.dtype)
        mask = array_ops.expand_dims(mask, 1 if self.data_format == "channels_first" else 2)
        total = reduction_ops.reduce_sum(inputs * mask, axis=axis, keepdims=self.keepdims)
        return total / reduction_ops.reduce_sum(mask, axis=axis, keepdims=self.keepdims)


class GlobalAveragePooling2D(BaseGlobalPooling):
    """The mean over height and width: (batch, h, w, channels) -> (batch, channels).

    Example:
    >>> keras.layers.GlobalAveragePooling2D()(tf.ones((2, 4, 5, 3))).shape
    TensorShape([2, 3])
    """
    pool_type, rank = "average", 2


class GlobalAveragePooling3D(BaseGlobalPooling):
    pool_type, rank = "average", 3


class GlobalMaxPooling1D(BaseGlobalPooling):
    """The max over steps."""
    pool_type, rank = "max", 1


class GlobalMaxPooling2D(BaseGlobalPooling):
    """The max over height and width."""
    pool_type, rank = "max", 2


class GlobalMaxPooling3D(BaseGlobalPooling):
    pool_type, rank = "max", 3


# Keras's aliases.
MaxPool1D, MaxPool2D, MaxPool3D = MaxPooling1D, MaxPooling2D, MaxPooling3D
AvgPool1D, AvgPool2D, AvgPool3D = AveragePooling1D, AveragePooling2D, AveragePooling3D
GlobalAvgPool1D, GlobalAvgPool2D, GlobalAvgPool3D = (GlobalAveragePooling1D,
                                                     GlobalAveragePooling2D,
                                                     GlobalAveragePooling3D)
GlobalMaxPool1D, GlobalMaxPool2D, GlobalMaxPool3D = (GlobalMaxPooling1D, GlobalMaxPooling2D,
                                                     GlobalMaxPooling3D)
