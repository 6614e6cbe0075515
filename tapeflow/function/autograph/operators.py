"""What converted code calls in place of Python's `if`, `while`, `for`, `x if c else y`,
`and`/`or`/`not`: the functional forms TF's AutoGraph uses, with its semantics.

Each statement arrives as closures over the converted function's variables (the branch or
loop body, a test) plus `get_state`/`set_state`, which read and write the variables the
statement may change. With a Python condition or iterable the closures just run, so Python
values keep Python semantics (a `for` over a list unrolls while tracing). With a tensor
condition inside a trace, or a loop over a tensor, a `tf.range` or a dataset, the state
becomes the values of a `tf.cond` / `tf.while_loop` (control_flow.py), checked with TF's
messages (a variable defined in one branch only, one whose dtype or shape changes in a loop).
"""
from tapeflow._core import dtypes, nest
from tapeflow._core.errors import OperatorNotAllowedInGraphError
from tapeflow._core.tensor import Tensor, convert_to_tensor
from tapeflow._core.variable import Variable
from tapeflow.function import control_flow, loop_arrays, loops, subgraphs
from tapeflow.function.autograph.ranges import SymbolicRange, range_bounds
from tapeflow.function.graph import Untraceable
from tapeflow.function.subgraphs import current_graph
from tapeflow.ops.array import reshape
from tapeflow.ops.comparison import equal, greater, less, logical_and, logical_not, logical_or
from tapeflow.ops.creation import zeros
from tapeflow.ops.gather import gather
from tapeflow.ops.logging import Assert

_LIMITATIONS = ("https://github.com/tensorflow/tensorflow/blob/master/tensorflow/python/"
                "autograph/g3doc/reference/limitations.md#consistency-of-control-flow-types")


# -- undefined values --------------------------------------------------------------------------

class Undefined:
    """A variable with no value yet (TF's `ag__.Undefined`): what a converted statement sees
    for a variable that the original code first assigns inside it."""

    __slots__ = ("symbol_name",)

    def __init__(self, symbol_name):
        self.symbol_name = symbol_name

    def read(self):
        raise UnboundLocalError(f"'{self.symbol_name}' is used before assignment")

    def __repr__(self):
        return self.symbol_name

    def __getattr__(self, name):
        return self

    def __getitem__(self, i):
        return self


class UndefinedReturnValue:
    """The return value of a converted function before any `return` ran."""


def ld(v):
    """Reads a variable that may hold an Undefined (raising as Python would)."""
    if isinstance(v, Undefined):
        return v.read()
    return v


def ldu(load, name):
    """Reads a value that may not exist (an attribute, an item): Undefined if not."""
    try:
        return load()
    except (KeyError, AttributeError, NameError):
        return Undefined(name)


def retval(value):
    """What a converted function returns for its `retval_` variable."""
    return None if isinstance(value, UndefinedReturnValue) else value


class StagingNotImplemented(NotImplementedError):
    """What TF's AutoGraph refuses to stage: an error of the program, which tf.function
    must not answer by running the function eagerly (shown as TF names it)."""


StagingNotImplemented.__name__ = StagingNotImplemented.__qualname__ = "NotImplementedError"


def _none_or_undefined(v):
    return v is None or isinstance(v, (Undefined, UndefinedReturnValue))


def _staged(value):
    """Whether a condition or iterable is a tensor to be staged as graph control flow."""
    return isinstance(value, Tensor) and current_graph() is not None


# -- state <-> loop values -------------------------------------------------------------------

def _leaf(v):
    if isinstance(v, Tensor) or loop_arrays.is_array(v):
        return v
    if isinstance(v, Variable):
        return v.value()
    if isinstance(v, (bool, int, float)) or type(v).__module__ == "numpy":
        return convert_to_tensor(v)
    raise TypeError(f"Found an unsupported type '{type(v).__name__}' while creating a loop "
                    f"variable from {v!r}. Supported types include Tensor, int, float, bool, "
                    "list, tuple or dict.")


class _State:
    """A statement's state (a tuple of nested values) as flat loop values and back."""

    def __init__(self, values):
        self.structure = values
        self.flat = [_leaf(v) for v in nest.flatten(values)]

    def unflatten(self, flat):
        return nest.pack_sequence_as(self.structure, list(flat))

    def flatten(self, values):
        return [_leaf(v) for v in nest.flatten(values)]


def _as_tensor_or_none(v):
    if isinstance(v, (bool, int, float, str)) or type(v).__module__ == "numpy":
        return convert_to_tensor(v)
    return v


def _verify_condition(cond, tag):
    hint = "to check for None, use `is not None`"
    cond = convert_to_tensor(cond)
    if cond.dtype is not dtypes.bool:
        raise ValueError(f"condition of {tag} expected to be `tf.bool` scalar, got {cond}; to "
                         f"use as boolean Tensor, use `tf.cast`; {hint}")
    if cond.ndim > 0:
        if cond._t.numel() > 1:
            raise ValueError(f"condition of {tag} expected to be `tf.bool` scalar, got {cond};"
                             f" {hint}")
        cond = reshape(cond, [])
    return cond


# -- if ----------------------------------------------------------------------------------------

def if_stmt(cond, body, orelse, get_state, set_state, symbol_names, nouts):
    """`if cond: body() else: orelse()`; a tensor condition in a trace becomes a tf.cond
    over the first `nouts` variables of the state (the others are reset after it)."""
    if _staged(cond):
        _tf_if_stmt(cond, body, orelse, get_state, set_state, symbol_names, nouts)
    elif cond:
        body()
    else:
        orelse()


def _verify_branch(values, names, branch):
    for name, v in zip(names, values):
        if isinstance(v, Undefined):
            raise ValueError(f"'{name}' must also be initialized in the {branch} branch")
        if isinstance(v, UndefinedReturnValue):
            raise ValueError(f"the {branch} branch must also have a return statement.")


def verify_single_cond_var(name, body_var, orelse_var):
    if body_var is None:
        raise ValueError(f"'{name}' is None at the end of the main branch.")
    if orelse_var is None:
        raise ValueError(f"'{name}' is None at the end of the else branch.")
    a, b = _as_tensor_or_none(body_var), _as_tensor_or_none(orelse_var)
    if isinstance(a, Tensor) and isinstance(b, Tensor) and a.dtype is not b.dtype:
        raise TypeError(f"'{name}' has dtype {a.dtype.name} in the main branch, but dtype "
                        f"{b.dtype.name} in the else branch")


def _verify_cond_vars(body_vars, orelse_vars, names):
    for name, a, b in zip(names, body_vars, orelse_vars):
        try:
            nest.assert_same_structure(a, b, check_types=False)
        except (ValueError, TypeError) as e:
            raise TypeError(f"'{name}' must have the same nested structure in the main and else"
                            f" branches:\n\n{e}") from None
        for x, y in zip(nest.flatten(a), nest.flatten(b)):
            verify_single_cond_var(name, x, y)


def _tf_if_stmt(cond, body, orelse, get_state, set_state, symbol_names, nouts):
    cond = _verify_condition(cond, "if statement")
    if not nouts:  # nothing comes out: a dummy output keeps the cond a step of its own
        get, put = get_state, set_state
        get_state = lambda: (0,) + tuple(get())  # noqa: E731
        set_state = lambda v: put(v[1:])  # noqa: E731
        symbol_names = ("<unused dummy>",) + tuple(symbol_names)
        nouts = 1
    init = tuple(get_state())
    seen = {}

    def branch(fn, key, name):
        def run():
            set_state(init)
            fn()
            values = tuple(get_state())[:nouts]
            _verify_branch(values, symbol_names, name)
            seen[key] = values
            if len(seen) == 2:
                _verify_cond_vars(seen["main"], seen["else"], symbol_names)
            return nest.flatten(values)
        return run
    flat = control_flow.cond_flat(cond, branch(body, "main", "main"),
                                  branch(orelse, "else", "else"))
    final = nest.pack_sequence_as(seen["main"], flat)
    set_state(tuple(final) + init[nouts:])


def if_exp(cond, if_true, if_false, expr_repr):
    """`if_true() if cond else if_false()`."""
    if not _staged(cond):
        return if_true() if cond else if_false()
    cond = _verify_condition(cond, "if expression")
    seen = {}

    def branch(fn, key):
        def run():
            seen[key] = fn()
            if len(seen) == 2:
                verify_single_cond_var(expr_repr, seen["t"], seen["f"])
            return nest.flatten(seen[key])
        return run
    flat = control_flow.cond_flat(cond, branch(if_true, "t"), branch(if_false, "f"))
    return nest.pack_sequence_as(seen["t"], flat)


# -- and / or / not ---------------------------------------------------------------------------

def and_(a, b):
    """`a() and b()`, lazily: a tensor `a` makes a tf.cond."""
    value = a()
    if _staged(value):
        return control_flow.cond_flat(_verify_condition(value, "and"),
                                      lambda: [b()], lambda: [value])[0]
    return value and b()


def or_(a, b):
    """`a() or b()`, lazily: a tensor `a` makes a tf.cond."""
    value = a()
    if _staged(value):
        return control_flow.cond_flat(_verify_condition(value, "or"),
                                      lambda: [value], lambda: [b()])[0]
    return value or b()


def not_(a):
    if isinstance(a, Tensor):
        return logical_not(a)
    return not a


def assert_stmt(test, message):
    """`assert test, message()` (Feature.ASSERT_STATEMENTS): a tensor makes a
    tf.debugging.Assert, checked each time the function runs."""
    if isinstance(test, Tensor):
        return Assert(test, [message()])
    assert test, message()


def eq(a, b):
    """`a == b` (with Feature.EQUALITY_OPERATORS): tf.equal when either is a tensor."""
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        return equal(a, b)
    return a == b


def not_eq(a, b):
    return not_(eq(a, b))


# -- while -------------------------------------------------------------------------------------

def while_stmt(test, body, get_state, set_state, symbol_names, opts):
    """`while test(): body()`; a tensor test in a trace makes a tf.while_loop."""
    if current_graph() is not None:
        # TF evaluates the first test in a scratch graph only to learn what kind it is
        _, first = subgraphs.trace(test, [])
        if isinstance(first, Tensor):
            _tf_while_stmt(test, body, get_state, set_state, symbol_names, opts)
            return
        if not first:
            return
        body()
    _py_while_stmt(test, body)


def _py_while_stmt(test, body):
    def guarded():
        value = test()
        try:
            return bool(value)
        except OperatorNotAllowedInGraphError as e:
            raise StagingNotImplemented(
                "The condition of while loop started as non-Tensor, then changed to Tensor. "
                "This may happen either because variables changed type, or when a break or "
                "return statement inside the loop depends on a Tensor condition. In both "
                "cases, changing to a TF loop should remove the error.\nSee "
                f"{_LIMITATIONS} for more info.") from e
    while guarded():
        body()


def verify_loop_init_vars(values, names, extra_message=None):
    for name, v in zip(names, values):
        if isinstance(v, UndefinedReturnValue):
            raise StagingNotImplemented(
                "a return statement cannot be placed inside this TensorFlow loop; this may "
                "happen if a return statement depends on a static Python condition such as a "
                "hyperparameter")
        message = None
        if v is None:
            message = f"'{name}' is not allowed to be None before the loop"
        elif isinstance(v, Undefined):
            message = f"'{name}' must be defined before the loop"
            if extra_message:
                message += "\n" + extra_message
        if message is not None:
            raise ValueError(message)


def _verify_single_loop_var(name, entry, exit_):
    if exit_ is None:
        raise ValueError(f"'{name}' is None at the end of the iteration.")
    entry, exit_ = _as_tensor_or_none(entry), _as_tensor_or_none(exit_)
    if isinstance(entry, Variable):
        entry = entry.value()
    if isinstance(exit_, Variable):
        exit_ = exit_.value()
    if not isinstance(entry, Tensor) or not isinstance(exit_, Tensor):
        return
    if entry.dtype is not exit_.dtype:
        raise TypeError(f"'{name}' has dtype {entry.dtype.name} before the loop, but dtype "
                        f"{exit_.dtype.name} after one iteration")
    if tuple(entry._t.shape) != tuple(exit_._t.shape):
        raise ValueError(f"'{name}' has shape {entry.shape} before the loop, but shape "
                         f"{exit_.shape} after one iteration. Use "
                         "tf.autograph.experimental.set_loop_options to set shape invariants.")


def verify_tf_loop_vars(entry_vars, exit_vars, names, opts):
    for name, entry, exit_ in zip(names, entry_vars, exit_vars):
        try:
            nest.assert_same_structure(entry, exit_, check_types=False)
        except (ValueError, TypeError) as e:
            raise TypeError(f"'{name}' does not have the same nested structure after one "
                            f"iteration.\n\n{e}") from None
        invariant = dict(opts.get("shape_invariants", ())).get(name)
        for a, b in zip(nest.flatten(entry), nest.flatten(exit_)):
            if invariant is not None and isinstance(a, Tensor) and isinstance(b, Tensor) and \
                    a.dtype is b.dtype and tuple(a._t.shape) != tuple(b._t.shape):
                raise Untraceable(f"'{name}' changes shape across iterations (its shape "
                                  "invariant allows it; tapeflow traces one shape)")
            _verify_single_loop_var(name, a, b)


def _zero_like(like):
    """A stand-in entry value for a variable the loop defines (TF's placeholder value)."""
    if isinstance(like, bool):
        return False
    if isinstance(like, (int, float)):
        return type(like)(0)
    if isinstance(like, Tensor):
        return zeros(list(like._t.shape), like.dtype)
    if isinstance(like, (list, tuple, dict)):
        return nest.map_structure(_zero_like, like)
    return None


def _define_by_one_iteration(body, get_state, set_state, init, nulls, names):
    """TF's answer to a variable first assigned inside the loop: stage one iteration in a
    scratch graph to learn its type, and enter the loop with zeros of it."""
    failure = None
    first = None
    try:
        def probe():
            set_state(tuple(convert_to_tensor(v) if isinstance(v, (bool, int, float)) else v
                            for v in init))
            body()
            return tuple(get_state())
        _, first = subgraphs.trace(probe, [])
    except (UnboundLocalError, TypeError, ValueError, KeyError) as e:
        failure = f"Note: AutoGraph tried to define it automatically, but ran into a " \
                  f"{type(e).__name__}: {e}"
    finally:
        set_state(init)
    if first is not None:
        init = tuple(_zero_like(f) if n and not _none_or_undefined(f) else v
                     for v, n, f in zip(init, nulls, first))
    verify_loop_init_vars(init, names, extra_message=failure)
    return init


def _zero_iterations_message(names, nulls, init):
    missing = ["the function return value" if isinstance(v, UndefinedReturnValue) else n
               for n, null, v in zip(names, nulls, init) if null]
    return f"loop must iterate at least once to initialize {', '.join(missing)}"


def _tf_while_stmt(test, body, get_state, set_state, symbol_names, opts):
    init = tuple(get_state())
    nulls = tuple(_none_or_undefined(v) for v in init)
    once = any(nulls)
    original = init
    if once:
        init = _define_by_one_iteration(body, get_state, set_state, init, nulls, symbol_names)
    state = _State(((False,) if once else ()) + init)
    skip = 1 if once else 0

    def cond_fn(flat):
        set_state(tuple(state.unflatten(flat))[skip:])
        return _verify_condition(test(), "while loop")

    def body_fn(flat):
        entry = tuple(state.unflatten(flat))[skip:]
        set_state(entry)
        body()
        new = tuple(get_state())
        verify_tf_loop_vars(entry, new, symbol_names, opts)
        return state.flatten(((True,) if once else ()) + new)
    final = loops.while_flat(cond_fn, body_fn, state.flat,
                                    maximum_iterations=opts.get("maximum_iterations"),
                                    trip_count=opts.get("trip_count"))
    final = tuple(state.unflatten(final))
    if once:
        Assert(final[0], [_zero_iterations_message(symbol_names, nulls, original)])
        final = final[1:]
    set_state(final)


# -- for ---------------------------------------------------------------------------------------

def _is_dataset(value):
    return type(value).__module__.startswith("tapeflow.data") and \
        hasattr(value, "element_spec") and hasattr(value, "_iterate")


def for_stmt(iter_, extra_test, body, get_state, set_state, symbol_names, opts):
    """`for target in iter_: body(target)`, stopping when `extra_test()` is false (a
    `break` or `return` inside). Tensors, `tf.range`s and datasets make graph loops."""
    if isinstance(iter_, SymbolicRange):
        _tf_range_for_stmt(iter_, extra_test, body, get_state, set_state, symbol_names, opts)
    elif _staged(iter_):
        _tf_tensor_for_stmt(iter_, extra_test, body, get_state, set_state, symbol_names, opts)
    elif current_graph() is not None and _is_dataset(iter_):
        _tf_dataset_for_stmt(iter_, extra_test, body, get_state, set_state, symbol_names, opts)
    else:
        _py_for_stmt(iter_, extra_test, body)


def _py_for_stmt(iter_, extra_test, body):
    if extra_test is None:
        for target in iter_:
            body(target)
        return

    def guarded():
        value = extra_test()
        try:
            return bool(value)
        except OperatorNotAllowedInGraphError as e:
            raise StagingNotImplemented(
                "break and return statements which depend on a TF condition are not supported "
                "in Python for loops. Did you intend to make it a TF loop?\nSee "
                f"{_LIMITATIONS} for more info.") from e
    if guarded():
        for target in iter_:
            body(target)
            if not guarded():
                break


def _with_iterate(get_state, set_state, symbol_names, opts, first):
    """State functions over (iterate, *state): the hidden loop counter comes first, and an
    undefined target variable starts as the first iterate (as TF's range loops do)."""
    holder = [first]
    target = opts.get("iterate_names")

    def get():
        values = tuple(get_state())
        values = tuple(holder[0] if n == target and isinstance(v, Undefined) else v
                       for n, v in zip(symbol_names, values))
        return (holder[0],) + values

    def put(values):
        holder[0] = values[0]
        set_state(tuple(values[1:]))
    return holder, get, put, ("<internal iterate>",) + tuple(symbol_names)


def _tf_range_for_stmt(iter_, extra_test, body, get_state, set_state, symbol_names, opts):
    start, limit, delta = range_bounds(iter_)
    holder, get, put, names = _with_iterate(get_state, set_state, symbol_names, opts, start)
    step = iter_.delta
    sign = None if isinstance(step, Tensor) and step._is_symbolic() else \
        (step.numpy().item() if isinstance(step, Tensor) else step)

    def test():
        i = holder[0]
        if sign is not None:
            main = less(i, limit) if sign >= 0 else greater(i, limit)
        else:
            main = logical_or(logical_and(delta >= 0, less(i, limit)),
                              logical_and(delta < 0, greater(i, limit)))
        return main if extra_test is None else logical_and(main, _verify_condition(
            extra_test(), "for loop"))

    def loop_body():
        i = holder[0]
        body(i)
        holder[0] = i + delta
    opts = dict(opts)
    if extra_test is None:
        opts["trip_count"] = iter_.trip_count()
    _tf_while_stmt(test, loop_body, get, put, names, opts)


def _tf_tensor_for_stmt(iter_, extra_test, body, get_state, set_state, symbol_names, opts):
    if iter_.ndim == 0:
        raise TypeError("Cannot iterate over a scalar tensor.")
    n = iter_.shape[0]
    if n is None:
        raise OperatorNotAllowedInGraphError(
            "Iterating over a symbolic `tf.Tensor` whose first dimension is only known when the "
            "tf.function runs is not supported by tapeflow's AutoGraph yet.")
    holder, get, put, names = _with_iterate(get_state, set_state, symbol_names, {},
                                            convert_to_tensor(0))

    def test():
        main = less(holder[0], n)
        return main if extra_test is None else logical_and(main, _verify_condition(
            extra_test(), "for loop"))

    def loop_body():
        i = holder[0]
        body(gather(iter_, i))
        holder[0] = i + 1
    opts = dict(opts)
    opts.pop("iterate_names", None)
    if extra_test is None:
        opts["trip_count"] = n
    _tf_while_stmt(test, loop_body, get, put, names, opts)


def _tf_dataset_for_stmt(ds, extra_test, body, get_state, set_state, symbol_names, opts):
    init = tuple(get_state())
    verify_loop_init_vars(init, symbol_names)
    state = _State(init)

    def body_fn(element, flat):
        entry = tuple(state.unflatten(flat))
        set_state(entry)
        body(element)
        new = tuple(get_state())
        verify_tf_loop_vars(entry, new, symbol_names, opts)
        return state.flatten(new)

    def extra_fn(flat):
        set_state(tuple(state.unflatten(flat)))
        return _verify_condition(extra_test(), "for loop")
    final = loops.dataset_flat(ds, body_fn, state.flat,
                                      extra_fn if extra_test is not None else None)
    set_state(tuple(state.unflatten(final)))
