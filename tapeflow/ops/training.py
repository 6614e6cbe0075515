"""Fused optimizer updates (the role of TF's `training_ops`), first-moment family: SGD with
momentum, Adam/AdamW, Nadam, Adamax and Lion, one op per optimizer step; and the all-finite
check of dynamic loss scaling.

Each optimizer's whole step (weight decay, slot updates, variable update, iteration increment)
is one kernel over all variables, written with `_foreach` ops and following Keras 3's
`update_step` operation by operation (`_fused_update.py` has the kernel convention and the
numerics policy). The per-coordinate accumulator family (RMSprop, Adagrad, Adadelta, Ftrl,
Adafactor) is in `training_adaptive.py`.
"""
import torch

from tapeflow.ops._fused_update import (as_dtype, blend, const, decayed, flat, keras_cast, run,
                                        run_groups, sub_ratio)
from tapeflow.ops._op import define, execute

SGD = define("FusedApplySGD", differentiable=False)
ADAM = define("FusedApplyAdam", differentiable=False)
NADAM = define("FusedApplyNadam", differentiable=False)
ADAMAX = define("FusedApplyAdaMax", differentiable=False)
LION = define("FusedApplyLion", differentiable=False)
ALL_FINITE = define("FusedAllFinite", differentiable=False)


# -- kernels: each group function mirrors Keras 3's update_step op by op ----------------------

def _sgd_group(step, lr, lists, decay, momentum, nesterov):
    variables, grads = decayed(lists[0], decay, lr), as_dtype(lists[1], lr.dtype)
    scaled = torch._foreach_mul(grads, lr)                      # g * lr
    if not momentum:
        return [torch._foreach_sub(variables, scaled)]
    mom = keras_cast(momentum, lr)                              # m * momentum - g * lr
    m = torch._foreach_mul(lists[2], mom)
    torch._foreach_sub_(m, scaled)
    if nesterov:
        upd = torch._foreach_mul(m, mom)
        torch._foreach_sub_(upd, scaled)
        return [torch._foreach_add(variables, upd), m]
    return [torch._foreach_add(variables, m), m]


def _sgd_kernel(*args):
    step, lr, ts = args[0], args[1], args[2:-4]
    n, momentum, nesterov, decay = args[-4:]
    return flat(step, run_groups(_sgd_group, step, lr, ts, n, decay, (momentum, nesterov)))


def _moments(grads, ms, vs, one_minus_b1, one_minus_b2):
    """Adam's moment updates: `m + (g - m) * (1 - b1)` and `v + (g^2 - v) * (1 - b2)`."""
    m = torch._foreach_sub(grads, ms)
    torch._foreach_mul_(m, one_minus_b1)
    torch._foreach_add_(m, ms)
    v = torch._foreach_mul(grads, grads)
    torch._foreach_sub_(v, vs)
    torch._foreach_mul_(v, one_minus_b2)
    torch._foreach_add_(v, vs)
    return m, v


def _adam_group(step, lr, lists, decay, beta_1, beta_2, epsilon, amsgrad):
    local_step = (step + 1).to(lr.dtype)
    b1p = torch.pow(keras_cast(beta_1, local_step), local_step)
    b2p = torch.pow(keras_cast(beta_2, local_step), local_step)
    alpha = lr * torch.sqrt(1 - b2p) / (1 - b1p)
    variables, grads = decayed(lists[0], decay, lr), as_dtype(lists[1], lr.dtype)
    m, v = _moments(grads, lists[2], lists[3], const(1 - beta_1, lr), const(1 - beta_2, lr))
    slots = [m, v]
    if amsgrad:
        v = torch._foreach_maximum(lists[4], v)
        slots.append(v)
    den = torch._foreach_sqrt(v)                                # var - m * alpha / (sqrt(v) + eps)
    torch._foreach_add_(den, epsilon)
    return [sub_ratio(variables, torch._foreach_mul(m, alpha), den), *slots]


def _adam_kernel(*args):
    step, lr, ts = args[0], args[1], args[2:-6]
    n, beta_1, beta_2, epsilon, amsgrad, decay = args[-6:]
    return flat(step, run_groups(_adam_group, step, lr, ts, n, decay,
                                 (beta_1, beta_2, epsilon, amsgrad)))


def _nadam_group(step, lr, lists, decay, beta_1, beta_2, epsilon, u_product):
    local_step, next_step = (step + 1).to(lr.dtype), (step + 2).to(lr.dtype)
    decay_t = keras_cast(0.96, local_step)
    b1, b2 = keras_cast(beta_1, local_step), keras_cast(beta_2, local_step)
    u_t = b1 * (1.0 - 0.5 * torch.pow(decay_t, local_step))
    u_t_1 = b1 * (1.0 - 0.5 * torch.pow(decay_t, next_step))
    up_t = u_product.to(lr.dtype)
    up_t_1 = up_t * u_t_1
    b2p = torch.pow(b2, local_step)
    variables, grads = decayed(lists[0], decay, lr), as_dtype(lists[1], lr.dtype)
    m, v = _moments(grads, lists[2], lists[3], 1 - b1, 1 - b2)
    m_hat = torch._foreach_mul(m, u_t_1)                        # u_t_1 m / (1 - up_t_1)
    torch._foreach_div_(m_hat, 1 - up_t_1)
    g_part = torch._foreach_mul(grads, 1 - u_t)                 # + (1 - u_t) g / (1 - up_t)
    torch._foreach_div_(g_part, 1 - up_t)
    torch._foreach_add_(m_hat, g_part)
    den = torch._foreach_sqrt(torch._foreach_div(v, 1 - b2p))   # sqrt(v / (1 - b2^t)) + eps
    torch._foreach_add_(den, epsilon)
    torch._foreach_mul_(m_hat, lr)
    return [sub_ratio(variables, m_hat, den), m, v]


def _nadam_kernel(*args):
    step, lr, u_product, ts = args[0], args[1], args[2], args[3:-5]
    n, beta_1, beta_2, epsilon, decay = args[-5:]
    # u_product advances once per step, in its own dtype, before the variables update.
    local = (step + 1).to(u_product.dtype)
    u_product = u_product * beta_1 * (1.0 - 0.5 * torch.pow(const(0.96, local), local))
    outs = run_groups(_nadam_group, step, lr, ts, n, decay, (beta_1, beta_2, epsilon),
                      (u_product,))
    return flat(step, outs, (u_product,))


def _adamax_group(step, lr, lists, decay, beta_1, beta_2, epsilon):
    local_step = (step + 1).to(lr.dtype)
    b1p = torch.pow(keras_cast(beta_1, local_step), local_step)
    variables, grads = decayed(lists[0], decay, lr), as_dtype(lists[1], lr.dtype)
    ms, us = lists[2], lists[3]
    m = torch._foreach_sub(grads, ms)                           # m + (g - m) * (1 - b1)
    torch._foreach_mul_(m, const(1 - beta_1, lr))
    torch._foreach_add_(m, ms)
    u = torch._foreach_mul(us, const(beta_2, lr))               # max(b2 * u, |g|)
    torch._foreach_maximum_(u, torch._foreach_abs(grads))
    den = torch._foreach_add(u, epsilon)                        # var - lr m / ((1 - b1^t)(u + eps))
    torch._foreach_mul_(den, 1 - b1p)
    return [sub_ratio(variables, torch._foreach_mul(m, lr), den), m, u]


def _adamax_kernel(*args):
    step, lr, ts = args[0], args[1], args[2:-5]
    n, beta_1, beta_2, epsilon, decay = args[-5:]
    return flat(step, run_groups(_adamax_group, step, lr, ts, n, decay,
                                 (beta_1, beta_2, epsilon)))


def _lion_group(step, lr, lists, decay, beta_1, beta_2):
    b1, b2 = keras_cast(beta_1, lr), keras_cast(beta_2, lr)
    variables, grads = decayed(lists[0], decay, lr), as_dtype(lists[1], lr.dtype)
    ms = lists[2]
    upd = torch._foreach_sign(blend(ms, b1, grads, 1.0 - b1))  # lr * sign(m b1 + g (1 - b1))
    torch._foreach_mul_(upd, lr)
    return [torch._foreach_sub(variables, upd), blend(ms, b2, grads, 1.0 - b2)]


def _lion_kernel(*args):
    step, lr, ts = args[0], args[1], args[2:-4]
    n, beta_1, beta_2, decay = args[-4:]
    return flat(step, run_groups(_lion_group, step, lr, ts, n, decay, (beta_1, beta_2)))


def _all_finite_kernel(*grads):
    # A tensor's largest magnitude is finite exactly when all its elements are (amax
    # propagates NaN): two cheap passes, where isfinite + all or an inf-norm cost 5-15x more.
    peaks = [a.amax().to(torch.float64) for a in torch._foreach_abs(grads) if a.numel()]
    if not peaks:
        return torch.ones((), dtype=torch.bool, device=grads[0].device)
    return torch.isfinite(torch.stack(peaks)).all()


# -- the Python side ---------------------------------------------------------------------------

def apply_sgd(iterations, lr, variables, grads, momentums, momentum, nesterov, decay,
              count=True):
    slots = (momentums,) if momentum else ()
    run(SGD, _sgd_kernel, iterations, lr, variables, grads, slots,
        (len(variables), float(momentum), bool(nesterov), decay), count=count)


def apply_adam(iterations, lr, variables, grads, ms, vs, vhats, beta_1, beta_2, epsilon,
               amsgrad, decay, count=True):
    slots = (ms, vs, vhats) if amsgrad else (ms, vs)
    run(ADAM, _adam_kernel, iterations, lr, variables, grads, slots,
        (len(variables), float(beta_1), float(beta_2), float(epsilon), bool(amsgrad), decay),
        count=count)


def apply_nadam(iterations, lr, u_product, variables, grads, ms, vs, beta_1, beta_2, epsilon,
                decay, count=True):
    run(NADAM, _nadam_kernel, iterations, lr, variables, grads, (ms, vs),
        (len(variables), float(beta_1), float(beta_2), float(epsilon), decay),
        extra=(u_product,), count=count)


def apply_adamax(iterations, lr, variables, grads, ms, us, beta_1, beta_2, epsilon, decay,
                 count=True):
    run(ADAMAX, _adamax_kernel, iterations, lr, variables, grads, (ms, us),
        (len(variables), float(beta_1), float(beta_2), float(epsilon), decay), count=count)


def apply_lion(iterations, lr, variables, grads, ms, beta_1, beta_2, decay, count=True):
    run(LION, _lion_kernel, iterations, lr, variables, grads, (ms,),
        (len(variables), float(beta_1), float(beta_2), decay), count=count)


def all_finite(tensors):
    """A boolean scalar: whether every element of every tensor is finite."""
    return execute(ALL_FINITE, _all_finite_kernel, tuple(tensors))
