"""Fused optimizer updates (the role of TF's `training_ops`): one op per optimizer step.

Keras optimizers update every trainable variable once per training step. Written as separate
ops that is a dozen dispatches per variable; here each optimizer's whole step (weight decay,
slot updates, variable update, iteration increment) is one kernel over all variables, written
with torch's `_foreach` ops (one dispatch per operation for all variables of a dtype; fused
multi-tensor kernels on CUDA). The arithmetic follows Keras 3's `update_step` operation by
operation (same casts, same epsilon placement, same order, no fused multiply-adds), so
results match Keras's to the ulp: float64 bit for bit; in float32 an element now and then
differs by one ulp, because torch's vectorized CPU `sqrt` (and `pow`) are not always
correctly rounded where TF's are.

Each kernel is pure: it takes `(iterations, learning_rate, *variables, *gradients, *slots)`
followed by its attrs (variable count, hyperparameters, per-variable weight decay) and
returns `(iterations + 1, *new_variables, *new_slots)`; `_run()` reads the variables,
runs the op and writes the results back, so a tf.function trace records one op and the
variable reads/writes around it.
"""
import struct

import torch

from tapeflow.ops._op import define, execute

SGD = define("FusedApplySGD", differentiable=False)
ADAM = define("FusedApplyAdam", differentiable=False)
RMSPROP = define("FusedApplyRMSProp", differentiable=False)
ADAGRAD = define("FusedApplyAdagrad", differentiable=False)
NADAM = define("FusedApplyNadam", differentiable=False)


_CONSTANTS = {}


def _full(value, like):
    """A cached 0-d tensor of `like`'s dtype and device: ops with a tensor operand skip the
    Python-scalar wrapping torch does on every call (half the cost of a small op). Only
    `_foreach_mul`/`_foreach_div` take one: `_foreach_add`/`_sub` would call `.item()` on it
    (a device sync, and impossible on the meta tensors of a trace), so they get floats."""
    key = (value, like.dtype, like.device)
    t = _CONSTANTS.get(key)
    if t is None:
        if like.device.type == "cuda" and torch.cuda.is_current_stream_capturing():
            # Made inside a CUDA-graph capture, it would live in the graph's memory pool.
            return torch.full((), value, dtype=like.dtype, device=like.device)
        if len(_CONSTANTS) > 1024:
            _CONSTANTS.clear()
        t = _CONSTANTS[key] = torch.full((), value, dtype=like.dtype, device=like.device)
    return t


def _cast(value, like):
    """A Python float as Keras's `ops.cast(value, dtype)` makes it: through float32 first."""
    return _full(struct.unpack("f", struct.pack("f", value))[0], like)


def _decayed(variables, decay, lr):
    """Keras's decoupled weight decay, applied before the update: `var - var * wd * lr`."""
    if not any(wd is not None for wd in decay):
        return variables
    return [v if wd is None else v - (v * wd) * lr for v, wd in zip(variables, decay)]


def _as(tensors, dtype):
    return [t if t.dtype == dtype else t.to(dtype) for t in tensors]


def _run_groups(group_fn, step, lr, ts, n, decay, hyper, extra=()):
    """Splits the packed tensors into lists of `n` (variables, gradients, slots...), runs
    `group_fn(step, lr, lists, decay, *hyper, *extra)` once per variable dtype (with `_foreach`
    ops: one dispatch per operation for all variables of a dtype) and returns its output
    lists, each in variable order."""
    lists = [list(ts[j:j + n]) for j in range(0, len(ts), n)]
    dt = lists[0][0].dtype
    if all(v.dtype == dt for v in lists[0]):
        return group_fn(step, lr.to(dt), lists, decay, *hyper, *extra)
    groups = {}
    for i, v in enumerate(lists[0]):
        groups.setdefault(v.dtype, []).append(i)
    outs = None
    for dt, idx in groups.items():
        sub = [[seq[i] for i in idx] for seq in lists]
        res = group_fn(step, lr.to(dt), sub, tuple(decay[i] for i in idx), *hyper, *extra)
        if outs is None:
            outs = [[None] * n for _ in res]
        for out, part in zip(outs, res):
            for i, t in zip(idx, part):
                out[i] = t
    return outs


def _sub_ratio(variables, numerators, denominators):
    """`var - num / den` in one pass: addcdiv with value -1 rounds exactly like the division
    followed by the subtraction (negation is exact, and no multiply-add is fused)."""
    return torch._foreach_addcdiv(variables, numerators, denominators, value=-1.0)


def _flat(step, outs, extra=()):
    return (step + 1, *extra, *[t for seq in outs for t in seq])


# -- kernels: each group function mirrors Keras 3's update_step op by op ----------------------

def _sgd_group(step, lr, lists, decay, momentum, nesterov):
    variables, grads = _decayed(lists[0], decay, lr), _as(lists[1], lr.dtype)
    scaled = torch._foreach_mul(grads, lr)                      # g * lr
    if not momentum:
        return [torch._foreach_sub(variables, scaled)]
    m = torch._foreach_mul(lists[2], _full(momentum, lr))                  # m * momentum - g * lr
    torch._foreach_sub_(m, scaled)
    if nesterov:
        upd = torch._foreach_mul(m, _full(momentum, lr))
        torch._foreach_sub_(upd, scaled)
        return [torch._foreach_add(variables, upd), m]
    return [torch._foreach_add(variables, m), m]


def _sgd_kernel(*args):
    step, lr, ts = args[0], args[1], args[2:-4]
    n, momentum, nesterov, decay = args[-4:]
    return _flat(step, _run_groups(_sgd_group, step, lr, ts, n, decay, (momentum, nesterov)))


def _adam_group(step, lr, lists, decay, beta_1, beta_2, epsilon, amsgrad):
    local_step = (step + 1).to(lr.dtype)
    b1p = torch.pow(_cast(beta_1, local_step), local_step)
    b2p = torch.pow(_cast(beta_2, local_step), local_step)
    alpha = lr * torch.sqrt(1 - b2p) / (1 - b1p)
    variables, grads = _decayed(lists[0], decay, lr), _as(lists[1], lr.dtype)
    ms, vs = lists[2], lists[3]
    m = torch._foreach_sub(grads, ms)                           # m + (g - m) * (1 - b1)
    torch._foreach_mul_(m, _full(1 - beta_1, lr))
    torch._foreach_add_(m, ms)
    v = torch._foreach_mul(grads, grads)                        # v + (g^2 - v) * (1 - b2)
    torch._foreach_sub_(v, vs)
    torch._foreach_mul_(v, _full(1 - beta_2, lr))
    torch._foreach_add_(v, vs)
    slots = [m, v]
    if amsgrad:
        v = torch._foreach_maximum(lists[4], v)
        slots.append(v)
    den = torch._foreach_sqrt(v)                                # var - m * alpha / (sqrt(v) + eps)
    torch._foreach_add_(den, epsilon)
    return [_sub_ratio(variables, torch._foreach_mul(m, alpha), den), *slots]


def _adam_kernel(*args):
    step, lr, ts = args[0], args[1], args[2:-6]
    n, beta_1, beta_2, epsilon, amsgrad, decay = args[-6:]
    return _flat(step, _run_groups(_adam_group, step, lr, ts, n, decay,
                                   (beta_1, beta_2, epsilon, amsgrad)))


def _rmsprop_group(step, lr, lists, decay, rho, momentum, epsilon, centered):
    variables, grads = _decayed(lists[0], decay, lr), _as(lists[1], lr.dtype)
    vel = torch._foreach_mul(lists[2], _full(rho, lr))                     # rho * vel + (1 - rho) * g^2
    sq = torch._foreach_mul(grads, grads)
    torch._foreach_mul_(sq, _full(1 - rho, lr))
    torch._foreach_add_(vel, sq)
    slots, j = [vel], 3
    if momentum > 0:
        moms, j = lists[j], j + 1
    if centered:
        avg = torch._foreach_mul(lists[j], _full(rho, lr))                 # rho * avg + (1 - rho) * g
        torch._foreach_add_(avg, torch._foreach_mul(grads, _full(1 - rho, lr)))
        den = torch._foreach_sub(vel, torch._foreach_mul(avg, avg))
        torch._foreach_add_(den, epsilon)
    else:
        den = torch._foreach_add(vel, epsilon)
    inc = torch._foreach_mul(grads, lr)                         # lr * g / sqrt(den)
    if momentum > 0:
        torch._foreach_div_(inc, torch._foreach_sqrt(den))
        mom = torch._foreach_mul(moms, _full(momentum, lr))
        torch._foreach_add_(mom, inc)
        new_vars = torch._foreach_sub(variables, mom)
        slots.append(mom)
    else:
        new_vars = _sub_ratio(variables, inc, torch._foreach_sqrt(den))
    if centered:
        slots.append(avg)
    return [new_vars, *slots]


def _rmsprop_kernel(*args):
    step, lr, ts = args[0], args[1], args[2:-6]
    n, rho, momentum, epsilon, centered, decay = args[-6:]
    return _flat(step, _run_groups(_rmsprop_group, step, lr, ts, n, decay,
                                   (rho, momentum, epsilon, centered)))


def _adagrad_group(step, lr, lists, decay, epsilon):
    variables, grads = _decayed(lists[0], decay, lr), _as(lists[1], lr.dtype)
    acc = torch._foreach_add(lists[2], torch._foreach_mul(grads, grads))
    den = torch._foreach_sqrt(torch._foreach_add(acc, epsilon))  # lr * g / sqrt(acc + eps)
    return [_sub_ratio(variables, torch._foreach_mul(grads, lr), den), acc]


def _adagrad_kernel(*args):
    step, lr, ts = args[0], args[1], args[2:-3]
    n, epsilon, decay = args[-3:]
    return _flat(step, _run_groups(_adagrad_group, step, lr, ts, n, decay, (epsilon,)))


def _nadam_group(step, lr, lists, decay, beta_1, beta_2, epsilon, u_product):
    local_step, next_step = (step + 1).to(lr.dtype), (step + 2).to(lr.dtype)
    decay_t = _cast(0.96, local_step)
    b1, b2 = _cast(beta_1, local_step), _cast(beta_2, local_step)
    u_t = b1 * (1.0 - 0.5 * torch.pow(decay_t, local_step))
    u_t_1 = b1 * (1.0 - 0.5 * torch.pow(decay_t, next_step))
    up_t = u_product.to(lr.dtype)
    up_t_1 = up_t * u_t_1
    b2p = torch.pow(b2, local_step)
    variables, grads = _decayed(lists[0], decay, lr), _as(lists[1], lr.dtype)
    ms, vs = lists[2], lists[3]
    m = torch._foreach_sub(grads, ms)
    torch._foreach_mul_(m, 1 - b1)
    torch._foreach_add_(m, ms)
    v = torch._foreach_mul(grads, grads)
    torch._foreach_sub_(v, vs)
    torch._foreach_mul_(v, 1 - b2)
    torch._foreach_add_(v, vs)
    m_hat = torch._foreach_mul(m, u_t_1)                        # u_t_1 m / (1 - up_t_1)
    torch._foreach_div_(m_hat, 1 - up_t_1)
    g_part = torch._foreach_mul(grads, 1 - u_t)                 # + (1 - u_t) g / (1 - up_t)
    torch._foreach_div_(g_part, 1 - up_t)
    torch._foreach_add_(m_hat, g_part)
    den = torch._foreach_sqrt(torch._foreach_div(v, 1 - b2p))   # sqrt(v / (1 - b2^t)) + eps
    torch._foreach_add_(den, epsilon)
    torch._foreach_mul_(m_hat, lr)
    return [_sub_ratio(variables, m_hat, den), m, v]


def _nadam_kernel(*args):
    step, lr, u_product, ts = args[0], args[1], args[2], args[3:-5]
    n, beta_1, beta_2, epsilon, decay = args[-5:]
    # u_product advances once per step, in its own dtype, before the variables update.
    local = (step + 1).to(u_product.dtype)
    u_product = u_product * beta_1 * (1.0 - 0.5 * torch.pow(_full(0.96, local), local))
    outs = _run_groups(_nadam_group, step, lr, ts, n, decay, (beta_1, beta_2, epsilon),
                       (u_product,))
    return _flat(step, outs, (u_product,))


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
