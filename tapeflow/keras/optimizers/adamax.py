"""`keras.optimizers.Adamax`, `Adadelta` and `Lion`.

These run the base optimizer's per-variable path: `update_step` written in tapeflow ops, as a
user's own optimizer would be (the common optimizers have fused ops instead)."""
import tapeflow as tf
from tapeflow.keras.optimizers.optimizer import Optimizer


class Adamax(Optimizer):
    """Adamax: Adam's second moment replaced by an exponentially weighted infinity norm.

    Args:
        learning_rate: a float, a schedule, or a callable. Defaults to 0.001.
        beta_1: decay rate of the first moment. Defaults to 0.9.
        beta_2: decay rate of the infinity norm. Defaults to 0.999.
        epsilon: small constant for numerical stability. Defaults to 1e-7.

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

    def update_step(self, gradient, variable, learning_rate):
        dtype = variable.dtype
        lr = tf.cast(learning_rate, dtype)
        gradient = tf.cast(gradient, dtype)
        local_step = tf.cast(self.iterations + 1, dtype)
        beta_1_power = tf.pow(tf.cast(self.beta_1, dtype), local_step)
        i = self._get_variable_index(variable)
        m, u = self._m[i], self._u[i]
        m.assign_add((gradient - m) * (1 - self.beta_1))
        u.assign(tf.maximum(self.beta_2 * u, tf.abs(gradient)))
        variable.assign_sub((lr * m) / ((1 - beta_1_power) * (u + self.epsilon)))

    def get_config(self):
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon})
        return config


class Adadelta(Optimizer):
    """Adadelta: per-dimension steps from running averages of squared gradients and of
    squared updates.

    Args:
        learning_rate: a float, a schedule, or a callable. Defaults to 0.001.
        rho: decay rate of both averages. Defaults to 0.95.
        epsilon: small constant for numerical stability. Defaults to 1e-7.

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

    def update_step(self, grad, variable, learning_rate):
        dtype = variable.dtype
        lr = tf.cast(learning_rate, dtype)
        grad = tf.cast(grad, dtype)
        rho = self.rho
        i = self._get_variable_index(variable)
        acc_grad, acc_delta = self._accumulated_grads[i], self._accumulated_delta_vars[i]

        def rms(x):
            return tf.sqrt(x + self.epsilon)

        acc_grad.assign(rho * acc_grad + (1 - rho) * tf.square(grad))
        delta_var = -((rms(acc_delta) * grad) / rms(acc_grad))
        acc_delta.assign(rho * acc_delta + (1 - rho) * tf.square(delta_var))
        variable.assign_add(lr * delta_var)

    def get_config(self):
        config = super().get_config()
        config.update({"rho": self.rho, "epsilon": self.epsilon})
        return config


class Lion(Optimizer):
    """Lion (EvoLved Sign Momentum): steps by the sign of an interpolation of the momentum
    and the gradient.

    Args:
        learning_rate: a float, a schedule, or a callable. Defaults to 0.001.
        beta_1: interpolation factor of the step direction. Defaults to 0.9.
        beta_2: decay rate of the momentum. Defaults to 0.99.

    Example:
    >>> opt = keras.optimizers.Lion(learning_rate=1e-4)
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

    def update_step(self, gradient, variable, learning_rate):
        dtype = variable.dtype
        lr = tf.cast(learning_rate, dtype)
        gradient = tf.cast(gradient, dtype)
        beta_1, beta_2 = tf.cast(self.beta_1, dtype), tf.cast(self.beta_2, dtype)
        m = self._momentums[self._get_variable_index(variable)]
        variable.assign_sub(lr * tf.sign(m * beta_1 + gradient * (1.0 - beta_1)))
        m.assign(m * beta_2 + gradient * (1.0 - beta_2))

    def get_config(self):
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2})
        return config
