"""`tf.cond` and `tf.while_loop`: Python control flow when values are known, graph control
flow when a tf.function is being traced and the predicate is symbolic.

A traced `cond` whose branches have no side effects runs both branches and selects with
`tf.where` — so gradients flow through it like any op. Branches that assign variables or
print, and every traced `while_loop`, become one step holding compiled sub-plans, run by a
Python loop at replay (gradients through those are taken eagerly: a tape active around the
function makes it run eagerly).
"""
import torch

from tapeflow._core import dispatch, nest
from tapeflow._core.tensor import Tensor, convert_to_tensor, wrap
from tapeflow.function.graph import Graph, Step, Untraceable, current_graph
from tapeflow.function.plan import compile_plan
from tapeflow.ops.comparison import where
from tapeflow.ops._op import define

COND = define("If", differentiable=False, stateful=True)
WHILE = define("While", differentiable=False, stateful=True)


def _symbolic(x):
    return isinstance(x, Tensor) and x._is_symbolic()


def _effects_since(graph, start):
    return any(s.kind in ("assign", "effect") or (s.kind == "op" and s.op.stateful)
               for s in graph.steps[start:])


def cond(pred, true_fn=None, false_fn=None, name=None):
    """Runs `true_fn()` if `pred` is true, else `false_fn()`; both must return the same
    structure of tensors."""
    if not callable(true_fn) or not callable(false_fn):
        raise TypeError("true_fn and false_fn must be callable.")
    graph = current_graph()
    if graph is None or not _symbolic(pred):
        return true_fn() if bool(pred) else false_fn()
    pred = convert_to_tensor(pred)
    start, current = len(graph.steps), dict(graph.current)
    t_out = true_fn()
    f_out = false_fn()
    if not _effects_since(graph, start):
        _check_same(t_out, f_out, "true_fn", "false_fn")
        return nest.map_structure(lambda a, b: where(pred, a, b) if
                                  isinstance(a, Tensor) or isinstance(b, Tensor) else a,
                                  t_out, f_out)
    # side effects: only the taken branch may run, so build sub-plans and branch at run time
    del graph.steps[start:]
    graph.current = current
    return _branching_cond(graph, pred, true_fn, false_fn)


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


def _subplan(parent, fn, args):
    """Traces fn(*placeholders like args) as a child graph; returns (plan, outputs, captures)."""
    if dispatch.recording():
        raise Untraceable("a GradientTape records through graph control flow")
    g = Graph(outer=parent)
    g.allow_variable_creation = False
    ph = [g.placeholder(a._dtype, a._t.shape) for a in args]
    with dispatch.interpreting(g):
        out = fn(*ph)
    flat = [convert_to_tensor(o) for o in nest.flatten(out)]
    plan = compile_plan(g, [g.slot(o) for o in flat])
    for v in g.variables.values():  # the parent must re-read what the branch may change
        parent.current.pop(id(v), None)
    for s in g.steps:
        if s.kind == "assign":
            parent.current.pop(id(s.target), None)
    return plan, out, flat, list(g.captures)


def _append_step(graph, op, kernel, inputs, templates):
    graph.opaque_to_tapes = f"tf.{'cond' if op is COND else 'while_loop'}"
    outs = [wrap(torch.empty(t._t.shape, dtype=t._t.dtype, device="meta"), t._dtype)
            for t in templates]
    ins = tuple(graph.slot(x) for x in inputs)
    graph.steps.append(Step(op, kernel, ins, (), tuple(graph._new_slot(o) for o in outs),
                            multi=True))
    return outs


def _branching_cond(graph, pred, true_fn, false_fn):
    t_plan, t_out, t_flat, t_caps = _subplan(graph, lambda: true_fn(), [])
    f_plan, f_out, f_flat, f_caps = _subplan(graph, lambda: false_fn(), [])
    _check_same(t_out, f_out, "true_fn", "false_fn")
    nt = len(t_caps)

    def run_cond(p, *caps):
        return t_plan.run(*caps[:nt]) if bool(p) else f_plan.run(*caps[nt:])
    outs = _append_step(graph, COND, run_cond, [pred] + t_caps + f_caps, t_flat)
    return nest.pack_sequence_as(t_out, outs)


def while_loop(cond, body, loop_vars, shape_invariants=None, parallel_iterations=10,
               back_prop=True, swap_memory=False, maximum_iterations=None, name=None):
    """Repeats `body` while `cond` is true; returns the final loop variables (same
    structure as `loop_vars`)."""
    if not callable(cond) or not callable(body):
        raise TypeError("cond and body must be callable.")
    flat = [convert_to_tensor(v) for v in nest.flatten(loop_vars)]
    pack = lambda values: nest.pack_sequence_as(loop_vars, values)  # noqa: E731
    call = lambda fn, values: fn(*pack(values)) if isinstance(loop_vars, (list, tuple)) \
        else fn(pack(values))  # noqa: E731
    graph = current_graph()
    if graph is None or not (any(_symbolic(v) for v in flat) or _symbolic(
            call(cond, flat))):
        i = 0
        while (maximum_iterations is None or i < int(maximum_iterations)) and \
                bool(call(cond, flat)):
            out = call(body, flat)
            flat = [convert_to_tensor(v) for v in nest.flatten(out)]
            i += 1
        return pack(flat)
    c_plan, _, c_flat, c_caps = _subplan(graph, lambda *v: call(cond, list(v)), flat)
    b_plan, b_out, b_flat, b_caps = _subplan(graph, lambda *v: call(body, list(v)), flat)
    if len(b_flat) != len(flat):
        raise ValueError("body must return the same structure as loop_vars: "
                         f"{len(flat)} loop variables, body returned {len(b_flat)}.")
    for x, y in zip(flat, b_flat):
        if x.dtype != y.dtype or tuple(x.shape) != tuple(y.shape):
            raise ValueError(f"Input tensor enters the loop with shape {x.shape} and dtype "
                             f"{x.dtype.name}, but has shape {y.shape} and dtype "
                             f"{y.dtype.name} after one iteration. To allow the shape to vary "
                             "across iterations, use the `shape_invariants` argument of "
                             "tf.while_loop to specify a less-specific shape.")
    n, nc = len(flat), len(c_caps)
    limit = None if maximum_iterations is None else int(maximum_iterations)

    def run_while(*tensors):
        values, caps = tensors[:n], tensors[n:]
        i = 0
        while (limit is None or i < limit) and bool(c_plan.run(*values, *caps[:nc])[0]):
            values = b_plan.run(*values, *caps[nc:])
            i += 1
        return tuple(values)
    outs = _append_step(graph, WHILE, run_while, flat + c_caps + b_caps, flat)
    return pack(outs)
