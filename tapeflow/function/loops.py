"""Graph loops: `tf.while_loop` and AutoGraph's `while`/`for` inside a trace, and loops over
a `tf.data.Dataset`, as one step holding the traced cond and body (subgraphs.py), run by a
Python loop when the function runs.

The loop values are tensors and TensorArrays (`_Layout` turns them into the flat tensors the
step carries, see loop_arrays.py). An array the body only writes is not carried: each
iteration emits its (index, value) writes and the step assembles the array once at the end
(so a loop filling an array costs no copy per write); one the body also reads is carried as
a buffer. While a tape records, the step also returns the residuals of every iteration, and
its WhileGrad step runs the body's backward plan over them in reverse, accumulating the
gradients of the loop-invariant inputs and variables.
"""
import torch

from tapeflow._core import dispatch, dtypes, nest
from tapeflow._core.tensor import Tensor, convert_to_tensor
from tapeflow.function import loop_arrays, subgraphs
from tapeflow.function.graph import Untraceable
from tapeflow.function.loop_arrays import EmittingTensorArray, GraphTensorArray, NeedsBuffer
from tapeflow.function.subgraphs import current_graph, differentiable, meta_like
from tapeflow.ops._op import define, execute
from tapeflow.ops.array import reshape

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

    Each value is one tensor; an array is its size, plus its buffer when it is carried as one
    (`buffered`: the body reads it). A carried array whose element shape is unknown on entry
    gets its buffer when the body first writes it: such buffers come after all the others
    (the cond, traced first, never sees them). The writes of an emitting array are recorded
    in `emits` while the body is traced."""

    def __init__(self, init, trip_count, buffered):
        self.kinds = []
        self.entry = []
        for k, v in enumerate(init):
            if isinstance(v, EmittingTensorArray):
                raise NeedsBuffer(*v._origin)  # an outer loop's array, used in this one
            if loop_arrays.is_array(v):
                cap = loop_arrays.capacity_of(v, trip_count)
                emit = k not in buffered
                size, buf = loop_arrays.entry_tensors(v, cap)
                self.kinds.append((v, cap, not emit and buf is not None, emit))
                self.entry.append(size)
                if not emit and buf is not None:
                    self.entry.append(buf)
            else:
                self.kinds.append(None)
                self.entry.append(_as_tensor(v))
        self.late = {}     # value index -> placeholder of its buffer made in the body
        self.emits = {}    # value index -> [(index, value)] written by the body
        self.shapes = {}   # value index -> element shape of an emitting array

    def values(self, flat, trace=None, finals=None):
        """The loop values over flat tensors: placeholders of a body (`trace`), or a step's
        outputs (`finals`: the assembled buffers of the emitting arrays)."""
        it = iter(flat)
        late = dict(zip(self.late, flat[len(self.entry):]))
        out = []
        for k, kind in enumerate(self.kinds):
            if kind is None:
                out.append(next(it))
                continue
            ta, cap, has_buffer, emit = kind
            size = next(it)
            if emit:
                if finals is None:
                    recorder = None if trace is None else \
                        (lambda i, v, k=k, trace=trace: self._emit(trace, k, i, v))
                    out.append(EmittingTensorArray(ta._dtype, cap, self._shape(k), size,
                                                   ta._dynamic_size, (self, k), recorder))
                else:
                    out.append(GraphTensorArray(ta._dtype, cap, self._shape(k), finals.get(k),
                                                size, ta._dynamic_size))
                continue
            buf = next(it) if has_buffer else late.get(k)
            first = None
            if trace is not None and buf is None:
                first = lambda arr, value, k=k, ta=ta, cap=cap: self._late_buffer(  # noqa: E731
                    trace, k, ta, cap, value)
            shape = ta._element_shape if buf is None else tuple(buf._t.shape)[1:]
            out.append(GraphTensorArray(ta._dtype, cap, shape, buf, size, ta._dynamic_size,
                                        first))
        return out

    def _shape(self, k):
        return self.shapes.get(k, self.kinds[k][0]._element_shape)

    def _emit(self, trace, k, index, value):
        if current_graph() is not trace.graph:  # written under a cond or an inner loop
            raise NeedsBuffer(self, k)
        self.emits.setdefault(k, []).append((index, value))
        self.shapes[k] = tuple(value._t.shape)

    def _late_buffer(self, trace, k, ta, cap, value):
        if k not in self.late:
            self.late[k] = trace.arg(ta._dtype, (cap,) + tuple(value._t.shape))
        return self.late[k]

    def flatten(self, values):
        """The carried tensors of the next iteration, then each write (index, value)."""
        flat, late = [], {}
        for k, (kind, v) in enumerate(zip(self.kinds, values)):
            if kind is None:
                flat.append(v)
                continue
            if not isinstance(v, GraphTensorArray) or \
                    (kind[3] and getattr(v, "_origin", None) != (self, k)):
                raise TypeError(f"A TensorArray loop variable became {v!r} after one "
                                "iteration.")
            flat.append(v._size)
            if kind[2]:
                flat.append(v._buffer)
            elif k in self.late:
                late[k] = v._buffer
        flat += [late[k] if late.get(k) is not None else self.late[k] for k in self.late]
        return flat + [t for k in sorted(self.emits) for pair in self.emits[k] for t in pair]

    def late_entry(self):
        """The entry buffers of the arrays the body gave a buffer."""
        out = []
        for k, ph in self.late.items():
            ta, cap = self.kinds[k][:2]
            out.append(loop_arrays.initial_buffer(ta, cap, tuple(ph._t.shape)[1:]))
        return out

    def emitting(self):
        """The emitting arrays whose buffer the step assembles: [(value index, write
        positions in the body's outputs after the carried ones)]."""
        out, w = [], 0
        written = {k: len(self.emits[k]) for k in sorted(self.emits)}
        for k in sorted(written):
            out.append((k, list(range(w, w + written[k]))))
            w += written[k]
        for k, kind in enumerate(self.kinds):  # known shape, never written: passed through
            if kind is not None and kind[3] and k not in written and \
                    _fully_defined(self._shape(k)):
                out.append((k, []))
        return out

    def bases(self):
        """The buffers the emitting arrays start from (their elements before the loop)."""
        out = []
        for k, _ in self.emitting():
            ta, cap = self.kinds[k][:2]
            out.append(loop_arrays.initial_buffer(ta, cap, list(self._shape(k))))
        return out


def _fully_defined(shape):
    try:
        dims = shape.as_list() if hasattr(shape, "as_list") else list(shape)
    except ValueError:
        return False
    return all(d is not None for d in dims)


def _scalar_bool(t):
    t = _as_tensor(t)
    if t._dtype is not dtypes.bool or t._t.numel() != 1:
        raise ValueError(f"A loop condition must be a scalar bool tensor, got {t!r}.")
    if t._t.ndim:
        t = reshape(t, [])
    return t


class _Loop:
    """What a While (or ReduceDataset) step runs: the traced cond (or extra test) and body,
    the writes of the emitting arrays to assemble, and, while a tape records, each
    iteration's residuals for its WhileGrad step.

    Step inputs: carried entries, emitting arrays' start buffers, cond captures, body
    captures, variable stand-ins. Outputs: carried finals, assembled buffers, handle."""

    def __init__(self, layout, cond_tr, body_tr, n_elements, limit):
        self.layout = layout
        self.cond, self.body = cond_tr, body_tr
        self.n_elements = n_elements          # leading body arguments that are data elements
        self.n = len(body_tr.args) - n_elements
        self.n_cond = len(cond_tr.args) if cond_tr is not None else 0
        self.limit = limit
        self.emitting = layout.emitting()     # [(value index, write positions)]
        self.n_writes = sum(len(p) for _, p in self.emitting)
        self.n_out = self.n + 2 * self.n_writes
        self.cond_caps = list(cond_tr.captures) if cond_tr is not None else []
        self.body_caps = list(body_tr.captures)
        self.variables = body_tr.read_variables()
        self.assigned = dict(body_tr.assigned())
        if cond_tr is not None:
            self.assigned.update(cond_tr.assigned())
        outs = body_tr.outputs
        self.templates = outs[:self.n]
        self.float_vars = [i for i in range(self.n) if differentiable(outs[i])]
        self.float_writes = [w for w in range(self.n_writes)
                             if differentiable(outs[self.n + 2 * w + 1])]
        self.float_arrays = [j for j, (k, _) in enumerate(self.emitting)
                             if layout.kinds[k][0]._dtype.is_floating]
        self.float_caps = [i for i, c in enumerate(self.body_caps) if differentiable(c)]
        self.accumulate = False
        self._vjp = None
        self._final_meta = [torch.empty((layout.kinds[k][1],) + tuple(layout._shape(k)),
                                        dtype=layout.kinds[k][0]._dtype.torch, device="meta")
                            for k, _ in self.emitting]

    def meta_outputs(self):
        return [meta_like(t)._t for t in self.templates] + self._final_meta + \
            [subgraphs.handle_template()._t]

    def differentiable(self):
        return bool(self.float_vars or self.float_writes)

    def vjp(self):
        if self._vjp is None:
            args = self.body.args[self.n_elements:]
            outs = self.body.outputs
            targets = [outs[i] for i in self.float_vars] + \
                [outs[self.n + 2 * w + 1] for w in self.float_writes]
            sources = [args[i] for i in self.float_vars] + \
                [self.body_caps[i] for i in self.float_caps] + self.variables
            self._vjp = self.body.vjp(targets, sources)
        return self._vjp

    def wants_residuals(self):
        if self.accumulate or (dispatch.recording() and self.differentiable()):
            self.vjp()
            return True
        return False

    def grad_meta(self):
        shapes = [tuple(self.templates[i]._t.shape) for i in self.float_vars] + \
            [tuple(self.body_caps[i]._t.shape) for i in self.float_caps] + \
            [tuple(v.shape.as_list()) for v in self.variables] + \
            [tuple(self._final_meta[j].shape) for j in self.float_arrays]
        dts = [self.templates[i]._dtype.torch for i in self.float_vars] + \
            [self.body_caps[i]._dtype.torch for i in self.float_caps] + \
            [v.dtype.torch for v in self.variables] + \
            [self._final_meta[j].dtype for j in self.float_arrays]
        return [torch.empty(s, dtype=d, device="meta") for s, d in zip(shapes, dts)]

    def run(self, values, bases, caps, next_element):
        """Runs the body while `next_element(values)` gives an element (a list of torch
        tensors, empty for a while loop) rather than None; returns the step's outputs."""
        saved = [] if self.wants_residuals() else None
        plan = self.body.residual_plan() if saved is not None else self.body.plan
        n, n_out = self.n, self.n_out
        writes = []
        while True:
            element = next_element(values)
            if element is None:
                break
            out = plan.run(*element, *values, *caps)
            values = out[:n]
            if self.n_writes:
                writes.append(out[n:n_out])
            if saved is not None:
                saved.append(out[n_out:])
        finals = [self._assemble(base, positions, writes)
                  for base, (_, positions) in zip(bases, self.emitting)]
        return (*values, *finals, subgraphs.new_handle((saved, writes)))

    @staticmethod
    def _assemble(base, positions, writes):
        if not positions or not writes:
            return base
        index = torch.stack([it[2 * w] for it in writes for w in positions]).long()
        rows = torch.stack([it[2 * w + 1] for it in writes for w in positions])
        out = base.clone()
        out[index] = rows.to(out.dtype)
        return out


def _split_inputs(args, loop):
    n, nb, nc = loop.n, len(loop.emitting), len(loop.cond_caps)
    values, bases = args[:n], args[n:n + nb]
    c_caps = args[n + nb:n + nb + nc]
    b_caps = args[n + nb + nc:n + nb + nc + len(loop.body_caps)]
    return values, bases, c_caps, b_caps


def _while_kernel(*args):
    loop = args[-1]
    values, bases, c_caps, b_caps = _split_inputs(args, loop)
    test, nv, limit = loop.cond.plan.run, loop.n_cond, loop.limit
    count = [0]

    def next_element(values):
        if (limit is not None and count[0] >= limit) or \
                not bool(test(*values[:nv], *c_caps)[0]):
            return None
        count[0] += 1
        return ()
    return loop.run(values, bases, b_caps, next_element)


def _dataset_kernel(*args):
    loop = args[-1]
    values, bases, e_caps, b_caps = _split_inputs(args, loop)
    extra = loop.cond.plan.run if loop.cond is not None else None
    elements = iter(loop.dataset)

    def next_element(values):
        if extra is not None and not bool(extra(*values[:loop.n_cond], *e_caps)[0]):
            return None
        element = next(elements, None)
        return None if element is None else [t._t for t in nest.flatten(element)]
    return loop.run(values, bases, b_caps, next_element)


def _while_grad_kernel(*args):
    loop = args[-1]
    vjp = loop.vjp()
    saved, writes = args[0]._tapeflow_saved
    n_inv = len(vjp.invariants)
    nf, na = len(loop.float_vars), len(loop.float_arrays)
    invariants = args[1:1 + n_inv]
    seeds = list(args[1 + n_inv:1 + n_inv + nf])
    array_grads = dict(zip(loop.float_arrays, args[1 + n_inv + nf:1 + n_inv + nf + na]))
    array_of = {w: j for j, (_, positions) in enumerate(loop.emitting) for w in positions}
    acc = None
    for t in range(len(saved) - 1, -1, -1):
        row_seeds = [array_grads[array_of[w]][writes[t][2 * w].long()]
                     for w in loop.float_writes]
        out = vjp.run(seeds + row_seeds, saved[t], invariants)
        seeds = list(out[:nf])
        acc = list(out[nf:]) if acc is None else [a + b for a, b in zip(acc, out[nf:])]
    if acc is None:
        device = seeds[0].device if seeds else torch.device("cpu")
        acc = vjp.zeros(device)[nf:]
    base_grads = []
    for j in loop.float_arrays:  # what was overwritten does not reach the start buffer
        g = array_grads[j]
        positions = loop.emitting[j][1]
        if positions and writes:
            g = g.clone()
            g[torch.stack([it[2 * w] for it in writes for w in positions]).long()] = 0
        base_grads.append(g)
    return (*seeds, *acc, *base_grads)


def _loop_gradient(node, *grads):
    loop = node.attrs[-1]
    if not loop.differentiable():
        return [None] * len(node.inputs)
    subgraphs.check_first_order()
    vjp = loop.vjp()
    if current_graph() is not None:
        loop.accumulate = True
    n, nb = loop.n, len(loop.emitting)
    seeds = [grads[i] for i in loop.float_vars] + [grads[n + j] for j in loop.float_arrays]
    offset = n + nb + len(loop.cond_caps)
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
        result[base + j] = outs[k]
        k += 1
    for j in loop.float_arrays:
        result[n + j] = outs[k]
        k += 1
    return result


WHILE.gradient(_loop_gradient)
DATASET_LOOP.gradient(_loop_gradient)


def _check_body_outputs(entry, out):
    for x, y in zip(entry, out):
        if x._dtype is not y._dtype or tuple(x._t.shape) != tuple(y._t.shape):
            raise ValueError(f"Input tensor enters the loop with shape {x.shape} and dtype "
                             f"{x.dtype.name}, but has shape {y.shape} and dtype {y.dtype.name} "
                             "after one iteration.")


def _finish_step(graph, op, kernel, layout, loop, entry, what):
    subgraphs.opaque(graph, what)
    inputs = entry + layout.bases() + loop.cond_caps + loop.body_caps + \
        subgraphs.standins(loop.variables)
    outs = execute(op, kernel, inputs, (loop,))
    subgraphs.forget_writes(graph, loop.assigned)
    finals = {k: t for (k, _), t in zip(loop.emitting, outs[loop.n:-1])}
    return layout.values(list(outs[:loop.n]), finals=finals)


def while_flat(cond_fn, body_fn, init, maximum_iterations=None, trip_count=None):
    """The graph form of a loop over `init` (tensors and TensorArrays): `cond_fn(values)`
    gives a scalar bool tensor, `body_fn(values)` the next values. Returns the final values.
    `trip_count` (when known while tracing) sizes growing TensorArrays."""
    graph = current_graph()
    limit = None
    if maximum_iterations is not None:
        if _symbolic(maximum_iterations):
            raise Untraceable("a symbolic maximum_iterations")
        limit = int(maximum_iterations)

    def build(buffered):
        layout = _Layout(init, trip_count, buffered)
        build.layout = layout
        cond_tr, c_out = subgraphs.trace(
            lambda *ph: _scalar_bool(cond_fn(layout.values(list(ph)))), layout.entry)
        cond_tr.finish([c_out])
        body_tr = subgraphs.Trace(graph)
        ph = [body_tr.arg(t._dtype, t._t.shape) for t in layout.entry]
        out = [_as_tensor(t) for t in body_tr.run(
            lambda: layout.flatten(body_fn(layout.values(ph, body_tr))))]
        entry = layout.entry + layout.late_entry()
        _check_body_outputs(entry, out)
        body_tr.finish(out)
        loop = _Loop(layout, cond_tr, body_tr, 0, limit)
        return _finish_step(graph, WHILE, _while_kernel, layout, loop, entry, "tf.while_loop")
    return _retrying_build(build)


def _retrying_build(build):
    buffered = set()
    while True:
        try:
            return build(buffered)
        except NeedsBuffer as e:
            if e.layout is not getattr(build, "layout", None) or e.key in buffered:
                raise
            buffered.add(e.key)


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

    def build(buffered):
        layout = _Layout(init, trip, buffered)
        build.layout = layout
        cond_tr = None
        if extra_fn is not None:
            cond_tr, e_out = subgraphs.trace(
                lambda *ph: _scalar_bool(extra_fn(layout.values(list(ph)))), layout.entry)
            cond_tr.finish([e_out])
        body_tr = subgraphs.Trace(graph)
        elements = [body_tr.arg(s.dtype, s.shape.as_list()) for s in specs]
        ph = [body_tr.arg(t._dtype, t._t.shape) for t in layout.entry]
        element = nest.pack_sequence_as(dataset.element_spec, elements)
        out = [_as_tensor(t) for t in body_tr.run(
            lambda: layout.flatten(body_fn(element, layout.values(ph, body_tr))))]
        entry = layout.entry + layout.late_entry()
        _check_body_outputs(entry, out)
        body_tr.finish(out)
        loop = _Loop(layout, cond_tr, body_tr, len(elements), None)
        loop.dataset = dataset
        return _finish_step(graph, DATASET_LOOP, _dataset_kernel, layout, loop, entry,
                            "a loop over a tf.data.Dataset")
    return _retrying_build(build)
