"""How a trace stands for a `None` dimension: the one module of the exporters that knows.

Today a trace serving every size of its `None` dimensions traces each with a prime sentinel
size (`function/polymorphic.py`); when traces carry real symbolic dimensions, these functions
change and nothing else in `tapeflow.export` does.
"""
from tapeflow._core.spec import TensorSpec
from tapeflow.function import polymorphic


def symbolic_size(value, sentinels):
    """None for a traced size (or attr number) that does not depend on a `None` dimension,
    else `(k, ((symbol, power), ...))`: the value is `k` times the product of the symbols'
    powers. A symbol is a sentinel of `sentinels` (the trace's), today a prime size; a size
    derived from one is an exact small multiple `k * S` (or `k * S1 * S2`)."""
    if not sentinels or isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return polymorphic.multiple(value, sentinels)


def tie_batch_dimensions(specs):
    """A Keras model's input specs with every batch dimension tied to the first input's, so
    the model's merging ops see one size (two `None`s would be independent sizes, which a
    trace cannot broadcast against each other). The other half of `symbolic_size`'s
    knowledge: a signature's first `None` is traced with the first sentinel size, so the
    other inputs are given that size."""
    first = specs[0].shape.as_list() if specs and specs[0].shape.rank else None
    if len(specs) < 2 or first is None or first[0] is not None:
        return specs
    tied = []
    for s in specs[1:]:
        dims = s.shape.as_list() if s.shape.rank else None
        if dims and dims[0] is None:
            s = TensorSpec([polymorphic.SENTINELS[0]] + dims[1:], s.dtype, s.name)
        tied.append(s)
    return [specs[0]] + tied


def mentions_symbol(x, sentinels):
    """Whether an attr (nested tuples of numbers, small tensors) holds a `None` dimension."""
    return bool(sentinels) and polymorphic.mentions(x, sentinels)


def dim_label(d, sentinels):
    """A traced size as a picture shows it: the number, or None for a `None` dimension."""
    return d if symbolic_size(d, sentinels) is None else None
