"""`keras.optimizers.Adadelta`: steps scaled by running averages of squared gradients and
of squared updates."""
from tapeflow.keras.optimizers.optimizer import FusedOptimizer
from tapeflow.ops import training_adaptive


class Adadelta(FusedOptimizer):
    """Adadelta (Zeiler, 2012): per-dimension steps `-sqrt(E[dx^2] + eps) / sqrt(E[g^2] + eps)
    * g`, scaled by the learning rate (1.0 gives the paper's method).

    Args:
        learning_rate: a float, a schedule, or a callable. Defaults to 0.001.
        rho: decay rate of both averages. Defaults to 0.95.
        epsilon: small constant for numerical stability. Defaults to 1e-7.
        **kwargs: the base optimizer's arguments (clipnorm, weight_decay, name, ...).

    Example:
    >>> opt = keras.optimizers.Adadelta(learning_rate=1.0)
    """

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-07, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.rho = rho
        self.epsilon = epsilon

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._accumulated_grads, self._accumulated_delta_vars = self.add_optimizer_variables(
            var_list, ["accumulated_grad", "accumulated_delta_var"])

    def _fused_update(self, grads, variables, lr, decay, count=True):
        idx = self._indices_of(variables)
        training_adaptive.apply_adadelta(
            self._iterations, lr, variables, grads, [self._accumulated_grads[i] for i in idx],
            [self._accumulated_delta_vars[i] for i in idx], self.rho, self.epsilon, decay,
            count)

    def get_config(self):
        config = super().get_config()
        config.update({"rho": self.rho, "epsilon": self.epsilon})
        return config
