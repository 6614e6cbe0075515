"""`keras.optimizers.Nadam`: Adam with Nesterov momentum (Dozat, 2015)."""
import numpy as np

from tapeflow.keras.optimizers.optimizer import FusedOptimizer
from tapeflow.ops import training


class Nadam(FusedOptimizer):
    """Nadam: Adam with Nesterov momentum and Keras's momentum schedule
    (`u_t = beta_1 * (1 - 0.5 * 0.96 ** t)`).

    Args:
        learning_rate: a float, a schedule, or a callable. Defaults to 0.001.
        beta_1: decay rate of the first-moment estimates. Defaults to 0.9.
        beta_2: decay rate of the second-moment estimates. Defaults to 0.999.
        epsilon: small constant for numerical stability. Defaults to 1e-7.
        **kwargs: the base optimizer's arguments (clipnorm, weight_decay, name, ...).

    Example:
    >>> opt = keras.optimizers.Nadam(learning_rate=0.002)
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-07,
                 weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 use_ema=False, ema_momentum=0.99, ema_overwrite_frequency=None,
                 loss_scale_factor=None, gradient_accumulation_steps=None, name=None,
                 **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, weight_decay=weight_decay,
                         clipnorm=clipnorm, clipvalue=clipvalue,
                         global_clipnorm=global_clipnorm, use_ema=use_ema,
                         ema_momentum=ema_momentum,
                         ema_overwrite_frequency=ema_overwrite_frequency,
                         loss_scale_factor=loss_scale_factor,
                         gradient_accumulation_steps=gradient_accumulation_steps, **kwargs)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon

    def build(self, var_list):
        if self.built:
            return
        dtype = var_list[0].dtype if var_list else "float32"
        super().build(var_list)
        self._momentums, self._velocities = self.add_optimizer_variables(
            var_list, ["momentum", "velocity"])
        self._u_product = self._new_variable(np.float32(1.0), "u_product", dtype)

    def _fused_update(self, grads, variables, lr, decay, count=True):
        idx = self._indices_of(variables)
        ms = [self._momentums[i] for i in idx]
        vs = [self._velocities[i] for i in idx]
        training.apply_nadam(self._iterations, lr, self._u_product, variables, grads, ms, vs,
                             self.beta_1, self.beta_2, self.epsilon, decay, count)

    def get_config(self):
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon})
        return config
