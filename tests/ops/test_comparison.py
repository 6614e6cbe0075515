"""Comparisons, logical and bitwise ops, `where`, and their operators
(tapeflow/ops/comparison.py) against real TensorFlow."""
import numpy as np
import pytest

import tapeflow as tf
from tests.gradcheck import GradCase
from tests.parity import assert_same, assert_same_outcome, error_of

R = np.random.default_rng(3)
GRAD_CASES = [
    GradCase("SelectV2", lambda x, y: tf.where(tf.constant([[True, False, True]]), x, y),
             [R.random((2, 3)), R.random((3,))]),
]

COMPARISONS = ["equal", "not_equal", "less", "less_equal", "greater", "greater_equal"]
DTYPES = ["float16", "bfloat16", "float32", "float64", "int8", "int32", "int64", "uint8", "bool",
          "complex64"]
SHAPES = [((2, 3), (3,)), ((2, 1), (1, 3)), ((), (2, 3)), ((2, 3), (2, 3))]


def _operands(dtype, shapes):
    n, m = int(np.prod(shapes[0])), int(np.prod(shapes[1]))
    a = np.array([1, 2, 3, 3, 2, 1])[:n].reshape(shapes[0])
    b = np.array([3, 2, 1, 1, 2, 3])[:m].reshape(shapes[1])
    if dtype == "bool":
        return a > 1, b > 1
    return a.astype("float32" if dtype == "bfloat16" else dtype), \
        b.astype("float32" if dtype == "bfloat16" else dtype)


@pytest.mark.parametrize("name", COMPARISONS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_comparisons_match_tf_over_dtypes(realtf, name, dtype):
    a, b = _operands(dtype, ((2, 3), (3,)))

    def run(m):
        return getattr(m, name)(m.constant(a, dtype), m.constant(b, dtype))
    assert_same_outcome(lambda: run(tf), lambda: run(realtf))


@pytest.mark.parametrize("name", COMPARISONS + ["logical_and", "logical_or", "logical_xor"])
@pytest.mark.parametrize("shapes", SHAPES + [((2,), (3,))])
def test_broadcasting_matches_tf(realtf, name, shapes):
    dtype = "bool" if name.startswith("logical") else "int32"
    a, b = _operands(dtype, shapes)
    assert_same_outcome(lambda: getattr(tf.math, name)(a, b),
                        lambda: getattr(realtf.math, name)(a, b))


@pytest.mark.parametrize("call", [
    lambda m: m.less(m.constant([True]), m.constant([False])),
    lambda m: m.greater_equal(m.constant(["a"]), m.constant(["b"])),
    lambda m: m.equal(m.constant([1, 2]), m.constant([1.0, 2.0])),
    lambda m: m.equal(m.constant([1, 2]), m.constant([1, 2, 3])),
    lambda m: m.less(m.constant([1, 2]), m.constant([1, 2, 3])),
    lambda m: m.constant([1, 2]) < m.constant([1.0, 2.0]),
    lambda m: m.constant([1, 2]) < 1.5,
    lambda m: m.constant([1, 2]) == 1.5,
    lambda m: m.constant([1, 2]) == "a",
    lambda m: m.logical_and(m.constant([1, 0]), m.constant([1.0, 2.0])),
    lambda m: m.logical_and(m.constant([True]), m.constant([1])),
    lambda m: m.logical_not(m.constant([1.0])),
    lambda m: m.math.logical_xor(m.constant([1.0]), m.constant([True])),
    lambda m: m.logical_or(m.constant([True, False, True]), m.constant([True, True])),
    lambda m: m.constant([1.0, 2.0]) & m.constant([3.0, 3.0]),
    lambda m: m.constant([1.0, 2.0]) | m.constant([3.0, 3.0]),
    lambda m: m.constant([1.0, 2.0]) ^ m.constant([3.0, 3.0]),
    lambda m: ~m.constant([1.0, 2.0]),
    lambda m: m.bitwise.bitwise_and(m.constant([True]), m.constant([True])),
    lambda m: m.bitwise.left_shift(m.constant([1.0]), m.constant([1.0])),
    lambda m: m.constant([1, 2, 3]) & m.constant([1, 2]),
    lambda m: m.constant([1, 2]) & 2.5,
    lambda m: m.where(m.constant([1, 0]), m.constant([1, 2]), m.constant([3, 4])),
    lambda m: m.where(m.constant([True, False]), m.constant([1, 2]), m.constant([3.0, 4.0])),
    lambda m: m.where(m.constant([True, False, True]), m.constant([1, 2]), m.constant([3, 4])),
    lambda m: m.where(m.constant([True, False]), m.constant([1, 2])),
    lambda m: m.where(m.constant(True)),
])
def test_errors_match_tf_exactly(realtf, call):
    assert error_of(lambda: call(tf)) == error_of(lambda: call(realtf))


@pytest.mark.parametrize("call", [
    # == and != : elementwise, TF 2.x style
    lambda m: m.constant([1, 2]) == m.constant([1, 3]),
    lambda m: m.constant([1, 2]) != m.constant([1, 3]),
    lambda m: m.constant([1, 2]) == m.constant([1, 2, 3]),   # no broadcast: scalar False
    lambda m: m.constant([1, 2]) != m.constant([1, 2, 3]),
    lambda m: m.constant([[1, 2], [3, 4]]) == m.constant([1, 2]),
    lambda m: m.constant([1, 2]) == [1, 3],
    lambda m: [1, 3] == m.constant([1, 2]),
    lambda m: np.array([1.0, 2.0], np.float32) == m.constant([1.0, 3.0]),
    lambda m: m.constant([1.0, 2.0]) == np.array([1, 3]),
    lambda m: m.constant([1.0, np.nan]) == m.constant([1.0, np.nan]),
    lambda m: m.constant([1, 2]) == m.constant([1.0, 2.0]),
    lambda m: m.constant([1, 2]) == object(),
    lambda m: m.Variable([1.0, 2.0]) == [1.0, 3.0],
    lambda m: m.Variable([1.0, 2.0]) != m.constant([1.0, 2.0, 3.0]),
    lambda m: m.constant([1.0, 2.0]) == m.Variable([1.0, 2.0]),
    lambda m: m.Variable([1.0, 2.0]) == None,  # noqa: E711 - TF's Variable raises here
    lambda m: m.equal(m.constant([1, 2]), 1),
    lambda m: m.equal(2, m.constant([1.0, 2.0])),
    lambda m: m.equal(m.constant([1, 2]), True),
    lambda m: m.not_equal(m.constant([1 + 1j]), m.constant([1 + 1j])),
    # ordering operators and their reflections
    lambda m: m.constant([1, 2]) < m.constant([2, 2]),
    lambda m: m.constant([1, 2]) <= 1,
    lambda m: m.constant([1.0, 2.0]) > 1,
    lambda m: m.constant([1.0, 2.0]) >= 2,
    lambda m: 1 < m.constant([1, 2]),
    lambda m: 1.5 >= m.constant([1.0, 2.0]),
    lambda m: m.Variable([1.0, 2.0]) < 2,
    lambda m: m.less(m.constant([1, 2], m.uint8), 2),
    # logical and bitwise operators
    lambda m: m.constant([True, False]) & m.constant([True, True]),
    lambda m: m.constant([True, False]) | m.constant([False, False]),
    lambda m: m.constant([True, False]) ^ m.constant([True, True]),
    lambda m: ~m.constant([True, False]),
    lambda m: True & m.constant([True, False]),
    lambda m: False | m.constant([True, False]),
    lambda m: m.constant([5, 3]) & m.constant([3, 3]),
    lambda m: m.constant([5, 3]) | 8,
    lambda m: 6 ^ m.constant([5, 3]),
    lambda m: ~m.constant([5, -1]),
    lambda m: ~m.constant([5], m.uint8),
    lambda m: ~m.Variable([True, False]),
    lambda m: m.Variable([5, 3]) & 1,
    lambda m: m.logical_and([True, False], [True, True]),
    lambda m: m.logical_and(m.constant([[True], [False]]), m.constant([True, True])),
    lambda m: m.math.logical_xor(m.constant([True, False, True]), m.constant([True, True, False])),
    lambda m: m.logical_not(False),
    lambda m: m.bitwise.bitwise_xor(m.constant([5, 3], m.int64), 1),
    lambda m: m.bitwise.left_shift(m.constant([5, 1, 5]), m.constant([1, 33, -1])),
    lambda m: m.bitwise.right_shift(m.constant([-5, 64]), m.constant([1, 40])),
    lambda m: m.bitwise.left_shift(m.constant([5], m.int8), m.constant([7], m.int8)),
    lambda m: m.bitwise.right_shift(m.constant([200], m.uint8), m.constant([3], m.uint8)),
    lambda m: m.bitwise.invert(m.constant([0], m.uint16)),
    # where
    lambda m: m.where(m.constant([[True, False], [True, True]])),
    lambda m: m.where(m.constant([[1, 0], [2, 0]])),
    lambda m: m.where(m.constant([[1.0, 0.0], [2.0, 0.0]])),
    lambda m: m.where(m.constant(True)),
    lambda m: m.where(m.constant(["a", ""])),
    lambda m: m.where([True, False], [1, 2], [3.5, 4]),
    lambda m: m.bitwise.left_shift(m.constant([2**16 - 1], m.uint16), m.constant([3], m.uint16)),
    lambda m: m.bitwise.right_shift(m.constant([65535, 3], m.uint16), m.constant([3, 1], m.uint16)),
    lambda m: m.bitwise.right_shift(m.constant([2**32 - 1], m.uint32), m.constant([3], m.uint32)),
    lambda m: m.bitwise.bitwise_and(m.constant([2**32 - 1], m.uint32), m.constant([5], m.uint32)),
    lambda m: m.where(m.constant([False, False])),
    lambda m: m.where(m.constant([True, False]), m.constant([1, 2]), m.constant([3, 4])),
    lambda m: m.where(m.constant([[True], [False]]), m.constant([1, 2]), 5),
    lambda m: m.where(True, 1.0, 2.0),
    lambda m: m.where([True, False], [1.5, 2.0], 0.0),
    lambda m: m.where(m.constant([True, False]), m.Variable([1.0, 2.0]), -1.0),
    lambda m: m.where(m.constant([True, False]), m.constant(["a", "b"]), m.constant(["c", "d"])),
])
def test_results_match_tf(realtf, call):
    assert_same_outcome(lambda: call(tf), lambda: call(realtf))


def test_eq_with_none_is_python_bool():
    t = tf.constant([1, 2])
    assert (t == None) is False  # noqa: E711 - the point of the test
    assert (t != None) is True  # noqa: E711


def test_string_equality_matches_tf(realtf):
    for call in (lambda m: m.constant(["a", "b"]) == m.constant(["a", "c"]),
                 lambda m: m.constant(["a", "b"]) != "a",
                 lambda m: m.constant(["a", "b"]) == m.constant(["a", "b", "c"]),
                 lambda m: m.equal(m.constant(["a", "b"]), "b"),
                 lambda m: m.not_equal(m.constant(["a", "b"]), m.constant(["a", "c"])),
                 lambda m: m.constant(["a"]) == 1,
                 lambda m: m.equal(m.constant(["a", "b"]), m.constant(["a", "b", "c"]))):
        assert_same_outcome(lambda: call(tf), lambda: call(realtf))


@pytest.mark.parametrize("cond, x, y", [
    ([True, False, True], [1.0, 2.0, 3.0], [4.0, 5.0, 6.0]),
    ([[True], [False]], [1.0, 2.0], 7.0),
    ([True, False], [[1.0, 2.0], [3.0, 4.0]], [5.0, 6.0]),
])
def test_where_gradient_matches_tf(realtf, cond, x, y):
    def grads(m):
        a, b = m.constant(x), m.constant(y)
        with m.GradientTape() as tape:
            tape.watch([a, b])
            out = m.where(m.constant(cond), a, b) * m.constant(2.0)
        return tape.gradient(out, [a, b])
    assert_same(grads(tf), grads(realtf))


def test_comparisons_are_not_differentiable():
    x = tf.constant([1.0, 2.0])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.cast(x > 1.0, tf.float32) * x
    assert tape.gradient(y, x).numpy().tolist() == [0.0, 1.0]


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16"])
def test_select_kernel_keeps_every_bit_of_torch_where(dtype):
    # the CPU fast path selects bits: NaN payloads and signed zeros must survive, any broadcast
    import torch
    from tapeflow.ops.comparison import _select_kernel
    dt = getattr(torch, dtype)
    g = torch.Generator().manual_seed(0)
    bits = {1: torch.int8, 2: torch.int16, 4: torch.int32, 8: torch.int64}[dt.itemsize]
    for cs, xs, ys in [((4, 5), (4, 5), ()), ((4, 5), (4, 5), (4, 5)), ((4, 1), (1, 5), (4, 5)),
                       ((4, 5), (), (5,)), ((), (3,), (3,)), ((2, 3), (2, 1), ())]:
        c = torch.rand(cs, generator=g) > 0.5
        x = torch.randn(xs, generator=g).to(dt)
        x.view(-1)[0] = float("nan")
        for y in (torch.randn(ys, generator=g).to(dt), torch.tensor(0.0, dtype=dt),
                  torch.tensor(-0.0, dtype=dt)):
            got, want = _select_kernel(c, x, y), torch.where(c, x, y)
            assert got.shape == want.shape and got.dtype == want.dtype
            assert torch.equal(got.contiguous().view(bits), want.contiguous().view(bits))
