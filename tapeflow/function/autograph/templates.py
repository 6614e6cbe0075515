"""Small AST builders for the converter: code written as text, parsed without locations (so a
generated node takes the location of the user statement it replaces, and errors point there)."""
import ast

_LOCATION = ("lineno", "col_offset", "end_lineno", "end_col_offset")


def _strip(node):
    for n in ast.walk(node):
        for attr in _LOCATION:
            if attr in n._attributes:
                try:
                    delattr(n, attr)
                except AttributeError:
                    pass
    return node


def stmts(text):
    return [_strip(s) for s in ast.parse(text).body]


def stmt(text):
    return stmts(text)[0]


def expr(text):
    return _strip(ast.parse(text, mode="eval").body)


def name(identifier, store=False):
    return ast.Name(id=identifier, ctx=ast.Store() if store else ast.Load())


def const(value):
    return ast.Constant(value=value)


def call(func, args, keywords=()):
    return ast.Call(func=expr(func) if isinstance(func, str) else func, args=list(args),
                    keywords=list(keywords))


def lambda_(body):
    return ast.Lambda(args=ast.arguments(posonlyargs=[], args=[], vararg=None, kwonlyargs=[],
                                         kw_defaults=[], kwarg=None, defaults=[]), body=body)


def function(fn_name, params, body):
    return ast.FunctionDef(
        name=fn_name, args=ast.arguments(posonlyargs=[], args=[ast.arg(arg=p) for p in params],
                                         vararg=None, kwonlyargs=[], kw_defaults=[], kwarg=None,
                                         defaults=[]),
        body=body, decorator_list=[], returns=None)


def at(node, origin):
    """`node` placed on the first line of `origin` (a multi-line span would make Python 3.11
    report a generated call at the span's last line)."""
    if not hasattr(origin, "lineno"):  # a generated origin: the parent's location fills in
        return node
    node.lineno, node.col_offset = origin.lineno, origin.col_offset
    node.end_lineno, node.end_col_offset = origin.lineno, origin.col_offset
    return node
