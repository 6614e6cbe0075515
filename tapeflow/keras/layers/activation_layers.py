"""Activation layers: Softmax, ReLU (with max_value, negative_slope, threshold), LeakyReLU,
ELU — the activation functions as layers with their own arguments."""
from tapeflow.ops import (comparison as comparison_ops, elementwise as elementwise_ops,
                          math as math_ops, nn as nn_ops, reduction as reduction_ops)
from tapeflow.keras.engine.layer import Layer


class _Elementwise(Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.built = True

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)


class Softmax(_Elementwise):
    """Softmax along `axis` (default the last); an optional `mask` (True = keep) is honoured.

    Example:
    >>> keras.layers.Softmax()(np.array([[1.0, 1.0]]))  # [[0.5, 0.5]]
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis

    def call(self, inputs, mask=None):
        if mask is not None:
            inputs = inputs + (1.0 - elementwise_ops.cast(mask, inputs.dtype)) * -1e9
        if isinstance(self.axis, (tuple, list)):
            return elementwise_ops.exp(
                inputs - reduction_ops.reduce_logsumexp(inputs, axis=self.axis, keepdims=True))
        return nn_ops.softmax(inputs, axis=self.axis)

    def get_config(self):
        config = super().get_config()
        config["axis"] = self.axis
        return config


class ReLU(_Elementwise):
    """`max(x, 0)`, or with arguments: `x` above `threshold` (capped at `max_value`),
    `negative_slope * (x - threshold)` below."""

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        super().__init__(**kwargs)
        if max_value is not None and max_value < 0.0:
            raise ValueError("max_value of a ReLU layer cannot be a negative value. "
                             f"Received: max_value={max_value}")
        if negative_slope is None or negative_slope < 0.0:
            raise ValueError("negative_slope of a ReLU layer cannot be a negative value. "
                             f"Received: negative_slope={negative_slope}")
        self.max_value = max_value
        self.negative_slope = negative_slope
        self.threshold = threshold

    def call(self, inputs):
        if self.negative_slope == 0 and self.threshold == 0:
            out = nn_ops.relu(inputs)
        else:
            above = elementwise_ops.cast(inputs > self.threshold, inputs.dtype)
            out = inputs * above + self.negative_slope * (inputs - self.threshold) * (1 - above)
        if self.max_value is not None:
            out = math_ops.minimum(out, elementwise_ops.cast(self.max_value, inputs.dtype))
        return out

    def get_config(self):
        config = super().get_config()
        config.update({"max_value": self.max_value, "negative_slope": self.negative_slope,
                       "threshold": self.threshold})
        return config


class LeakyReLU(_Elementwise):
    """`x` for `x >= 0`, `negative_slope * x` otherwise (default slope 0.3)."""

    def __init__(self, negative_slope=0.3, **kwargs):
        if "alpha" in kwargs:
            negative_slope = kwargs.pop("alpha")
        super().__init__(**kwargs)
        self.negative_slope = negative_slope

    def call(self, inputs):
        return nn_ops.leaky_relu(inputs, alpha=self.negative_slope)

    def get_config(self):
        config = super().get_config()
        config["negative_slope"] = self.negative_slope
        return config


class ELU(_Elementwise):
    """`x` for `x > 0`, `alpha * (exp(x) - 1)` otherwise."""

    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        self.alpha = alpha

    def call(self, inputs):
        out = nn_ops.elu(inputs)
        if self.alpha != 1.0:
            out = comparison_ops.where(inputs > 0, out, out * self.alpha)
        return out

    def get_config(self):
        config = super().get_config()
        config["alpha"] = self.alpha
        return config
