"""Branch and loop bodies traced into child graphs, and their gradients.

`trace(fn, args)` runs `fn` on placeholders in a child of the current graph (see graph.py):
the child records its own steps, captures the tensors of enclosing graphs it uses, and keeps
a private recording of its differentiable ops (the nodes a tape would keep). From those nodes
`Trace.vjp()` builds the backward graph of one run of the body without running Python again:
the gradient functions run in a grandchild graph, so the body tensors they need become its
captures: per-run residuals (the forward plan then also returns them) or loop-invariant
tensors of the enclosing graph. control_flow.py builds `tf.cond` / `tf.while_loop` steps and
their gradient steps from these pieces.

The graph being traced is read through graph.py's `current_graph()` (re-exported here for the
control-flow modules), the one place that knows where the trace context lives.
"""
import torch

from tapeflow._core import dispatch, dtypes
from tapeflow._core.tensor import Tensor, wrap
from tapeflow.autodiff import backprop
from tapeflow.autodiff.tape import READ_VARIABLE
from tapeflow.function import polymorphic
from tapeflow.function.graph import Graph, current_graph  # noqa: F401 - re-exported
from tapeflow.function.plan import compile_plan
from tapeflow.function.graph import Step
from tapeflow.function.graph import Untraceable


def tracing_into(graph, recorders):
    """Makes `graph` the interpreter, with `recorders` (innermost first) recording above it."""
    layer = graph
    for r in reversed(recorders):
        layer = dispatch.Recorder(r, layer)
    return dispatch.interpreting(layer)


def differentiable(t):
    return isinstance(t, Tensor) and backprop.differentiable(t._dtype)


class BodyTape:
    """Keeps every differentiable op run while a body is traced (a tape watching all)."""

    def __init__(self):
        self.nodes = []
        self.variables = {}  # id -> Variable read in the body (trainable or not)
        self._reads = set()

    def record_op(self, op, kernel, inputs, attrs, outputs):
        if op.differentiable:
            self.nodes.append(backprop.Node(op, inputs, outputs, attrs))

    def read_variable(self, variable, tensor):
        if id(tensor) not in self._reads:  # a trace hands out one tensor for repeated reads
            self._reads.add(id(tensor))
            self.variables[id(variable)] = variable
            self.nodes.append(backprop.Node(READ_VARIABLE, (variable,), (tensor,), ()))
        return tensor

    def assign_variable(self, variable, value, kind):
        return False


def meta_like(t):
    return wrap(torch.empty(t._t.shape, dtype=t._t.dtype, device="meta"), t._dtype)


def handle_template():
    """The trace-time stand-in of a step's residual handle (see `new_handle`)."""
    return wrap(torch.empty(0, dtype=torch.uint8, device="meta"), dtypes.uint8)


def new_handle(saved):
    """What a control-flow step returns in its handle slot: an empty tensor carrying the
    residuals its gradient step reads (None when no gradient will be taken)."""
    h = torch.empty(0, dtype=torch.uint8)
    h._tapeflow_saved = saved
    return h


class Trace:
    """One function traced into a child graph of the current one.

    After `finish`, `plan.run(*args, *captures)` computes the outputs from the arguments and
    the captured tensors (`captures`, tensors of enclosing graphs, in order)."""

    def __init__(self, parent):
        self.parent = parent
        self.graph = Graph(outer=parent)
        self.graph.allow_variable_creation = False
        self.args = []          # placeholders, in argument order (some may be added late)
        self.recorder = BodyTape()
        self.outputs = None
        self.plan = None
        self._vjp = None
        self._residual_plan = None

    def _one_size(self):
        """Sub-plans and loop bodies are traced for one set of sizes: a trace for every size
        of a `None` dimension cannot hold them (a branch taken in place can)."""
        if self.graph.symbols is not None:
            raise polymorphic.NotPolymorphic("graph control flow")

    def arg(self, dtype, shape):
        self._one_size()
        t = wrap(torch.empty(tuple(shape), dtype=dtype.torch, device="meta"), dtype)
        self.graph._new_slot(t)
        self.args.append(t)
        return t

    def run(self, fn, *args):
        with tracing_into(self.graph, [self.recorder]):
            return fn(*args)

    @property
    def captures(self):
        return self.graph.captures

    def finish(self, outputs):
        """Fixes the flat tensor outputs and compiles the plan."""
        self._one_size()
        g = self.graph
        self.outputs = list(outputs)
        g.inputs = [g.slot_of[id(a)] for a in self.args] + \
            [g.slot_of[id(c)] for c in g.captures]
        self.out_slots = [g.slot(o) for o in self.outputs]
        self.plan = compile_plan(g, self.out_slots)
        return self

    def has_effects(self):
        return any(s.kind in ("assign", "effect") or (s.kind == "op" and s.op.stateful)
                   for s in self.graph.steps)

    def assigned(self):
        """The variables this body may write (directly, or in nested control flow)."""
        out = {}
        for s in self.graph.steps:
            if s.kind == "assign":
                out[id(s.target)] = s.target
            elif s.kind == "op" and s.attrs and hasattr(s.attrs[-1], "assigned"):
                out.update(s.attrs[-1].assigned)
        return out

    def read_variables(self):
        """The float variables read in the body, whose gradient the step must carry."""
        return [v for v in self.recorder.variables.values() if backprop.differentiable(v.dtype)]

    # -- gradients ---------------------------------------------------------------------------
    def vjp(self, targets, sources):
        """The backward graph of one run: `Vjp` computing the gradients of `sources` (tensors
        or variables seen by the body) from seeds for `targets` (float outputs), cached."""
        if self._vjp is None:
            self._vjp = Vjp(self, targets, sources)
        return self._vjp

    def residual_plan(self):
        """The forward plan that also returns the residuals the backward graph needs."""
        if self._residual_plan is None:
            slots = [self.graph.slot_of[id(r)] for r in self._vjp.residuals]
            self._residual_plan = compile_plan(self.graph, self.out_slots + slots)
        return self._residual_plan


class Vjp:
    """The gradient of one run of a traced body, as a plan over (seeds, captures).

    Its captures are of two kinds: `residuals` (tensors the body computed or took as
    arguments: the forward must save them each run) and `invariants` (tensors of an
    enclosing graph: the same for every run, fed by the gradient step)."""

    def __init__(self, trace, targets, sources):
        body = trace.graph
        g = Graph(outer=body)
        g.allow_variable_creation = False
        self.targets, self.sources = targets, sources
        with tracing_into(g, []):
            seeds = [g.placeholder(t._dtype, t._t.shape) for t in targets]
            grads = backprop.walk(trace.recorder.nodes, targets, seeds, sources)
            flat = []
            for s in sources:
                grad = grads.get(id(s))
                if grad is None:  # unconnected: zeros (a constant, so nothing is captured)
                    shape = s._t.shape if isinstance(s, Tensor) else s.shape.as_list()
                    grad = wrap(torch.zeros(tuple(shape), dtype=s.dtype.torch), s.dtype)
                flat.append(grad)
        outer = {id(c) for c in body.captures}
        self.residuals, self.invariants, self.layout = [], [], []
        for c in g.captures:
            if id(c) in outer or id(c) not in body.slot_of:
                self.layout.append(("inv", len(self.invariants)))
                self.invariants.append(c)
            else:
                self.layout.append(("res", len(self.residuals)))
                self.residuals.append(c)
        g.inputs = [g.slot_of[id(p)] for p in seeds] + [g.slot_of[id(c)] for c in g.captures]
        self.plan = compile_plan(g, [g.slot(t) for t in flat])
        self.grad_shapes = [tuple(t._t.shape) if isinstance(t, Tensor) else
                            tuple(t.shape.as_list()) for t in sources]
        self.grad_dtypes = [s.dtype for s in sources]

    def run(self, seeds, residuals, invariants):
        caps = [residuals[i] if kind == "res" else invariants[i] for kind, i in self.layout]
        return self.plan.run(*seeds, *caps)

    def zeros(self, device):
        return [torch.zeros(shape, dtype=d.torch, device=device)
                for shape, d in zip(self.grad_shapes, self.grad_dtypes)]


def trace(fn, args, parent=None):
    """Traces `fn(*placeholders like args)` (args: tensors or (dtype, shape) pairs) into a
    child of `parent` (default: the current graph); returns the Trace and fn's result."""
    tr = Trace(current_graph() if parent is None else parent)
    ph = [tr.arg(a._dtype, a._t.shape) if isinstance(a, Tensor) else tr.arg(*a) for a in args]
    return tr, tr.run(fn, *ph)


def standins(variables):
    """Reads of `variables` in the current graph, seen by the active tapes: inputs a step
    holding reads of them in a child graph takes, so gradients reach the variables."""
    return [v.value() for v in variables]


def forget_writes(graph, assigned):
    """The graph's cached variable values are stale after a step that may assign them."""
    for key in assigned:
        graph.current.pop(key, None)


def inline(parent, tr, recorders):
    """Moves a traced child's steps into `parent` (a pure branch taken in place) and shows
    its recorded ops to `recorders`, as if it had been traced there."""
    g = tr.graph
    tensors = {}  # child slot -> the tensor objects holding it
    for t in g.held:
        tensors.setdefault(g.slot_of[id(t)], []).append(t)
    remap = {}
    for c in g.captures:
        remap[g.slot_of[id(c)]] = parent.slot(c)

    def adopt(slot):
        i = remap.get(slot)
        if i is None:
            held = tensors[slot]
            i = remap[slot] = parent._new_slot(held[0])
            for t in held[1:]:
                parent.slot_of[id(t)] = i
                parent.held.append(t)
        return i
    for slot, value in g.constants.items():
        parent.constants[adopt(slot)] = value
    for s in g.steps:
        ins = tuple(adopt(i) for i in s.ins)
        outs = tuple(adopt(o) for o in s.outs)
        if s.kind == "read":
            parent.variables[outs[0]] = s.target
        parent.steps.append(Step(s.op, s.kernel, ins, s.attrs, outs, s.kind, s.target, s.multi))
    forget_writes(parent, tr.assigned())
    for node in tr.recorder.nodes:
        for r in recorders:
            if node.op is READ_VARIABLE:
                r.read_variable(node.inputs[0], node.outputs[0])
            else:
                r.record_op(node.op, None, node.inputs, node.attrs, node.outputs)


def opaque(graph, what):
    """A tape outside the function re-runs it eagerly (which gives gradients of any order)
    rather than replaying this step, whose gradient step is not differentiable itself."""
    if graph.opaque_to_tapes is None:
        graph.opaque_to_tapes = what


def input_for(node, x, captures, offset):
    """The step input a backward plan's loop-invariant capture `x` corresponds to (the node's
    own input, so an eager replay of the step feeds the eager value)."""
    for j, c in enumerate(captures):
        if c is x:
            return node.inputs[offset + j]
    return x


def check_first_order():
    """The gradient step of a loop or cond is not differentiable itself: when a tape records
    the gradient being taken inside a trace (a higher-order gradient), the function runs
    eagerly instead, where every order works."""
    if current_graph() is not None and dispatch.recording():
        raise Untraceable("a higher-order gradient through graph control flow")
