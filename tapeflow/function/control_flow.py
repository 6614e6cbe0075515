"""`tf.cond` and `tf.while_loop`: Python control flow when running eagerly, graph control flow
while a tf.function is being traced (AutoGraph lowers `if`/`while`/`for` on tensors to these).

Inside a trace each branch or loop body is traced once into a child graph (subgraphs.py), as
TF traces its `If`/`While` bodies, so Python side effects happen once per branch at trace time:
- a `cond` whose predicate is known while tracing takes the chosen branch in place;
- one with a symbolic predicate and branches free of side effects takes both in place and
  selects with `tf.where` (so it is an ordinary differentiable op);
- otherwise, and for every loop, it becomes one step holding the compiled sub-plans, which a
  Python loop runs when the function runs. Those steps have gradients: while a tape records,
  the step also returns the residuals of each run (the body intermediates the backward graph
  needs) and its gradient step runs the backward plan over them in reverse.
Loops over datasets (a step pulling the elements at run time) and TensorArrays as loop
variables (loop_arrays.py) use the same machinery.
"""
import torch

from tapeflow._core import dtypes, nest
from tapeflow._core.context import state
from tapeflow._core.tensor import Tensor, convert_to_tensor
from tapeflow.function import loop_arrays, subgraphs
from tapeflow.function.graph import Untraceable
from tapeflow.function.loop_arrays import GraphTensorArray
from tapeflow.function.subgraphs import current_graph, differentiable, meta_like
from tapeflow.ops._op import define, execute

COND = define("If", stateful=True)
WHILE = define("While", stateful=True)
DATASET_LOOP = define("ReduceDataset", stateful=True)
COND_GRAD = define("IfGrad", differentiable=False)
WHILE_GRAD = define("WhileGrad", differentiable=False)
for _op in (COND, WHILE, DATASET_LOOP):
    _op.meta_fn = lambda *args: args[-1].meta_outputs()
for _op in (COND_GRAD, WHILE_GRAD):
    _op.meta_fn = lambda *args: args[-1].grad_meta()


def _symbolic(x):
    return isinstance(x, Tensor) and x._is_symbolic()


def _as_tensor(x):
    if isinstance(x, Tensor):
        return x
    return convert_to_tensor(x)


# -- tf.cond ---------------------------------------------------------------------------------

def cond(pred, true_fn=None, false_fn=None, name=None):
    """Runs `true_fn()` if `pred` is true, else `false_fn()`; both must return the same
    structure of tensors."""
    if not callable(true_fn) or not callable(false_fn):
        raise TypeError("true_fn and false_fn must be callable.")
    if current_graph() is None:
        return true_fn() if bool(pred) else false_fn()
    if isinstance(pred, bool):
        raise TypeError("pred must not be a Python bool", pred)
    structures = {}

    def branch(fn, key):
        def run():
            out = structures[key] = fn()
            return nest.flatten(out)
        return run

    def check(t_flat, f_flat):
        _check_same(structures["t"], structures["f"], "true_fn", "false_fn")
    flat = cond_flat(convert_to_tensor(pred), branch(true_fn, "t"), branch(false_fn, "f"), check)
    return nest.pack_sequence_as(structures["t"], flat)


def _check_same(a, b, name_a, name_b):
    try:
        nest.assert_same_structure(a, b, check_types=False)
    except (ValueError, TypeError) as e:
        raise ValueError(f"{name_a} and {name_b} arguments to tf.cond must have the same number,"
                         f" type, and overall structure of return values.\n\n{e}") from None
    for x, y in zip(nest.flatten(a), nest.flatten(b)):
        if isinstance(x, Tensor) and isinstance(y, Tensor) and x.dtype != y.dtype:
            raise TypeError(f"{name_a} and {name_b} arguments to tf.cond must have the same "
                            f"dtypes, got {x.dtype!r} and {y.dtype!r}.")


class _Values:
    """The flat outputs of one branch as tensors: None and unchanged Python objects stay
    as they are, TensorArrays become (size, buffer)."""

    def __init__(self, flat):
        self.flat = flat
        self.tensors = []
        for v in flat:
            if v is None or isinstance(v, Tensor):
                if v is not None:
                    self.tensors.append(v)
            elif isinstance(v, GraphTensorArray):
                if v._buffer is None:
                    raise Untraceable("a TensorArray of unknown element shape under a tf.cond")
                self.tensors.extend([v._size, v._buffer])
            elif loop_arrays.is_array(v):
                raise Untraceable("an eager TensorArray written under a tf.cond")

    def rebuild(self, tensors):
        it = iter(tensors)
        out = []
        for v in self.flat:
            if isinstance(v, Tensor):
                out.append(next(it))
            elif isinstance(v, GraphTensorArray):
                size, buffer = next(it), next(it)
                out.append(v._replace(buffer, size))
            else:
                out.append(v)
        return out


def _branch_outputs(flat):
    """Python numbers (and other convertible values) in a branch's outputs become tensors
    while the branch is traced, so they are the branch's constants."""
    out = []
    for v in flat:
        if v is None or isinstance(v, Tensor) or loop_arrays.is_array(v):
            out.append(v)
        elif hasattr(v, "_as_tensor_for_ops") or isinstance(v, (bool, int, float)) or \
                type(v).__module__ == "numpy":
            out.append(convert_to_tensor(v))
        else:
            out.append(v)
    return out


def _pair_up(t_vals, f_vals):
    """Checks that the two branches' outputs can be merged, leaf by leaf."""
    for a, b in zip(t_vals.flat, f_vals.flat):
        if isinstance(a, Tensor) != isinstance(b, Tensor) or \
                isinstance(a, GraphTensorArray) != isinstance(b, GraphTensorArray):
            raise TypeError(f"tf.cond branches return different kinds of values: {a!r} and "
                            f"{b!r}.")
        if not isinstance(a, (Tensor, GraphTensorArray)) and a is not b:
            raise TypeError(f"To be compatible with tf.cond, Python functions must return zero "
                            f"or more tensors or ExtensionTypes or None values; found "
                            f"{a!r} and {b!r}, which are not.")
    for a, b in zip(t_vals.tensors, f_vals.tensors):
        if a._dtype is not b._dtype:
            raise TypeError(f"true_fn and false_fn arguments to tf.cond must have the same "
                            f"dtypes, got {a.dtype!r} and {b.dtype!r}.")
        if tuple(a._t.shape) != tuple(b._t.shape):
            raise Untraceable(f"tf.cond branches of shapes {tuple(a._t.shape)} and "
                              f"{tuple(b._t.shape)} (tapeflow traces one shape)")


def cond_flat(pred, true_fn, false_fn, check=None):
    """The graph form of a conditional: true_fn/false_fn return flat lists of values; both
    are traced (once each); `check(t_flat, f_flat)` may raise before they are merged."""
    graph = current_graph()
    recorders = state.recorders
    t_tr, t_flat = subgraphs.trace(lambda: _branch_outputs(true_fn()), [])
    f_tr, f_flat = subgraphs.trace(lambda: _branch_outputs(false_fn()), [])
    if len(t_flat) != len(f_flat):
        raise ValueError("true_fn and false_fn arguments to tf.cond must have the same number, "
                         "type, and overall structure of return values.")
    if check is not None:
        check(t_flat, f_flat)
    t_vals, f_vals = _Values(t_flat), _Values(f_flat)
    _pair_up(t_vals, f_vals)
    if pred._dtype is not dtypes.bool:
        raise TypeError(f"pred must be a bool tensor, got {pred.dtype.name}.")
    if not _symbolic(pred):  # known while tracing: the chosen branch runs in place
        taken, vals = (t_tr, t_vals) if bool(pred) else (f_tr, f_vals)
        subgraphs.inline(graph, taken, recorders)
        return vals.flat
    if not t_tr.has_effects() and not f_tr.has_effects():
        subgraphs.inline(graph, t_tr, recorders)
        subgraphs.inline(graph, f_tr, recorders)
        from tapeflow.ops.comparison import where
        merged = [a if a is b else where(pred, a, b)
                  for a, b in zip(t_vals.tensors, f_vals.tensors)]
        return t_vals.rebuild(merged)
    c = _Cond(t_tr.finish(t_vals.tensors), f_tr.finish(f_vals.tensors))
    _opaque(graph, "tf.cond")
    outs = execute(COND, _cond_kernel, [pred] + c.captures + subgraphs.standins(c.variables),
                   (c,))
    subgraphs.forget_writes(graph, c.assigned)
    return t_vals.rebuild(outs[:-1])


class _Cond:
    """What an If step runs: the two traced branches; while a tape records, also the
    residuals of the branch taken, for its IfGrad step."""

    def __init__(self, t_tr, f_tr):
        self.branches = (f_tr, t_tr)        # indexed by the predicate's value
        self.ranges = ((len(t_tr.captures), len(t_tr.captures) + len(f_tr.captures)),
                       (0, len(t_tr.captures)))
        self.captures = list(t_tr.captures) + list(f_tr.captures)
        variables = {id(v): v for tr in (t_tr, f_tr) for v in tr.read_variables()}
        self.variables = list(variables.values())
        self.assigned = {**t_tr.assigned(), **f_tr.assigned()}
        self.templates = t_tr.outputs
        self.float_out = [i for i, o in enumerate(t_tr.outputs) if differentiable(o)]
        # the gradient: one per differentiable capture of each branch and per variable
        self.sources = [(k, i) for k, tr in ((1, t_tr), (0, f_tr))
                        for i, c in enumerate(tr.captures) if differentiable(c)]
        self.accumulate = False
        self._vjps = None

    def meta_outputs(self):
        return [meta_like(t)._t for t in self.templates] + [subgraphs.handle_template()._t]

    def differentiable(self):
        return bool(self.float_out) and bool(self.sources or self.variables)

    def vjps(self):
        """Each branch's backward plan (sources: its float captures, then every variable)."""
        if self._vjps is None:
            out = []
            for k in (0, 1):
                tr = self.branches[k]
                targets = [tr.outputs[i] for i in self.float_out]
                caps = [tr.captures[i] for kk, i in self.sources if kk == k]
                out.append(tr.vjp(targets, caps + self.variables))
            self._vjps = tuple(out)
        return self._vjps

    def wants_residuals(self):
        if self.accumulate or (state.recorders and self.differentiable()):
            self.vjps()
            return True
        return False

    def grad_meta(self):
        shapes = [tuple(self.captures[self._index(k, i)]._t.shape) for k, i in self.sources]
        shapes += [tuple(v.shape.as_list()) for v in self.variables]
        dts = [self.captures[self._index(k, i)]._dtype for k, i in self.sources] + \
            [v.dtype for v in self.variables]
        return [torch.empty(s, dtype=d.torch, device="meta") for s, d in zip(shapes, dts)]

    def _index(self, k, i):
        return self.ranges[k][0] + i


def _cond_kernel(*args):
    c = args[-1]
    take = bool(args[0])
    tr = c.branches[take]
    lo, hi = c.ranges[take]
    caps = args[1:-1][lo:hi]
    if c.wants_residuals():
        out = tr.residual_plan().run(*caps)
        n = len(c.templates)
        return (*out[:n], subgraphs.new_handle((take, out[n:])))
    return (*tr.plan.run(*caps), subgraphs.new_handle(None))


def _cond_grad_kernel(*args):
    c = args[-1]
    take, residuals = args[0]._tapeflow_saved
    n_inv = [len(v.invariants) for v in c.vjps()]
    invariants = args[1:1 + n_inv[0] + n_inv[1]]
    inv = invariants[:n_inv[0]] if take == 0 else invariants[n_inv[0]:]
    seeds = args[1 + n_inv[0] + n_inv[1]:-1]
    vjp = c.vjps()[take]
    grads = list(vjp.run(seeds, residuals, inv))
    device = seeds[0].device if seeds else torch.device("cpu")
    out = []
    own = iter(grads)
    for (k, i), z in zip(c.sources, c.grad_meta()):
        out.append(next(own) if k == take else torch.zeros(z.shape, dtype=z.dtype, device=device))
    out.extend(own)  # the variables' gradients
    return tuple(out)


@COND.gradient
def _(node, *grads):
    c = node.attrs[-1]
    if not c.differentiable():
        return [None] * len(node.inputs)
    vjps = c.vjps()
    if current_graph() is not None:
        c.accumulate = True
    seeds = [grads[i] for i in c.float_out]
    invariants = []
    for k in (0, 1):
        tr = c.branches[k]
        for x in vjps[k].invariants:
            invariants.append(_input_for(node, x, tr.captures, 1 + c.ranges[k][0]))
    outs = execute(COND_GRAD, _cond_grad_kernel, [node.outputs[-1], *invariants, *seeds], (c,))
    result = [None] * len(node.inputs)
    for (k, i), g in zip(c.sources, outs):
        result[1 + c._index(k, i)] = g
    base = 1 + len(c.captures)
    for j, g in enumerate(outs[len(c.sources):]):
        result[base + j] = g
    return result


def _opaque(graph, what):
    """A tape outside the function re-runs it eagerly (which gives gradients of any order)
    rather than replaying this step, whose gradient step is not differentiable itself."""
    if graph.opaque_to_tapes is None:
        graph.opaque_to_tapes = what


def _input_for(node, x, captures, offset):
    """The step input a backward plan's loop-invariant capture `x` corresponds to (the node's
    own input, so an eager replay of the step feeds the eager value)."""
    for j, c in enumerate(captures):
        if c is x:
            return node.inputs[offset + j]
    return x


# -- tf.while_loop -----------------------------------------------------------------------------

def while_loop(cond, body, loop_vars, shape_invariants=None, parallel_iterations=10,
               back_prop=True, swap_memory=False, maximum_iterations=None, name=None):
    """Repeats `body` while `cond` is true; returns the final loop variables (same
    structure as `loop_vars`)."""
    if not callable(cond) or not callable(body):
        raise TypeError("cond and body must be callable.")
    flat = [v if loop_arrays.is_array(v) else convert_to_tensor(v)
            for v in nest.flatten(loop_vars)]
    pack = lambda values: nest.pack_sequence_as(loop_vars, values)  # noqa: E731
    call = lambda fn, values: fn(*pack(values)) if isinstance(loop_vars, (list, tuple)) \
        else fn(pack(values))  # noqa: E731
    if current_graph() is None:
        i = 0
        while (maximum_iterations is None or i < int(maximum_iterations)) and \
                bool(call(cond, flat)):
            out = call(body, flat)
            flat = [v if loop_arrays.is_array(v) else convert_to_tensor(v)
                    for v in nest.flatten(out)]
            i += 1
        return pack(flat)

    def body_fn(values):
        out = nest.flatten(call(body, values))
        if len(out) != len(values):
            raise ValueError("body must return the same structure as loop_vars: "
                             f"{len(values)} loop variables, body returned {len(out)}.")
        out = [v if loop_arrays.is_array(v) else convert_to_tensor(v) for v in out]
        for x, y in zip(values, out):
            if isinstance(x, Tensor) and (x.dtype != y.dtype or
                                          tuple(x._t.shape) != tuple(y._t.shape)):
                if shape_invariants is not None and x.dtype == y.dtype:
                    raise Untraceable("a loop variable whose shape changes across iterations")
                raise ValueError(
                    f"Input tensor enters the loop with shape {x.shape} and dtype "
                    f"{x.dtype.name}, but has shape {y.shape} and dtype {y.dtype.name} after "
                    "one iteration. To allow the shape to vary across iterations, use the "
                    "`shape_invariants` argument of tf.while_loop to specify a less-specific "
                    "shape.")
        return out
    return pack(while_flat(lambda values: call(cond, values), body_fn, flat,
                           maximum_iterations=maximum_iterations))


class _Layout:
    """Loop values (tensors and TensorArrays) as the flat tensors a loop step carries.

    Each value is one tensor, or an array's (size, buffer); an array whose element shape is
    unknown on entry gets its buffer when the body first writes it: such buffers come after
    all the others (the cond, traced first, never sees them)."""

    def __init__(self, init, trip_count):
        self.kinds = []
        self.entry = []
        for v in init:
            if loop_arrays.is_array(v):
                cap = loop_arrays.capacity_of(v, trip_count)
                size, buf = loop_arrays.entry_tensors(v, cap)
                self.kinds.append((v, cap, buf is not None))
                self.entry.append(size)
                if buf is not None:
                    self.entry.append(buf)
            else:
                self.kinds.append(None)
                self.entry.append(_as_tensor(v))
        self.late = {}     # value index -> placeholder of its buffer made in the body

    def values(self, flat, trace=None):
        """The loop values over flat tensors (placeholders of a body, or step outputs)."""
        it = iter(flat)
        late = dict(zip(self.late, flat[len(self.entry):]))
        out = []
        for k, kind in enumerate(self.kinds):
            if kind is None:
                out.append(next(it))
                continue
            ta, cap, has_buffer = kind
            size = next(it)
            buf = next(it) if has_buffer else late.get(k)
            first = None
            if trace is not None and buf is None:
                first = lambda arr, value, k=k, ta=ta, cap=cap: self._late_buffer(  # noqa: E731
                    trace, k, ta, cap, value)
            shape = ta._element_shape if buf is None else tuple(buf._t.shape)[1:]
            out.append(GraphTensorArray(ta._dtype, cap, shape, buf, size, ta._dynamic_size,
                                        first))
        return out

    def _late_buffer(self, trace, k, ta, cap, value):
        if k not in self.late:
            self.late[k] = trace.arg(ta._dtype, (cap,) + tuple(value._t.shape))
        return self.late[k]

    def flatten(self, values):
        flat, late = [], {}
        for k, (kind, v) in enumerate(zip(self.kinds, values)):
            if kind is None:
                flat.append(v)
                continue
            if not isinstance(v, GraphTensorArray):
                raise TypeError(f"A TensorArray loop variable became {v!r} after one "
                                "iteration.")
            flat.append(v._size)
            if kind[2]:
                flat.append(v._buffer)
            elif k in self.late:
                late[k] = v._buffer
        return flat + [late[k] if late.get(k) is not None else self.late[k] for k in self.late]

    def late_entry(self):
        """The entry buffers of the arrays the body gave a buffer."""
        out = []
        for k, ph in self.late.items():
            ta, cap, _ = self.kinds[k]
            out.append(loop_arrays.initial_buffer(ta, cap, tuple(ph._t.shape)[1:]))
        return out


def _scalar_bool(t):
    t = _as_tensor(t)
    if t._dtype is not dtypes.bool or t._t.numel() != 1:
        raise ValueError(f"A loop condition must be a scalar bool tensor, got {t!r}.")
    if t._t.ndim:
        from tapeflow.ops.array import reshape
        t = reshape(t, [])
    return t


class _Loop:
    """What a While (or ReduceDataset) step runs: the traced cond (or extra test) and body;
    while a tape records, also each iteration's residuals, for its WhileGrad step."""

    def __init__(self, layout, cond_tr, body_tr, n_elements, limit):
        self.layout = layout
        self.cond, self.body = cond_tr, body_tr
        self.n_elements = n_elements          # leading body arguments that are data elements
        self.n = len(body_tr.args) - n_elements
        self.n_cond = len(cond_tr.args) if cond_tr is not None else 0
        self.limit = limit
        self.cond_caps = list(cond_tr.captures) if cond_tr is not None else []
        self.body_caps = list(body_tr.captures)
        self.variables = body_tr.read_variables()
        self.assigned = dict(body_tr.assigned())
        if cond_tr is not None:
            self.assigned.update(cond_tr.assigned())
        self.templates = body_tr.outputs
        self.float_vars = [i for i, o in enumerate(body_tr.outputs) if differentiable(o)]
        self.float_caps = [i for i, c in enumerate(self.body_caps) if differentiable(c)]
        self.accumulate = False
        self._vjp = None

    def meta_outputs(self):
        return [meta_like(t)._t for t in self.templates] + [subgraphs.handle_template()._t]

    def differentiable(self):
        return bool(self.float_vars) and bool(self.float_vars or self.float_caps or
                                              self.variables)

    def vjp(self):
        if self._vjp is None:
            args = self.body.args[self.n_elements:]
            targets = [self.body.outputs[i] for i in self.float_vars]
            sources = [args[i] for i in self.float_vars] + \
                [self.body_caps[i] for i in self.float_caps] + self.variables
            self._vjp = self.body.vjp(targets, sources)
        return self._vjp

    def wants_residuals(self):
        if self.accumulate or (state.recorders and self.differentiable()):
            self.vjp()
            return True
        return False

    def grad_meta(self):
        shapes = [tuple(self.templates[i]._t.shape) for i in self.float_vars] + \
            [tuple(self.body_caps[i]._t.shape) for i in self.float_caps] + \
            [tuple(v.shape.as_list()) for v in self.variables]
        dts = [self.templates[i]._dtype for i in self.float_vars] + \
            [self.body_caps[i]._dtype for i in self.float_caps] + [v.dtype for v in self.variables]
        return [torch.empty(s, dtype=d.torch, device="meta") for s, d in zip(shapes, dts)]

    def run_body(self, plan, element, values, caps, saved):
        out = plan.run(*element, *values, *caps)
        if saved is None:
            return out
        saved.append(out[self.n:])
        return out[:self.n]


def _while_kernel(*args):
    loop = args[-1]
    n, nc = loop.n, len(loop.cond_caps)
    values = args[:n]
    c_caps, b_caps = args[n:n + nc], args[n + nc:n + nc + len(loop.body_caps)]
    saved = [] if loop.wants_residuals() else None
    plan = loop.body.residual_plan() if saved is not None else loop.body.plan
    test, nv, limit = loop.cond.plan.run, loop.n_cond, loop.limit
    i = 0
    while (limit is None or i < limit) and bool(test(*values[:nv], *c_caps)[0]):
        values = loop.run_body(plan, (), values, b_caps, saved)
        i += 1
    return (*values, subgraphs.new_handle(saved))


def _dataset_kernel(*args):
    loop = args[-1]
    n, nc = loop.n, len(loop.cond_caps)
    values = args[:n]
    e_caps, b_caps = args[n:n + nc], args[n + nc:n + nc + len(loop.body_caps)]
    saved = [] if loop.wants_residuals() else None
    plan = loop.body.residual_plan() if saved is not None else loop.body.plan
    extra = loop.cond.plan.run if loop.cond is not None else None
    for element in loop.dataset:
        if extra is not None and not bool(extra(*values[:loop.n_cond], *e_caps)[0]):
            break
        values = loop.run_body(plan, [t._t for t in nest.flatten(element)], values, b_caps,
                               saved)
    return (*values, subgraphs.new_handle(saved))


def _while_grad_kernel(*args):
    loop = args[-1]
    vjp = loop.vjp()
    saved = args[0]._tapeflow_saved
    n_inv = len(vjp.invariants)
    invariants = args[1:1 + n_inv]
    seeds = list(args[1 + n_inv:-1])
    nf = len(loop.float_vars)
    acc = None
    for residuals in reversed(saved):
        out = vjp.run(seeds, residuals, invariants)
        seeds = list(out[:nf])
        acc = list(out[nf:]) if acc is None else [a + b for a, b in zip(acc, out[nf:])]
    if acc is None:
        device = seeds[0].device if seeds else torch.device("cpu")
        acc = vjp.zeros(device)[nf:]
    return (*seeds, *acc)


def _loop_gradient(node, *grads):
    loop = node.attrs[-1]
    if not loop.differentiable():
        return [None] * len(node.inputs)
    vjp = loop.vjp()
    if current_graph() is not None:
        loop.accumulate = True
    seeds = [grads[i] for i in loop.float_vars]
    offset = loop.n + len(loop.cond_caps)
    invariants = [_input_for(node, x, loop.body_caps, offset) for x in vjp.invariants]
    outs = execute(WHILE_GRAD, _while_grad_kernel, [node.outputs[-1], *invariants, *seeds],
                   (loop,))
    result = [None] * len(node.inputs)
    k = 0
    for i in loop.float_vars:
        result[i] = outs[k]
        k += 1
    for i in loop.float_caps:
        result[offset + i] = outs[k]
        k += 1
    base = offset + len(loop.body_caps)
    for j in range(len(loop.variables)):
        result[base + j] = outs[k + j]
    return result


WHILE.gradient(_loop_gradient)
DATASET_LOOP.gradient(_loop_gradient)


def _check_body_outputs(entry, out):
    for x, y in zip(entry, out):
        if x._dtype is not y._dtype or tuple(x._t.shape) != tuple(y._t.shape):
            raise ValueError(f"Input tensor enters the loop with shape {x.shape} and dtype "
                             f"{x.dtype.name}, but has shape {y.shape} and dtype {y.dtype.name} "
                             "after one iteration.")


def while_flat(cond_fn, body_fn, init, maximum_iterations=None, trip_count=None):
    """The graph form of a loop over `init` (tensors and TensorArrays): `cond_fn(values)`
    gives a scalar bool tensor, `body_fn(values)` the next values. Returns the final values.
    `trip_count` (when known while tracing) sizes growing TensorArrays."""
    graph = current_graph()
    layout = _Layout(init, trip_count)
    limit = None
    if maximum_iterations is not None:
        if _symbolic(maximum_iterations):
            raise Untraceable("a symbolic maximum_iterations")
        limit = int(maximum_iterations)
    cond_tr, c_out = subgraphs.trace(lambda *ph: _scalar_bool(cond_fn(layout.values(list(ph)))),
                                     layout.entry)
    cond_tr.finish([c_out])
    body_tr = subgraphs.Trace(graph)
    ph = [body_tr.arg(t._dtype, t._t.shape) for t in layout.entry]
    out = body_tr.run(lambda: layout.flatten(body_fn(layout.values(ph, body_tr))))
    out = [_as_tensor(t) for t in out]
    entry = layout.entry + layout.late_entry()
    _check_body_outputs(entry, out)
    body_tr.finish(out)
    loop = _Loop(layout, cond_tr, body_tr, 0, limit)
    _opaque(graph, "tf.while_loop")
    inputs = entry + loop.cond_caps + loop.body_caps + subgraphs.standins(loop.variables)
    outs = execute(WHILE, _while_kernel, inputs, (loop,))
    subgraphs.forget_writes(graph, loop.assigned)
    return layout.values(list(outs[:-1]))


def dataset_flat(dataset, body_fn, init, extra_fn=None):
    """The graph form of `for element in dataset`: `body_fn(element, values)` gives the next
    values; `extra_fn(values)` (a `break` flag) may stop the loop before the next element."""
    graph = current_graph()
    specs = nest.flatten(dataset.element_spec)
    for s in specs:
        if not getattr(s, "shape", None) or not s.shape.is_fully_defined() or \
                s.dtype is dtypes.string:
            raise Untraceable(f"a loop over a dataset whose elements ({s}) have no fixed shape")
    trip = None
    if extra_fn is None:
        n = dataset._cardinality() if hasattr(dataset, "_cardinality") else -2
        trip = n if n >= 0 else None
    layout = _Layout(init, trip)
    cond_tr = None
    if extra_fn is not None:
        cond_tr, e_out = subgraphs.trace(
            lambda *ph: _scalar_bool(extra_fn(layout.values(list(ph)))), layout.entry)
        cond_tr.finish([e_out])
    body_tr = subgraphs.Trace(graph)
    elements = [body_tr.arg(s.dtype, s.shape.as_list()) for s in specs]
    ph = [body_tr.arg(t._dtype, t._t.shape) for t in layout.entry]
    element = nest.pack_sequence_as(dataset.element_spec, elements)
    out = body_tr.run(lambda: layout.flatten(body_fn(element, layout.values(ph, body_tr))))
    out = [_as_tensor(t) for t in out]
    # late buffers were appended after the element and state placeholders: keep that order
    entry = layout.entry + layout.late_entry()
    _check_body_outputs(entry, out)
    body_tr.finish(out)
    loop = _Loop(layout, cond_tr, body_tr, len(elements), None)
    loop.dataset = dataset
    _opaque(graph, "a loop over a tf.data.Dataset")
    inputs = entry + loop.cond_caps + loop.body_caps + subgraphs.standins(loop.variables)
    outs = execute(DATASET_LOOP, _dataset_kernel, inputs, (loop,))
    subgraphs.forget_writes(graph, loop.assigned)
    return layout.values(list(outs[:-1]))

