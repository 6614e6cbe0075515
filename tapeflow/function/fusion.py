"""Kernel fusion on a compiled graph, as TF's grappler remapper does it: a product followed by
a bias addition (and a ReLU) becomes one `_FusedMatMul`-like kernel call, so the product's
output is stored once instead of being written, read, and written twice more. And a MaxPool
whose gradient is taken in the same plan keeps the argmax of each window for it, instead of
the gradient finding the maxima again.

A pattern fuses only when each intermediate result has no other reader (not another step,
not a function output); the fused step takes the place of the last step it replaces, where
all of its inputs are already computed.
"""
import torch

from tapeflow.ops import _gemm, pooling
from tapeflow.ops.nn import _bias_add_kernel


def _is_bias_add(step):
    return (step.kernel is torch.add and not step.attrs) or \
        (step.kernel is _bias_add_kernel and step.attrs == (-1,))


def fuse_linear(steps, output_slots, step_type):
    """`steps` with MatMul -> Add/BiasAdd [-> Relu] chains replaced by `_gemm.linear` steps."""
    readers = {}    # slot -> indices of the steps reading it
    for n, s in enumerate(steps):
        for i in s.ins:
            readers.setdefault(i, []).append(n)
    outputs = set(output_slots)

    def sole_reader(slot):
        r = readers.get(slot, ())
        return r[0] if len(r) == 1 and slot not in outputs else None
    producer = {}
    for n, s in enumerate(steps):
        if s.kind == "op" and not s.multi:
            producer[s.outs[0]] = n
    replaced = {}   # step index -> fused step (or None: dropped)
    for n, s in enumerate(steps):
        if s.kind != "op" or s.multi or not _is_bias_add(s) or len(s.ins) != 2:
            continue
        m = producer.get(s.ins[0])
        if m is None or m in replaced or steps[m].kernel is not _gemm.matmul or \
                sole_reader(s.ins[0]) != n:
            continue
        x, w = steps[m].ins
        bias = s.ins[1]
        last, activation = n, "none"
        k = sole_reader(s.outs[0])
        if k is not None:
            r = steps[k]
            if r.kind == "op" and r.kernel is torch.relu and not r.attrs and not r.multi:
                last, activation = k, "relu"
        fused_out = steps[last].outs
        replaced[m] = None
        if last != n:
            replaced[n] = None
        replaced[last] = step_type(steps[last].op, _gemm.linear, (x, w, bias), (activation,),
                                   fused_out)
    if not replaced:
        return steps
    return [replaced.get(n, s) for n, s in enumerate(steps) if replaced.get(n, s) is not None]


def keep_pool_argmax(steps, first_free_slot, step_type):
    """`steps` with each MaxPool whose MaxPoolGrad (same input, same attrs) follows returning
    its argmax too, and that gradient using it. Returns (steps, slots used)."""
    pools = {}
    for n, s in enumerate(steps):
        if s.kind == "op" and s.kernel is pooling._max_pool_kernel:
            pools[(s.ins[0], s.outs[0], s.attrs)] = n
    if not pools:
        return steps, 0
    steps = list(steps)
    slot = first_free_slot
    for n, s in enumerate(steps):
        if s.kind != "op" or s.kernel is not pooling._max_pool_grad_kernel:
            continue
        m = pools.pop((s.ins[0], s.ins[1], s.attrs), None)
        if m is None:
            continue
        pool = steps[m]
        steps[m] = step_type(pool.op, pooling.max_pool_argmax_kernel, pool.ins, pool.attrs,
                             (pool.outs[0], slot), multi=True)
        steps[n] = step_type(s.op, pooling.max_pool_grad_argmax_kernel,
                             (s.ins[0], slot, s.ins[2]), s.attrs, s.outs)
        slot += 1
    return steps, slot - first_free_slot
