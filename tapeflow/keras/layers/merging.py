"""Merging layers: combine a list of inputs into one (Concatenate, Add, Subtract, Multiply,
Average, Maximum, Minimum). One base class; each subclass names its reduction."""
from tapeflow.ops import joining as joining_ops, math as math_ops
from tapeflow.keras.engine.layer import Layer


class Merge(Layer):
    """Base of the elementwise merging layers: `call` folds `_merge_pair` over the inputs."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def build(self, input_shape):
        if not isinstance(input_shape, (list, tuple)) or not input_shape or \
                not isinstance(input_shape[0], (list, tuple)):
            raise ValueError("A merge layer should be called on a list of inputs. "
                             f"Received: input_shape={input_shape} (not a list of shapes)")
        if len(input_shape) < 1:
            raise ValueError("A merge layer should be called on a list of at least 1 input. "
                             f"Got {len(input_shape)} inputs. "
                             f"Full input_shape received: {input_shape}")
        self.built = True

    def call(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = self._merge_pair(out, x)
        return self._finish(out, len(inputs))

    def _finish(self, out, n):
        return out


class Add(Merge):
    """Adds a list of inputs: `keras.layers.Add()([x1, x2])`."""

    def _merge_pair(self, a, b):
        return a + b


class Subtract(Merge):
    """Subtracts two inputs: `keras.layers.Subtract()([x1, x2])` is `x1 - x2`."""

    def build(self, input_shape):
        if len(input_shape) != 2:
            raise ValueError("A `Subtract` layer should be called on exactly 2 inputs. "
                             f"Received: input_shape={input_shape}")
        super().build(input_shape)

    def _merge_pair(self, a, b):
        return a - b


class Multiply(Merge):
    """Multiplies a list of inputs elementwise: `keras.layers.Multiply()([x1, x2])`."""

    def _merge_pair(self, a, b):
        return a * b


class Average(Merge):
    """Averages a list of inputs elementwise."""

    def _merge_pair(self, a, b):
        return a + b

    def _finish(self, out, n):
        return out / n


class Maximum(Merge):
    """Elementwise maximum of a list of inputs."""

    def _merge_pair(self, a, b):
        return math_ops.maximum(a, b)


class Minimum(Merge):
    """Elementwise minimum of a list of inputs."""

    def _merge_pair(self, a, b):
        return math_ops.minimum(a, b)


class Concatenate(Layer):
    """Concatenates a list of inputs along `axis` (default the last).

    Example:
    >>> keras.layers.Concatenate()([tf.ones((2, 3)), tf.zeros((2, 1))]).shape
    TensorShape([2, 4])
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis
        self.supports_masking = True

    def build(self, input_shape):
        if not isinstance(input_shape, (list, tuple)) or len(input_shape) < 1 or \
                not isinstance(input_shape[0], (list, tuple)):
            raise ValueError("A `Concatenate` layer should be called on a list of at least 1 "
                             f"input. Received: input_shape={input_shape}")
        shapes = [list(s) for s in input_shape]
        rank = len(shapes[0])
        axis = self.axis % rank if rank else 0
        for s in shapes[1:]:
            a = [d for i, d in enumerate(shapes[0]) if i != axis]
            b = [d for i, d in enumerate(s) if i != axis]
            if len(s) != rank or any(x is not None and y is not None and x != y
                                     for x, y in zip(a, b)):
                raise ValueError("A `Concatenate` layer requires inputs with matching shapes "
                                 "except for the concatenation axis. Received: "
                                 f"input_shape={input_shape}")
        self.built = True

    def call(self, inputs):
        return joining_ops.concat(list(inputs), axis=self.axis)

    def get_config(self):
        config = super().get_config()
        config["axis"] = self.axis
        return config


def add(inputs, **kwargs):
    return Add(**kwargs)(inputs)


def subtract(inputs, **kwargs):
    return Subtract(**kwargs)(inputs)


def multiply(inputs, **kwargs):
    return Multiply(**kwargs)(inputs)


def average(inputs, **kwargs):
    return Average(**kwargs)(inputs)


def maximum(inputs, **kwargs):
    return Maximum(**kwargs)(inputs)


def minimum(inputs, **kwargs):
    return Minimum(**kwargs)(inputs)


def concatenate(inputs, axis=-1, **kwargs):
    return Concatenate(axis=axis, **kwargs)(inputs)
