"""`keras.constraints`: projections applied to a weight after each optimizer update
(`MaxNorm`, `MinMaxNorm`, `NonNeg`, `UnitNorm`), by name or object, with `get` /
`serialize` / `deserialize`. Formulas are Keras 3's."""
from tapeflow._core.tensor import convert_to_tensor
from tapeflow.ops import (creation as creation_ops, elementwise as elementwise_ops,
                          math as math_ops, reduction as reduction_ops)
from tapeflow.keras._objects import deserialize_object, get_object, serialize_object

EPSILON = 1e-7


def _norms(w, axis):
    return elementwise_ops.sqrt(
        reduction_ops.reduce_sum(elementwise_ops.square(w), axis=axis, keepdims=True))


class Constraint:
    """Base class: `__call__(w)` returns the projected weight."""

    def __call__(self, w):
        return w

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class MaxNorm(Constraint):
    """Rescales each slice along `axis` whose L2 norm exceeds `max_value` down to it."""

    def __init__(self, max_value=2, axis=0):
        self.max_value = max_value
        self.axis = axis

    def __call__(self, w):
        w = convert_to_tensor(w)
        norms = _norms(w, self.axis)
        desired = elementwise_ops.clip_by_value(norms, elementwise_ops.cast(0, norms.dtype),
                                                elementwise_ops.cast(self.max_value, norms.dtype))
        return w * (desired / (EPSILON + norms))

    def get_config(self):
        return {"max_value": self.max_value, "axis": self.axis}


class NonNeg(Constraint):
    """Sets negative weights to zero."""

    def __call__(self, w):
        w = convert_to_tensor(w)
        return math_ops.maximum(w, creation_ops.zeros_like(w))


class UnitNorm(Constraint):
    """Rescales each slice along `axis` to unit L2 norm."""

    def __init__(self, axis=0):
        self.axis = axis

    def __call__(self, w):
        w = convert_to_tensor(w)
        return w / (EPSILON + _norms(w, self.axis))

    def get_config(self):
        return {"axis": self.axis}


class MinMaxNorm(Constraint):
    """Moves each slice's L2 norm into `[min_value, max_value]` (at speed `rate`)."""

    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
        self.min_value = min_value
        self.max_value = max_value
        self.rate = rate
        self.axis = axis

    def __call__(self, w):
        w = convert_to_tensor(w)
        norms = _norms(w, self.axis)
        clipped = elementwise_ops.clip_by_value(norms,
                                                elementwise_ops.cast(self.min_value, norms.dtype),
                                                elementwise_ops.cast(self.max_value, norms.dtype))
        desired = self.rate * clipped + (1 - self.rate) * norms
        return w * (desired / (EPSILON + norms))

    def get_config(self):
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate,
                "axis": self.axis}


max_norm, non_neg, unit_norm, min_max_norm = MaxNorm, NonNeg, UnitNorm, MinMaxNorm

ALL_OBJECTS_DICT = {"Constraint": Constraint, "MaxNorm": MaxNorm, "NonNeg": NonNeg,
                    "UnitNorm": UnitNorm, "MinMaxNorm": MinMaxNorm, "constraint": Constraint,
                    "max_norm": MaxNorm, "non_neg": NonNeg, "unit_norm": UnitNorm,
                    "min_max_norm": MinMaxNorm}


def serialize(constraint):
    return serialize_object(constraint, "keras.constraints")


def deserialize(config, custom_objects=None):
    return deserialize_object(config, ALL_OBJECTS_DICT, custom_objects, "constraint")


def get(identifier):
    """A constraint from a name ('max_norm', 'non_neg'), a config dict, a class or a
    callable."""
    return get_object(identifier, ALL_OBJECTS_DICT, deserialize, "constraint")
