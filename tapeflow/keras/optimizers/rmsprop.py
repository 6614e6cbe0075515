"""`keras.optimizers.RMSprop`: divide the gradient by a running RMS of its recent values."""
from tapeflow.keras.optimizers.optimizer import FusedOptimizer
from tapeflow.ops import training_adaptive


class RMSprop(FusedOptimizer):
    """RMSprop: keeps a moving average of the squared gradients and divides the gradient by
    its root (`epsilon` is added inside the square root, as Keras does).

    Args:
        learning_rate: a float, a schedule, or a callable. Defaults to 0.001.
        rho: discounting factor of the squared-gradient average. Defaults to 0.9.
        momentum: if > 0, accumulate the updates with this momentum. Defaults to 0.0.
        epsilon: small constant for numerical stability. Defaults to 1e-7.
        centered: normalise by the estimated variance of the gradient instead of its second
            moment.
        **kwargs: the base optimizer's arguments (clipnorm, weight_decay, name, ...).

    Example:
    >>> opt = keras.optimizers.RMSprop(learning_rate=0.001)
    """

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-07,
                 centered=False, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, weight_decay=weight_decay,
                         clipnorm=clipnorm, clipvalue=clipvalue,
                         global_clipnorm=global_clipnorm, use_ema=use_ema,
                         ema_momentum=ema_momentum,
                         ema_overwrite_frequency=ema_overwrite_frequency,
                         loss_scale_factor=loss_scale_factor,
                         gradient_accumulation_steps=gradient_accumulation_steps, name=name,
                         **kwargs)
        self.rho = rho
        self.momentum = momentum
        self.epsilon = epsilon
        self.centered = centered

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._velocities = self.add_optimizer_variables(var_list, "velocity")
        self._momentums = []
        if self.momentum > 0:
            self._momentums = self.add_optimizer_variables(var_list, "momentum")
        self._average_gradients = []
        if self.centered:
            self._average_gradients = self.add_optimizer_variables(var_list,
                                                                   "average_gradient")

    def _fused_update(self, grads, variables, lr, decay, count=True):
        idx = self._indices_of(variables)
        vel = [self._velocities[i] for i in idx]
        mom = [self._momentums[i] for i in idx] if self.momentum > 0 else ()
        avg = [self._average_gradients[i] for i in idx] if self.centered else ()
        training_adaptive.apply_rmsprop(self._iterations, lr, variables, grads, vel, mom, avg,
                                        self.rho, self.momentum, self.epsilon, self.centered,
                                        decay, count)

    def get_config(self):
        config = super().get_config()
        config.update({"rho": self.rho, "momentum": self.momentum, "epsilon": self.epsilon,
                       "centered": self.centered})
        return config
