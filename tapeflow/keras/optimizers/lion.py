"""`keras.optimizers.Lion`: steps of the sign of an interpolated momentum."""
from tapeflow.keras.optimizers.optimizer import FusedOptimizer
from tapeflow.ops import training


class Lion(FusedOptimizer):
    """Lion (EvoLved Sign Momentum, Chen et al., 2023): `w -= lr * sign(beta_1 * m + (1 -
    beta_1) * g)`, then `m = beta_2 * m + (1 - beta_2) * g`. Its steps are larger than
    AdamW's: use a 3-10x smaller learning rate and a 3-10x larger weight decay.

    Args:
        learning_rate: a float, a schedule, or a callable. Defaults to 0.001.
        beta_1: interpolation factor of the step direction, in (0, 1]. Defaults to 0.9.
        beta_2: decay rate of the momentum. Defaults to 0.99.
        **kwargs: the base optimizer's arguments (clipnorm, weight_decay, name, ...).

    Example:
    >>> opt = keras.optimizers.Lion(learning_rate=1e-4, weight_decay=0.01)
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.99, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        if beta_1 <= 0 or beta_1 > 1:
            raise ValueError("Argument `beta_1` must be in the [0, 1] range. Otherwise, the "
                             f"optimizer degenerates to SignSGD. Received: beta_1={beta_1}.")

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._momentums = self.add_optimizer_variables(var_list, "momentum")

    def _fused_update(self, grads, variables, lr, decay, count=True):
        ms = [self._momentums[i] for i in self._indices_of(variables)]
        training.apply_lion(self._iterations, lr, variables, grads, ms, self.beta_1,
                            self.beta_2, decay, count)

    def get_config(self):
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2})
        return config
