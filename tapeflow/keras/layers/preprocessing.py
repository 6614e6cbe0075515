"""Preprocessing layers: Rescaling and Normalization (whose `adapt` learns the mean and
variance from data: arrays, tensors, or an iterable of batches)."""
import numpy as np

from tapeflow._core.tensor import constant
from tapeflow.ops import array as array_ops, elementwise as elementwise_ops, math as math_ops
from tapeflow.keras.engine.layer import Layer


class Rescaling(Layer):
    """Multiplies inputs by `scale` and adds `offset`: `Rescaling(1.0 / 255)`."""

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = scale
        self.offset = offset
        self.built = True

    def call(self, inputs):
        dtype = self._dtype
        if inputs.dtype is not dtype:
            inputs = elementwise_ops.cast(inputs, dtype)
        scale = constant(np.asarray(self.scale, dtype=dtype.as_numpy_dtype))
        offset = constant(np.asarray(self.offset, dtype=dtype.as_numpy_dtype))
        return inputs * scale + offset

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"scale": self.scale, "offset": self.offset})
        return config


class Normalization(Layer):
    """Shifts and scales inputs to mean 0 and variance 1 per feature along `axis`:
    `(x - mean) / sqrt(variance)`, with mean and variance given or learnt by `adapt(data)`.

    Example:
    >>> layer = keras.layers.Normalization()
    >>> layer.adapt(np.array([[0.0], [2.0]]))
    >>> layer(np.array([[1.0]]))  # 0.0
    """

    def __init__(self, axis=-1, mean=None, variance=None, invert=False, **kwargs):
        super().__init__(**kwargs)
        if axis is None:
            axis = ()
        elif isinstance(axis, int):
            axis = (axis,)
        self.axis = tuple(axis)
        self.input_mean = mean
        self.input_variance = variance
        self.invert = invert
        if (mean is None) != (variance is None):
            raise ValueError("When setting values directly, both `mean` and `variance` must "
                             f"be set. Received: mean={mean} and variance={variance}")

    def _param_shape(self, input_shape):
        ndim = len(input_shape)
        keep = tuple(a % ndim for a in self.axis)
        for a in keep:
            if input_shape[a] is None:
                raise ValueError("All `axis` values to be kept must have a known shape. "
                                 f"Received axis={self.axis}, inputs.shape={input_shape}, "
                                 f"with unknown axis at index {a}")
        return keep, tuple(input_shape[a] for a in keep), tuple(
            input_shape[a] if a in keep else 1 for a in range(ndim))

    def build(self, input_shape):
        keep, shape, broadcast = self._param_shape(tuple(input_shape))
        self._keep_axes = keep
        self._broadcast_shape = broadcast
        self._reduce_axes = tuple(a for a in range(len(input_shape)) if a not in keep)
        if self.input_mean is None:
            self.adapt_mean = self.add_weight(name="mean", shape=shape, initializer="zeros",
                                              trainable=False)
            self.adapt_variance = self.add_weight(name="variance", shape=shape,
                                                  initializer="ones", trainable=False)
            self.count = self.add_weight(name="count", shape=(), dtype="int64",
                                         initializer="zeros", trainable=False)
        self.built = True

    def adapt(self, data, batch_size=None, steps=None):
        """Computes the mean and variance of `data` (an array, a tensor, or batches)."""
        if isinstance(data, (np.ndarray, list)) or hasattr(data, "numpy") and \
                not hasattr(data, "element_spec"):
            batches = [np.asarray(data.numpy() if hasattr(data, "numpy") else data)]
        else:
            batches = []
            for i, b in enumerate(data):
                if steps is not None and i >= steps:
                    break
                b = b[0] if isinstance(b, tuple) else b
                batches.append(np.asarray(b.numpy() if hasattr(b, "numpy") else b))
        values = np.concatenate([b.reshape((-1,) + b.shape[1:]) if b.ndim else
                                 b.reshape(1) for b in batches]).astype(np.float64)
        if values.ndim == 1:
            values = values[:, None]
        if not self.built:
            self.build(values.shape)
        axes = self._reduce_axes
        mean = values.mean(axis=axes)
        var = values.var(axis=axes)
        np_dtype = self._dtype.as_numpy_dtype
        self.adapt_mean.assign(mean.reshape(self.adapt_mean.shape).astype(np_dtype))
        self.adapt_variance.assign(var.reshape(self.adapt_variance.shape).astype(np_dtype))
        self.count.assign(np.int64(values.size // max(mean.size, 1)))

    def _mean_variance(self):
        if self.input_mean is not None:
            dtype = self._dtype.as_numpy_dtype
            mean = np.broadcast_to(np.asarray(self.input_mean, dtype), self._broadcast_shape)
            var = np.broadcast_to(np.asarray(self.input_variance, dtype),
                                  self._broadcast_shape)
            return constant(mean), constant(var)
        return (array_ops.reshape(self.adapt_mean, self._broadcast_shape),
                array_ops.reshape(self.adapt_variance, self._broadcast_shape))

    def call(self, inputs):
        if inputs.dtype is not self._dtype:
            inputs = elementwise_ops.cast(inputs, self._dtype)
        mean, variance = self._mean_variance()
        if self.invert:
            return mean + inputs * math_ops.maximum(elementwise_ops.sqrt(variance), 1e-7)
        return (inputs - mean) / math_ops.maximum(elementwise_ops.sqrt(variance), 1e-7)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"axis": self.axis, "invert": self.invert,
                       "mean": None if self.input_mean is None else
                       np.asarray(self.input_mean).tolist(),
                       "variance": None if self.input_variance is None else
                       np.asarray(self.input_variance).tolist()})
        return config
