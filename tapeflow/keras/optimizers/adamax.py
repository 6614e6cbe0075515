"""`keras.optimizers.Adamax`: Adam with the second moment replaced by an infinity norm."""
from tapeflow.keras.optimizers.optimizer import FusedOptimizer
from tapeflow.ops import training


class Adamax(FusedOptimizer):
    """Adamax: Adam's second moment replaced by an exponentially weighted infinity norm
    (`u = max(beta_2 * u, |g|)`, `w -= lr * m / ((1 - beta_1^t) * (u + epsilon))`).

    Args:
        learning_rate: a float, a schedule, or a callable. Defaults to 0.001.
        beta_1: decay rate of the first moment. Defaults to 0.9.
        beta_2: decay rate of the infinity norm. Defaults to 0.999.
        epsilon: small constant for numerical stability. Defaults to 1e-7.
        **kwargs: the base optimizer's arguments (clipnorm, weight_decay, name, ...).

    Example:
    >>> opt = keras.optimizers.Adamax(learning_rate=0.002)
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-07,
                 **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._m, self._u = self.add_optimizer_variables(var_list, ["momentum", "norm"])

    def _fused_update(self, grads, variables, lr, decay, count=True):
        idx = self._indices_of(variables)
        training.apply_adamax(self._iterations, lr, variables, grads, [self._m[i] for i in idx],
                              [self._u[i] for i in idx], self.beta_1, self.beta_2,
                              self.epsilon, decay, count)

    def get_config(self):
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon})
        return config
