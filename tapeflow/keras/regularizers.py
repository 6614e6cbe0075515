"""`keras.regularizers`: penalties a layer adds to the loss for its weights (`L1`, `L2`,
`L1L2`, `OrthogonalRegularizer`), by name ('l1', 'l2', 'l1_l2') or object, with `get` /
`serialize` / `deserialize`. Formulas are Keras 3's."""
import math

import numpy as np

from tapeflow._core.tensor import constant, convert_to_tensor
from tapeflow.ops import (creation as creation_ops, elementwise as elementwise_ops,
                          linalg as linalg_ops, math as math_ops, reduction as reduction_ops)
from tapeflow.keras._objects import deserialize_object, get_object, serialize_object


def validate_float_arg(value, name):
    if not isinstance(value, (float, int)) or math.isinf(value) or math.isnan(value) or \
            value < 0:
        raise ValueError(f"Invalid value for argument {name}: expected a non-negative float."
                         f"Received: {name}={value}")
    return float(value)


class Regularizer:
    """Base class: `__call__(weights)` returns a scalar penalty."""

    def __call__(self, x):
        return 0.0

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def get_config(self):
        raise NotImplementedError(f"{self} does not implement get_config()")


class L1L2(Regularizer):
    """`l1 * sum(abs(x)) + l2 * sum(square(x))`.

    Example:
    >>> keras.layers.Dense(3, kernel_regularizer=keras.regularizers.L1L2(l1=0.01, l2=0.01))
    """

    def __init__(self, l1=0.0, l2=0.0):
        self.l1 = validate_float_arg(0.0 if l1 is None else l1, name="l1")
        self.l2 = validate_float_arg(0.0 if l2 is None else l2, name="l2")

    def __call__(self, x):
        x = convert_to_tensor(x)
        regularization = constant(0.0, dtype=x.dtype)
        if self.l1 != 0.0:
            regularization += elementwise_ops.cast(self.l1, x.dtype) * reduction_ops.reduce_sum(
                elementwise_ops.abs(x))
        if self.l2 != 0.0:
            regularization += elementwise_ops.cast(self.l2, x.dtype) * reduction_ops.reduce_sum(
                elementwise_ops.square(x))
        return regularization

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


class L1(Regularizer):
    """`l1 * sum(abs(x))`."""

    def __init__(self, l1=0.01):
        # Keras keeps this factor as a float32 tensor (its config shows the rounded value).
        self.l1 = float(np.float32(validate_float_arg(0.01 if l1 is None else l1, name="l1")))

    def __call__(self, x):
        x = convert_to_tensor(x)
        return elementwise_ops.cast(self.l1, x.dtype) * reduction_ops.reduce_sum(
            elementwise_ops.abs(x))

    def get_config(self):
        return {"l1": self.l1}


class L2(Regularizer):
    """`l2 * sum(square(x))`."""

    def __init__(self, l2=0.01):
        self.l2 = validate_float_arg(0.01 if l2 is None else l2, name="l2")

    def __call__(self, x):
        x = convert_to_tensor(x)
        return elementwise_ops.cast(self.l2, x.dtype) * reduction_ops.reduce_sum(
            elementwise_ops.square(x))

    def get_config(self):
        return {"l2": self.l2}


class OrthogonalRegularizer(Regularizer):
    """Encourages the rows (or columns) of a 2D weight to be orthogonal: `factor` times the
    mean absolute cosine similarity between distinct rows (columns)."""

    def __init__(self, factor=0.01, mode="rows"):
        self.factor = float(np.float32(validate_float_arg(factor, name="factor")))
        if mode not in {"rows", "columns"}:
            raise ValueError('Invalid value for argument `mode`. Expected one of {"rows", '
                             f'"columns"}}. Received: mode={mode}')
        self.mode = mode

    def __call__(self, inputs):
        inputs = convert_to_tensor(inputs)
        if len(inputs.shape) != 2:
            raise ValueError("Inputs to OrthogonalRegularizer must have rank 2. Received: "
                             f"inputs.shape={inputs.shape}")
        axis = 1 if self.mode == "rows" else 0
        inv_norm = elementwise_ops.rsqrt(
            reduction_ops.reduce_sum(elementwise_ops.square(inputs), axis=axis, keepdims=True))
        inputs = inputs * math_ops.minimum(inv_norm, 1.0 / 1e-7)
        if self.mode == "rows":
            product = linalg_ops.matmul(inputs, inputs, transpose_b=True)
            size = inputs.shape[0]
        else:
            product = linalg_ops.matmul(inputs, inputs, transpose_a=True)
            size = inputs.shape[1]
        off_diagonal = product * (1.0 - creation_ops.eye(size, dtype=inputs.dtype))
        num_pairs = size * (size - 1.0) / 2.0
        return elementwise_ops.cast(self.factor, inputs.dtype) * 0.5 * \
            reduction_ops.reduce_sum(elementwise_ops.abs(off_diagonal)) / num_pairs

    def get_config(self):
        return {"factor": self.factor, "mode": self.mode}


l1, l2, l1_l2, orthogonal_regularizer = L1, L2, L1L2, OrthogonalRegularizer

ALL_OBJECTS_DICT = {"Regularizer": Regularizer, "L1": L1, "L2": L2, "L1L2": L1L2,
                    "OrthogonalRegularizer": OrthogonalRegularizer, "regularizer": Regularizer,
                    "l1": L1, "l2": L2, "l1l2": L1L2, "l1_l2": L1L2,
                    "orthogonal_regularizer": OrthogonalRegularizer}


def serialize(regularizer):
    return serialize_object(regularizer, "keras.regularizers")


def deserialize(config, custom_objects=None):
    return deserialize_object(config, ALL_OBJECTS_DICT, custom_objects, "regularizer")


def get(identifier):
    """A regularizer from a name ('l1', 'l2', 'l1_l2'), a config dict, a class or a callable."""
    return get_object(identifier, ALL_OBJECTS_DICT, deserialize, "regularizer")
