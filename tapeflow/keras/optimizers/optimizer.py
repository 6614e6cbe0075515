"""`keras.optimizers.Optimizer`: the base of every optimizer (Keras 3's BaseOptimizer).

It owns the step counter (`iterations`, an int64 variable), the learning rate (a float32
variable, a `LearningRateSchedule` of the step, or a callable), the slot variables each
optimizer creates in `build()`, gradient clipping and weight decay. `apply_gradients` filters
missing gradients, clips, then runs one update for all variables: the built-in optimizers run
their fused op from `tapeflow.ops.training*` (one dispatch per step); a user subclass that
overrides `update_step(gradient, variable, learning_rate)` gets the per-variable loop Keras
runs, with the same weight decay and clipping around it.
"""
import re
import warnings

import numpy as np

from tapeflow._core import dtypes
from tapeflow._core.dtypes import as_dtype
from tapeflow._core.shape import TensorShape
from tapeflow._core.tensor import convert_to_tensor, is_tensor, Tensor
from tapeflow.autodiff.tape import GradientTape
from tapeflow.ops import (comparison as comparison_ops, elementwise as elementwise_ops, joining as
                          joining_ops, math as math_ops, reduction as reduction_ops)
from tapeflow import distribute_lib
from tapeflow.ops.clip import clip_by_norm  # (TF's, which Keras's TensorFlow backend calls)
from tapeflow._core.variable import Variable
from tapeflow.keras.engine.layer import KerasVariable
from tapeflow.keras.engine.naming import auto_name
from tapeflow.keras.optimizers import schedules

_LEARNING_RATE_SCHEDULE = schedules.LearningRateSchedule


class Optimizer:
    """Abstract optimizer base class.

    Subclasses create their slot variables in `build(var_list)` (with
    `add_variable_from_reference`) and implement `update_step(gradient, variable,
    learning_rate)` with `assign`, `assign_add` and `assign_sub`.

    Args:
        learning_rate: a float, a `keras.optimizers.schedules.LearningRateSchedule`, or a
            callable taking no arguments and returning the learning rate.
        weight_decay: if set, decoupled weight decay `var -= var * weight_decay * lr`.
        clipnorm: clip each gradient to this L2 norm.
        clipvalue: clip each gradient elementwise to `[-clipvalue, clipvalue]`.
        global_clipnorm: clip all gradients together to this global L2 norm.
        use_ema: keep an exponential moving average of the model's weights.
        ema_momentum: that average's momentum.
        ema_overwrite_frequency: overwrite the weights with their average every this many
            steps.
        loss_scale_factor: gradients are divided by this factor before being applied.
        name: the optimizer's name (default: the class name in snake case, made unique).

    Example:
    >>> opt = keras.optimizers.SGD(learning_rate=0.1)
    >>> var = tf.Variable(1.0)
    >>> opt.apply_gradients([(tf.constant(1.0), var)])
    """

    def __init__(self, learning_rate, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name=None, **kwargs):
        if kwargs.pop("decay", None) is not None:
            warnings.warn("Argument `decay` is no longer supported and will be ignored.")
        if kwargs:
            raise ValueError(f"Argument(s) not recognized: {kwargs}")
        if gradient_accumulation_steps:
            raise NotImplementedError("`gradient_accumulation_steps` is not supported by "
                                      "tapeflow's optimizers yet.")
        if use_ema and (ema_momentum > 1 or ema_momentum < 0):
            raise ValueError("`ema_momentum` must be in the range [0, 1]. "
                             f"Received: ema_momentum={ema_momentum}")
        if sum(a is not None for a in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError("Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can "
                             f"be set. Received: clipnorm={clipnorm}, clipvalue={clipvalue}, "
                             f"global_clipnorm={global_clipnorm}")
        self.name = name if name is not None else auto_name(type(self))
        self.weight_decay = weight_decay
        self.clipnorm = clipnorm
        self.clipvalue = clipvalue
        self.global_clipnorm = global_clipnorm
        self.use_ema = use_ema
        self.ema_momentum = ema_momentum
        self.ema_overwrite_frequency = ema_overwrite_frequency
        self.loss_scale_factor = loss_scale_factor
        self.gradient_accumulation_steps = gradient_accumulation_steps
        self.built = False
        self._variables = []
        self._trainable_variables = []
        self._trainable_variables_indices = {}
        self._exclude_ids = set()
        self._exclude_pattern = None
        self._decay_cache = {}
        self._index_cache = {}
        self._iterations = self._new_variable(np.int64(0), "iteration")
        if isinstance(learning_rate, _LEARNING_RATE_SCHEDULE) or callable(learning_rate):
            self._learning_rate = learning_rate
        else:
            if not isinstance(learning_rate, float):
                # Keras accepts only floats; ints and NumPy scalars are common in courses.
                if isinstance(learning_rate, (int, np.number)) and \
                        not isinstance(learning_rate, bool):
                    learning_rate = float(learning_rate)
                else:
                    raise ValueError(
                        "Argument `learning_rate` should be float, or an instance of "
                        "LearningRateSchedule, or a callable (that takes in the current "
                        "iteration value and returns the corresponding learning rate value). "
                        f"Received instead: learning_rate={learning_rate}")
            self._learning_rate = self._new_variable(np.float32(learning_rate), "learning_rate")

    def _track(self, variable):
        self._variables.append(variable)
        return variable

    def _new_variable(self, value, name, dtype=None):
        """A tracked, non-trainable variable with Keras's path (`adam/iteration`)."""
        return self._track(KerasVariable(value, trainable=False, name=name, dtype=dtype,
                                         path=f"{self.name}/{name}"))

    # -- state ---------------------------------------------------------------------------------
    @property
    def iterations(self):
        return self._iterations

    @iterations.setter
    def iterations(self, value):
        self._iterations.assign(value)

    @property
    def variables(self):
        return self._variables[:]

    @property
    def learning_rate(self):
        return self._get_current_learning_rate()

    @learning_rate.setter
    def learning_rate(self, learning_rate):
        if isinstance(learning_rate, _LEARNING_RATE_SCHEDULE) or callable(learning_rate):
            if isinstance(self._learning_rate, Variable):
                self._variables = [v for v in self._variables if v is not self._learning_rate]
            self._learning_rate = learning_rate
            return
        if isinstance(self._learning_rate, _LEARNING_RATE_SCHEDULE):
            raise TypeError(
                "This optimizer was created with a `LearningRateSchedule` object as its "
                "`learning_rate` constructor argument, hence its learning rate is not "
                "settable. If you need the learning rate to be settable, you should "
                "instantiate the optimizer with a float `learning_rate` argument.")
        if not isinstance(self._learning_rate, Variable):
            self._learning_rate = self._new_variable(np.float32(0.0), "learning_rate")
        self._learning_rate.assign(elementwise_ops.cast(learning_rate, dtypes.float32)
                                   if is_tensor(learning_rate)
                                   else np.float32(learning_rate))

    def _get_current_learning_rate(self):
        lr = self._learning_rate
        if isinstance(lr, Variable):
            return lr
        if isinstance(lr, _LEARNING_RATE_SCHEDULE):
            return lr(self._iterations)
        return lr()

    def _learning_rate_tensor(self):
        lr = self._learning_rate
        if isinstance(lr, Variable):
            return lr.value()
        return convert_to_tensor(self._get_current_learning_rate())

    # -- building ------------------------------------------------------------------------------
    def build(self, variables):
        """Records the variables this optimizer updates; subclasses create slots here."""
        if self.use_ema:
            self._model_variables_moving_average = self.add_optimizer_variables(
                variables, "average")
        for i, variable in enumerate(variables):
            self._trainable_variables_indices[id(variable)] = i
        self._trainable_variables = list(variables)
        self.built = True

    def _get_variable_index(self, variable):
        return self._trainable_variables_indices[id(variable)]

    def _indices_of(self, variables):
        """The build-order index of each variable (cached per variable list)."""
        key = tuple(map(id, variables))
        idx = self._index_cache.get(key)
        if idx is None:
            known = self._trainable_variables_indices
            idx = self._index_cache[key] = [known[k] for k in key]
        return idx

    @staticmethod
    def _as_lr(learning_rate):
        return learning_rate if type(learning_rate) is Tensor else \
            convert_to_tensor(learning_rate)

    def add_variable(self, shape, initializer="zeros", dtype=None, aggregation="none",
                     layout=None, name=None):
        """A new (non-trainable) optimizer variable, tracked in `variables`."""
        dtype = as_dtype(dtype or "float32")
        shape = tuple(TensorShape(shape).as_list())
        if isinstance(initializer, str) and initializer == "zeros":
            value = np.zeros(shape, dtype.as_numpy_dtype)
        else:
            from tapeflow.keras import initializers
            value = initializers.get(initializer)(shape, dtype=dtype)
        return self._new_variable(value, name, dtype)

    def add_variable_from_reference(self, reference_variable, name=None, initializer="zeros"):
        """A slot variable shaped like `reference_variable`, named `{variable}_{name}`."""
        name = name or "var"
        path = getattr(reference_variable, "path", None)
        if path is not None:
            name = f"{path.replace('/', '_')}_{name}"
        else:
            ref = str(reference_variable.name).replace("/", "_").replace(":", "_")
            name = f"{ref}_{name}"
        return self.add_variable(shape=reference_variable.shape, initializer=initializer,
                                 dtype=reference_variable.dtype, name=name)

    def add_optimizer_variables(self, trainable_variables, name, initializer="zeros"):
        """One slot per variable for each name (interleaved per variable, as Keras does, so
        `variables` lists them in Keras's order); a tuple of lists for a list of names."""
        names = [name] if isinstance(name, str) else list(name)
        inits = initializer if isinstance(initializer, (list, tuple)) else \
            [initializer] * len(names)
        groups = tuple([] for _ in names)
        for variable in trainable_variables:
            for group, slot_name, init in zip(groups, names, inits):
                group.append(self.add_variable_from_reference(variable, slot_name, init))
        return groups[0] if isinstance(name, str) else groups

    # -- updating ------------------------------------------------------------------------------
    def assign(self, variable, value):
        variable.assign(value)

    def assign_add(self, variable, value):
        variable.assign_add(value)

    def assign_sub(self, variable, value):
        variable.assign_sub(value)

    def update_step(self, gradient, variable, learning_rate):
        raise NotImplementedError

    def apply_gradients(self, grads_and_vars):
        """Applies `(gradient, variable)` pairs; returns `iterations`."""
        grads, trainable_variables = zip(*grads_and_vars)
        self.apply(grads, trainable_variables)
        return self._iterations

    def apply(self, grads, trainable_variables=None):
        """Updates the variables (default: those the optimizer was built with) with `grads`."""
        if len(grads) == 0:
            return
        if trainable_variables is None:
            if not self.built:
                raise ValueError(
                    "When passing `grads` without `variables`, the optimizer must already be "
                    "built on a list of variables. Call `optimizer.build(trainable_variables)` "
                    "first. ")
            if len(grads) != len(self._trainable_variables_indices):
                raise ValueError(
                    "When passing `grads` as a list of gradient tensors, the gradients must "
                    "match `optimizer.variables` one-to-on. Received a list of "
                    f"{len(grads)} gradients, but the optimizer is tracking "
                    f"{len(self._trainable_variables)} trainable variables.")
            trainable_variables = self._trainable_variables
        else:
            trainable_variables = list(trainable_variables)
            if not self.built:
                self.build(trainable_variables)
                self.built = True
            known = self._trainable_variables_indices
            for v in trainable_variables:
                if id(v) not in known:
                    raise ValueError(
                        f"Unknown variable: {v}. This optimizer can only be called for the "
                        "variables it was originally built with. When working with a new "
                        "set of variables, you should recreate a new optimizer instance.")
        grads, trainable_variables = self._filter_empty_gradients(grads, trainable_variables)
        scale = self.loss_scale_factor
        if scale is not None:
            grads = [g / scale for g in grads]
        self._backend_apply_gradients(grads, trainable_variables)
        for variable in trainable_variables:
            if getattr(variable, "constraint", None) is not None:
                variable.assign(variable.constraint(variable))

    def _filter_empty_gradients(self, grads, variables):
        if all(g is not None for g in grads):
            return [g if type(g) is Tensor else convert_to_tensor(g) for g in grads], \
                variables
        kept_grads, kept_vars, missing = [], [], []
        for g, v in zip(grads, variables):
            if g is None:
                missing.append(getattr(v, "path", None) or v.name)
            else:
                kept_grads.append(g if type(g) is Tensor else convert_to_tensor(g))
                kept_vars.append(v)
        if not kept_grads:
            raise ValueError("No gradients provided for any variable.")
        warnings.warn(f"Gradients do not exist for variables {missing} when minimizing the "
                      "loss. If using `model.compile()`, did you forget to provide a `loss` "
                      "argument?")
        return kept_grads, kept_vars

    def _backend_apply_gradients(self, grads, trainable_variables):
        grads = self._clip_gradients(grads)
        # Under a tf.distribute strategy each replica's (clipped) gradients are summed over
        # the replicas, as Keras's TF optimizer does in `_all_reduce_sum_gradients`.
        grads = distribute_lib.all_reduce_sum_gradients(grads)
        if self.use_ema:
            ema_step = self._iterations.value()
        if type(self).update_step is FusedOptimizer.update_step:
            # One op updates all variables, applies weight decay and counts the step.
            self._fused_update(grads, trainable_variables, self._learning_rate_tensor(),
                               self._decay_for(trainable_variables))
        else:
            self._apply_weight_decay(trainable_variables)
            self._backend_update_step(grads, trainable_variables, self.learning_rate)
            self._iterations.assign_add(np.int64(1))
        if self.use_ema:
            self._update_model_variables_moving_average(self._trainable_variables, ema_step)

    def _backend_update_step(self, grads, trainable_variables, learning_rate):
        for grad, var in zip(grads, trainable_variables):
            self.update_step(grad, var, learning_rate)

    def scale_loss(self, loss):
        """The loss times `loss_scale_factor` (if set), before gradients are taken."""
        return loss if self.loss_scale_factor is None else loss * self.loss_scale_factor

    def minimize(self, loss, var_list, tape=None):
        """Computes the gradients of `loss` (a callable, or a tensor recorded on `tape`) with
        respect to `var_list` (a list or a callable returning one) and applies them."""
        grads_and_vars = self.compute_gradients(loss, var_list, tape)
        self.apply_gradients(grads_and_vars)
        return self._iterations

    def compute_gradients(self, loss, var_list, tape=None):
        if not callable(loss) and tape is None:
            raise ValueError("`tape` is required when a `Tensor` loss is passed. Received: "
                             f"loss={loss}, tape={tape}.")
        if tape is None:
            tape = GradientTape()
        if callable(loss):
            with tape:
                if not callable(var_list):
                    tape.watch(var_list)
                loss = loss()
                if callable(var_list):
                    var_list = var_list()
        var_list = list(var_list) if not callable(var_list) else list(var_list())
        grads = tape.gradient(loss, var_list)
        return list(zip(grads, var_list))

    # -- weight decay ------------------------------------------------------------------------
    def exclude_from_weight_decay(self, var_list=None, var_names=None):
        """Exclude variables (or variables whose name contains one of `var_names`) from
        weight decay; call it before the optimizer is built."""
        if self.built:
            raise ValueError("`exclude_from_weight_decay()` can only be configured before "
                             "the optimizer is built.")
        self._exclude_ids = set(id(v) for v in var_list or ())
        self._exclude_pattern = re.compile("|".join(set(var_names))) if var_names else None
        self._decay_cache = {}

    def _use_weight_decay(self, variable):
        if id(variable) in self._exclude_ids:
            return False
        pattern = self._exclude_pattern
        return pattern is None or re.search(pattern, variable.name) is None

    def _decay_for(self, variables):
        """Per variable, the weight decay to apply (None for none), cached per variable list."""
        if self.weight_decay is None:
            return (None,) * len(variables)
        key = tuple(id(v) for v in variables)
        decay = self._decay_cache.get(key)
        if decay is None:
            wd = float(self.weight_decay)
            decay = self._decay_cache[key] = tuple(
                wd if self._use_weight_decay(v) else None for v in variables)
        return decay

    def _apply_weight_decay(self, variables):
        if self.weight_decay is None:
            return
        for variable in variables:
            if self._use_weight_decay(variable):
                lr = elementwise_ops.cast(self.learning_rate, variable.dtype)
                wd = elementwise_ops.cast(self.weight_decay, variable.dtype)
                variable.assign_sub(variable * wd * lr)

    # -- clipping ----------------------------------------------------------------------------
    def _clip_gradients(self, grads):
        if self.clipnorm and self.clipnorm > 0:
            return [clip_by_norm(g, self.clipnorm) for g in grads]
        if self.global_clipnorm and self.global_clipnorm > 0:
            return clip_by_global_norm(grads, self.global_clipnorm)
        if self.clipvalue and self.clipvalue > 0:
            v = self.clipvalue
            return [elementwise_ops.clip_by_value(g, -v, v) for g in grads]
        return grads

    # -- moving average of the weights ---------------------------------------------------------
    def _update_model_variables_moving_average(self, trainable_variables, step):
        for var, average in zip(trainable_variables, self._model_variables_moving_average):
            not_first_step = elementwise_ops.cast(comparison_ops.not_equal(step, 0), var.dtype)
            momentum = not_first_step * self.ema_momentum  # a Python float, as in Keras
            average.assign(momentum * average + (1 - momentum) * var)
        if self.ema_overwrite_frequency:
            overwrite = comparison_ops.equal((step + 1) % self.ema_overwrite_frequency, 0)
            for var, average in zip(trainable_variables, self._model_variables_moving_average):
                var.assign(comparison_ops.where(overwrite, average.value(), var.value()))

    def finalize_variable_values(self, var_list):
        """With `use_ema`, sets the model's variables to their moving averages."""
        if self.use_ema:
            for var, average in zip(var_list, self._model_variables_moving_average):
                var.assign(average)

    # -- config ------------------------------------------------------------------------------
    def get_config(self):
        lr = self._learning_rate
        if isinstance(lr, _LEARNING_RATE_SCHEDULE):
            learning_rate = schedules.serialize(lr)
        elif isinstance(lr, Variable):
            learning_rate = float(lr.numpy())
        else:
            learning_rate = lr
        return {"name": self.name, "learning_rate": learning_rate,
                "weight_decay": self.weight_decay, "clipnorm": self.clipnorm,
                "global_clipnorm": self.global_clipnorm, "clipvalue": self.clipvalue,
                "use_ema": self.use_ema, "ema_momentum": self.ema_momentum,
                "ema_overwrite_frequency": self.ema_overwrite_frequency,
                "loss_scale_factor": self.loss_scale_factor,
                "gradient_accumulation_steps": self.gradient_accumulation_steps}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = schedules.deserialize(config["learning_rate"],
                                                            custom_objects=custom_objects)
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__module__}.{type(self).__name__} object at {hex(id(self))}>"


class FusedOptimizer(Optimizer):
    """The base of the built-in optimizers whose whole step is one op from
    `tapeflow.ops.training` or `training_adaptive`: they implement `_fused_update(grads,
    variables, lr, decay, count)`, which `apply_gradients` runs for all variables at once as
    long as a subclass does not override `update_step` (one that does gets the per-variable
    loop)."""

    def update_step(self, gradient, variable, learning_rate):
        """Updates one variable (and its slot variables) from its gradient; the step is not
        counted."""
        self._fused_update([gradient], [variable], self._as_lr(learning_rate), (None,),
                           count=False)


def global_norm(value_list):
    """The L2 norm of all tensors together."""
    squared = [
        reduction_ops.reduce_sum(elementwise_ops.square(v)) for v in value_list if v is not None
    ]
    return elementwise_ops.sqrt(reduction_ops.reduce_sum(joining_ops.stack(squared)))


def clip_by_global_norm(value_list, clip_norm):
    """Keras's global-norm clipping: scale all tensors by `clip_norm / max(norm, clip_norm)`
    (NaN when the norm is not finite)."""
    use_norm = global_norm(value_list)
    scale = clip_norm * math_ops.minimum(1.0 / use_norm, 1.0 / clip_norm)
    scale = scale + (use_norm - use_norm)
    return [v * scale if v is not None else v for v in value_list]
