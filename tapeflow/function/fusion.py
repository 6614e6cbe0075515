"""Kernel fusion on a compiled graph, as TF's grappler remapper does it: a product followed by
a bias addition (and a ReLU) becomes one `_FusedMatMul`-like kernel call, so the product's
output is stored once instead of being written, read, and written twice more.

A pattern fuses only when each intermediate result has no other reader (not another step,
not a function output); the fused step takes the place of the last step it replaces, where
all of its inputs are already computed.
"""
import torch

from tapeflow.ops import _gemm
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
