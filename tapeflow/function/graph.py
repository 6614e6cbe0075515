"""Tracing a Python function into a graph, and compiling that graph into a flat plan.

While a `Graph` is the current graph (`state.graph`), every op hands itself to `run_op`
instead of running: the graph runs the kernel on torch `meta` tensors (shapes and dtypes
without data), gives back symbolic tensors, and appends a step `(kernel, input slots, attrs,
output slots)`. Real tensors that flow in (constants made during tracing) are captured by
value; variables are read at the start of each run and written by assign steps, in order.

`compile_plan` then prunes the steps (dead code, common subexpressions, constant folding) and
generates one straight-line Python function over slots, so a replay pays one Python call per
kernel and nothing else.
"""
import torch

from tapeflow._core import dtypes
from tapeflow._core.context import current_device, record, state
from tapeflow._core.errors import InvalidArgumentError
from tapeflow._core.tensor import Tensor, wrap
from tapeflow.function import polymorphic
from tapeflow.function.fusion import fuse_linear, keep_pool_argmax
from tapeflow.ops import math as math_ops
from tapeflow.ops._op import execute


class Untraceable(Exception):
    """An op cannot run symbolically (a data-dependent shape, a host read, string data): the
    function falls back to eager execution."""


_META_UNSUPPORTED = ("meta", "Meta", "data-dependent", "item()")


class Step:
    __slots__ = ("op", "kernel", "ins", "attrs", "outs", "kind", "target", "multi")

    def __init__(self, op, kernel, ins, attrs, outs, kind="op", target=None, multi=False):
        self.op = op
        self.kernel = kernel
        self.ins = ins
        self.attrs = attrs
        self.outs = outs
        self.kind = kind          # "op", "assign" (target: a Variable) or "effect" (no outputs)
        self.target = target
        self.multi = multi        # the kernel returns a sequence (even of one tensor)


class Graph:
    """The recording of one trace."""

    def __init__(self, parent=None):
        self.parent = parent     # the enclosing graph of a tf.cond / tf.while_loop branch
        self.captures = []       # parent tensors fed to this graph's trailing placeholders
        self.slot_of = {}        # id(Tensor) -> slot
        self.held = []           # every tensor with a slot (keeps ids unique)
        self.dtypes = []         # slot -> DType
        self.inputs = []         # placeholder slots, in argument order
        self.constants = {}      # slot -> torch tensor captured by value
        self.variables = {}      # slot -> Variable whose value fills the slot at run start
        self.current = {}        # id(Variable) -> Tensor holding its value in this graph
        self.steps = []
        self.created_variables = []
        self.allow_variable_creation = True
        self.names = {}          # id(placeholder) -> TF's tensor name ("x:0"), for printing
        self.opaque_to_tapes = None  # why a tape outside cannot record a replay of this trace
        self.shapes = []         # slot -> shape during the trace
        # sizes standing for `None` dimensions (polymorphic.py); poly_mark says why the trace
        # cannot serve other sizes after all
        self.sentinels = parent.sentinels if parent is not None else ()
        self.poly_mark = None

    # -- slots ---------------------------------------------------------------------------------
    def _new_slot(self, tensor):
        i = len(self.dtypes)
        self.slot_of[id(tensor)] = i
        self.held.append(tensor)
        self.dtypes.append(tensor._dtype)
        self.shapes.append(tuple(tensor._t.shape) if tensor._dtype is not dtypes.string else ())
        return i

    def placeholder(self, dtype, shape, name=None):
        t = wrap(torch.empty(tuple(shape), dtype=dtype.torch, device="meta"), dtype)
        self.inputs.append(self._new_slot(t))
        if name is not None:
            taken = set(self.names.values())
            unique, n = name, 0
            while unique + ":0" in taken:  # TF uniquifies repeated names: x, x_1, ...
                n += 1
                unique = f"{name}_{n}"
            self.names[id(t)] = unique + ":0"
        return t

    def tensor_name(self, t):
        """TF's name for a tensor of this trace ("x:0" for argument x), or None if unknown."""
        return self.names.get(id(t))

    def slot(self, x):
        i = self.slot_of.get(id(x))
        if i is not None:
            return i
        if x._dtype is dtypes.string:
            raise Untraceable("string tensors")
        if x._t.is_meta and self.parent is not None and self.parent.has(x):
            self.captures.append(x)  # a tensor of the enclosing trace: becomes an input
            return self.slot(self.placeholder_for(x))
        if x._t.is_meta:
            raise InvalidArgumentError(
                None, None, "A symbolic tensor from another tf.function trace (or from an "
                "earlier call) was used here. Tensors created inside a tf.function cannot be "
                "kept and used outside it; return them instead.")
        i = self._new_slot(x)
        self.constants[i] = x._t
        return i

    def has(self, x):
        return id(x) in self.slot_of or (self.parent is not None and self.parent.has(x))

    def placeholder_for(self, x):
        t = self.placeholder(x._dtype, x._t.shape)
        self.slot_of[id(x)] = self.slot_of[id(t)]
        self.held.append(x)
        return t

    # -- what ops and variables call while tracing -----------------------------------------------
    def run_op(self, op, kernel, inputs, attrs):
        if not op.stateful and not any(x._t.is_meta for x in inputs
                                       if x._dtype is not dtypes.string):
            # every input is a known value (a constant, a static shape): run it now, so shape
            # arithmetic like `tf.reshape(x, [tf.shape(x)[0], -1])` stays concrete
            if not self.sentinels:
                return self._run_now(op, kernel, inputs, attrs)
            if not polymorphic.sized_by_sentinel(self, op, kernel, inputs, attrs):
                out = self._run_now(op, kernel, inputs, attrs)
                if polymorphic.follows_stand_ins(self, kernel, inputs, attrs, out):
                    return out
            # else recorded: computed from the actual sizes when the function runs
        ins = [self.slot(x) for x in inputs]
        args = [x._t if x._t.is_meta else x._t.to("meta") for x in inputs]
        try:
            out = (op.meta_fn or kernel)(*args, *attrs)
        except NotImplementedError as e:
            raise Untraceable(f"{op.name}: {e}") from None
        except (RuntimeError, IndexError, ValueError) as e:
            text = str(e).split("\n")[0]
            if any(m in text for m in _META_UNSUPPORTED):
                raise Untraceable(f"{op.name}: {text}") from None
            raise InvalidArgumentError(None, None, f"{text} [Op:{op.name}] name: ") from None
        if out is None or (isinstance(out, (tuple, list)) and not out):
            self.steps.append(Step(op, kernel, ins, attrs, (), kind="effect"))
            return None
        single = type(out) is torch.Tensor
        if single and not out.is_meta:  # a kernel that makes its output on a given device
            out = out.to("meta")
        elif not single:
            out = [o.to("meta") if type(o) is torch.Tensor and not o.is_meta else o for o in out]
        outputs = (wrap(out),) if single else tuple(wrap(o) for o in out)
        self.steps.append(Step(op, kernel, ins, attrs, tuple(self._new_slot(o) for o in outputs),
                               multi=not single))
        if state.recorders:
            record(op, kernel, inputs, attrs, outputs)
        return outputs[0] if single else outputs

    def _run_now(self, op, kernel, inputs, attrs):
        saved, state.graph = state.graph, None
        try:
            return execute(op, kernel, inputs, attrs)
        finally:
            state.graph = saved

    def note_python_use(self, tensor):
        """A known tensor became a Python bool/int/float while tracing: if its value came
        from a `None` dimension, the trace cannot serve other sizes."""
        if self.sentinels and tensor._dtype is not dtypes.string:
            polymorphic.mark_if_mentions(self, tensor._t, "a Python value made from a `None` "
                                                          "dimension")

    def read_variable(self, variable):
        """The variable's value at this point of the trace: a read step (reads are steps, so
        they see writes made before them), shared by the reads until the next write."""
        t = self.current.get(id(variable))
        if t is None:
            real = variable._t
            t = wrap(torch.empty(real.shape, dtype=real.dtype, device="meta"), variable._dtype)
            self.steps.append(Step(None, None, (), (), (self._new_slot(t),), kind="read",
                                   target=variable))
            self.variables[self.slot_of[id(t)]] = variable
            self.current[id(variable)] = t
        return t

    def assign_variable(self, variable, value):
        if value._dtype is not variable._dtype:
            raise TypeError(f"Cannot assign a {value._dtype.name} value to the "
                            f"{variable._dtype.name} variable {variable.name}.")
        i = self.slot(value)
        self.steps.append(Step(None, None, (i,), (), (), kind="assign", target=variable))
        # the next read is a read step of its own, not `value`: to a tape, a variable's value
        # is a read of the variable, never connected to what was assigned (as in TF)
        self.current.pop(id(variable), None)

    def lift_initial_value(self, variable, value):
        """A Variable is being created during this trace: allowed on the first trace only (as
        in TF), with an initial value that does not depend on the function's inputs."""
        if not self.allow_variable_creation:
            raise ValueError(
                "tf.function only supports singleton tf.Variables created on the first call. "
                "Make sure the tf.Variable is only created once or created outside tf.function.")
        self.created_variables.append(variable)
        if isinstance(value, Tensor) and value._is_symbolic():
            return self.lift(value)
        return value

    def lift(self, tensor):
        """The concrete value of a symbolic tensor computed from constants only, by running
        the steps it needs once, now."""
        target = self.slot_of.get(id(tensor))
        needed, plan = {target}, []
        for s in reversed(self.steps):
            if any(o in needed for o in s.outs):
                plan.append(s)
                needed.update(s.ins)
        values = dict(self.constants)
        if any(i in needed for i in self.inputs) or any(i in needed for i in self.variables):
            raise ValueError("A tf.Variable created inside a tf.function needs an initial value "
                             "that does not depend on the function's arguments or on other "
                             "variables. Create it outside the function, or inside "
                             "`with tf.init_scope():`.")
        for s in reversed(plan):
            out = s.kernel(*[values[i] for i in s.ins], *s.attrs)
            outs = (out,) if type(out) is torch.Tensor else tuple(out)
            values.update(zip(s.outs, outs))
        return wrap(values[target], tensor._dtype)


class init_scope:  # noqa: N801 - TF's name
    """`tf.init_scope()`: code inside runs eagerly even while a tf.function is being traced
    (for creating variables and other one-time state)."""

    def __enter__(self):
        self._graph, self._recorders = state.graph, state.recorders
        state.graph, state.recorders = None, []
        return self

    def __exit__(self, *exc):
        state.graph, state.recorders = self._graph, self._recorders


# -- compiling -------------------------------------------------------------------------------

class Plan:
    """A compiled graph: `run(input torch tensors)` returns the output torch tensors."""

    def __init__(self, fn, outputs, out_dtypes, n_steps, source=None, env=None):
        self.run = fn
        self.source = source  # the generated Python, for reading when debugging
        self.env = env
        self.outputs = outputs
        self.out_dtypes = out_dtypes
        self.n_steps = n_steps


def _stateful(step):
    """Steps the passes must keep in place: writes, effects and stateful ops (reads may be
    dropped when unused, but are never merged or folded)."""
    return step.kind in ("assign", "effect") or (step.kind == "op" and step.op.stateful)


_SHAPE_ONLY = (math_ops._ones_like_kernel, math_ops._zeros_like_kernel)


def _small(graph, slot):
    """A non-string slot of at most 4096 elements, whose constant is cheap to keep."""
    if graph.dtypes[slot] is dtypes.string:
        return False
    n = 1
    for d in graph.shapes[slot]:
        n *= d
    return n <= 4096


def compile_plan(graph, output_slots):
    steps = graph.steps
    constants = dict(graph.constants)
    alias = {}

    def resolve(i):
        while i in alias:
            i = alias[i]
        return i

    # constant folding and common subexpressions, in one forward pass
    seen = {}
    kept = []
    for s in steps:
        ins = tuple(resolve(i) for i in s.ins)
        if s.kind == "op" and not s.op.stateful:
            if all(i in constants for i in ins):
                out = s.kernel(*[constants[i] for i in ins], *s.attrs)
                outs = (out,) if type(out) is torch.Tensor else tuple(out)
                for slot, value in zip(s.outs, outs):
                    constants[slot] = value
                continue
            if s.kernel in _SHAPE_ONLY and _small(graph, ins[0]):
                # ones_like/zeros_like of a static shape: a constant, like the ops after it
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
        kept.append(Step(s.op, s.kernel, ins, s.attrs, s.outs, s.kind, s.target, s.multi))
    output_slots = [resolve(i) for i in output_slots]

    # dead code: keep steps whose outputs are needed, and every side effect
    needed = set(output_slots)
    live = []
    for s in reversed(kept):
        if _stateful(s) or any(o in needed for o in s.outs):
            live.append(s)
            needed.update(s.ins)
    live.reverse()
    live = fuse_linear(live, output_slots, Step)
    live, _ = keep_pool_argmax(live, len(graph.dtypes), Step)

    env = {}
    lines = []
    args = [f"s{i}" for i in graph.inputs]
    for i, value in constants.items():
        if i in needed:
            env[f"s{i}"] = value
    for n, s in enumerate(live):
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
    ret = ", ".join(f"s{i}" for i in output_slots)
    body = "\n    ".join(lines + [f"return ({ret}{',' if len(output_slots) == 1 else ''})"])
    src = f"def plan({', '.join(args)}):\n    {body}\n"
    code = compile(src, "<tf.function plan>", "exec")
    exec(code, env)  # noqa: S102 - generated from the recorded steps above
    return Plan(env["plan"], output_slots, [graph.dtypes[i] for i in output_slots],
                n_steps=len(live), source=src, env=env)

