"""`keras.optimizers.Adam` and `AdamW` (Adam with decoupled weight decay)."""
from tapeflow.keras.optimizers.optimizer import FusedOptimizer
from tapeflow.ops import training


class Adam(FusedOptimizer):
    """Adam: adaptive estimates of first- and second-order moments (Kingma & Ba, 2014).

    Args:
        learning_rate: a float, a schedule, or a callable. Defaults to 0.001.
        beta_1: decay rate of the first-moment estimates. Defaults to 0.9.
        beta_2: decay rate of the second-moment estimates. Defaults to 0.999.
        epsilon: small constant added to the denominator (Keras places it outside the
            square root, after bias correction of the step size). Defaults to 1e-7.
        amsgrad: use the AMSGrad variant (the running maximum of the second moments).
        **kwargs: the base optimizer's arguments (clipnorm, weight_decay, name, ...).

    Example:
    >>> opt = keras.optimizers.Adam(learning_rate=1e-3)
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-07,
                 amsgrad=False, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name=None, **kwargs):
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
        self.amsgrad = amsgrad

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._momentums, self._velocities = self.add_optimizer_variables(
            var_list, ["momentum", "velocity"])
        self._velocity_hats = []
        if self.amsgrad:
            self._velocity_hats = self.add_optimizer_variables(var_list, "velocity_hat")

    def _fused_update(self, grads, variables, lr, decay, count=True):
        idx = self._indices_of(variables)
        ms = [self._momentums[i] for i in idx]
        vs = [self._velocities[i] for i in idx]
        vhats = [self._velocity_hats[i] for i in idx] if self.amsgrad else ()
        training.apply_adam(self._iterations, lr, variables, grads, ms, vs, vhats,
                            self.beta_1, self.beta_2, self.epsilon, self.amsgrad, decay, count)

    def get_config(self):
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon,
                       "amsgrad": self.amsgrad})
        return config


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019): before each update,
    `w = w - w * weight_decay * learning_rate`.

    Args:
        learning_rate: a float, a schedule, or a callable. Defaults to 0.001.
        weight_decay: the decay rate. Defaults to 0.004.
        beta_1, beta_2, epsilon, amsgrad: as for `Adam`.

    Example:
    >>> opt = keras.optimizers.AdamW(learning_rate=1e-3, weight_decay=1e-4)
    """

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-07, amsgrad=False, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2,
                         epsilon=epsilon, amsgrad=amsgrad, name=name,
                         weight_decay=weight_decay, clipnorm=clipnorm, clipvalue=clipvalue,
                         global_clipnorm=global_clipnorm, use_ema=use_ema,
                         ema_momentum=ema_momentum,
                         ema_overwrite_frequency=ema_overwrite_frequency,
                         loss_scale_factor=loss_scale_factor,
                         gradient_accumulation_steps=gradient_accumulation_steps, **kwargs)
        if self.weight_decay is None:
            raise ValueError("Argument `weight_decay` must be a float. Received: "
                             "weight_decay=None")
