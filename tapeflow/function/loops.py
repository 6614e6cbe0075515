"""Graph loops: `tf.while_loop` and AutoGraph's `while`/`for` inside a trace, and loops over
a `tf.data.Dataset`, as one step holding the traced cond and body (subgraphs.py), run by a
Python loop when the function runs.

The loop values are tensors and TensorArrays (`_Layout` turns them into the flat tensors the
step carries, see loop_arrays.py). While a tape records, the step also returns the residuals
of every iteration, and its WhileGrad step runs the body's backward plan over them in
reverse, accumulating the gradients of the loop-invariant inputs and variables.
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

WHILE = define("While", stateful=True)
DATASET_LOOP = define("ReduceDataset", stateful=True)
WHILE_GRAD = define("WhileGrad", differentiable=False)
for _op in (WHILE, DATASET_LOOP):
    _op.meta_fn = lambda *args: args[-1].meta_outputs()
WHILE_GRAD.meta_fn = lambda *args: args[-1].grad_meta()


def _symbolic(x):
    return isinstance(x, Tensor) and x._is_symbolic()


def _as_tensor(x):
    return x if isinstance(x, Tensor) else convert_to_tensor(x)


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
    invariants = [subgraphs.input_for(node, x, loop.body_caps, offset) for x in vjp.invariants]
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
    subgraphs.opaque(graph, "tf.while_loop")
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
    subgraphs.opaque(graph, "a loop over a tf.data.Dataset")
    inputs = entry + loop.cond_caps + loop.body_caps + subgraphs.standins(loop.variables)
    outs = execute(DATASET_LOOP, _dataset_kernel, inputs, (loop,))
    subgraphs.forget_writes(graph, loop.assigned)
    return layout.values(list(outs[:-1]))
