"""`keras.optimizers.Adagrad`: per-parameter learning rates from accumulated squared
gradients."""
from tapeflow.keras.optimizers.optimizer import FusedOptimizer
from tapeflow.ops import training_adaptive


class Adagrad(FusedOptimizer):
    """Adagrad: `acc += g^2`, `w -= learning_rate * g / sqrt(acc + epsilon)`.

    Args:
        learning_rate: a float, a schedule, or a callable. Defaults to 0.001.
        initial_accumulator_value: starting value of the accumulators. Defaults to 0.1.
        epsilon: small constant for numerical stability. Defaults to 1e-7.
        **kwargs: the base optimizer's arguments (clipnorm, weight_decay, name, ...).

    Example:
    >>> opt = keras.optimizers.Adagrad(learning_rate=0.01)
    """

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-07,
                 weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 use_ema=False, ema_momentum=0.99, ema_overwrite_frequency=None,
                 loss_scale_factor=None, gradient_accumulation_steps=None, name=None,
                 **kwargs):
        super().__init__(learning_rate=learning_rate, weight_decay=weight_decay,
                         clipnorm=clipnorm, clipvalue=clipvalue,
                         global_clipnorm=global_clipnorm, use_ema=use_ema,
                         ema_momentum=ema_momentum,
                         ema_overwrite_frequency=ema_overwrite_frequency,
                         loss_scale_factor=loss_scale_factor,
                         gradient_accumulation_steps=gradient_accumulation_steps, name=name,
                         **kwargs)
        self.initial_accumulator_value = initial_accumulator_value
        self.epsilon = epsilon

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        from tapeflow.keras.initializers import Constant
        self._accumulators = self.add_optimizer_variables(
            var_list, "accumulator", initializer=Constant(self.initial_accumulator_value))

    def _fused_update(self, grads, variables, lr, decay, count=True):
        acc = [self._accumulators[i] for i in self._indices_of(variables)]
        training_adaptive.apply_adagrad(self._iterations, lr, variables, grads, acc,
                                        self.epsilon, decay, count)

    def get_config(self):
        config = super().get_config()
        config.update({"initial_accumulator_value": self.initial_accumulator_value,
                       "epsilon": self.epsilon})
        return config
