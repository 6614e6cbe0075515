"""The per-variable loop each fused optimizer replaces: Keras 3's `update_step` for every
optimizer, written op by op in tapeflow ops (the way a user's own optimizer is written, and
the way tapeflow's Adamax, Adadelta and Lion ran before they were fused).

`loop_optimizer(name, **kwargs)` is the built-in optimizer with this `update_step` in place of
its fused op, so `apply_gradients` takes the base class's per-variable path: weight decay,
one `update_step` per variable, then the step counter. The benchmark times it against the
fused op; `tests/bench/test_optimizer_loops.py` checks that both compute the same numbers.
"""
import tapeflow as tf
from tapeflow import keras


def _sgd(opt, g, v, lr):
    lr, g = tf.cast(lr, v.dtype), tf.cast(g, v.dtype)
    if opt.momentum == 0:
        v.assign_sub(g * lr)
        return
    m = opt.momentums[opt._get_variable_index(v)]
    momentum = tf.cast(opt.momentum, v.dtype)
    m.assign(m * momentum - g * lr)
    v.assign_add(m * momentum - g * lr if opt.nesterov else m)


def _adam(opt, g, v, lr):
    dt = v.dtype
    lr, g, t = tf.cast(lr, dt), tf.cast(g, dt), tf.cast(opt.iterations + 1, dt)
    b1p, b2p = tf.pow(tf.cast(opt.beta_1, dt), t), tf.pow(tf.cast(opt.beta_2, dt), t)
    i = opt._get_variable_index(v)
    m, u = opt._momentums[i], opt._velocities[i]
    alpha = lr * tf.sqrt(1 - b2p) / (1 - b1p)
    m.assign_add((g - m) * (1 - opt.beta_1))
    u.assign_add((tf.square(g) - u) * (1 - opt.beta_2))
    if opt.amsgrad:
        u_hat = opt._velocity_hats[i]
        u_hat.assign(tf.maximum(u_hat, u))
        u = u_hat
    v.assign_sub((m * alpha) / (tf.sqrt(u) + opt.epsilon))


def _nadam_before(opt):
    dt = opt._u_product.dtype
    opt._u_product.assign(opt._u_product * opt.beta_1 * (
        1.0 - 0.5 * tf.pow(tf.constant(0.96, dt), tf.cast(opt.iterations + 1, dt))))


def _nadam(opt, g, v, lr):
    dt = v.dtype
    lr, g = tf.cast(lr, dt), tf.cast(g, dt)
    t, t1 = tf.cast(opt.iterations + 1, dt), tf.cast(opt.iterations + 2, dt)
    decay = tf.cast(0.96, dt)
    b1, b2 = tf.cast(opt.beta_1, dt), tf.cast(opt.beta_2, dt)
    u_t, u_t_1 = b1 * (1.0 - 0.5 * tf.pow(decay, t)), b1 * (1.0 - 0.5 * tf.pow(decay, t1))
    up_t = tf.cast(opt._u_product, dt)
    up_t_1 = up_t * u_t_1
    i = opt._get_variable_index(v)
    m, u = opt._momentums[i], opt._velocities[i]
    m.assign_add((g - m) * (1 - b1))
    u.assign_add((tf.square(g) - u) * (1 - b2))
    m_hat = (u_t_1 * m) / (1 - up_t_1) + ((1 - u_t) * g) / (1 - up_t)
    u_hat = u / (1 - tf.pow(b2, t))
    v.assign_sub((m_hat * lr) / (tf.sqrt(u_hat) + opt.epsilon))


def _adamax(opt, g, v, lr):
    dt = v.dtype
    lr, g, t = tf.cast(lr, dt), tf.cast(g, dt), tf.cast(opt.iterations + 1, dt)
    b1p = tf.pow(tf.cast(opt.beta_1, dt), t)
    i = opt._get_variable_index(v)
    m, u = opt._m[i], opt._u[i]
    m.assign_add((g - m) * (1 - opt.beta_1))
    u.assign(tf.maximum(opt.beta_2 * u, tf.abs(g)))
    v.assign_sub((lr * m) / ((1 - b1p) * (u + opt.epsilon)))


def _lion(opt, g, v, lr):
    dt = v.dtype
    lr, g = tf.cast(lr, dt), tf.cast(g, dt)
    b1, b2 = tf.cast(opt.beta_1, dt), tf.cast(opt.beta_2, dt)
    m = opt._momentums[opt._get_variable_index(v)]
    v.assign_sub(lr * tf.sign(m * b1 + g * (1.0 - b1)))
    m.assign(m * b2 + g * (1.0 - b2))


def _rmsprop(opt, g, v, lr):
    lr, g = tf.cast(lr, v.dtype), tf.cast(g, v.dtype)
    i, rho = opt._get_variable_index(v), opt.rho
    vel = opt._velocities[i]
    vel.assign(rho * vel + (1 - rho) * tf.square(g))
    if opt.centered:
        avg = opt._average_gradients[i]
        avg.assign(rho * avg + (1 - rho) * g)
        den = vel - tf.square(avg) + opt.epsilon
    else:
        den = vel + opt.epsilon
    inc = (lr * g) / tf.sqrt(den)
    if opt.momentum > 0:
        mom = opt._momentums[i]
        mom.assign(opt.momentum * mom + inc)
        v.assign_sub(mom)
    else:
        v.assign_sub(inc)


def _adagrad(opt, g, v, lr):
    lr, g = tf.cast(lr, v.dtype), tf.cast(g, v.dtype)
    acc = opt._accumulators[opt._get_variable_index(v)]
    acc.assign_add(tf.square(g))
    v.assign_sub((lr * g) / tf.sqrt(acc + opt.epsilon))


def _adadelta(opt, g, v, lr):
    lr, g = tf.cast(lr, v.dtype), tf.cast(g, v.dtype)
    i, rho, eps = opt._get_variable_index(v), opt.rho, opt.epsilon
    acc_g, acc_d = opt._accumulated_grads[i], opt._accumulated_delta_vars[i]
    acc_g.assign(rho * acc_g + (1 - rho) * tf.square(g))
    delta = -((tf.sqrt(acc_d + eps) * g) / tf.sqrt(acc_g + eps))
    acc_d.assign(rho * acc_d + (1 - rho) * tf.square(delta))
    v.assign_add(lr * delta)


def _ftrl(opt, g, v, lr):
    lr, g = tf.cast(lr, v.dtype), tf.cast(g, v.dtype)
    i, p = opt._get_variable_index(v), -opt.learning_rate_power
    accum, linear = opt._accumulators[i], opt._linears[i]
    l2 = opt.l2_regularization_strength + opt.beta / (2.0 * lr)
    grad = g + 2 * opt.l2_shrinkage_regularization_strength * v
    new_accum = accum + tf.square(g)
    linear.assign_add(grad - ((tf.pow(new_accum, p) - tf.pow(accum, p)) / lr) * v)
    quadratic = tf.pow(new_accum, p) / lr + 2 * l2
    l1 = opt.l1_regularization_strength
    v.assign((tf.clip_by_value(linear, -l1, l1) - linear) / quadratic)
    accum.assign(new_accum)


def _adafactor(opt, g, v, lr):
    def rms(x):
        return tf.sqrt(tf.reduce_mean(tf.square(x)))
    dt = v.dtype
    lr, g, t = tf.cast(lr, dt), tf.cast(g, dt), tf.cast(opt.iterations + 1, dt)
    if isinstance(opt._learning_rate, tf.Variable) and opt.relative_step:
        lr = tf.minimum(lr, 1 / tf.sqrt(t))
    i = opt._get_variable_index(v)
    r, c, u = opt._r[i], opt._c[i], opt._v[i]
    rho_t = tf.minimum(lr, 1 / tf.sqrt(t))
    alpha_t = tf.maximum(tf.cast(opt.epsilon_2, dt), rms(v)) * rho_t
    g2 = tf.square(g) + opt.epsilon_1
    beta_2_t = 1 - tf.pow(t, opt.beta_2_decay)
    if len(v.shape) >= 2:
        r.assign(beta_2_t * r + (1 - beta_2_t) * tf.reduce_mean(g2, axis=-1))
        c.assign(beta_2_t * c + (1 - beta_2_t) * tf.reduce_mean(g2, axis=-2))
        u.assign(tf.expand_dims(r / tf.reduce_mean(r, axis=-1, keepdims=True), -1) *
                 tf.expand_dims(c, -2))
    else:
        u.assign(beta_2_t * u + (1 - beta_2_t) * g2)
    step = g / tf.sqrt(u)
    step = step / tf.maximum(tf.cast(1.0, dt), rms(step) / opt.clip_threshold)
    v.assign_sub(alpha_t * step)


UPDATES = {"SGD": _sgd, "Adam": _adam, "AdamW": _adam, "Nadam": _nadam, "Adamax": _adamax,
           "Lion": _lion, "RMSprop": _rmsprop, "Adagrad": _adagrad, "Adadelta": _adadelta,
           "Ftrl": _ftrl, "Adafactor": _adafactor}


def loop_optimizer(name, **kwargs):
    """`keras.optimizers.<name>(**kwargs)` running Keras's per-variable `update_step`."""
    base = getattr(keras.optimizers, name)
    update = UPDATES[name]

    class Loop(base):
        def update_step(self, gradient, variable, learning_rate):
            update(self, gradient, variable, learning_rate)

        def _backend_update_step(self, grads, trainable_variables, learning_rate):
            if name == "Nadam":
                _nadam_before(self)
            super()._backend_update_step(grads, trainable_variables, learning_rate)

    Loop.__name__ = base.__name__
    return Loop(**kwargs)
