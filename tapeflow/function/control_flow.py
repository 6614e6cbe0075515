"""`tf.cond` and `tf.while_loop`: Python control flow when running eagerly, graph control flow
while a tf.function is being traced (AutoGraph lowers `if`/`while`/`for` on tensors to these).

Inside a trace each branch or loop body is traced once into a child graph (subgraphs.py), as
TF traces its `If`/`While` bodies, so Python side effects happen once per branch at trace time:
- a `cond` whose predicate is known while tracing takes the chosen branch in place;
- one with a symbolic predicate and branches free of side effects takes both in place and
  selects with `tf.where` (so it is an ordinary differentiable op);
- otherwise it becomes an If step holding the two compiled branches, which runs the taken
  one. The step has a gradient: while a tape records, it also returns the residuals of the
  branch it ran (the intermediates the backward graph needs), which its IfGrad step feeds to
  that branch's backward plan.
Loops (tf.while_loop here; AutoGraph's `for` over tensors and datasets) live in loops.py.
"""
import torch

from tapeflow._core import dispatch, dtypes, nest
from tapeflow._core.tensor import Tensor, convert_to_tensor
from tapeflow.function import loop_arrays, subgraphs
from tapeflow.function.graph import Untraceable
from tapeflow.function.loop_arrays import EmittingTensorArray, GraphTensorArray, NeedsBuffer
from tapeflow.function.loops import while_flat
from tapeflow.function.subgraphs import current_graph, differentiable, meta_like
from tapeflow.ops._op import define, execute
from tapeflow.ops.comparison import where

COND = define("If", stateful=True)
COND.meta_fn = lambda *args: args[-1].meta_outputs()
COND_GRAD = define("IfGrad", differentiable=False)
COND_GRAD.meta_fn = lambda *args: args[-1].grad_meta()


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
            elif isinstance(v, EmittingTensorArray):  # written under this cond: a buffer
                raise NeedsBuffer(*v._origin)
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
    recorders = dispatch.recorders()
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
        merged = [a if a is b else where(pred, a, b)
                  for a, b in zip(t_vals.tensors, f_vals.tensors)]
        return t_vals.rebuild(merged)
    c = _Cond(t_tr.finish(t_vals.tensors), f_tr.finish(f_vals.tensors))
    subgraphs.opaque(graph, "tf.cond")
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
        if self.accumulate or (dispatch.recording() and self.differentiable()):
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
    subgraphs.check_first_order()
    vjps = c.vjps()
    if current_graph() is not None:
        c.accumulate = True
    seeds = [grads[i] for i in c.float_out]
    invariants = []
    for k in (0, 1):
        tr = c.branches[k]
        for x in vjps[k].invariants:
            invariants.append(subgraphs.input_for(node, x, tr.captures, 1 + c.ranges[k][0]))
    outs = execute(COND_GRAD, _cond_grad_kernel, [node.outputs[-1], *invariants, *seeds], (c,))
    result = [None] * len(node.inputs)
    for (k, i), g in zip(c.sources, outs):
        result[1 + c._index(k, i)] = g
    base = 1 + len(c.captures)
    for j, g in enumerate(outs[len(c.sources):]):
        result[base + j] = g
    return result



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
