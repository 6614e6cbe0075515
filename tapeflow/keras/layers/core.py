"""Core layers: Dense, Activation, Dropout, Flatten, Reshape, Lambda (Keras 3's, in tapeflow
ops)."""
import math

from tapeflow.ops import (array as array_ops, joining as joining_ops, linalg as linalg_ops, nn_impl
                          as nn_impl_ops)
from tapeflow.keras.engine.layer import Layer


def _activations():
    from tapeflow.keras import activations
    return activations


def _serialize(module_name, obj):
    import importlib
    module = importlib.import_module(f"tapeflow.keras.{module_name}")
    if obj is None:
        return None
    return module.serialize(obj) if hasattr(module, "serialize") else obj


class Dense(Layer):
    """A densely-connected layer: `activation(dot(input, kernel) + bias)`.

    Args:
        units: positive integer, the dimension of the output.
        activation: a name ('relu') or a callable; None means linear.
        use_bias: whether to add a bias vector.
        kernel_initializer, bias_initializer: initializers (default glorot_uniform, zeros).
        kernel_regularizer, bias_regularizer: optional regularizers.

    Example:
    >>> layer = keras.layers.Dense(4, activation="relu")
    >>> layer(tf.ones((2, 3))).shape
    TensorShape([2, 4])
    """

    def __init__(self, units, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, lora_rank=None,
                 quantization_config=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        if not isinstance(units, int) or isinstance(units, bool) or units <= 0:
            raise ValueError("Received an invalid value for `units`, expected a positive "
                             f"integer. Received: units={units}")
        from tapeflow.keras import constraints, initializers, regularizers
        self.units = units
        self.activation = _activations().get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.supports_masking = True

    def build(self, input_shape):
        input_dim = input_shape[-1]
        self.kernel = self.add_weight(name="kernel", shape=(input_dim, self.units),
                                      initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.bias = self.add_weight(name="bias", shape=(self.units,),
                                    initializer=self.bias_initializer,
                                    regularizer=self.bias_regularizer,
                                    constraint=self.bias_constraint) if self.use_bias else None
        self.built = True

    def call(self, inputs):
        if inputs.ndim == 2:
            x = linalg_ops.matmul(inputs, self.kernel)
        else:
            shape = inputs.shape
            x = linalg_ops.matmul(array_ops.reshape(inputs, (-1, shape[-1])), self.kernel)
            x = array_ops.reshape(
                x,
                tuple(-1 if d is None else d for d in shape[:-1]) + (self.units, ))
        if self.bias is not None:
            x = x + self.bias
        activation = self.activation
        return x if activation is None else activation(x)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)[:-1] + (self.units,)

    def get_config(self):
        config = super().get_config()
        config.update({
            "units": self.units,
            "activation": _serialize("activations", self.activation) or "linear",
            "use_bias": self.use_bias,
            "kernel_initializer": _serialize("initializers", self.kernel_initializer),
            "bias_initializer": _serialize("initializers", self.bias_initializer),
            "kernel_regularizer": _serialize("regularizers", self.kernel_regularizer),
            "bias_regularizer": _serialize("regularizers", self.bias_regularizer),
            "kernel_constraint": _serialize("constraints", self.kernel_constraint),
            "bias_constraint": _serialize("constraints", self.bias_constraint),
            "quantization_config": None,
        })
        return config


class Activation(Layer):
    """Applies an activation function: `keras.layers.Activation('relu')`."""

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = _activations().get(activation)
        self.supports_masking = True
        self.built = True

    def call(self, inputs):
        return self.activation(inputs)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config["activation"] = _serialize("activations", self.activation)
        return config


class Dropout(Layer):
    """Sets a fraction `rate` of inputs to 0 during training, scaling the rest by
    `1 / (1 - rate)`; the identity at inference.

    Example:
    >>> keras.layers.Dropout(0.5)(tf.ones((2, 2)), training=True)
    """

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(rate, (int, float)) or isinstance(rate, bool) or not 0 <= rate <= 1:
            raise ValueError("Invalid value received for argument `rate`. Expected a float "
                             f"value between 0 and 1. Received: rate={rate}")
        self.rate = rate
        self.noise_shape = noise_shape
        self.seed = seed
        self.supports_masking = True
        self.built = True

    def call(self, inputs, training=False):
        if not training or self.rate == 0:
            return inputs
        noise_shape = None
        if self.noise_shape is not None:
            noise_shape = [inputs.shape[i] if d is None else d
                           for i, d in enumerate(self.noise_shape)]
        return nn_impl_ops.dropout(inputs, rate=self.rate, noise_shape=noise_shape, seed=self.seed)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"rate": self.rate, "seed": self.seed, "noise_shape": self.noise_shape})
        return config


class Flatten(Layer):
    """Flattens the input except the batch axis: `(batch, 4, 5)` becomes `(batch, 20)`."""

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = data_format or "channels_last"
        self.built = True

    def call(self, inputs):
        shape = inputs.shape
        if self.data_format == "channels_first" and len(shape) > 2:
            perm = (0,) + tuple(range(2, len(shape))) + (1,)
            inputs = array_ops.transpose(inputs, perm)
            shape = inputs.shape
        rest = shape[1:]
        if all(d is not None for d in rest):
            return array_ops.reshape(inputs, (-1, int(math.prod(rest))))
        return array_ops.reshape(inputs, joining_ops.stack([array_ops.shape(inputs)[0], -1]))

    def compute_output_shape(self, input_shape):
        rest = input_shape[1:]
        n = None if any(d is None for d in rest) else int(math.prod(rest))
        return (input_shape[0], n)

    def get_config(self):
        config = super().get_config()
        config["data_format"] = self.data_format
        return config


class Reshape(Layer):
    """Reshapes the input (batch axis excluded) to `target_shape`; one dim may be -1."""

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        self.target_shape = tuple(target_shape)
        self.built = True

    def _resolved(self, input_shape):
        target = list(self.target_shape)
        if -1 in target:
            known = math.prod(d for d in target if d != -1)
            total = math.prod(input_shape[1:]) if all(d is not None
                                                      for d in input_shape[1:]) else None
            if total is not None:
                if known == 0 or total % known:
                    raise ValueError(f"The total size of the tensor must be unchanged. "
                                     f"Received: input_shape={tuple(input_shape)}, "
                                     f"target_shape={self.target_shape}")
                target[target.index(-1)] = total // known
        return tuple(target)

    def call(self, inputs):
        return array_ops.reshape(inputs, (-1,) + self._resolved(tuple(inputs.shape)))

    def compute_output_shape(self, input_shape):
        t = self._resolved(tuple(input_shape))
        return (input_shape[0],) + tuple(None if d == -1 else d for d in t)

    def get_config(self):
        config = super().get_config()
        config["target_shape"] = self.target_shape
        return config


class Lambda(Layer):
    """Wraps a function of the inputs as a layer: `keras.layers.Lambda(lambda x: x ** 2)`."""

    def __init__(self, function, output_shape=None, mask=None, arguments=None, **kwargs):
        super().__init__(**kwargs)
        self.function = function
        self.arguments = arguments or {}
        self._output_shape = output_shape
        self.built = True

    def call(self, inputs, mask=None, training=None):
        import inspect
        kwargs = dict(self.arguments)
        try:
            params = inspect.signature(self.function).parameters
        except (TypeError, ValueError):
            params = {}
        if "training" in params:
            kwargs["training"] = training
        if "mask" in params and mask is not None:
            kwargs["mask"] = mask
        return self.function(inputs, **kwargs)

    def get_config(self):
        config = super().get_config()
        config.update({"function": getattr(self.function, "__name__", "lambda"),
                       "arguments": self.arguments})
        return config


class Identity(Layer):
    """Returns its input unchanged."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.built = True

    def call(self, inputs):
        return inputs
