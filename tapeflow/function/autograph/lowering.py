"""Lowers `break`, `continue` and `return` into flag variables and guards, as TF's AutoGraph
does before converting control flow (so every block is left only at its end):

- `break` sets `break_` and continues; a `while` tests `not break_ and test`, a `for` gets
  `not break_` as its extra test;
- `continue` sets `continue_`, and what follows in the loop body runs under
  `if not continue_:`;
- `return x` sets `do_return` and `retval_`; what follows runs under `if not do_return:`,
  loops also stop on `do_return`, and the function ends with `return ag__.retval(retval_)`.
  First, when one branch of an `if` always returns, the statements after the `if` move into
  the other branch (TF's conditional-return rewrite): then a tensor `if` whose branches both
  return does not need a value for a path that never reaches the end.
"""
import ast

from tapeflow.function.autograph.templates import at, expr, name, stmt

_LOOPS = (ast.While, ast.For, ast.AsyncFor)
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)


class Namer:
    """Fresh names that collide with nothing the function already uses."""

    def __init__(self, fn):
        self.used = {n.id for n in ast.walk(fn) if isinstance(n, ast.Name)}
        self.used |= {a.arg for a in ast.walk(fn) if isinstance(a, ast.arg)}
        self.generated = set()

    def new(self, base):
        candidate, n = base, 0
        while candidate in self.used:
            n += 1
            candidate = f"{base}_{n}"
        self.used.add(candidate)
        self.generated.add(candidate)
        return candidate


def _located(nodes, origin):
    for node in nodes:
        at(node, origin)
        for n in ast.walk(node):
            if not hasattr(n, "lineno") or getattr(n, "_ag_template", False):
                at(n, origin)
    return nodes


def _not(var):
    return ast.UnaryOp(op=ast.Not(), operand=name(var))


def _guard(var, block, origin):
    """`if not var: block`."""
    return _located([ast.If(test=_not(var), body=block, orelse=[])], origin)[0]


def _contains(stmts, kinds, stop=_SCOPES):
    for s in stmts:
        for n in _walk_no_scopes(s, stop):
            if isinstance(n, kinds):
                return True
    return False


def _walk_no_scopes(node, stop):
    todo = [node]
    while todo:
        n = todo.pop()
        yield n
        for child in ast.iter_child_nodes(n):
            if not isinstance(child, stop):
                todo.append(child)


# -- break -------------------------------------------------------------------------------------

def lower_breaks(stmts, namer):
    return [s2 for s in stmts for s2 in _break_stmt(s, namer, None)]


def _break_stmt(s, namer, var):
    if isinstance(s, ast.Break):
        return _located([stmt(f"{var} = True"), ast.Continue()], s)
    if isinstance(s, _LOOPS):
        new_var = namer.new("break_")
        used = _contains(s.body, ast.Break, _SCOPES + _LOOPS)
        s.body = [x for b in s.body for x in _break_stmt(b, namer, new_var)]
        s.orelse = [x for b in s.orelse for x in _break_stmt(b, namer, var)]
        if isinstance(s, ast.While):
            s.test = s.test if not used else ast.BoolOp(op=ast.And(), values=[_not(new_var),
                                                                               s.test])
        if not used:
            return [s]
        if isinstance(s, ast.For):
            s.ag_extra_test = _not(new_var)
        if s.orelse:
            s.orelse = [_guard(new_var, s.orelse, s)]
        return _located([stmt(f"{new_var} = False")], s) + [s]
    if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef)):
        s.body = lower_breaks(s.body, namer)
        return [s]
    _map_blocks(s, lambda block: [x for b in block for x in _break_stmt(b, namer, var)])
    return [s]


def _map_blocks(s, fn):
    """Applies `fn` to each statement block of a compound statement (not loops' or scopes')."""
    if isinstance(s, _SCOPES):
        return
    for field in ("body", "orelse", "finalbody"):
        block = getattr(s, field, None)
        if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
            setattr(s, field, fn(block))
    for h in getattr(s, "handlers", ()):
        h.body = fn(h.body)
    for case in getattr(s, "cases", ()):
        case.body = fn(case.body)


# -- continue -----------------------------------------------------------------------------------

def lower_continues(stmts, namer):
    return [_continue_outside(s, namer) for s in stmts]


def _continue_outside(s, namer):
    """Outside any loop: lower the loops found inside `s`."""
    if isinstance(s, _LOOPS):
        var = namer.new("continue_")
        body, used = _continue_block(s.body, namer, var)
        s.body = (_located([stmt(f"{var} = False")], s) + body) if used else body
        s.orelse = [_continue_outside(x, namer) for x in s.orelse]
        return s
    if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef)):
        s.body = lower_continues(s.body, namer)
        return s
    _map_blocks(s, lambda block: [_continue_outside(x, namer) for x in block])
    return s


def _guarded_block(stmts, var, lower_one):
    """Lowers each statement; after one that may set `var`, the rest runs under
    `if not var:` (the guard is opened when the next statement arrives)."""
    out, used, pending = [], False, False
    dest = out
    for s in stmts:
        new, s_used = lower_one(s)
        if pending:
            rest = []
            dest.append(_guard(var, rest, s))
            dest, pending = rest, False
        dest.extend(new)
        if s_used:
            used = pending = True
    return out, used


def _continue_block(stmts, namer, var):
    """A loop body block with `continue` as `var = True` and the rest of the block guarded."""
    def lower_one(s):
        if isinstance(s, ast.Continue):
            return _located([stmt(f"{var} = True")], s), True
        if isinstance(s, _LOOPS) or isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return [_continue_outside(s, namer)], False
        flags = []

        def inner(block):
            b, u = _continue_block(block, namer, var)
            flags.append(u)
            return b
        _map_blocks(s, inner)
        return [s], any(flags)
    return _guarded_block(stmts, var, lower_one)


# -- return --------------------------------------------------------------------------------------

def _definitely_returns_block(stmts):
    """TF's conditional-return rewrite of one block; returns (stmts, definitely returns)."""
    out = []
    dest = out
    returns = False
    for s in stmts:
        dest.append(s)
        if isinstance(s, ast.Return):
            returns = True
        elif isinstance(s, ast.If):
            s.body, body_returns = _definitely_returns_block(s.body)
            s.orelse, orelse_returns = _definitely_returns_block(s.orelse)
            if body_returns and orelse_returns:
                returns = True
            if body_returns:
                dest = s.orelse
            elif orelse_returns:
                dest = s.body
        elif isinstance(s, (ast.With, ast.AsyncWith)):
            s.body, r = _definitely_returns_block(s.body)
            returns = returns or r
        elif not isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            _map_blocks(s, lambda block: _definitely_returns_block(block)[0])
    return out, returns


def lower_returns(fn, namer):
    """Rewrites `fn`'s returns (nested functions are handled when they are converted)."""
    fn.body, _ = _definitely_returns_block(fn.body)
    if not _contains(fn.body, ast.Return):
        return
    do_return, retval = namer.new("do_return"), namer.new("retval_")
    body, _ = _return_block(fn.body, do_return, retval)
    fn.body = _located([stmt(f"{do_return} = False"),
                        stmt(f"{retval} = ag__.UndefinedReturnValue()")], fn.body[0]) + body
    fn.body.append(_located([ast.Return(value=expr(f"ag__.retval({retval})"))], fn.body[-1])[0])


def _return_block(stmts, do_return, retval):
    def lower_one(s):
        if isinstance(s, ast.Return):
            value = s.value if s.value is not None else ast.Constant(None)
            assign = ast.Assign(targets=[ast.Name(retval, ast.Store())], value=value)
            return _located([stmt(f"{do_return} = True")], s) + \
                [at(assign, s)], True
        if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            return [s], False
        flags = []

        def inner(block):
            b, u = _return_block(block, do_return, retval)
            flags.append(u)
            return b
        if isinstance(s, _LOOPS):
            s.body = inner(s.body)
            s.orelse = inner(s.orelse) if s.orelse else s.orelse
            if flags[0]:
                if isinstance(s, ast.While):
                    s.test = ast.BoolOp(op=ast.And(), values=[_not(do_return), s.test])
                else:
                    extra = getattr(s, "ag_extra_test", None)
                    s.ag_extra_test = _not(do_return) if extra is None else ast.BoolOp(
                        op=ast.And(), values=[_not(do_return), extra])
        else:
            _map_blocks(s, inner)
        return [s], any(flags)
    return _guarded_block(stmts, do_return, lower_one)
