"""Compiling a traced graph into a plan: a list of passes, then one generated Python function.

`compile_plan` copies the trace's steps into a `Program` and runs the passes over it in
order: the generic ones here (constant folding with common subexpressions, then dead code),
then the rewrite rules the op modules register with `tapeflow.ops._op.rewrite` (kernel fusions
that only the op owning the kernels knows how to do: MatMul+BiasAdd+Relu, Conv2D+BiasAdd+Relu,
Relu -> MaxPool as MaxPool -> Relu, MaxPool keeping its argmax). The steps left become one straight-line Python function over slots, so a replay pays
one Python call per kernel and nothing else. A slot is deleted after the step that reads it
last, as TF's executor frees a tensor when its last consumer has run: the peak memory of a
training step is then its live set, not the sum of every intermediate, and a freed buffer is
handed to the next kernel while it is still in the cache.
"""
import torch

from tapeflow._core import dtypes
from tapeflow._core.context import current_device
from tapeflow.ops._op import REWRITES


class Program:
    """The steps being compiled, with what the passes ask of them."""

    def __init__(self, graph, output_slots):
        self.graph = graph
        self.steps = [s.replace() for s in graph.steps]  # copies: passes may rewrite them
        self.constants = dict(graph.constants)
        self.output_slots = list(output_slots)
        self.n_slots = len(graph.dtypes)

    @property
    def outputs(self):
        return set(self.output_slots)

    def readers(self):
        """slot -> indices of the steps reading it."""
        out = {}
        for n, s in enumerate(self.steps):
            for i in s.ins:
                out.setdefault(i, []).append(n)
        return out

    def sole_readers(self):
        """slot -> the index of the one step reading it, for slots read once and not an
        output (a value a rewrite may fold into its reader)."""
        outputs = self.outputs
        return {slot: r[0] for slot, r in self.readers().items()
                if len(r) == 1 and slot not in outputs}

    def producers(self):
        """slot -> index of the single-output op step making it."""
        return {s.outs[0]: n for n, s in enumerate(self.steps) if s.kind == "op" and not s.multi}

    def new_slot(self):
        self.n_slots += 1
        return self.n_slots - 1


def _stateful(step):
    """Steps the passes must keep in place: writes, effects and stateful ops (reads may be
    dropped when unused, but are never merged or folded)."""
    return step.kind in ("assign", "effect") or (step.kind == "op" and step.op.stateful)


def _small(graph, slot):
    """A non-string slot of at most 4096 elements, whose constant is cheap to keep."""
    if graph.dtypes[slot] is dtypes.string:
        return False
    n = 1
    for d in graph.shapes[slot]:
        n *= d
    return n <= 4096


def fold_constants(program):
    """Constant folding and common subexpressions, in one forward pass: an op on constants
    (or, for ops whose value depends only on their input's shape, on a small static shape)
    becomes a constant; an op repeating an earlier one with the same inputs and attrs reuses
    its outputs."""
    graph, constants = program.graph, program.constants
    alias = {}

    def resolve(i):
        while i in alias:
            i = alias[i]
        return i
    seen = {}
    kept = []
    for s in program.steps:
        ins = tuple(resolve(i) for i in s.ins)
        if s.kind == "op" and not s.op.stateful:
            if all(i in constants for i in ins):
                out = s.kernel(*[constants[i] for i in ins], *s.attrs)
                outs = (out,) if type(out) is torch.Tensor else tuple(out)
                for slot, value in zip(s.outs, outs):
                    constants[slot] = value
                continue
            if s.op.shape_only and _small(graph, ins[0]):
                like = torch.empty(graph.shapes[ins[0]], dtype=graph.dtypes[ins[0]].torch,
                                   device=current_device())
                constants[s.outs[0]] = s.kernel(like, *s.attrs)
                continue
            try:
                key = (s.kernel, ins, s.attrs)
                hash(key)
            except TypeError:
                key = None
            if key is not None:
                prev = seen.get(key)
                if prev is not None:
                    for a, b in zip(s.outs, prev.outs):
                        alias[a] = b
                    continue
                seen[key] = s
        kept.append(s.replace(ins=ins))
    program.steps = kept
    program.output_slots = [resolve(i) for i in program.output_slots]


def drop_dead_steps(program):
    """Keeps the steps whose outputs are needed, and every side effect."""
    needed = set(program.output_slots)
    live = []
    for s in reversed(program.steps):
        if _stateful(s) or any(o in needed for o in s.outs):
            live.append(s)
            needed.update(s.ins)
    live.reverse()
    program.steps = live
    program.constants = {i: c for i, c in program.constants.items() if i in needed}


def passes():
    """The passes of `compile_plan`, in order: (name, pass) pairs."""
    return [("fold_constants", fold_constants), ("drop_dead_steps", drop_dead_steps)] + \
        list(REWRITES)


class Plan:
    """A compiled graph: `run(input torch tensors)` returns the output torch tensors."""

    def __init__(self, fn, outputs, out_dtypes, n_steps, source=None, env=None, steps=None):
        self.run = fn
        self.steps = steps    # the steps after the passes, for drawing (tapeflow.export)
        self.source = source  # the generated Python, for reading when debugging
        self.env = env
        self.outputs = outputs
        self.out_dtypes = out_dtypes
        self.n_steps = n_steps


def compile_plan(graph, output_slots):
    program = Program(graph, output_slots)
    for _, run in passes():
        run(program)
    return _generate(program)


def _dead_after(program):
    """step index -> the local slots (inputs and step outputs, not function outputs) that no
    later step reads: deleted once that step has run."""
    keep = set(program.output_slots)
    last = {i: -1 for i in program.graph.inputs if i not in keep}
    for n, s in enumerate(program.steps):
        for i in s.ins:
            if i in last:
                last[i] = n
        for o in s.outs:
            if o not in keep:
                last[o] = n
    dead = {}
    for slot, n in last.items():
        dead.setdefault(max(n, 0), []).append(slot)
    return dead


def _generate(program):
    """One Python function running the program's steps over slots `s0, s1, ...`."""
    env = {}
    lines = []
    args = [f"s{i}" for i in program.graph.inputs]
    for i, value in program.constants.items():
        env[f"s{i}"] = value
    dead = _dead_after(program)
    for n, s in enumerate(program.steps):
        if n:
            free = dead.get(n - 1)
            if free:
                lines.append("del " + ", ".join(f"s{i}" for i in free))
        if s.kind == "read":
            env[f"v{n}"] = s.target
            lines.append(f"s{s.outs[0]} = v{n}._t")
            continue
        call_args = ", ".join([f"s{i}" for i in s.ins] + ([f"*a{n}"] if s.attrs else []))
        if s.kind == "assign":
            env[f"v_assign{n}"] = s.target
            lines.append(f"v_assign{n}._t = s{s.ins[0]}")
            continue
        env[f"k{n}"] = s.kernel
        if s.attrs:
            env[f"a{n}"] = s.attrs
        if not s.outs:
            lines.append(f"k{n}({call_args})")
        elif not s.multi:
            lines.append(f"s{s.outs[0]} = k{n}({call_args})")
        else:
            lines.append(", ".join(f"s{o}" for o in s.outs) + f", = k{n}({call_args})")
    outputs = program.output_slots
    ret = ", ".join(f"s{i}" for i in outputs)
    body = "\n    ".join(lines + [f"return ({ret}{',' if len(outputs) == 1 else ''})"])
    src = f"def plan({', '.join(args)}):\n    {body}\n"
    code = compile(src, "<tf.function plan>", "exec")
    exec(code, env)  # noqa: S102 - generated from the recorded steps above
    return Plan(env["plan"], outputs, [program.graph.dtypes[i] for i in outputs],
                n_steps=len(program.steps), source=src, env=env, steps=program.steps)
