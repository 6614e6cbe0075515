"""How a trace stands for a `None` dimension: the one module of the exporters that knows.

A trace serving every size of its `None` dimensions holds them as torch SymInts
(`function/polymorphic.py`); a size computed from them (`2 * s0`, `s0 // 2`) is a SymInt of a
sympy expression over the symbols. These functions read that, and nothing else in
`tapeflow.export` does.
"""
from tapeflow._core.shape import static_size
from tapeflow.function import polymorphic


def symbolic_size(value):
    """None for a traced size (or attr number) that does not depend on a `None` dimension,
    else the sympy expression it is (over the symbols of the trace's inputs)."""
    if not polymorphic.is_symbolic(value) or static_size(value) is not None:
        return None
    return value.node.expr


def mentions_symbol(x):
    """Whether an attr (nested tuples of numbers) holds a `None` dimension."""
    return polymorphic.has_symbols(x)


def dim_label(d):
    """A traced size as a picture shows it: the number, or None for a `None` dimension."""
    return static_size(d) if polymorphic.is_symbolic(d) else d


def bindings(concrete):
    """(input index, axis, symbol) for each `None` dimension of a trace serving every size."""
    return concrete.graph.symbols.bindings if concrete._poly else ()
