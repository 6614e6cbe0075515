"""Fused optimizer updates (the role of TF's `training_ops`): one op per optimizer step.

Keras optimizers update every trainable variable once per training step. Written as separate
ops that is a dozen dispatches per variable; here each optimizer's whole step (weight decay,
slot updates, variable update, iteration increment) is one kernel over all variables, so the
per-step Python cost does not grow with the op count. The arithmetic follows Keras 3's
`update_step` operation by operation (same casts, same epsilon placement, same order), so
results match Keras to the last few ulps.

Each kernel is pure: it takes `(iterations, learning_rate, *variables, *gradients, *slots)`
followed by its attrs (variable count, hyperparameters, per-variable weight decay) and
returns `(iterations + 1, *new_variables, *new_slots)`; `_run()` reads the variables,
runs the op and writes the results back, so a tf.function trace records one op and the
variable reads/writes around it.
"""
import torch

from tapeflow.ops._op import define, execute

SGD = define("FusedApplySGD", differentiable=False)
ADAM = define("FusedApplyAdam", differentiable=False)
RMSPROP = define("FusedApplyRMSProp", differentiable=False)
ADAGRAD = define("FusedApplyAdagrad", differentiable=False)
NADAM = define("FusedApplyNadam", differentiable=False)


def _decayed(var, wd, lr):
    """Keras's decoupled weight decay, applied before the update: `var - var * wd * lr`."""
    if wd is None:
        return var
    return var - (var * wd) * lr


def _full(value, like):
    return torch.full((), value, dtype=like.dtype, device=like.device)


def _cast(value, like):
    """A Python float as Keras's `ops.cast(value, dtype)` makes it: through float32 first."""
    return torch.full((), value, dtype=torch.float32, device=like.device).to(like.dtype)


# -- kernels ------------------------------------------------------------------------------------

def _sgd_kernel(*args):
    step, lr, ts = args[0], args[1], args[2:-4]
    n, momentum, nesterov, decay = args[-4:]
    new_vars, new_m = [], []
    for i in range(n):
        var, g = ts[i], ts[n + i]
        lr_t = lr.to(var.dtype)
        g = g.to(var.dtype)
        var = _decayed(var, decay[i], lr_t)
        if momentum:
            m = ts[2 * n + i] * momentum
            m.sub_(g * lr_t)
            new_m.append(m)
            if nesterov:
                upd = m * momentum
                upd.sub_(g * lr_t)
                new_vars.append(var + upd)
            else:
                new_vars.append(var + m)
        else:
            new_vars.append(var - g * lr_t)
    return (step + 1, *new_vars, *new_m)


def _adam_kernel(*args):
    step, lr, ts = args[0], args[1], args[2:-6]
    n, beta_1, beta_2, epsilon, amsgrad, decay = args[-6:]
    coefs = {}
    new_vars, new_m, new_v, new_vh = [], [], [], []
    for i in range(n):
        var, g, m, v = ts[i], ts[n + i], ts[2 * n + i], ts[3 * n + i]
        dt = var.dtype
        c = coefs.get(dt)
        if c is None:
            lr_t = lr.to(dt)
            local_step = (step + 1).to(dt)
            b1p = torch.pow(_cast(beta_1, local_step), local_step)
            b2p = torch.pow(_cast(beta_2, local_step), local_step)
            alpha = lr_t * torch.sqrt(1 - b2p) / (1 - b1p)
            c = coefs[dt] = (lr_t, alpha)
        lr_t, alpha = c
        g = g.to(dt)
        var = _decayed(var, decay[i], lr_t)
        m = (g - m).mul_(1 - beta_1).add_(m)
        v = (g * g).sub_(v).mul_(1 - beta_2).add_(v)
        new_m.append(m)
        new_v.append(v)
        if amsgrad:
            v = torch.maximum(ts[4 * n + i], v)
            new_vh.append(v)
        den = torch.sqrt(v).add_(epsilon)
        new_vars.append(var - (m * alpha).div_(den))
    return (step + 1, *new_vars, *new_m, *new_v, *new_vh)


def _rmsprop_kernel(*args):
    step, lr, ts = args[0], args[1], args[2:-6]
    n, rho, momentum, epsilon, centered, decay = args[-6:]
    new_vars, new_vel, new_mom, new_avg = [], [], [], []
    k = 2 * n
    for i in range(n):
        var, g, vel = ts[i], ts[n + i], ts[k + i]
        lr_t = lr.to(var.dtype)
        g = g.to(var.dtype)
        var = _decayed(var, decay[i], lr_t)
        vel = (vel * rho).add_((g * g).mul_(1 - rho))
        new_vel.append(vel)
        j = k + n
        if momentum > 0:
            mom = ts[j + i]
            j += n
        if centered:
            avg = (ts[j + i] * rho).add_(g * (1 - rho))
            new_avg.append(avg)
            den = (vel - avg * avg).add_(epsilon)
        else:
            den = vel + epsilon
        inc = (lr_t * g).div_(torch.sqrt(den))
        if momentum > 0:
            mom = (mom * momentum).add_(inc)
            new_mom.append(mom)
            new_vars.append(var - mom)
        else:
            new_vars.append(var - inc)
    return (step + 1, *new_vars, *new_vel, *new_mom, *new_avg)


def _adagrad_kernel(*args):
    step, lr, ts = args[0], args[1], args[2:-3]
    n, epsilon, decay = args[-3:]
    new_vars, new_acc = [], []
    for i in range(n):
        var, g, acc = ts[i], ts[n + i], ts[2 * n + i]
        lr_t = lr.to(var.dtype)
        g = g.to(var.dtype)
        var = _decayed(var, decay[i], lr_t)
        acc = acc + g * g
        new_acc.append(acc)
        new_vars.append(var - (lr_t * g).div_(torch.sqrt(acc + epsilon)))
    return (step + 1, *new_vars, *new_acc)


def _nadam_kernel(*args):
    step, lr, u_product, ts = args[0], args[1], args[2], args[3:-5]
    n, beta_1, beta_2, epsilon, decay = args[-5:]
    # The u_product update runs once per step, in u_product's dtype, before the variables.
    local = (step + 1).to(u_product.dtype)
    u_product = u_product * beta_1 * (1.0 - 0.5 * torch.pow(_full(0.96, local), local))
    coefs = {}
    new_vars, new_m, new_v = [], [], []
    for i in range(n):
        var, g, m, v = ts[i], ts[n + i], ts[2 * n + i], ts[3 * n + i]
        dt = var.dtype
        c = coefs.get(dt)
        if c is None:
            lr_t = lr.to(dt)
            local_step = (step + 1).to(dt)
            next_step = (step + 2).to(dt)
            decay_t = _cast(0.96, local_step)
            b1, b2 = _cast(beta_1, local_step), _cast(beta_2, local_step)
            u_t = b1 * (1.0 - 0.5 * torch.pow(decay_t, local_step))
            u_t_1 = b1 * (1.0 - 0.5 * torch.pow(decay_t, next_step))
            u_product_t = u_product.to(dt)
            u_product_t_1 = u_product_t * u_t_1
            b2p = torch.pow(b2, local_step)
            c = coefs[dt] = (lr_t, 1 - b1, 1 - b2, u_t, u_t_1, u_product_t, u_product_t_1, b2p)
        lr_t, one_b1, one_b2, u_t, u_t_1, up_t, up_t_1, b2p = c
        g = g.to(dt)
        var = _decayed(var, decay[i], lr_t)
        m = (g - m).mul_(one_b1).add_(m)
        v = (g * g).sub_(v).mul_(one_b2).add_(v)
        new_m.append(m)
        new_v.append(v)
        m_hat = (u_t_1 * m).div_(1 - up_t_1).add_(((1 - u_t) * g).div_(1 - up_t))
        v_hat = v / (1 - b2p)
        new_vars.append(var - (m_hat * lr_t).div_(torch.sqrt(v_hat).add_(epsilon)))
    return (step + 1, u_product, *new_vars, *new_m, *new_v)


# -- the Python side: read, run once, write back -------------------------------------------------

def _run(op, kernel, iterations, lr, variables, grads, slots, attrs, extra=(), count=True):
    """Runs one fused step and writes every result back to its variable (no re-validation:
    the kernel preserves each variable's dtype and shape). `count=False` leaves the step
    counter and per-step state alone (a single `update_step` call)."""
    inputs = [iterations.value(), lr, *[e.value() for e in extra],
              *[v.value() for v in variables], *grads]
    for group in slots:
        inputs.extend(s.value() for s in group)
    outs = execute(op, kernel, tuple(inputs), attrs)
    targets = [iterations, *extra] if count else [None] * (1 + len(extra))
    targets.extend(variables)
    for group in slots:
        targets.extend(group)
    for var, new in zip(targets, outs):
        if var is not None:
            var._write(new, "assign")


def apply_sgd(iterations, lr, variables, grads, momentums, momentum, nesterov, decay,
              count=True):
    slots = (momentums,) if momentum else ()
    _run(SGD, _sgd_kernel, iterations, lr, variables, grads, slots,
         (len(variables), float(momentum), bool(nesterov), decay), count=count)


def apply_adam(iterations, lr, variables, grads, ms, vs, vhats, beta_1, beta_2, epsilon,
               amsgrad, decay, count=True):
    slots = (ms, vs, vhats) if amsgrad else (ms, vs)
    _run(ADAM, _adam_kernel, iterations, lr, variables, grads, slots,
         (len(variables), float(beta_1), float(beta_2), float(epsilon), bool(amsgrad), decay),
         count=count)


def apply_rmsprop(iterations, lr, variables, grads, velocities, momentums, averages, rho,
                  momentum, epsilon, centered, decay, count=True):
    slots = [velocities]
    if momentum > 0:
        slots.append(momentums)
    if centered:
        slots.append(averages)
    _run(RMSPROP, _rmsprop_kernel, iterations, lr, variables, grads, slots,
         (len(variables), float(rho), float(momentum), float(epsilon), bool(centered), decay),
         count=count)


def apply_adagrad(iterations, lr, variables, grads, accumulators, epsilon, decay,
                  count=True):
    _run(ADAGRAD, _adagrad_kernel, iterations, lr, variables, grads, (accumulators,),
         (len(variables), float(epsilon), decay), count=count)


def apply_nadam(iterations, lr, u_product, variables, grads, ms, vs, beta_1, beta_2, epsilon,
                decay, count=True):
    _run(NADAM, _nadam_kernel, iterations, lr, variables, grads, (ms, vs),
         (len(variables), float(beta_1), float(beta_2), float(epsilon), decay),
         extra=(u_product,), count=count)
