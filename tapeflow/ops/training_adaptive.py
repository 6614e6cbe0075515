"""Fused optimizer updates, per-coordinate accumulator family: RMSprop, Adagrad, Adadelta,
Ftrl and Adafactor, one op per optimizer step.

Like `training.py` (the first-moment family), each kernel follows Keras 3's `update_step`
operation by operation with `_foreach` ops over all variables of a dtype; `_fused_update.py`
has the kernel convention and the numerics policy. Adafactor also reduces each variable
(its RMS, and the row and column means of a factored second moment), so it runs a few
per-variable reductions inside its one op.
"""
import torch

from tapeflow.ops._fused_update import (as_dtype, blend, const, decayed, flat, keras_cast, run,
                                        run_groups, sub_ratio)
from tapeflow.ops._op import define

RMSPROP = define("FusedApplyRMSProp", differentiable=False)
ADAGRAD = define("FusedApplyAdagrad", differentiable=False)
ADADELTA = define("FusedApplyAdadelta", differentiable=False)
FTRL = define("FusedApplyFtrl", differentiable=False)
ADAFACTOR = define("FusedApplyAdafactor", differentiable=False)


# -- kernels: each group function mirrors Keras 3's update_step op by op ----------------------

def _squares_blend(slots, keep, grads, take):
    """`keep * slot + take * g^2` (Keras's `rho * acc + (1 - rho) * square(g)`)."""
    sq = torch._foreach_mul(grads, grads)
    torch._foreach_mul_(sq, take)
    out = torch._foreach_mul(slots, keep)
    torch._foreach_add_(out, sq)
    return out


def _rmsprop_group(step, lr, lists, decay, rho, momentum, epsilon, centered):
    variables, grads = decayed(lists[0], decay, lr), as_dtype(lists[1], lr.dtype)
    vel = _squares_blend(lists[2], const(rho, lr), grads, const(1 - rho, lr))
    slots, j = [vel], 3
    if momentum > 0:
        moms, j = lists[j], j + 1
    if centered:                                                # rho * avg + (1 - rho) * g
        avg = blend(lists[j], const(rho, lr), grads, const(1 - rho, lr))
        den = torch._foreach_sub(vel, torch._foreach_mul(avg, avg))
        torch._foreach_add_(den, epsilon)
    else:
        den = torch._foreach_add(vel, epsilon)
    inc = torch._foreach_mul(grads, lr)                         # lr * g / sqrt(den)
    if momentum > 0:
        torch._foreach_div_(inc, torch._foreach_sqrt(den))
        mom = torch._foreach_mul(moms, const(momentum, lr))
        torch._foreach_add_(mom, inc)
        new_vars = torch._foreach_sub(variables, mom)
        slots.append(mom)
    else:
        new_vars = sub_ratio(variables, inc, torch._foreach_sqrt(den))
    if centered:
        slots.append(avg)
    return [new_vars, *slots]


def _rmsprop_kernel(*args):
    step, lr, ts = args[0], args[1], args[2:-6]
    n, rho, momentum, epsilon, centered, decay = args[-6:]
    return flat(step, run_groups(_rmsprop_group, step, lr, ts, n, decay,
                                 (rho, momentum, epsilon, centered)))


def _adagrad_group(step, lr, lists, decay, epsilon):
    variables, grads = decayed(lists[0], decay, lr), as_dtype(lists[1], lr.dtype)
    acc = torch._foreach_add(lists[2], torch._foreach_mul(grads, grads))
    den = torch._foreach_sqrt(torch._foreach_add(acc, epsilon))  # lr * g / sqrt(acc + eps)
    return [sub_ratio(variables, torch._foreach_mul(grads, lr), den), acc]


def _adagrad_kernel(*args):
    step, lr, ts = args[0], args[1], args[2:-3]
    n, epsilon, decay = args[-3:]
    return flat(step, run_groups(_adagrad_group, step, lr, ts, n, decay, (epsilon,)))


def _adadelta_group(step, lr, lists, decay, rho, epsilon):
    variables, grads = decayed(lists[0], decay, lr), as_dtype(lists[1], lr.dtype)
    keep, take = const(rho, lr), const(1 - rho, lr)
    acc_grad = _squares_blend(lists[2], keep, grads, take)
    delta = torch._foreach_sqrt(torch._foreach_add(lists[3], epsilon))  # -(rms(dx) g / rms(acc))
    torch._foreach_mul_(delta, grads)
    torch._foreach_div_(delta, torch._foreach_sqrt(torch._foreach_add(acc_grad, epsilon)))
    torch._foreach_neg_(delta)
    acc_delta = _squares_blend(lists[3], keep, delta, take)
    step_ = torch._foreach_mul(delta, lr)                       # var + lr * delta
    return [torch._foreach_add(variables, step_), acc_grad, acc_delta]


def _adadelta_kernel(*args):
    step, lr, ts = args[0], args[1], args[2:-4]
    n, rho, epsilon, decay = args[-4:]
    return flat(step, run_groups(_adadelta_group, step, lr, ts, n, decay, (rho, epsilon)))


def _ftrl_group(step, lr, lists, decay, lr_power, l1, l2, l2_shrinkage, beta):
    variables, grads = decayed(lists[0], decay, lr), as_dtype(lists[1], lr.dtype)
    accum, linear = lists[2], lists[3]
    grad_to_use = grads                                         # g + 2 * l2_shrinkage * var
    if l2_shrinkage:
        grad_to_use = torch._foreach_add(
            grads, torch._foreach_mul(variables, const(2 * l2_shrinkage, lr)))
    new_accum = torch._foreach_add(accum, torch._foreach_mul(grads, grads))
    # A Python exponent: torch computes `x ** 0.5` (the default) as `sqrt`, 5x faster than
    # its general `pow` (each within an ulp of TF's `pow`, which is not correctly rounded).
    power = -lr_power
    power_new = torch._foreach_pow(new_accum, power)
    sigma = torch._foreach_sub(power_new, torch._foreach_pow(accum, power))
    torch._foreach_div_(sigma, lr)                              # linear + (g' - sigma * var)
    torch._foreach_mul_(sigma, variables)
    new_linear = torch._foreach_add(linear, torch._foreach_sub(grad_to_use, sigma))
    two_l2 = 2 * (l2 + beta / (2.0 * lr))                       # a tensor of lr's dtype
    quadratic = torch._foreach_div(power_new, lr)
    torch._foreach_add_(quadratic, [two_l2] * len(quadratic))
    clipped = torch._foreach_clamp_min(torch._foreach_clamp_max(new_linear, l1), -l1)
    new_vars = torch._foreach_sub(clipped, new_linear)          # (clip(linear) - linear) / quad
    torch._foreach_div_(new_vars, quadratic)
    return [new_vars, new_accum, new_linear]


def _ftrl_kernel(*args):
    step, lr, ts = args[0], args[1], args[2:-7]
    n, lr_power, l1, l2, l2_shrinkage, beta, decay = args[-7:]
    return flat(step, run_groups(_ftrl_group, step, lr, ts, n, decay,
                                 (lr_power, l1, l2, l2_shrinkage, beta)))


def _rms(tensors):
    """Each tensor's `sqrt(mean(square(x)))`, as a list of 0-d tensors."""
    return torch._foreach_sqrt([sq.mean() for sq in torch._foreach_mul(tensors, tensors)])


def _adafactor_group(step, lr, lists, decay, beta_2_decay, epsilon_1, epsilon_2,
                     clip_threshold, relative_step):
    variables, grads = decayed(lists[0], decay, lr), as_dtype(lists[1], lr.dtype)
    vs, rs, cs = lists[2], lists[3], lists[4]
    local_step = (step + 1).to(lr.dtype)
    inv_sqrt_step = 1 / torch.sqrt(local_step)
    if relative_step:
        lr = torch.minimum(lr, inv_sqrt_step)
    rho_t = torch.minimum(lr, inv_sqrt_step)
    eps_2 = keras_cast(epsilon_2, lr)
    alphas = [torch.maximum(eps_2, r) * rho_t for r in _rms(variables)]
    regulated = torch._foreach_mul(grads, grads)                 # g^2 + epsilon_1
    torch._foreach_add_(regulated, epsilon_1)
    beta_2_t = 1 - torch.pow(local_step, beta_2_decay)
    keep = 1 - beta_2_t
    new_vs, new_rs, new_cs = [None] * len(vs), [None] * len(vs), [None] * len(vs)
    dense = [i for i, r in enumerate(rs) if r is None]
    if dense:
        blended = blend([vs[i] for i in dense], beta_2_t, [regulated[i] for i in dense], keep)
        for i, v in zip(dense, blended):
            new_vs[i] = v
    for i, (r, c) in enumerate(zip(rs, cs)):
        if r is None:
            continue
        # Factored second moment: row and column means of g^2, their outer product
        # normalised by the mean row.
        r = beta_2_t * r + keep * regulated[i].mean(dim=-1)
        c = beta_2_t * c + keep * regulated[i].mean(dim=-2)
        new_rs[i], new_cs[i] = r, c
        new_vs[i] = (r / r.mean(dim=-1, keepdim=True)).unsqueeze(-1) * c.unsqueeze(-2)
    u = torch._foreach_div(grads, torch._foreach_sqrt(new_vs))   # g / sqrt(v), clipped by RMS
    one = const(1.0, lr)
    torch._foreach_div_(u, [torch.maximum(one, r / clip_threshold) for r in _rms(u)])
    torch._foreach_mul_(u, alphas)
    return [torch._foreach_sub(variables, u), new_vs, new_rs, new_cs]


def _adafactor_kernel(*args):
    step, lr, ts = args[0], args[1], args[2:-8]
    n, factored, beta_2_decay, epsilon_1, epsilon_2, clip_threshold, relative_step, decay = \
        args[-8:]
    # Only factored variables (2-D and more) pass row and column moments in; the groups see
    # None in the others' places.
    nf = sum(factored)
    rs, cs = iter(ts[3 * n:3 * n + nf]), iter(ts[3 * n + nf:])
    rs = [next(rs) if f else None for f in factored]
    cs = [next(cs) if f else None for f in factored]
    new_vars, new_vs, new_rs, new_cs = run_groups(
        _adafactor_group, step, lr, (*ts[:3 * n], *rs, *cs), n, decay,
        (beta_2_decay, epsilon_1, epsilon_2, clip_threshold, relative_step))
    return (step + 1, *new_vars, *new_vs, *[r for r in new_rs if r is not None],
            *[c for c in new_cs if c is not None])


# -- the Python side ---------------------------------------------------------------------------

def apply_rmsprop(iterations, lr, variables, grads, velocities, momentums, averages, rho,
                  momentum, epsilon, centered, decay, count=True):
    slots = [velocities]
    if momentum > 0:
        slots.append(momentums)
    if centered:
        slots.append(averages)
    run(RMSPROP, _rmsprop_kernel, iterations, lr, variables, grads, slots,
        (len(variables), float(rho), float(momentum), float(epsilon), bool(centered), decay),
        count=count)


def apply_adagrad(iterations, lr, variables, grads, accumulators, epsilon, decay, count=True):
    run(ADAGRAD, _adagrad_kernel, iterations, lr, variables, grads, (accumulators,),
        (len(variables), float(epsilon), decay), count=count)


def apply_adadelta(iterations, lr, variables, grads, accumulated_grads, accumulated_deltas, rho,
                   epsilon, decay, count=True):
    run(ADADELTA, _adadelta_kernel, iterations, lr, variables, grads,
        (accumulated_grads, accumulated_deltas), (len(variables), float(rho), float(epsilon),
                                                  decay), count=count)


def apply_ftrl(iterations, lr, variables, grads, accumulators, linears, learning_rate_power,
               l1, l2, l2_shrinkage, beta, decay, count=True):
    run(FTRL, _ftrl_kernel, iterations, lr, variables, grads, (accumulators, linears),
        (len(variables), float(learning_rate_power), float(l1), float(l2),
         float(l2_shrinkage), float(beta), decay), count=count)


def apply_adafactor(iterations, lr, variables, grads, velocities, rows, columns, beta_2_decay,
                    epsilon_1, epsilon_2, clip_threshold, relative_step, decay, count=True):
    """`rows`/`columns`: the factored moments of the variables of rank 2 and more, in order."""
    factored = tuple(len(v.shape) >= 2 for v in variables)
    run(ADAFACTOR, _adafactor_kernel, iterations, lr, variables, grads,
        (velocities, rows, columns),
        (len(variables), factored, float(beta_2_decay), float(epsilon_1), float(epsilon_2),
         float(clip_threshold), bool(relative_step), decay), count=count)
