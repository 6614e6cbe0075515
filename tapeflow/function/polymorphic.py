"""One trace for every size of a `None` dimension (`input_signature=[tf.TensorSpec([None])]`).

TF traces such a signature once, with unknown dimensions. tapeflow traces it with symbolic
sizes: each `None` dimension of an input is a torch `SymInt` (torch's ShapeEnv and fake
tensors), so kernels infer symbolic output shapes (`s0 * 784`), ops record symbolic attrs
(a reshape to `(s0, -1)`, the count a mean's gradient divides by), and a shape computed with
`tf.shape(x)` is a step whose value the trace knows symbolically. User code sees each symbolic
size as None, as in TF.

Where code compares symbolic sizes (a broadcasting check, a kernel choosing its algorithm), the
comparison is decided by the symbol's hint, a prime no layer size is likely to equal, and is
not kept as a guard; a kernel decides again on the actual sizes each time it runs. When the
function runs, the actual sizes bind the symbols: `specialize` evaluates every symbolic attr
for them and re-runs shape inference on meta tensors to check each step against the trace, then
compiles a plan, cached per sizes. What cannot be undone drops the trace, and the function
traces once per concrete shape instead (slower than TF, never wrong): a Python value made from
a size (`int(n)`, `if n > 2:`), a kernel closing over a size, graph control flow, Python loops
over an unknown length.
"""
import numpy as np
import torch

_SYMBOLIC = (torch.SymInt, torch.SymFloat, torch.SymBool)
# the sizes the symbols stand for while tracing, one per axis (distinct primes no layer size
# is likely to equal, so no comparison with a fixed size comes out true by chance)
HINTS = (10007, 10009, 10037, 10039, 10061, 10067, 10069, 10079)


def _hint(axis):
    return HINTS[axis] if axis < len(HINTS) else HINTS[-1] + 2 * (axis - len(HINTS) + 1)


class NotPolymorphic(Exception):
    """The trace used a symbolic size in a way `specialize` cannot undo, or the sizes of a
    call do not fit it."""


def is_symbolic(v):
    return isinstance(v, _SYMBOLIC)


def has_symbols(x):
    """Whether an attr (nested tuples and lists, torch.Sizes) holds a symbolic value."""
    if isinstance(x, _SYMBOLIC):
        return True
    if isinstance(x, (tuple, list)):
        return any(has_symbols(e) for e in x)
    if isinstance(x, np.ndarray) and x.dtype == object:
        return any(isinstance(e, _SYMBOLIC) for e in x.flat)
    return False


def hint(v):
    """The value a symbolic size had in the call that was traced."""
    return v.node.hint if isinstance(v, _SYMBOLIC) else v


class Symbols:
    """The symbolic sizes of one trace: torch's ShapeEnv (symbols, guards) and the fake-tensor
    mode kernels infer shapes in, and which input dimension each symbol stands for."""

    def __init__(self):
        # torch's symbolic-shape machinery (and sympy under it) loads with the first trace
        # that has a None dimension: 0.55 s that `import tapeflow` need not pay
        from torch._subclasses.fake_tensor import FakeTensorMode
        from torch.fx.experimental.symbolic_shapes import ShapeEnv
        # 0 and 1 stay symbolic (TF's None admits them); equal sizes get distinct symbols
        self.shape_env = ShapeEnv(specialize_zero_one=False, duck_shape=False)
        self.mode = FakeTensorMode(shape_env=self.shape_env, allow_non_fake_inputs=True)
        self.bindings = []        # (input index, axis, sympy symbol)

    def placeholder(self, dtype, shape, index):
        """A fake meta tensor of `shape` whose None entries are new symbols. Each axis has its
        hint, so the batch dimensions of several inputs broadcast against each other (as TF's
        unknown dimensions do; sizes that then differ fail the meta check of the call)."""
        from torch.fx.experimental.symbolic_shapes import DimDynamic, StatelessSymbolicContext
        sizes = [_hint(axis) if d is None else d for axis, d in enumerate(shape)]
        context = StatelessSymbolicContext(dynamic_sizes=[
            DimDynamic.DYNAMIC if d is None else DimDynamic.STATIC for d in shape])
        t = self.mode.from_tensor(torch.empty(sizes, dtype=dtype, device="meta"),
                                  symbolic_context=context)
        for axis, d in enumerate(shape):
            if d is None:
                self.bindings.append((index, axis, t.shape[axis].node.expr))
        return t

    def fake(self, t):
        """A meta tensor (of static shape) as a tensor of this trace's fake mode."""
        return self.mode.from_tensor(t.to("meta") if not t.is_meta else t, static_shapes=True)

    def infer(self, fn, args, attrs):
        """`fn(*args, *attrs)` on fake tensors: the output shapes."""
        args = [self.fake(a) if type(a) is torch.Tensor else a for a in args]
        with self.mode:
            return fn(*args, *attrs)

    def tracing(self):
        """The context a trace runs in: comparisons of symbolic sizes are decided by the
        hints and not kept as guards (see the module doc)."""
        return self.shape_env.suppress_guards()

    def sizes(self, shapes):
        """{symbol: size} for a call whose input tensors have `shapes`."""
        import sympy
        return {sym: sympy.Integer(shapes[i][axis]) for i, axis, sym in self.bindings}


def substitute(x, sizes):
    """`x` (an attr, a shape, an object array of sizes) with each symbolic value replaced by
    its value for `sizes` ({symbol: sympy Integer})."""
    if isinstance(x, torch.SymInt):
        return int(x.node.expr.xreplace(sizes))
    if isinstance(x, torch.SymFloat):
        return float(x.node.expr.xreplace(sizes))
    if isinstance(x, torch.SymBool):
        return bool(x.node.expr.xreplace(sizes))
    if type(x) is tuple or type(x) is torch.Size:
        return type(x)([substitute(e, sizes) for e in x]) if has_symbols(x) else x
    if type(x) is list:
        return [substitute(e, sizes) for e in x]
    if isinstance(x, np.ndarray) and x.dtype == object:
        return np.array([substitute(e, sizes) for e in x.flat]).reshape(x.shape)
    return x


def _closure_values(kernel):
    cells = getattr(kernel, "__closure__", None) or ()
    out = []
    for c in cells:
        try:
            out.append(c.cell_contents)
        except ValueError:  # an empty cell
            pass
    return out


def check(graph):
    """Raises NotPolymorphic unless every use of a symbolic size in the trace can be
    evaluated for other sizes; the trace itself may have been marked while it ran."""
    if graph.poly_mark is not None:
        raise NotPolymorphic(graph.poly_mark)
    for s in graph.steps:
        if s.kind != "op" and s.kind != "effect":
            continue
        if getattr(s.op, "name", None) in ("If", "While"):
            raise NotPolymorphic("graph control flow")
        if any(has_symbols(v) for v in _closure_values(s.kernel)):
            raise NotPolymorphic(f"{s.op.name} closes over a size of a `None` dimension")
    for v in graph.variables.values():
        if any(is_symbolic(d) for d in v._t.shape):
            raise NotPolymorphic("a variable sized by a `None` dimension")


class Specialization:
    """The trace for one set of actual sizes: its steps, constants and compiled plan."""

    def __init__(self, steps, constants, plan):
        self.steps = steps
        self.constants = constants
        self.plan = plan


def specialize(graph, shapes, output_slots, compile_plan, step_type):
    """The trace with each symbolic size evaluated for the call whose inputs have `shapes`,
    checked step by step on meta tensors against the shapes the trace had (raises
    NotPolymorphic where they disagree)."""
    symbols = graph.symbols
    sizes = symbols.sizes(shapes)
    for slot, shape in zip(graph.inputs, shapes):
        if substitute(graph.shapes[slot], sizes) != tuple(shape):
            raise NotPolymorphic(f"a {tuple(shape)} input where the trace has other fixed "
                                 "dimensions")
    steps = [s if s.kind not in ("op", "effect") else
             step_type(s.op, s.kernel, s.ins, substitute(s.attrs, sizes), s.outs, s.kind,
                       s.target, s.multi) for s in graph.steps]
    shapes_now = [substitute(shape, sizes) for shape in graph.shapes]
    metas = {i: c.to("meta") for i, c in graph.constants.items() if isinstance(c, torch.Tensor)}
    for i in graph.inputs:
        metas[i] = torch.empty(shapes_now[i], dtype=graph.dtypes[i].torch, device="meta")
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
            raise NotPolymorphic(f"{s.op.name} with sizes {shapes}: {e}") from None
        outs = (out,) if type(out) is torch.Tensor else tuple(out)
        for slot, o in zip(s.outs, outs):
            if tuple(o.shape) != shapes_now[slot]:
                raise NotPolymorphic(f"{s.op.name} gives shape {tuple(o.shape)} for inputs "
                                     f"{shapes}, not {shapes_now[slot]}")
            metas[slot] = o if o.is_meta else o.to("meta")
    plan = compile_plan(_View(graph, steps, shapes_now), output_slots)
    return Specialization(steps, graph.constants, plan)


class _View:
    """A graph with other steps and shapes, for compile_plan."""

    def __init__(self, graph, steps, shapes):
        self.steps = steps
        self.constants = graph.constants
        self.shapes = shapes
        self.inputs = graph.inputs
        self.dtypes = graph.dtypes
