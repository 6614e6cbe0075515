"""`keras.optimizers.LossScaleOptimizer`: dynamic loss scaling around another optimizer, as
Keras 3 does it for float16 training.

`scale_loss` multiplies the loss by the current scale before the gradients are taken (the
trainer calls it); `apply` divides the gradients by it and runs the inner optimizer only when
every gradient is finite. A step with an infinite or NaN gradient is skipped and halves the
scale; `dynamic_growth_steps` finite steps in a row double it. Inside a tf.function the skip
is a `tf.cond` whose branches run only when taken.
"""
import numpy as np

from tapeflow._core import dtypes
from tapeflow._core.tensor import convert_to_tensor
from tapeflow.function.control_flow import cond
from tapeflow.keras._objects import serialize_object
from tapeflow.keras.initializers import Constant
from tapeflow.keras.optimizers.optimizer import Optimizer
from tapeflow.ops import training
from tapeflow.ops.comparison import equal, where
from tapeflow.ops.elementwise import cast

# The base optimizer's arguments: accepted only at their defaults (they belong to the inner
# optimizer).
_BASE_DEFAULTS = {"weight_decay": None, "clipnorm": None, "global_clipnorm": None,
                  "clipvalue": None, "use_ema": False, "ema_momentum": 0.99,
                  "ema_overwrite_frequency": None, "loss_scale_factor": None,
                  "gradient_accumulation_steps": None}


class LossScaleOptimizer(Optimizer):
    """Wraps `inner_optimizer` with dynamic loss scaling, to keep float16 gradients from
    underflowing.

    Args:
        inner_optimizer: the `keras.optimizers.Optimizer` that updates the variables.
        initial_scale: the first loss scale; better too high than too low, since a high
            scale is lowered much faster than a low one is raised. Defaults to 2 ** 15.
        dynamic_growth_steps: double the scale after this many steps with finite gradients.
            Defaults to 2000.
        name: the optimizer's name.

    Example:
    >>> opt = keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD(0.1))
    >>> model.compile(optimizer=opt, loss="mse")
    """

    def __init__(self, inner_optimizer, initial_scale=2.0 ** 15, dynamic_growth_steps=2000,
                 name=None, **kwargs):
        if not kwargs.pop("dynamic", True):
            raise ValueError("LossScaleOptimizer no longer supports `dynamic=False`. Instead, "
                             "simply set `loss_scale_factor` directly on the "
                             "`inner_optimizer`.")
        for arg, default in _BASE_DEFAULTS.items():
            if arg not in kwargs:
                continue
            value = kwargs.pop(arg)
            if (default is None and value is not None) or value != default:
                raise ValueError(f"LossScaleOptimizer does not support `{arg}`. Instead, set "
                                 f"`{arg}` on the `inner_optimizer`.")
        if kwargs:
            raise ValueError("LossScaleOptimizer does not support arguments: "
                             f"`{'`, `'.join(kwargs.keys())}`.")
        super().__init__(learning_rate=0.0, name=name)
        self.inner_optimizer = inner_optimizer
        self.initial_scale = initial_scale
        self.dynamic_growth_steps = dynamic_growth_steps
        self.inner_optimizer.loss_scale_factor = None
        # Keras makes these two in build(); made here (in the same place of `variables`),
        # `scale_loss` reads the variable even in a train step traced before the first
        # `apply` builds the optimizer, instead of baking `initial_scale` into the trace.
        self.step_counter = self.add_variable((), dtype="int64", name="step_counter")
        self.dynamic_scale = self.add_variable((), initializer=Constant(self.initial_scale),
                                               dtype="float32", name="dynamic_scale")

    def build(self, var_list):
        if self.built:
            return
        self.inner_optimizer.build(var_list)
        super().build(var_list)

    @property
    def variables(self):
        return self._variables + self.inner_optimizer.variables

    def apply(self, grads, trainable_variables=None):
        if not self.built:
            if trainable_variables is None:
                raise ValueError(
                    "When passing `grads` without `variables`, the optimizer must already be "
                    "built on a list of variables. Call `optimizer.build(trainable_variables)` "
                    "first. ")
            self.build(list(trainable_variables))
        grads = [g if g is None else convert_to_tensor(g) for g in grads]
        present = [g for g in grads if g is not None]
        if not present:  # the inner optimizer raises its "No gradients provided" error
            self._apply_finite(grads, trainable_variables)
            return
        cond(training.all_finite(present),
             lambda: self._apply_finite(grads, trainable_variables), self._skip_step)

    def _apply_finite(self, grads, trainable_variables):
        scale = self.dynamic_scale.value()
        self.inner_optimizer.apply([g if g is None else _unscale(g, scale) for g in grads],
                                   trainable_variables=trainable_variables)
        grow = equal(self.step_counter, np.int64(self.dynamic_growth_steps - 1))
        self.step_counter.assign(where(grow, np.int64(0), self.step_counter + np.int64(1)))
        self.dynamic_scale.assign(where(grow, self.dynamic_scale * 2.0, self.dynamic_scale))
        return ()

    def _skip_step(self):
        self.step_counter.assign(np.int64(0))
        self.dynamic_scale.assign(self.dynamic_scale * 0.5)
        return ()

    def check_finite(self, grads):
        """A boolean scalar: whether every gradient (None aside) is finite."""
        present = [convert_to_tensor(g) for g in grads if g is not None]
        return training.all_finite(present) if present else convert_to_tensor(True)

    def scale_loss(self, loss):
        loss = convert_to_tensor(loss)
        scale = self.dynamic_scale.value()
        return loss * (scale if loss.dtype == scale.dtype else cast(scale, loss.dtype))

    @property
    def learning_rate(self):
        return self.inner_optimizer.learning_rate

    @learning_rate.setter
    def learning_rate(self, learning_rate):
        self.inner_optimizer.learning_rate = learning_rate

    @property
    def iterations(self):
        return self.inner_optimizer.iterations

    def finalize_variable_values(self, var_list):
        self.inner_optimizer.finalize_variable_values(var_list)

    def get_config(self):
        return {"name": self.name,
                "inner_optimizer": serialize_object(self.inner_optimizer, "keras.optimizers"),
                "initial_scale": self.initial_scale,
                "dynamic_growth_steps": self.dynamic_growth_steps}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from tapeflow.keras.optimizers import deserialize
        config = dict(config)
        inner = deserialize(config.pop("inner_optimizer"), custom_objects=custom_objects)
        return cls(inner, **config)


def _unscale(grad, scale):
    """`grad / scale` with Keras's dtype promotion: float64 stays float64, float16 and
    bfloat16 gradients come out float32 (the scale's dtype)."""
    if grad.dtype == scale.dtype:
        return grad / scale
    if grad.dtype == dtypes.float64:
        return grad / cast(scale, dtypes.float64)
    return cast(grad, scale.dtype) / scale
