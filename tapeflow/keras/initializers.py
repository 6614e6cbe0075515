"""`keras.initializers`: how layers fill new weights, by name or object, with `get` /
`serialize` / `deserialize`.

Random initializers draw through `tf.random`, so they follow TensorFlow's seed rules: with no
`seed`, each call draws fresh numbers that repeat after `tf.random.set_seed`; with an integer
`seed`, every call returns the same numbers (Keras 3's rule for a seeded initializer). The
formulas (fan computation, the truncated-normal correction 0.8796...) are Keras 3's.
"""
import math

import numpy as np

from tapeflow._core import dtypes
from tapeflow._core.dtypes import as_dtype
from tapeflow._core.tensor import constant as constant_tensor, is_tensor
from tapeflow.ops import array as array_ops, elementwise as elementwise_ops, linalg as linalg_ops
from tapeflow.ops import random as random_ops
from tapeflow.keras._objects import deserialize_object, get_object, serialize_object
from tapeflow.keras.engine.naming import to_snake_case


def _dtype(dtype):
    return dtypes.float32 if dtype is None else as_dtype(dtype)


def _shape(shape):
    return tuple(int(d) for d in shape)


class Initializer:
    """Base class: `__call__(shape, dtype=None)` returns a tensor of that shape and dtype."""

    def __call__(self, shape, dtype=None):
        raise NotImplementedError(f"Initializer {self.__class__.__name__} does not implement "
                                  "`__call__()`.")

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def clone(self):
        return self.__class__.from_config(self.get_config())


class Constant(Initializer):
    """Fills with `value`.

    Example:
    >>> keras.initializers.Constant(3.0)(shape=(2, 2))
    """

    def __init__(self, value=0.0):
        self.value = value

    def __call__(self, shape, dtype=None):
        dtype = _dtype(dtype)
        value = self.value
        if isinstance(value, float):  # Keras's ops.cast makes a Python float float32 first
            value = np.float32(value)
        value = np.asarray(value, dtype=dtype.as_numpy_dtype)
        return constant_tensor(np.broadcast_to(value, _shape(shape)).copy(), dtype=dtype)

    def get_config(self):
        value = self.value
        if isinstance(value, np.ndarray) or is_tensor(value):
            value = np.asarray(value).tolist()
        return {"value": value}


class Zeros(Initializer):
    """Fills with zeros."""

    def __call__(self, shape, dtype=None):
        dtype = _dtype(dtype)
        return constant_tensor(np.zeros(_shape(shape), dtype.as_numpy_dtype), dtype=dtype)


class Ones(Initializer):
    """Fills with ones."""

    def __call__(self, shape, dtype=None):
        dtype = _dtype(dtype)
        return constant_tensor(np.ones(_shape(shape), dtype.as_numpy_dtype), dtype=dtype)


class Identity(Initializer):
    """`gain` times the identity matrix (2D shapes only)."""

    def __init__(self, gain=1.0):
        self.gain = gain

    def __call__(self, shape, dtype=None):
        shape = _shape(shape)
        if len(shape) != 2:
            raise ValueError("Identity matrix initializer can only be used for 2D matrices. "
                             f"Received: shape={shape} of rank {len(shape)}.")
        dtype = _dtype(dtype)
        return constant_tensor(self.gain * np.eye(*shape), dtype=dtype)


class RandomInitializer(Initializer):
    """An initializer drawing random numbers; `seed` (an int) makes every call identical."""

    def __init__(self, seed=None):
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise ValueError("`seed` argument should be an instance of `keras.random."
                             f"SeedGenerator()` or an integer. Received: seed={seed}")
        self.seed = seed

    def _draw(self, kind, shape, dtype, **kwargs):
        if self.seed is None:
            return getattr(random_ops, kind)(shape, dtype=dtype, **kwargs)
        stateless = getattr(random_ops, "stateless_" + kind)
        return stateless(shape, seed=[self.seed, 0], dtype=dtype, **kwargs)

    def get_config(self):
        return {"seed": self.seed}


class _MeanStddevInitializer(RandomInitializer):
    """Draws from `tf.random.<_kind>` (or its stateless twin) with `mean` and `stddev`."""

    _kind = None

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean = mean
        self.stddev = stddev
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        return self._draw(self._kind, _shape(shape), _dtype(dtype), mean=self.mean,
                          stddev=self.stddev)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, **super().get_config()}


class RandomNormal(_MeanStddevInitializer):
    """Normal distribution with `mean` and `stddev`.

    Example:
    >>> keras.initializers.RandomNormal(mean=0.0, stddev=1.0)(shape=(2, 2))
    """

    _kind = "normal"


class TruncatedNormal(_MeanStddevInitializer):
    """Normal distribution with `mean` and `stddev`, redrawn beyond two stddevs."""

    _kind = "truncated_normal"


class RandomUniform(RandomInitializer):
    """Uniform distribution over `[minval, maxval)`."""

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        self.minval = minval
        self.maxval = maxval
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        return self._draw("uniform", _shape(shape), _dtype(dtype), minval=self.minval,
                          maxval=self.maxval)

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, **super().get_config()}


def compute_fans(shape, input_axes=None, output_axes=None):
    """(fan_in, fan_out) of a weight shape: dense `(in, out)`, convolution `(..., in, out)`,
    or the products over `input_axes` / `output_axes` when both are given."""
    shape = tuple(shape)
    if input_axes is not None and output_axes is not None:
        return (int(math.prod(shape[a] for a in input_axes)),
                int(math.prod(shape[a] for a in output_axes)))
    if len(shape) < 1:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = math.prod(shape[:-2])
    return shape[-2] * receptive, shape[-1] * receptive


class VarianceScaling(RandomInitializer):
    """Scale-aware draws: variance `scale / n`, n being fan_in, fan_out or their average.

    Args:
        scale: positive scaling factor.
        mode: "fan_in", "fan_out" or "fan_avg".
        distribution: "truncated_normal", "untruncated_normal" or "uniform".
        seed: an int makes every call identical.
        input_axes, output_axes: the axes whose sizes multiply into fan_in / fan_out.
    """

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None,
                 input_axes=None, output_axes=None):
        if scale <= 0.0:
            raise ValueError("Argument `scale` must be positive float. "
                             f"Received: scale={scale}")
        if mode not in {"fan_in", "fan_out", "fan_avg"}:
            raise ValueError("Invalid `mode` argument: expected one of {'fan_in', 'fan_out', "
                             f"'fan_avg'}} but got {mode}")
        distribution = distribution.lower()
        if distribution == "normal":
            distribution = "truncated_normal"
        if distribution not in {"uniform", "truncated_normal", "untruncated_normal"}:
            raise ValueError("Invalid `distribution` argument: expected one of {'uniform', "
                             "'truncated_normal', 'untruncated_normal'} but got "
                             + str(distribution))
        self.scale = scale
        self.mode = mode
        self.distribution = distribution
        self.input_axes = input_axes
        self.output_axes = output_axes
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        shape, dtype = _shape(shape), _dtype(dtype)
        fan_in, fan_out = compute_fans(shape, self.input_axes, self.output_axes)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}
        scale = self.scale / max(1.0, n[self.mode])
        if self.distribution == "truncated_normal":
            stddev = math.sqrt(scale) / 0.87962566103423978
            return self._draw("truncated_normal", shape, dtype, mean=0.0, stddev=stddev)
        if self.distribution == "untruncated_normal":
            return self._draw("normal", shape, dtype, mean=0.0, stddev=math.sqrt(scale))
        limit = math.sqrt(3.0 * scale)
        return self._draw("uniform", shape, dtype, minval=-limit, maxval=limit)

    def get_config(self):
        return {**super().get_config(), "scale": self.scale, "mode": self.mode,
                "distribution": self.distribution, "input_axes": self.input_axes,
                "output_axes": self.output_axes}


def _variance_scaling(name, scale, mode, distribution, doc):
    def __init__(self, seed=None, input_axes=None, output_axes=None):
        VarianceScaling.__init__(self, scale=scale, mode=mode, distribution=distribution,
                                 seed=seed, input_axes=input_axes, output_axes=output_axes)

    def get_config(self):
        return {"seed": self.seed, "input_axes": self.input_axes,
                "output_axes": self.output_axes}

    return type(name, (VarianceScaling, ), {
        "__init__": __init__,
        "get_config": get_config,
        "__doc__": doc,
        "__module__": __name__
    })


GlorotUniform = _variance_scaling(
    "GlorotUniform", 1.0, "fan_avg", "uniform",
    "Uniform over `[-limit, limit]`, `limit = sqrt(6 / (fan_in + fan_out))` (Dense's default "
    "kernel initializer).")
GlorotNormal = _variance_scaling(
    "GlorotNormal", 1.0, "fan_avg", "truncated_normal",
    "Truncated normal with `stddev = sqrt(2 / (fan_in + fan_out))`.")
HeNormal = _variance_scaling(
    "HeNormal", 2.0, "fan_in", "truncated_normal",
    "Truncated normal with `stddev = sqrt(2 / fan_in)`.")
HeUniform = _variance_scaling(
    "HeUniform", 2.0, "fan_in", "uniform",
    "Uniform over `[-limit, limit]`, `limit = sqrt(6 / fan_in)`.")
LecunNormal = _variance_scaling(
    "LecunNormal", 1.0, "fan_in", "truncated_normal",
    "Truncated normal with `stddev = sqrt(1 / fan_in)`.")
LecunUniform = _variance_scaling(
    "LecunUniform", 1.0, "fan_in", "uniform",
    "Uniform over `[-limit, limit]`, `limit = sqrt(3 / fan_in)`.")


class Orthogonal(RandomInitializer):
    """A (semi-)orthogonal matrix times `gain`, from the QR decomposition of a normal draw;
    shapes of rank > 2 are flattened to `(prod(shape[:-1]), shape[-1])`."""

    def __init__(self, gain=1.0, seed=None):
        self.gain = gain
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        shape, dtype = _shape(shape), _dtype(dtype)
        if len(shape) < 2:
            raise ValueError("The tensor to initialize must be at least two-dimensional. "
                             f"Received: shape={shape} of rank {len(shape)}.")
        rows, cols = math.prod(shape[:-1]), shape[-1]
        a = self._draw("normal", (max(rows, cols), min(rows, cols)), dtype)
        q, r = linalg_ops.qr(a)
        q = q * elementwise_ops.sign(linalg_ops.diag_part(r))
        if rows < cols:
            q = array_ops.transpose(q)
        return self.gain * array_ops.reshape(q, shape)

    def get_config(self):
        return {"gain": self.gain, **super().get_config()}


OrthogonalInitializer = Orthogonal

_CLASSES = (Initializer, Constant, Zeros, Ones, Identity, RandomNormal, TruncatedNormal,
            RandomUniform, VarianceScaling, GlorotUniform, GlorotNormal, HeNormal, HeUniform,
            LecunNormal, LecunUniform, Orthogonal)


ALL_OBJECTS_DICT = {cls.__name__: cls for cls in _CLASSES}
ALL_OBJECTS_DICT.update({to_snake_case(cls.__name__): cls for cls in _CLASSES})
ALL_OBJECTS_DICT.update({"uniform": RandomUniform, "normal": RandomNormal,
                         "orthogonal": Orthogonal, "one": Ones, "zero": Zeros,
                         "OrthogonalInitializer": Orthogonal, "IdentityInitializer": Identity})

# Keras also exposes the lowercase functional aliases (keras.initializers.zeros...).
zeros, ones, constant, identity = Zeros, Ones, Constant, Identity
random_normal, random_uniform, truncated_normal = RandomNormal, RandomUniform, TruncatedNormal
variance_scaling, orthogonal = VarianceScaling, Orthogonal
glorot_uniform, glorot_normal, he_normal, he_uniform = (GlorotUniform, GlorotNormal, HeNormal,
                                                        HeUniform)
lecun_normal, lecun_uniform = LecunNormal, LecunUniform


def serialize(initializer):
    return serialize_object(initializer, "keras.initializers")


def deserialize(config, custom_objects=None):
    return deserialize_object(config, ALL_OBJECTS_DICT, custom_objects, "initializer")


def get(identifier):
    """An initializer from a name ('glorot_uniform'), a config dict, a class, an instance or a
    callable `(shape, dtype) -> tensor`."""
    obj = get_object(identifier, ALL_OBJECTS_DICT, deserialize, "initializer",
                     instantiate=False)
    # An initializer class is instantiated; any other callable is used as it is.
    return obj() if isinstance(obj, type) and issubclass(obj, Initializer) else obj
