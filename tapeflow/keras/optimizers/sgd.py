"""`keras.optimizers.SGD`: gradient descent with optional (Nesterov) momentum."""
from tapeflow.keras.optimizers.optimizer import FusedOptimizer
from tapeflow.ops import training


class SGD(FusedOptimizer):
    """Gradient descent (with momentum).

    With `momentum` 0: `w = w - learning_rate * g`. Otherwise
    `velocity = momentum * velocity - learning_rate * g` and `w = w + velocity`, or with
    `nesterov=True`, `w = w + momentum * velocity - learning_rate * g`.

    Args:
        learning_rate: a float, a schedule, or a callable. Defaults to 0.01.
        momentum: a float in [0, 1] that accelerates descent and dampens oscillations.
        nesterov: whether to apply Nesterov momentum.
        **kwargs: the base optimizer's arguments (clipnorm, weight_decay, name, ...).

    Example:
    >>> opt = keras.optimizers.SGD(learning_rate=0.1, momentum=0.9)
    """

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, use_ema=False,
                 ema_momentum=0.99, ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, weight_decay=weight_decay,
                         clipnorm=clipnorm, clipvalue=clipvalue,
                         global_clipnorm=global_clipnorm, use_ema=use_ema,
                         ema_momentum=ema_momentum,
                         ema_overwrite_frequency=ema_overwrite_frequency,
                         loss_scale_factor=loss_scale_factor,
                         gradient_accumulation_steps=gradient_accumulation_steps, **kwargs)
        if not isinstance(momentum, float) or momentum < 0 or momentum > 1:
            if isinstance(momentum, int) and not isinstance(momentum, bool) and \
                    0 <= momentum <= 1:
                momentum = float(momentum)
            else:
                raise ValueError("`momentum` must be a float between [0, 1].")
        self.momentum = momentum
        self.nesterov = nesterov

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self.momentums = []
        if self.momentum != 0:
            self.momentums = self.add_optimizer_variables(variables, "momentum")

    def _fused_update(self, grads, variables, lr, decay, count=True):
        moms = ()
        if self.momentum != 0:
            moms = [self.momentums[i] for i in self._indices_of(variables)]
        training.apply_sgd(self._iterations, lr, variables, grads, moms, self.momentum,
                           self.nesterov, decay, count)

    def get_config(self):
        config = super().get_config()
        config.update({"momentum": self.momentum, "nesterov": self.nesterov})
        return config
