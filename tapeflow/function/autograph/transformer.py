"""The AST rewrites after lowering (lowering.py) and analysis (analysis.py), in TF's order:

1. loop directives: `tf.autograph.experimental.set_loop_options(...)` becomes loop options;
2. variables: reads of names that may hold an `Undefined` go through `ag__.ld`;
3. calls: `f(a, k=b)` becomes `ag__.converted_call(f, (a,), {'k': b})`, which converts `f`
   too when it is user code (conversion.py), and overloads builtins (py_builtins.py);
4. control flow: each `if`/`while`/`for` becomes closures over the variables it changes
   (`nonlocal`), `get_state`/`set_state` functions and one `ag__.if_stmt`/`while_stmt`/
   `for_stmt` call (operators.py) at the statement's line;
5. expressions: `a if c else b`, `and`/`or`/`not` (and `==` with EQUALITY_OPERATORS);
and, with ASSERT_STATEMENTS, `assert` becomes `ag__.assert_stmt` (a tf.debugging.Assert).
"""
import ast

from tapeflow.function.autograph.analysis import is_composite, root
from tapeflow.function.autograph.templates import at, call, const, expr, function, lambda_, name

_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef)


def _stmt_call(func, args, origin):
    node = ast.Expr(value=call(func, args))
    return at(node, origin)


# -- 1. directives ------------------------------------------------------------------------------

def extract_loop_options(tree):
    """Moves `set_loop_options(...)` calls at the top of loop bodies into `node.ag_opts`."""
    for node in ast.walk(tree):
        if not isinstance(node, (ast.While, ast.For)):
            continue
        keys, values = [], []
        kept = []
        for s in node.body:
            c = s.value if isinstance(s, ast.Expr) and isinstance(s.value, ast.Call) else None
            fname = c.func.attr if c is not None and isinstance(c.func, ast.Attribute) else \
                (c.func.id if c is not None and isinstance(c.func, ast.Name) else None)
            if fname != "set_loop_options":
                kept.append(s)
                continue
            for k in c.keywords:
                value = k.value
                if k.arg == "shape_invariants" and isinstance(value, (ast.List, ast.Tuple)):
                    value = ast.List(elts=[_named_invariant(e) for e in value.elts],
                                     ctx=ast.Load())
                keys.append(const(k.arg))
                values.append(value)
        node.body = kept or [at(ast.Pass(), node)]
        node.ag_opts = (keys, values)


def _named_invariant(pair):
    if isinstance(pair, ast.Tuple) and len(pair.elts) == 2 and isinstance(pair.elts[0],
                                                                            ast.Name):
        return ast.Tuple(elts=[const(pair.elts[0].id), pair.elts[1]], ctx=ast.Load())
    return pair


# -- 2. variables ------------------------------------------------------------------------------

class Loads(ast.NodeTransformer):
    """`x` -> `ag__.ld(x)` for the names that may hold an Undefined."""

    def __init__(self, names):
        self.names = names

    def visit_Name(self, node):
        if isinstance(node.ctx, ast.Load) and node.id in self.names:
            return at(call("ag__.ld", [node]), node)
        return node

    def visit_AugAssign(self, node):
        node.value = self.visit(node.value)
        t = node.target
        if isinstance(t, ast.Name) and t.id in self.names:
            load = ast.Assign(targets=[name(t.id, store=True)],
                              value=call("ag__.ld", [name(t.id)]))
            return [at(load, node), node]
        return node


# -- 3. calls ----------------------------------------------------------------------------------

class Calls(ast.NodeTransformer):
    """Routes calls through `ag__.converted_call`."""

    def __init__(self, self_name=None):
        self.self_name = self_name   # the method's first argument, for `super()`

    def visit_FunctionDef(self, node):
        node.body = [s for b in node.body for s in _as_list(self.visit(b))]
        return node

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Call(self, node):
        self.generic_visit(node)
        f = node.func
        if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and \
                f.value.id == "ag__":
            return node
        if isinstance(f, ast.Name) and f.id == "super":
            if not node.args and not node.keywords and self.self_name is not None:
                node.args = [name("__class__"), name(self.self_name)]
            return node
        args = ast.Tuple(elts=list(node.args), ctx=ast.Load())
        if node.keywords:
            kwargs = ast.Dict(keys=[const(k.arg) if k.arg is not None else None
                                    for k in node.keywords],
                              values=[k.value for k in node.keywords])
        else:
            kwargs = const(None)
        return at(call("ag__.converted_call", [f, args, kwargs]), node)


def _as_list(x):
    return x if isinstance(x, list) else [x]


# -- 4. control flow ---------------------------------------------------------------------------

class ControlFlow(ast.NodeTransformer):
    """`if`/`while`/`for` -> closures + one `ag__.*_stmt` call (operators.py)."""

    def __init__(self, namer, top):
        self.namer = namer
        self.scopes = [top]

    @property
    def scope(self):
        return self.scopes[-1]

    def visit_FunctionDef(self, node):
        self.scopes.append(node)
        node.body = [s for b in node.body for s in _as_list(self.visit(b))]
        self.scopes.pop()
        return node

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Lambda(self, node):
        return node

    def _block_vars(self, node, modified):
        live_in, live_out = node.ag_live_in, node.ag_live_out
        nonlocals = getattr(self.scope, "ag_nonlocals", set())
        globals_ = getattr(self.scope, "ag_globals", set())
        basic = {s for s in modified if not is_composite(s) and
                 (s in live_in or s in live_out or s in nonlocals)}
        composite = {s for s in modified if is_composite(s) and root(s) in live_in and
                     root(s) not in modified}
        undefined = sorted(s for s in modified if not is_composite(s) and
                           s not in node.ag_defined_in and s not in globals_ and
                           s not in nonlocals)
        input_only = {s for s in basic if s in live_in and s not in live_out}
        scope_vars = sorted(basic | composite, key=lambda v: (v in input_only, v))
        return scope_vars, undefined, len(scope_vars) - len(input_only)

    def _declarations(self, scope_vars):
        globals_ = getattr(self.scope, "ag_globals", set())
        glob = [v for v in scope_vars if v in globals_]
        loc = [v for v in scope_vars if not is_composite(v) and v not in globals_]
        out = []
        if glob:
            out.append(ast.Global(names=glob))
        if loc:
            out.append(ast.Nonlocal(names=loc))
        return out

    def _state_functions(self, scope_vars, origin):
        get_name, set_name = self.namer.new("get_state"), self.namer.new("set_state")
        if not scope_vars:
            getter = function(get_name, [], [ast.Return(value=ast.Tuple(elts=[],
                                                                        ctx=ast.Load()))])
            setter = function(set_name, ["vars_"], [ast.Pass()])
        else:
            reads = [name(v) if not is_composite(v) else
                     call("ag__.ldu", [lambda_(expr(v)), const(v)]) for v in scope_vars]
            getter = function(get_name, [], [ast.Return(value=ast.Tuple(elts=reads,
                                                                        ctx=ast.Load()))])
            targets = ast.Tuple(elts=[_store(v) for v in scope_vars], ctx=ast.Store())
            setter = function(set_name, ["vars_"], self._declarations(scope_vars) + [
                ast.Assign(targets=[targets], value=name("vars_"))])
        return [at(getter, origin), at(setter, origin)], \
            get_name, set_name

    def _undefined(self, names, origin):
        return [at(ast.Assign(targets=[name(n, store=True)],
                                             value=call("ag__.Undefined", [const(n)])), origin)
                for n in names]

    def _closure(self, base, params, decls, body, origin):
        fn_name = self.namer.new(base)
        return at(function(fn_name, params, decls + (body or [ast.Pass()])),
                                 origin), fn_name

    def visit_If(self, node):
        self.generic_visit(node)
        scope_vars, undefined, nouts = self._block_vars(node, node.ag_modified)
        decls = self._declarations(scope_vars)
        state, get_name, set_name = self._state_functions(scope_vars, node)
        body, body_name = self._closure("if_body", [], decls, node.body, node)
        orelse, else_name = self._closure("else_body", [], decls, node.orelse, node)
        names = ast.Tuple(elts=[const(v) for v in scope_vars], ctx=ast.Load())
        return state + [body, orelse] + self._undefined(undefined, node) + [_stmt_call(
            "ag__.if_stmt", [node.test, name(body_name), name(else_name), name(get_name),
                             name(set_name), names, const(nouts)], node)]

    def _options(self, node, extra=()):
        keys, values = getattr(node, "ag_opts", ([], []))
        return ast.Dict(keys=list(keys) + [const(k) for k, _ in extra],
                        values=list(values) + [v for _, v in extra])

    def visit_While(self, node):
        self.generic_visit(node)
        scope_vars, undefined, _ = self._block_vars(node, node.ag_modified)
        decls = self._declarations(scope_vars)
        state, get_name, set_name = self._state_functions(scope_vars, node)
        body, body_name = self._closure("loop_body", [], decls, node.body, node)
        test, test_name = self._closure("loop_test", [], [], [ast.Return(value=node.test)],
                                        node)
        names = ast.Tuple(elts=[const(v) for v in scope_vars], ctx=ast.Load())
        return state + [body, test] + self._undefined(undefined, node) + [_stmt_call(
            "ag__.while_stmt", [name(test_name), name(body_name), name(get_name),
                                name(set_name), names, self._options(node)], node)] + \
            node.orelse

    def visit_For(self, node):
        self.generic_visit(node)
        scope_vars, undefined, _ = self._block_vars(node, node.ag_modified)
        decls = self._declarations(scope_vars)
        state, get_name, set_name = self._state_functions(scope_vars, node)
        itr = self.namer.new("itr")
        expand = at(ast.Assign(targets=[node.target], value=name(itr)), node)
        body, body_name = self._closure("loop_body", [itr], decls, [expand] + node.body, node)
        out = state + [body]
        extra = getattr(node, "ag_extra_test", None)
        if extra is not None:
            test, test_name = self._closure("extra_test", [], decls,
                                            [ast.Return(value=extra)], node)
            out.append(test)
            extra_arg = name(test_name)
        else:
            extra_arg = const(None)
        names = ast.Tuple(elts=[const(v) for v in scope_vars], ctx=ast.Load())
        opts = self._options(node, [("iterate_names", const(ast.unparse(node.target)))])
        return out + self._undefined(undefined, node) + [_stmt_call(
            "ag__.for_stmt", [node.iter, extra_arg, name(body_name), name(get_name),
                              name(set_name), names, opts], node)] + node.orelse


def _store(v):
    if not is_composite(v):
        return name(v, store=True)
    node = expr(v)
    node.ctx = ast.Store()
    return node


# -- asserts (Feature.ASSERT_STATEMENTS) --------------------------------------------------------

class Asserts(ast.NodeTransformer):
    """`assert test, msg` -> `ag__.assert_stmt(test, lambda: msg)`."""

    def visit_Assert(self, node):
        msg = node.msg if node.msg is not None else const("Assertion failed")
        return at(ast.Expr(value=call("ag__.assert_stmt", [node.test, lambda_(msg)])), node)


# -- 5. expressions ----------------------------------------------------------------------------

class Expressions(ast.NodeTransformer):
    """Conditional expressions and logical operators as ag__ calls (lazy via lambdas)."""

    def __init__(self, equality=False):
        self.equality = equality

    def visit_IfExp(self, node):
        self.generic_visit(node)
        return at(call("ag__.if_exp", [
            node.test, lambda_(node.body), lambda_(node.orelse), const(ast.unparse(node.test))]),
            node)

    def visit_BoolOp(self, node):
        self.generic_visit(node)
        fn = "ag__.and_" if isinstance(node.op, ast.And) else "ag__.or_"
        values = node.values
        out = values[-1]
        for v in reversed(values[:-1]):
            out = call(fn, [lambda_(v), lambda_(out)])
        return at(out, node)

    def visit_UnaryOp(self, node):
        self.generic_visit(node)
        if isinstance(node.op, ast.Not):
            return at(call("ag__.not_", [node.operand]), node)
        return node

    def visit_Compare(self, node):
        self.generic_visit(node)
        if self.equality and len(node.ops) == 1 and isinstance(node.ops[0], (ast.Eq, ast.NotEq)):
            fn = "ag__.eq" if isinstance(node.ops[0], ast.Eq) else "ag__.not_eq"
            return at(call(fn, [node.left, node.comparators[0]]), node)
        return node
