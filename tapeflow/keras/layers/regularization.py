"""Regularisation layers that act only while training: SpatialDropout1D/2D/3D (whole feature
maps dropped) and GaussianNoise / GaussianDropout (Keras 3's, in tapeflow ops). Plain Dropout
lives in core.py."""
from tapeflow.ops import array as array_ops, nn_impl as nn_impl_ops, random as random_ops
from tapeflow.keras.engine.layer import Layer
from tapeflow.keras.layers.convolutional import standardize_data_format


def _check_rate(rate):
    if not isinstance(rate, (int, float)) or isinstance(rate, bool) or not 0 <= rate <= 1:
        raise ValueError("Invalid value received for argument `rate`. Expected a float value "
                         f"between 0 and 1. Received: rate={rate}")


class _SpatialDropout(Layer):
    """Drops whole channels: one keep/drop decision per (example, channel)."""

    rank = None

    def __init__(self, rate, seed=None, name=None, dtype=None, data_format=None, **kwargs):
        super().__init__(name=name, dtype=dtype, **kwargs)
        _check_rate(rate)
        self.rate = rate
        self.seed = seed
        self.data_format = standardize_data_format(data_format) if self.rank > 1 else None
        self.supports_masking = True
        self.built = True

    def call(self, inputs, training=False):
        if not training or self.rate == 0:
            return inputs
        shape = list(inputs.shape)
        if self.data_format == "channels_first":
            noise_shape = shape[:2] + [1] * self.rank
        else:
            noise_shape = [shape[0]] + [1] * self.rank + [shape[-1]]
        if noise_shape[0] is None:
            noise_shape[0] = int(array_ops.shape(inputs)[0])
        return nn_impl_ops.dropout(inputs, rate=self.rate, noise_shape=noise_shape, seed=self.seed)

    def get_config(self):
        config = {"rate": self.rate, "seed": self.seed, "name": self.name,
                  "dtype": self.dtype}
        if self.data_format is not None:
            config["data_format"] = self.data_format
        return config


class SpatialDropout1D(_SpatialDropout):
    """Drops whole feature channels of (batch, steps, channels) inputs."""
    rank = 1


class SpatialDropout2D(_SpatialDropout):
    """Drops whole feature maps of images while training (Tompson et al., 2014).

    Example:
    >>> keras.layers.SpatialDropout2D(0.5)(tf.ones((2, 4, 4, 8)), training=True)
    """
    rank = 2


class SpatialDropout3D(_SpatialDropout):
    rank = 3


class GaussianNoise(Layer):
    """Adds zero-mean Gaussian noise of standard deviation `stddev` while training.

    Example:
    >>> keras.layers.GaussianNoise(0.1)(tf.zeros((2, 3)), training=True)
    """

    def __init__(self, stddev, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not 0 <= stddev <= 1:
            raise ValueError("Invalid value received for argument `stddev`. Expected a float "
                             f"value between 0 and 1. Received: stddev={stddev}")
        self.stddev = stddev
        self.seed = seed
        self.supports_masking = True
        self.built = True

    def call(self, inputs, training=False):
        if not training or self.stddev == 0:
            return inputs
        return inputs + random_ops.normal(
            array_ops.shape(inputs), stddev=self.stddev, dtype=inputs.dtype, seed=self.seed)

    def get_config(self):
        config = super().get_config()
        config.update({"stddev": self.stddev, "seed": self.seed})
        return config


class GaussianDropout(Layer):
    """Multiplies inputs by noise of mean 1 and standard deviation sqrt(rate / (1 - rate))
    while training."""

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(**kwargs)
        _check_rate(rate)
        self.rate = rate
        self.seed = seed
        self.supports_masking = True
        self.built = True

    def call(self, inputs, training=False):
        if not training or not 0 < self.rate < 1:
            return inputs
        stddev = (self.rate / (1.0 - self.rate)) ** 0.5
        return inputs * random_ops.normal(
            array_ops.shape(inputs), mean=1.0, stddev=stddev, dtype=inputs.dtype, seed=self.seed)

    def get_config(self):
        config = super().get_config()
        config.update({"rate": self.rate, "seed": self.seed})
        return config
