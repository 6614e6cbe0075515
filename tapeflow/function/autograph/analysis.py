"""Static analysis of a function's AST for the control-flow conversion: which names a statement
binds, which are live before and after it, and which may already be defined when it starts.

It runs on the body after `break`/`continue`/`return` were lowered into flags (lowering.py),
so control only leaves a block at its end and plain structured dataflow is exact enough: a
backward pass computes liveness (loops iterate to a fixed point) and a forward pass the names
possibly defined. The results are attached to each `If`/`While`/`For` node as `ag_live_in`,
`ag_live_out`, `ag_defined_in` and `ag_modified`. Names are strings; `self.x` is a composite
name, read and written like a variable (TF's "qualified names").
"""
import ast

_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


def qual_name(node):
    """'a', 'a.b.c' for Name/Attribute chains, else None."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = qual_name(node.value)
        return None if base is None else f"{base}.{node.attr}"
    return None


def is_composite(name):
    return "." in name


def root(name):
    return name.split(".", 1)[0]


# -- what an expression reads ----------------------------------------------------------------

def reads(node):
    """Names (and composite names) an expression or simple statement reads."""
    out = set()
    _reads(node, out)
    return out


def _reads(node, out):
    if node is None:
        return
    if isinstance(node, list):
        for n in node:
            _reads(n, out)
        return
    if isinstance(node, ast.Name):
        if isinstance(node.ctx, ast.Load):
            out.add(node.id)
        return
    if isinstance(node, ast.Attribute):
        name = qual_name(node)
        if name is not None and isinstance(node.ctx, ast.Load):
            out.add(name)
        _reads(node.value, out)
        return
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        _reads(node.decorator_list, out)
        _reads(node.args.defaults + [d for d in node.args.kw_defaults if d is not None], out)
        out.update(free_names(node))
        return
    if isinstance(node, ast.Lambda):
        _reads(node.args.defaults + [d for d in node.args.kw_defaults if d is not None], out)
        out.update(free_names(node))
        return
    if isinstance(node, ast.ClassDef):
        _reads(node.decorator_list + node.bases + [k.value for k in node.keywords], out)
        for stmt in node.body:
            _reads(stmt, out)
        return
    if isinstance(node, _COMPREHENSIONS):
        inner = set()
        bound = set()
        for gen in node.generators:
            bound |= _target_names(gen.target)
            _reads([gen.iter] + gen.ifs, inner)
        _reads([node.key, node.value] if isinstance(node, ast.DictComp) else node.elt, inner)
        out.update(n for n in inner if root(n) not in bound)
        return
    for child in ast.iter_child_nodes(node):
        _reads(child, out)


def _params(args):
    names = [a.arg for a in args.posonlyargs + args.args + args.kwonlyargs]
    if args.vararg:
        names.append(args.vararg.arg)
    if args.kwarg:
        names.append(args.kwarg.arg)
    return set(names)


def free_names(fn):
    """The names a nested function or lambda reads from the scopes around it."""
    params = _params(fn.args)
    body = fn.body if isinstance(fn.body, list) else [fn.body]
    declared = set()
    for n in ast.walk(fn):
        if isinstance(n, (ast.Global, ast.Nonlocal)):
            declared.update(n.names)
    local = {n for n in bound_names(body) if not is_composite(n)} - declared
    used = set()
    for stmt in body:
        _reads(stmt, used)
    return {n for n in used if root(n) not in params and root(n) not in local}


# -- what a statement binds -------------------------------------------------------------------

def _target_names(target):
    out = set()
    if isinstance(target, ast.Name):
        out.add(target.id)
    elif isinstance(target, ast.Attribute):
        name = qual_name(target)
        if name is not None:
            out.add(name)
    elif isinstance(target, (ast.Tuple, ast.List)):
        for e in target.elts:
            out |= _target_names(e)
    elif isinstance(target, ast.Starred):
        out |= _target_names(target.value)
    return out


def defs(stmt):
    """Names a simple statement binds."""
    if isinstance(stmt, ast.Assign):
        out = set()
        for t in stmt.targets:
            out |= _target_names(t)
        return out
    if isinstance(stmt, (ast.AugAssign, ast.AnnAssign)):
        return _target_names(stmt.target) if getattr(stmt, "value", True) is not None else set()
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {stmt.name}
    if isinstance(stmt, (ast.Import, ast.ImportFrom)):
        return {(a.asname or a.name).split(".")[0] for a in stmt.names}
    return set()


def bound_names(stmts):
    """Every name the statements may bind, looking into blocks but not nested scopes."""
    out = set()
    for s in stmts:
        out |= defs(s)
        if isinstance(s, (ast.For, ast.AsyncFor)):
            out |= _target_names(s.target)
        if isinstance(s, (ast.With, ast.AsyncWith)):
            for item in s.items:
                if item.optional_vars is not None:
                    out |= _target_names(item.optional_vars)
        if isinstance(s, ast.Try) or type(s).__name__ == "TryStar":
            for h in s.handlers:
                if h.name:
                    out.add(h.name)
        for field in ("body", "orelse", "finalbody"):
            block = getattr(s, field, None)
            if isinstance(block, list) and not isinstance(s, _SCOPES):
                out |= bound_names(block)
        for h in getattr(s, "handlers", ()):
            out |= bound_names(h.body)
        for case in getattr(s, "cases", ()):
            out |= bound_names(case.body)
        for n in _walk_expressions(s):
            if isinstance(n, ast.NamedExpr):
                out |= _target_names(n.target)
    return out


def _walk_expressions(stmt):
    """The expression nodes of a statement itself (not of its nested blocks or scopes)."""
    todo = [v for f, v in ast.iter_fields(stmt)
            if f not in ("body", "orelse", "finalbody", "handlers", "cases")]
    while todo:
        n = todo.pop()
        if isinstance(n, list):
            todo.extend(n)
        elif isinstance(n, ast.AST) and not isinstance(n, _SCOPES + _COMPREHENSIONS):
            yield n
            todo.extend(ast.iter_child_nodes(n))


# -- liveness ---------------------------------------------------------------------------------

def live_in(stmts, live_out):
    """Names live before `stmts` given those live after; annotates loops and ifs."""
    live = set(live_out)
    for s in reversed(stmts):
        live = _live_stmt(s, live)
    return live


def _simple_reads(stmt):
    """What a simple statement reads, including the parts of its targets."""
    out = set()
    if isinstance(stmt, ast.Assign):
        _reads(stmt.value, out)
        for t in stmt.targets:
            _target_reads(t, out)
    elif isinstance(stmt, ast.AugAssign):
        _reads(stmt.value, out)
        out |= _target_names(stmt.target)
        _target_reads(stmt.target, out)
    elif isinstance(stmt, ast.AnnAssign):
        _reads(stmt.value, out)
        _target_reads(stmt.target, out)
    else:
        _reads(stmt, out)
    return out


def _target_reads(target, out):
    if isinstance(target, ast.Attribute):
        _reads(target.value, out)
    elif isinstance(target, ast.Subscript):
        _reads(target.value, out)
        _reads(target.slice, out)
    elif isinstance(target, (ast.Tuple, ast.List)):
        for e in target.elts:
            _target_reads(e, out)
    elif isinstance(target, ast.Starred):
        _target_reads(target.value, out)


def _live_stmt(s, out):
    if isinstance(s, ast.If):
        s.ag_live_out = set(out)
        live = reads(s.test) | live_in(s.body, out) | live_in(s.orelse, out)
        s.ag_live_in = live
        return live
    if isinstance(s, ast.While):
        s.ag_live_out = set(out)
        head = live_in(s.orelse, out) | reads(s.test)
        while True:
            new = head | live_in(s.body, head)
            if new == head:
                break
            head = new
        s.ag_live_in = head
        return head
    if isinstance(s, (ast.For, ast.AsyncFor)):
        s.ag_live_out = set(out)
        targets = _target_names(s.target)
        extra = reads(s.ag_extra_test) if getattr(s, "ag_extra_test", None) is not None else set()
        head = live_in(s.orelse, out) | extra
        while True:
            body = live_in(s.body, head)
            target_reads = set()
            _target_reads(s.target, target_reads)
            new = head | (body - targets) | target_reads
            if new == head:
                break
            head = new
        s.ag_live_in = head | reads(s.iter)
        return s.ag_live_in
    if isinstance(s, (ast.With, ast.AsyncWith)):
        bound = set()
        items = set()
        for item in s.items:
            _reads(item.context_expr, items)
            if item.optional_vars is not None:
                bound |= _target_names(item.optional_vars)
                _target_reads(item.optional_vars, items)
        return items | (live_in(s.body, out) - bound)
    if isinstance(s, ast.Try) or type(s).__name__ == "TryStar":
        after = live_in(s.finalbody, out)
        handlers = set()
        for h in s.handlers:
            handlers |= live_in(h.body, after) | reads(h.type)
        body = live_in(s.body, live_in(s.orelse, after) | handlers | after)
        return body | handlers | after
    if type(s).__name__ == "Match":
        live = reads(s.subject) | set(out)
        for case in s.cases:
            live |= live_in(case.body, out) | reads(case.guard) | reads(case.pattern)
        return live
    if isinstance(s, (ast.Return, ast.Raise)):
        return reads(s)
    if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef)):
        annotate(s)
        return (out - {s.name}) | reads(s)
    if isinstance(s, ast.ClassDef):
        return (out - {s.name}) | reads(s)
    if isinstance(s, (ast.Global, ast.Nonlocal, ast.Pass, ast.Break, ast.Continue)):
        return set(out)
    return (out - defs(s)) | _simple_reads(s)


# -- possibly-defined names -----------------------------------------------------------------

def defined(stmts, defined_in):
    """Names possibly defined after `stmts`; annotates ifs and loops with `ag_defined_in`."""
    d = set(defined_in)
    for s in stmts:
        if isinstance(s, ast.If):
            s.ag_defined_in = set(d)
            s.ag_modified = bound_names(s.body) | bound_names(s.orelse)
            d = defined(s.body, d) | defined(s.orelse, d)
        elif isinstance(s, ast.While):
            s.ag_defined_in = set(d)
            s.ag_modified = bound_names(s.body)
            inner = defined(s.body, d | s.ag_modified)
            d = d | inner | defined(s.orelse, d | inner)
        elif isinstance(s, (ast.For, ast.AsyncFor)):
            s.ag_defined_in = set(d)
            s.ag_modified = bound_names(s.body) | _target_names(s.target)
            inner = defined(s.body, d | s.ag_modified)
            d = d | inner | defined(s.orelse, d | inner)
        elif isinstance(s, (ast.With, ast.AsyncWith)):
            for item in s.items:
                if item.optional_vars is not None:
                    d |= _target_names(item.optional_vars)
            d = defined(s.body, d)
        elif isinstance(s, ast.Try) or type(s).__name__ == "TryStar":
            inner = defined(s.body, d)
            for h in s.handlers:
                inner |= defined(h.body, d | ({h.name} if h.name else set()))
            d = defined(s.finalbody, inner | defined(s.orelse, inner))
        elif type(s).__name__ == "Match":
            for case in s.cases:
                d |= defined(case.body, d)
        else:
            d |= defs(s)
            for n in _walk_expressions(s):
                if isinstance(n, ast.NamedExpr):
                    d |= _target_names(n.target)
    return d


def annotate(fn):
    """Analyses one function (nested functions get their own analysis as they are met):
    sets `ag_globals`/`ag_nonlocals` on it and the per-statement annotations inside."""
    fn.ag_globals, fn.ag_nonlocals = set(), set()
    for n in _own_nodes(fn):
        if isinstance(n, ast.Global):
            fn.ag_globals.update(n.names)
        elif isinstance(n, ast.Nonlocal):
            fn.ag_nonlocals.update(n.names)
    live_in(fn.body, set())
    defined(fn.body, _params(fn.args))


def _own_nodes(fn):
    """The nodes of a function, not of the functions nested in it."""
    todo = list(fn.body)
    while todo:
        n = todo.pop()
        yield n
        if not isinstance(n, _SCOPES):
            todo.extend(ast.iter_child_nodes(n))
