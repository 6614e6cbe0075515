"""`keras.optimizers.schedules`: learning rates as functions of the optimizer's step.

A schedule is called with the step (the optimizer's `iterations` variable, or any scalar) and
returns a scalar tensor; it is written in tapeflow ops so a traced training step evaluates it
every call. The formulas are Keras 3's, operation by operation.
"""
import math

from tapeflow._core.tensor import constant, convert_to_tensor
from tapeflow.ops import (comparison as comparison_ops, elementwise as elementwise_ops,
                          math as math_ops)
from tapeflow.keras._objects import deserialize_object, serialize_object


class LearningRateSchedule:
    """The base class: subclasses implement `__call__(step)` and `get_config()`."""

    def __call__(self, step):
        raise NotImplementedError(f"Learning rate schedule '{self.__class__.__name__}' must "
                                  "override `__call__(self, step)`.")

    def get_config(self):
        raise NotImplementedError(f"Learning rate schedule '{self.__class__.__name__}' must "
                                  "override `get_config()` in order to be serializable.")

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _check_steps(name, value):
    if value <= 0:
        raise ValueError(f"Argument `{name}` must be > 0. Received: {name}={value}")


def _float(step, dtype):
    return elementwise_ops.cast(step, dtype)


class ExponentialDecay(LearningRateSchedule):
    """`initial_learning_rate * decay_rate ** (step / decay_steps)` (the exponent floored
    when `staircase=True`).

    Example:
    >>> lr = keras.optimizers.schedules.ExponentialDecay(1e-2, decay_steps=10000,
    ...                                                   decay_rate=0.9)
    """

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 name="ExponentialDecay"):
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name
        _check_steps("decay_steps", decay_steps)

    def __call__(self, step):
        initial = convert_to_tensor(self.initial_learning_rate)
        dtype = initial.dtype
        p = _float(step, dtype) / elementwise_ops.cast(self.decay_steps, dtype)
        if self.staircase:
            p = elementwise_ops.floor(p)
        return initial * elementwise_ops.pow(elementwise_ops.cast(self.decay_rate, dtype), p)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "decay_rate": self.decay_rate,
                "staircase": self.staircase, "name": self.name}


class PiecewiseConstantDecay(LearningRateSchedule):
    """`values[i]` while `boundaries[i-1] < step <= boundaries[i]`.

    Example:
    >>> lr = keras.optimizers.schedules.PiecewiseConstantDecay([100, 200], [1.0, 0.5, 0.1])
    """

    def __init__(self, boundaries, values, name="PiecewiseConstant"):
        if len(boundaries) != len(values) - 1:
            raise ValueError(
                "The length of boundaries should be 1 less than the length of values. "
                f"Received: boundaries={boundaries} of length {len(boundaries)}, and "
                f"values={values} of length {len(values)}.")
        self.boundaries = boundaries
        self.values = values
        self.name = name

    def __call__(self, step):
        step = convert_to_tensor(step)
        boundaries = [
            elementwise_ops.cast(convert_to_tensor(b), step.dtype) for b in self.boundaries
        ]
        values = [convert_to_tensor(v) for v in self.values]
        dtype = values[0].dtype
        result = elementwise_ops.cast(step <= boundaries[0], dtype) * values[0]
        result = result + elementwise_ops.cast(step > boundaries[-1], dtype) * values[-1]
        for low, high, value in zip(boundaries[:-1], boundaries[1:], values[1:-1]):
            in_range = comparison_ops.logical_and(step > low, step <= high)
            result = result + elementwise_ops.cast(in_range, dtype) * value
        return result

    def get_config(self):
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class PolynomialDecay(LearningRateSchedule):
    """From `initial_learning_rate` to `end_learning_rate` over `decay_steps` along
    `(1 - step / decay_steps) ** power` (restarting when `cycle=True`).

    Example:
    >>> lr = keras.optimizers.schedules.PolynomialDecay(0.1, 10000, 0.01, power=0.5)
    """

    def __init__(self, initial_learning_rate, decay_steps, end_learning_rate=0.0001,
                 power=1.0, cycle=False, name="PolynomialDecay"):
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.end_learning_rate = end_learning_rate
        self.power = power
        self.cycle = cycle
        self.name = name
        _check_steps("decay_steps", decay_steps)

    def __call__(self, step):
        initial = convert_to_tensor(self.initial_learning_rate)
        dtype = initial.dtype
        end = elementwise_ops.cast(self.end_learning_rate, dtype)
        power = elementwise_ops.cast(self.power, dtype)
        step = _float(step, dtype)
        decay_steps = elementwise_ops.cast(self.decay_steps, dtype)
        if self.cycle:
            multiplier = comparison_ops.where(comparison_ops.equal(step, 0), constant(1.0, dtype),
                                              elementwise_ops.ceil(step / decay_steps))
            decay_steps = decay_steps * multiplier
        else:
            step = math_ops.minimum(step, decay_steps)
        p = step / decay_steps
        return (initial - end) * elementwise_ops.pow(1 - p, power) + end

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "end_learning_rate": self.end_learning_rate,
                "power": self.power, "cycle": self.cycle, "name": self.name}


class InverseTimeDecay(LearningRateSchedule):
    """`initial_learning_rate / (1 + decay_rate * step / decay_steps)`.

    Example:
    >>> lr = keras.optimizers.schedules.InverseTimeDecay(0.1, 1.0, 0.5)
    """

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 name="InverseTimeDecay"):
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name
        _check_steps("decay_steps", decay_steps)

    def __call__(self, step):
        initial = convert_to_tensor(self.initial_learning_rate)
        dtype = initial.dtype
        p = _float(step, dtype) / elementwise_ops.cast(self.decay_steps, dtype)
        if self.staircase:
            p = elementwise_ops.floor(p)
        return initial / (constant(1, dtype) + elementwise_ops.cast(self.decay_rate, dtype) * p)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "decay_rate": self.decay_rate,
                "staircase": self.staircase, "name": self.name}


class CosineDecay(LearningRateSchedule):
    """Cosine decay from `initial_learning_rate` to `alpha * initial_learning_rate` over
    `decay_steps`, after an optional linear warmup to `warmup_target` over `warmup_steps`.

    Example:
    >>> lr = keras.optimizers.schedules.CosineDecay(0.1, decay_steps=1000)
    """

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0, name="CosineDecay",
                 warmup_target=None, warmup_steps=0):
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.alpha = alpha
        self.name = name
        self.warmup_steps = warmup_steps
        self.warmup_target = warmup_target
        _check_steps("decay_steps", decay_steps)

    def _decay(self, step, decay_steps, decay_from, dtype):
        fraction = step / decay_steps
        cosine = 0.5 * (1.0 + elementwise_ops.cos(constant(math.pi, dtype) * fraction))
        return decay_from * ((1 - self.alpha) * cosine + self.alpha)

    def __call__(self, step):
        initial = convert_to_tensor(self.initial_learning_rate)
        dtype = initial.dtype
        decay_steps = elementwise_ops.cast(self.decay_steps, dtype)
        step = _float(step, dtype)
        if self.warmup_target is None:
            return self._decay(math_ops.minimum(step, decay_steps), decay_steps, initial, dtype)
        target = elementwise_ops.cast(self.warmup_target, dtype)
        warmup_steps = elementwise_ops.cast(self.warmup_steps, dtype)
        step = math_ops.minimum(step, decay_steps + warmup_steps)
        warm = (target - initial) * (step / warmup_steps) + initial
        decayed = self._decay(step - warmup_steps, decay_steps, target, dtype)
        # Both branches are cheap scalars: a select keeps this traceable without tf.cond.
        return comparison_ops.where(step < warmup_steps, warm, decayed)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "alpha": self.alpha, "name": self.name,
                "warmup_target": self.warmup_target, "warmup_steps": self.warmup_steps}


class CosineDecayRestarts(LearningRateSchedule):
    """Cosine decay with warm restarts (SGDR): periods of `first_decay_steps`, each `t_mul`
    times longer than the last, restarting at `m_mul` times the previous peak.

    Example:
    >>> lr = keras.optimizers.schedules.CosineDecayRestarts(0.1, first_decay_steps=100)
    """

    def __init__(self, initial_learning_rate, first_decay_steps, t_mul=2.0, m_mul=1.0,
                 alpha=0.0, name="SGDRDecay"):
        self.initial_learning_rate = initial_learning_rate
        self.first_decay_steps = first_decay_steps
        self._t_mul = t_mul
        self._m_mul = m_mul
        self.alpha = alpha
        self.name = name
        _check_steps("first_decay_steps", first_decay_steps)

    def __call__(self, step):
        initial = convert_to_tensor(self.initial_learning_rate)
        dtype = initial.dtype
        first_decay_steps = elementwise_ops.cast(self.first_decay_steps, dtype)
        alpha = elementwise_ops.cast(self.alpha, dtype)
        t_mul = elementwise_ops.cast(self._t_mul, dtype)
        m_mul = elementwise_ops.cast(self._m_mul, dtype)
        fraction = _float(step, dtype) / first_decay_steps
        if self._t_mul == 1.0:
            i_restart = elementwise_ops.floor(fraction)
            fraction = fraction - i_restart
        else:
            i_restart = elementwise_ops.floor(
                elementwise_ops.log(1.0 - fraction * (1.0 - t_mul)) / elementwise_ops.log(t_mul))
            sum_r = (1.0 - elementwise_ops.pow(t_mul, i_restart)) / (1.0 - t_mul)
            fraction = (fraction - sum_r) / elementwise_ops.pow(t_mul, i_restart)
        m_fac = elementwise_ops.pow(m_mul, i_restart)
        cosine = 0.5 * m_fac * (1.0 + elementwise_ops.cos(constant(math.pi, dtype) * fraction))
        return initial * ((1 - alpha) * cosine + alpha)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "first_decay_steps": self.first_decay_steps, "t_mul": self._t_mul,
                "m_mul": self._m_mul, "alpha": self.alpha, "name": self.name}


def serialize(learning_rate_schedule):
    return serialize_object(learning_rate_schedule, "keras.optimizers.schedules")


def deserialize(config, custom_objects=None):
    return deserialize_object(config, _ALL, custom_objects, "decay")


_ALL = {cls.__name__: cls for cls in (ExponentialDecay, PiecewiseConstantDecay,
                                      PolynomialDecay, InverseTimeDecay, CosineDecay,
                                      CosineDecayRestarts)}
