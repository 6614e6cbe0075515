"""`keras.metrics.Metric` and the reducing metrics every other one builds on (`Sum`, `Mean`,
`MeanMetricWrapper`).

A metric keeps its state in non-trainable `tf.Variable`s created in `__init__`, so a traced
training step updates them in its graph; `update_state` accumulates, `result` reads, and
`reset_state` zeroes them (each epoch in `fit`).
"""
import numpy as np

from tapeflow._core.dtypes import as_dtype
from tapeflow._core.tensor import convert_to_tensor, is_tensor
from tapeflow.ops import (array as array_ops, elementwise as elementwise_ops, math as math_ops,
                          reduction as reduction_ops)
from tapeflow._core.variable import VariableAggregation
from tapeflow.keras.engine.layer import KerasVariable
from tapeflow.keras import initializers
from tapeflow.keras.engine.naming import auto_name
from tapeflow.keras.losses.loss import squeeze_or_expand_to_same_rank

_AGGREGATIONS = {"sum": VariableAggregation.SUM, "mean": VariableAggregation.MEAN,
                 "only_first_replica": VariableAggregation.ONLY_FIRST_REPLICA}


class Metric:
    """Base class: subclasses create state with `add_variable` and implement `update_state`
    and `result`.

    Args:
        name: the metric's name (shown in `fit` logs).
        dtype: the dtype of its state and result (default float32).

    Example:
    >>> m = keras.metrics.Mean()
    >>> m.update_state([1.0, 3.0])
    >>> float(m.result())
    2.0
    """

    def __init__(self, dtype=None, name=None):
        self.name = name or auto_name(type(self))
        self._dtype = as_dtype(dtype or "float32")
        self._variables = []
        self._metrics = []

    @property
    def dtype(self):
        return self._dtype.name

    def add_variable(self, shape, initializer, dtype=None, aggregation="sum", name=None):
        """A new non-trainable state variable, listed in `variables`."""
        self._check_super_called()
        dtype = as_dtype(dtype or self._dtype)
        value = initializers.get(initializer or "zeros")(tuple(shape), dtype=dtype)
        variable = KerasVariable(value, trainable=False, name=name, dtype=dtype,
                                 path=f"{self.name}/{name}")
        # how tf.distribute aggregates it over workers when results are read (ON_READ in TF)
        variable._aggregation = _AGGREGATIONS.get(aggregation)
        self._variables.append(variable)
        return variable

    def add_weight(self, shape=(), initializer=None, dtype=None, name=None):
        return self.add_variable(shape=shape, initializer=initializer, dtype=dtype, name=name)

    @property
    def variables(self):
        """The state variables, the sub-metrics' included (metrics held as attributes, as
        Keras tracks them), so `reset_state` zeroes a composite metric entirely."""
        variables = list(self._variables)
        for metric in self._sub_metrics():
            variables.extend(metric.variables)
        return variables

    def _sub_metrics(self):
        out = list(self._metrics)
        for key, value in self.__dict__.items():
            for v in (value if isinstance(value, (list, tuple)) else (value,)):
                if isinstance(v, Metric) and v is not self and v not in out:
                    out.append(v)
        return out

    def reset_state(self):
        """Sets every state variable back to zero."""
        for v in self.variables:
            v.assign(np.zeros(tuple(v.shape), v.dtype.as_numpy_dtype))

    def update_state(self, *args, **kwargs):
        raise NotImplementedError

    def result(self):
        raise NotImplementedError

    def __call__(self, *args, **kwargs):
        self._check_super_called()
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def _check_super_called(self):
        if "_variables" not in self.__dict__:
            raise RuntimeError("You forgot to call `super().__init__()` in the `__init__()` "
                               "method. Go add it!")

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"

    __str__ = __repr__


def _cast(x, dtype):
    x = convert_to_tensor(x) if is_tensor(x) else convert_to_tensor(x, dtype=dtype)
    return x if x.dtype is dtype else elementwise_ops.cast(x, dtype)


def reduce_to_samplewise_values(values, sample_weight, reduce_fn, dtype):
    """Per-sample values (reduced over all but the first axis) and matching weights."""
    values = _cast(values, dtype)
    if sample_weight is not None:
        sample_weight = _cast(sample_weight, dtype)
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        weight_ndim, values_ndim = len(sample_weight.shape), len(values.shape)
        if values_ndim > weight_ndim:
            values = reduce_fn(values, axis=list(range(weight_ndim, values_ndim)))
        sample_weight = array_ops.broadcast_to(sample_weight, array_ops.shape(values))
        values = values * sample_weight
        if weight_ndim > 1:
            sample_weight = reduce_fn(sample_weight, axis=list(range(1, weight_ndim)))
    values_ndim = len(values.shape)
    if values_ndim > 1:
        values = reduce_fn(values, axis=list(range(1, values_ndim)))
    return values, sample_weight


class Sum(Metric):
    """The (weighted) sum of the values seen.

    Example:
    >>> m = keras.metrics.Sum()
    >>> m.update_state([1, 3, 5, 7])
    """

    def __init__(self, name="sum", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable(shape=(), initializer="zeros", name="total")

    def update_state(self, values, sample_weight=None):
        values, _ = reduce_to_samplewise_values(values, sample_weight, reduction_ops.reduce_sum,
                                                self._dtype)
        self.total.assign_add(reduction_ops.reduce_sum(values))

    def result(self):
        return array_ops.identity(self.total)


class Mean(Metric):
    """The (weighted) mean of the values seen.

    Example:
    >>> m = keras.metrics.Mean()
    >>> m.update_state([1, 3, 5, 7], sample_weight=[1, 1, 0, 0])
    """

    def __init__(self, name="mean", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable(shape=(), initializer="zeros", name="total")
        self.count = self.add_variable(shape=(), initializer="zeros", name="count")

    def update_state(self, values, sample_weight=None):
        values, sample_weight = reduce_to_samplewise_values(values, sample_weight,
                                                            reduction_ops.reduce_mean, self._dtype)
        self.total.assign_add(reduction_ops.reduce_sum(values))
        if sample_weight is not None:
            num_samples = reduction_ops.reduce_sum(sample_weight)
        elif len(values.shape) >= 1:
            n = values.shape[0]  # static in eager code and in most traces: no shape op
            num_samples = float(n) if n is not None else \
                elementwise_ops.cast(array_ops.shape(values)[0], self._dtype)
        else:
            num_samples = 1.0
        self.count.assign_add(num_samples)

    def result(self):
        return math_ops.divide_no_nan(self.total.value(), self.count.value())


class MeanMetricWrapper(Mean):
    """The mean of `fn(y_true, y_pred, **kwargs)` over the samples seen.

    Example:
    >>> m = keras.metrics.MeanMetricWrapper(keras.losses.mean_squared_error, name="mse")
    """

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        super().__init__(name=name, dtype=dtype)
        self._fn = fn
        self._fn_kwargs = kwargs

    def update_state(self, y_true, y_pred, sample_weight=None):
        values = self._fn(y_true, y_pred, **self._fn_kwargs)
        return super().update_state(values, sample_weight=sample_weight)

    def get_config(self):
        config = super().get_config()
        config["fn"] = getattr(self._fn, "__name__", self._fn)
        config.update(self._fn_kwargs)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if "fn" in config:
            from tapeflow.keras.metrics import get
            config["fn"] = get(config["fn"])
        return cls(**config)
