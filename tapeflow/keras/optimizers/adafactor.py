"""`keras.optimizers.Adafactor`: Adam-like steps with a factored second moment (Shazeer &
Stern, 2018)."""
import numpy as np

from tapeflow._core.variable import Variable
from tapeflow.keras.optimizers.optimizer import FusedOptimizer
from tapeflow.ops import training_adaptive


class Adafactor(FusedOptimizer):
    """Adafactor: for a variable of rank 2 or more, the second moment of its gradient is kept
    as row and column averages over its last two axes (memory of one row plus one column);
    smaller variables keep a full one. Each step is clipped to an RMS of `clip_threshold` and
    scaled by the variable's own RMS (at least `epsilon_2`).

    Args:
        learning_rate: a float, a schedule, or a callable. Defaults to 0.001.
        beta_2_decay: the second-moment decay is `1 - t ** beta_2_decay`. Defaults to -0.8.
        epsilon_1: added to the squared gradients. Defaults to 1e-30.
        epsilon_2: the least variable RMS a step is scaled by. Defaults to 1e-3.
        clip_threshold: the largest RMS of a step before scaling. Defaults to 1.0.
        relative_step: with a constant learning rate, use `min(learning_rate, 1 / sqrt(t))`.
            Defaults to True.
        **kwargs: the base optimizer's arguments (clipnorm, weight_decay, name, ...).

    Example:
    >>> opt = keras.optimizers.Adafactor(learning_rate=0.01)
    """

    def __init__(self, learning_rate=0.001, beta_2_decay=-0.8, epsilon_1=1e-30, epsilon_2=1e-3,
                 clip_threshold=1.0, relative_step=True, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta_2_decay = beta_2_decay
        self.epsilon_1 = epsilon_1
        self.epsilon_2 = epsilon_2
        self.clip_threshold = clip_threshold
        self.relative_step = relative_step

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._r, self._c, self._v = [], [], []
        for var in var_list:
            shape = tuple(var.shape)
            if len(shape) < 2:
                # Keras keeps an unused int32 scalar in each place: kept too, so the
                # optimizer's variables (and its saved weights) line up with Keras's.
                self._r.append(self._new_variable(np.int32(0), var.name))
                self._c.append(self._new_variable(np.int32(0), var.name))
            else:
                self._r.append(self.add_variable(shape[:-1], dtype=var.dtype, name=var.name))
                self._c.append(self.add_variable(shape[:-2] + shape[-1:], dtype=var.dtype,
                                                 name=var.name))
            self._v.append(self.add_variable_from_reference(var, "velocity"))

    def _fused_update(self, grads, variables, lr, decay, count=True):
        idx = self._indices_of(variables)
        factored = [i for i, v in zip(idx, variables) if len(v.shape) >= 2]
        # Keras skips the relative step when the learning rate is a schedule or a callable.
        relative = self.relative_step and isinstance(self._learning_rate, Variable)
        training_adaptive.apply_adafactor(
            self._iterations, lr, variables, grads, [self._v[i] for i in idx],
            [self._r[i] for i in factored], [self._c[i] for i in factored], self.beta_2_decay,
            self.epsilon_1, self.epsilon_2, self.clip_threshold, relative, decay, count)

    def get_config(self):
        config = super().get_config()
        config.update({"beta_2_decay": self.beta_2_decay, "epsilon_1": self.epsilon_1,
                       "epsilon_2": self.epsilon_2, "clip_threshold": self.clip_threshold,
                       "relative_step": self.relative_step})
        return config
