"""`keras.optimizers.Ftrl`: Follow The Regularized Leader (McMahan et al., 2013)."""
from tapeflow.keras.optimizers.optimizer import FusedOptimizer
from tapeflow.ops import training_adaptive


class Ftrl(FusedOptimizer):
    """FTRL-Proximal, with online L1/L2 regularization and optional L2 shrinkage (a magnitude
    penalty added to the gradient). Suited to shallow models with large sparse features.

    Per variable `w`: `n' = n + g^2`, `z += g - ((n'^-p - n^-p) / lr) * w`, then
    `w = (clip(z, -l1, l1) - z) / (n'^-p / lr + 2 * (l2 + beta / (2 lr)))` with
    `p = learning_rate_power`.

    Args:
        learning_rate: a float, a schedule, or a callable. Defaults to 0.001.
        learning_rate_power: how the step decreases over time; at most zero (zero: a fixed
            learning rate). Defaults to -0.5.
        initial_accumulator_value: starting value of the accumulators, at least zero.
        l1_regularization_strength: at least zero. Defaults to 0.0.
        l2_regularization_strength: at least zero. Defaults to 0.0.
        l2_shrinkage_regularization_strength: at least zero. Defaults to 0.0.
        beta: the paper's beta. Defaults to 0.0.
        **kwargs: the base optimizer's arguments (clipnorm, weight_decay, name, ...).

    Example:
    >>> opt = keras.optimizers.Ftrl(learning_rate=0.01, l1_regularization_strength=0.001)
    """

    def __init__(self, learning_rate=0.001, learning_rate_power=-0.5,
                 initial_accumulator_value=0.1, l1_regularization_strength=0.0,
                 l2_regularization_strength=0.0, l2_shrinkage_regularization_strength=0.0,
                 beta=0.0, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        for arg, value, sign in (  # sign: +1 for "at least zero", -1 for "at most zero"
                ("initial_accumulator_value", initial_accumulator_value, 1),
                ("learning_rate_power", learning_rate_power, -1),
                ("l1_regularization_strength", l1_regularization_strength, 1),
                ("l2_regularization_strength", l2_regularization_strength, 1),
                ("l2_shrinkage_regularization_strength", l2_shrinkage_regularization_strength,
                 1)):
            if sign * value < 0.0:
                want = "positive" if sign > 0 else "negative"
                raise ValueError(f"`{arg}` needs to be {want} or zero. Received: {arg}={value}.")
        self.learning_rate_power = learning_rate_power
        self.initial_accumulator_value = initial_accumulator_value
        self.l1_regularization_strength = l1_regularization_strength
        self.l2_regularization_strength = l2_regularization_strength
        self.l2_shrinkage_regularization_strength = l2_shrinkage_regularization_strength
        self.beta = beta

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        from tapeflow.keras.initializers import Constant
        self._accumulators, self._linears = self.add_optimizer_variables(
            var_list, ["accumulator", "linear"],
            initializer=[Constant(self.initial_accumulator_value), "zeros"])

    def _fused_update(self, grads, variables, lr, decay, count=True):
        idx = self._indices_of(variables)
        training_adaptive.apply_ftrl(
            self._iterations, lr, variables, grads, [self._accumulators[i] for i in idx],
            [self._linears[i] for i in idx], self.learning_rate_power,
            self.l1_regularization_strength, self.l2_regularization_strength,
            self.l2_shrinkage_regularization_strength, self.beta, decay, count)

    def get_config(self):
        config = super().get_config()
        config.update({
            "learning_rate_power": self.learning_rate_power,
            "initial_accumulator_value": self.initial_accumulator_value,
            "l1_regularization_strength": self.l1_regularization_strength,
            "l2_regularization_strength": self.l2_regularization_strength,
            "l2_shrinkage_regularization_strength": self.l2_shrinkage_regularization_strength,
            "beta": self.beta})
        return config
