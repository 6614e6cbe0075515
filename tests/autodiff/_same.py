"""Comparing gradient results (nested structures that may hold None) with real TF's."""
import collections.abc

from tests.parity import assert_same


def assert_same_grads(ours, theirs, rtol=1e-5, atol=1e-6):
    if theirs is None:
        assert ours is None, f"expected None, got {ours!r}"
        return
    assert ours is not None, f"got None, expected {theirs!r}"
    if isinstance(theirs, collections.abc.Mapping):
        assert isinstance(ours, collections.abc.Mapping), f"expected a dict, got {type(ours)}"
        assert sorted(ours) == sorted(theirs)
        for k in theirs:
            assert_same_grads(ours[k], theirs[k], rtol, atol)
        return
    if isinstance(theirs, (list, tuple)):
        assert type(ours) is type(theirs), f"{type(ours)} != {type(theirs)}"
        assert len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            assert_same_grads(a, b, rtol, atol)
        return
    assert_same(ours, theirs, rtol, atol)
