"""One trace for every size of a `None` dimension (`input_signature=[tf.TensorSpec([None])]`).

TF traces such a signature once, with unknown dimensions. tapeflow traces on meta tensors,
whose sizes are numbers, so each `None` dimension is traced with a *sentinel* size: a prime
above a million that no real shape uses. User code sees those dimensions as None (as in TF);
ops and gradients see the sentinel and record what they derive from it in their attrs. When
the trace can serve every size, each such value is an exact small multiple `k * S` (the
`S * 784` of a reshape, the count a mean's gradient divides by; products of sentinels
likewise). `specialize` replaces each `k * S` in the attrs and captured constants by `k * n`
for the actual size `n`, re-runs shape inference on meta tensors to check every step against
the trace, and compiles a plan, cached per sizes.

Shape arithmetic on known values (`tf.shape(x)[0] - 1`) would run at trace time; when its
inputs hold sentinels it is re-run with stand-in sizes (0, 1, small primes), and a result that
does not follow them (`n - 1`, `n > 2`, `min(n, 3)`) is recorded as a step instead, computed
from the actual size when the function runs. What cannot be undone drops the trace, and the
function traces once per concrete shape instead (slower than TF, never wrong): a Python value
made from a size (`int(n)`, `if n > 2:`), a value in an attr derived otherwise (`S - 1`,
`S // 2`, `1 / S`), graph control flow, Python loops over an unknown length.
"""
import math

import torch

SENTINELS = (1000003, 1000033, 1000037, 1000039, 1000081, 1000099, 1000117, 1000121)
# the small sizes of the re-runs, per sentinel: zero and one (which comparisons with small
# numbers tell apart from a big size) and distinct primes (which tell the sentinels apart)
STAND_INS = ((0,) * 8, (1,) * 8, (5, 7, 11, 13, 17, 19, 23, 29))
_MAX_MULTIPLE = 4096                         # k * S with |k| up to this is a size
_NEAR = 1 << 17                              # |v| from here on and not a multiple: derived
_SMALL = 4096                                # constants up to this many elements are scanned


class NotPolymorphic(Exception):
    """The trace used a sentinel size in a way `specialize` cannot undo."""


def multiple(v, sentinels):
    """`(k, ((sentinel, power), ...))` when `v` is a small `k` times a product of sentinels
    (`S * 784`, `S1 * S2` for the elements of a matrix), else None."""
    if isinstance(v, float):
        if not math.isfinite(v) or v != int(v):
            return None
        v = int(v)
    if -_NEAR < v < _NEAR:
        return None
    powers = []
    for s in sentinels:
        p = 0
        while v % s == 0:
            v //= s
            p += 1
        if p:
            powers.append((s, p))
    if not powers or abs(v) > _MAX_MULTIPLE:
        return None
    return v, tuple(powers)


def _derived(v, sentinels):
    """Raises NotPolymorphic for a value that looks made from a sentinel but is not a
    multiple of one: `S - 1`, `S // 2`, `1 / S`."""
    if multiple(v, sentinels) is not None:
        return
    if isinstance(v, float) and math.isfinite(v) and 0 < abs(v) < 1:
        for s in sentinels:
            r = v * s
            k = round(r)
            if k and abs(k) <= _MAX_MULTIPLE and abs(r - k) <= 1e-6 * abs(k):
                raise NotPolymorphic(f"a fraction of a `None` dimension ({v!r})")
    elif isinstance(v, (int, float)) and math.isfinite(v) and abs(v) >= _NEAR:
        raise NotPolymorphic(f"a value derived from a `None` dimension ({v!r})")


def _numbers(x):
    """The ints and floats in an attr (nested tuples, small tensors), bools excluded."""
    if isinstance(x, bool):
        return
    if isinstance(x, (int, float)):
        yield x
    elif isinstance(x, (tuple, list)):
        for e in x:
            yield from _numbers(e)
    elif isinstance(x, torch.Tensor) and not x.is_meta and x.numel() <= _SMALL and \
            not x.is_complex() and x.dtype is not torch.bool:
        yield from x.reshape(-1).tolist()


def mentions(x, sentinels):
    """Whether an attr or small tensor holds a multiple of a sentinel."""
    return any(multiple(v, sentinels) is not None for v in _numbers(x))


def _check_values(x, sentinels):
    for v in _numbers(x):
        _derived(v, sentinels)


def substitute(x, sizes):
    """`x` (an attr, a shape, a small tensor) with every `k * S` replaced by `k * sizes[S]`."""
    if isinstance(x, bool) or x is None:
        return x
    if isinstance(x, (int, float)):
        m = multiple(x, tuple(sizes))
        if m is None:
            return x
        k, powers = m
        for s, p in powers:
            k *= sizes[s] ** p
        return type(x)(k)
    if isinstance(x, torch.Size):
        return torch.Size(substitute(tuple(x), sizes))
    if isinstance(x, tuple):
        return tuple(substitute(e, sizes) for e in x)
    if isinstance(x, list):
        return [substitute(e, sizes) for e in x]
    if isinstance(x, torch.Tensor) and not x.is_meta and x.numel() <= _SMALL and \
            not x.is_complex() and x.dtype is not torch.bool:
        values = x.reshape(-1).tolist()
        new = [substitute(v, sizes) for v in values]
        if new == values:
            return x
        return torch.tensor(new, dtype=x.dtype, device=x.device).reshape(x.shape)
    return x


def _closure_numbers(kernel):
    cells = getattr(kernel, "__closure__", None) or ()
    out = []
    for c in cells:
        try:
            out.append(c.cell_contents)
        except ValueError:  # an empty cell
            pass
    return tuple(v for v in out if isinstance(v, (int, float, tuple, list, torch.Tensor)))


def check(graph):
    """Raises NotPolymorphic unless every use of a sentinel in the trace is a substitutable
    multiple; the trace itself may have been marked while it ran."""
    if graph.poly_mark is not None:
        raise NotPolymorphic(graph.poly_mark)
    sentinels = graph.sentinels
    for s in graph.steps:
        if s.kind != "op" and s.kind != "effect":
            continue
        if getattr(s.op, "name", None) in ("If", "While"):
            raise NotPolymorphic("graph control flow")
        _check_values(s.attrs, sentinels)
        _check_values(_closure_numbers(s.kernel), sentinels)
    for slot, c in graph.constants.items():
        if any(multiple(d, sentinels) for d in c.shape):
            raise NotPolymorphic("a constant sized by a `None` dimension")
        _check_values(c, sentinels)
    for v in graph.variables.values():
        if any(multiple(d, sentinels) for d in v._t.shape):
            raise NotPolymorphic("a variable sized by a `None` dimension")


class Specialization:
    """The trace for one set of actual sizes: its steps, constants and compiled plan."""

    def __init__(self, steps, constants, plan):
        self.steps = steps
        self.constants = constants
        self.plan = plan


def specialize(graph, sizes, output_slots, compile_plan, step_type):
    """The trace with each sentinel `S` replaced by `sizes[S]`, checked step by step on meta
    tensors against the shapes the trace had (raises NotPolymorphic where they disagree)."""
    steps = [s if s.kind not in ("op", "effect") else
             step_type(s.op, s.kernel, s.ins, substitute(s.attrs, sizes), s.outs, s.kind,
                       s.target, s.multi) for s in graph.steps]
    constants = {i: substitute(c, sizes) for i, c in graph.constants.items()}
    metas = {i: c.to("meta") for i, c in constants.items() if isinstance(c, torch.Tensor)}
    for i in graph.inputs:
        metas[i] = torch.empty(substitute(graph.shapes[i], sizes), dtype=graph.dtypes[i].torch,
                               device="meta")
    for s in steps:
        if s.kind == "read":
            metas[s.outs[0]] = torch.empty(s.target._t.shape, dtype=s.target._t.dtype,
                                           device="meta")
            continue
        if s.kind != "op":
            continue
        try:
            out = (s.op.meta_fn or s.kernel)(*[metas[i] for i in s.ins], *s.attrs)
        except Exception as e:  # noqa: BLE001 - any refusal means the sizes do not fit
            raise NotPolymorphic(f"{s.op.name} with sizes {sizes}: {e}") from None
        outs = (out,) if type(out) is torch.Tensor else tuple(out)
        for slot, o in zip(s.outs, outs):
            if tuple(o.shape) != substitute(graph.shapes[slot], sizes):
                raise NotPolymorphic(f"{s.op.name} gives shape {tuple(o.shape)} for sizes "
                                     f"{sizes}, not {substitute(graph.shapes[slot], sizes)}")
            metas[slot] = o
    shapes = [substitute(shape, sizes) for shape in graph.shapes]
    plan = compile_plan(_View(graph, steps, constants, shapes), output_slots)
    return Specialization(steps, constants, plan)


class _View:
    """A graph with other steps and constants, for compile_plan."""

    def __init__(self, graph, steps, constants, shapes):
        self.steps = steps
        self.constants = constants
        self.shapes = shapes
        self.inputs = graph.inputs
        self.dtypes = graph.dtypes


# -- while tracing ----------------------------------------------------------------------------

def mark_if_mentions(graph, value, why):
    if mentions(value, graph.sentinels):
        graph.poly_mark = graph.poly_mark or why


def _carries(graph, inputs, attrs):
    return mentions(attrs, graph.sentinels) or any(
        mentions(x._t, graph.sentinels) for x in inputs if isinstance(x._t, torch.Tensor))


def sized_by_sentinel(graph, op, kernel, inputs, attrs):
    """Whether an op on known values would make a tensor sized by a `None` dimension (a
    `tf.zeros([n, 784])` with `n` from `tf.shape`): then it is recorded, not run now."""
    if not _carries(graph, inputs, attrs):
        return False
    try:
        out = (op.meta_fn or kernel)(*[x._t.to("meta") if isinstance(x._t, torch.Tensor)
                                       else x._t for x in inputs], *attrs)
    except Exception:  # noqa: BLE001 - no shape inference for it: it runs now
        return False
    outs = (out,) if type(out) is torch.Tensor else tuple(out or ())
    return any(multiple(d, graph.sentinels) is not None for o in outs
               if isinstance(o, torch.Tensor) for d in o.shape)


def follows_stand_ins(graph, kernel, inputs, attrs, out):
    """Whether a result computed now from sentinel values may stay a constant of the trace:
    run again with the small stand-in sizes, it must come out as the same multiples. A
    result that does not (`n - 1`, `n > 5`, `min(n, 10)`) depends on the actual size, so the
    op is recorded and computed when the function runs."""
    if not _carries(graph, inputs, attrs):
        return True
    first = (out,) if not isinstance(out, tuple) else out
    for sizes in STAND_INS:
        stand_ins = dict(zip(graph.sentinels, sizes))
        try:
            again = kernel(*[substitute(x._t, stand_ins) for x in inputs],
                           *substitute(attrs, stand_ins))
            again = (again,) if type(again) is torch.Tensor else tuple(again)
            if not all(torch.equal(substitute(a._t, stand_ins), b)
                       for a, b in zip(first, again)):
                return False
        except Exception:  # noqa: BLE001 - refusing the stand-ins is depending on the size
            return False
    return True
