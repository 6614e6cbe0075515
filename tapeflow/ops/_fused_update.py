"""How a fused optimizer step runs: the machinery the kernels of `training.py` and
`training_adaptive.py` share.

A fused kernel is pure: it takes `(iterations, learning_rate, *extra, *variables, *gradients,
*slots)` followed by hashable attrs (variable count, hyperparameters, per-variable weight
decay) and returns `(iterations + 1, *extra, *new_variables, *new_slots)`. `run()` reads the
variables, executes the op once and writes every result back, so a tf.function trace records
one op between the variable reads and writes, and an eager step is one dispatch. Inside, a
kernel works on lists with torch's `_foreach` ops: one call per arithmetic operation for all
variables of a dtype (fused multi-tensor kernels on CUDA).

Numerics follow Keras 3's `update_step` operation by operation: the same casts (a Python
hyperparameter that Keras passes through `ops.cast` is rounded to float32 first, `keras_cast`),
the same epsilon placement, the same order, no fused multiply-adds. What differs is the
rounding of a few torch kernels: torch's vectorized CPU `sqrt` and `pow` are within one ulp but
not always correctly rounded (TF's `sqrt` is), and reductions sum in another order.
"""
import struct

import torch

from tapeflow.ops._op import execute

_CONSTANTS = {}


def const(value, like):
    """A cached 0-d tensor of `like`'s dtype and device: ops with a tensor operand skip the
    Python-scalar wrapping torch does on every call (half the cost of a small op). Only
    `_foreach_mul`/`_foreach_div` take one: `_foreach_add`/`_sub` would call `.item()` on it
    (a device sync, and impossible on the meta tensors of a trace), so they get floats or
    lists of tensors."""
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


def keras_cast(value, like):
    """A Python float as Keras's `ops.cast(value, dtype)` makes it: through float32 first."""
    return const(struct.unpack("f", struct.pack("f", value))[0], like)


def decayed(variables, decay, lr):
    """Keras's decoupled weight decay, applied before the update: `var - var * wd * lr`, with
    `wd` cast as Keras casts it."""
    if not any(wd is not None for wd in decay):
        return variables
    return [v if wd is None else v - (v * keras_cast(wd, v)) * lr
            for v, wd in zip(variables, decay)]


def as_dtype(tensors, dtype):
    return [t if t.dtype == dtype else t.to(dtype) for t in tensors]


def run_groups(group_fn, step, lr, ts, n, decay, hyper, extra=()):
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


def sub_ratio(variables, numerators, denominators):
    """`var - num / den` in one pass: addcdiv with value -1 rounds exactly like the division
    followed by the subtraction (negation is exact, and no multiply-add is fused)."""
    return torch._foreach_addcdiv(variables, numerators, denominators, value=-1.0)


def blend(slots, keep, grads, take):
    """`keep * slot + take * grad` for each slot, Keras's order of the two products."""
    out = torch._foreach_mul(slots, keep)
    torch._foreach_add_(out, torch._foreach_mul(grads, take))
    return out


def flat(step, outs, extra=()):
    return (step + 1, *extra, *[t for seq in outs for t in seq])


def run(op, kernel, iterations, lr, variables, grads, slots, attrs, extra=(), count=True):
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
