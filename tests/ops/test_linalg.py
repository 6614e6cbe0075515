"""Linear-algebra ops against real TensorFlow (values, dtypes, errors, first and second
derivatives), and their gradient cases."""
import numpy as np
import pytest

import tapeflow as tf
from tests.gradcheck import GradCase
from tests.parity import assert_same, assert_same_outcome

R = np.random.default_rng(3)

GRAD_CASES = [
    GradCase("MatMul", tf.matmul, [R.random((2, 3)), R.random((3, 4))]),
    GradCase("MatMul", lambda a, b: tf.matmul(a, b, transpose_a=True),
             [R.random((3, 2)), R.random((3, 4))]),
    GradCase("MatMul", lambda a, b: tf.matmul(a, b, transpose_b=True),
             [R.random((2, 3)), R.random((4, 3))]),
    GradCase("MatMul", lambda a, b: tf.matmul(a, b, adjoint_a=True, transpose_b=True),
             [R.random((3, 2)), R.random((4, 3))]),
    GradCase("BatchMatMulV2", tf.matmul, [R.random((2, 2, 3)), R.random((3, 4))]),
    GradCase("BatchMatMulV2", lambda a, b: tf.matmul(a, b, transpose_a=True),
             [R.random((2, 1, 3, 2)), R.random((3, 3, 4))]),
    GradCase("BatchMatMulV2", lambda a, b: tf.matmul(a, b, transpose_b=True),
             [R.random((2, 3)), R.random((2, 4, 3))]),
]

TOL = {"float16": (2e-3, 2e-3), "bfloat16": (2e-2, 2e-2), "float32": (1e-5, 1e-5),
       "float64": (1e-12, 1e-12), "int32": (0, 0), "int64": (0, 0),
       "complex64": (1e-5, 1e-5), "complex128": (1e-12, 1e-12)}


def _values(shape, dtype):
    a = R.integers(-3, 4, size=shape)
    if dtype.startswith("complex"):
        return (a + 1j * R.integers(-3, 4, size=shape)).astype(dtype)
    return a.astype(dtype)


SHAPES = [
    ((2, 3), (3, 4), {}),
    ((3, 2), (3, 4), {"transpose_a": True}),
    ((2, 3), (4, 3), {"transpose_b": True}),
    ((3, 2), (4, 3), {"transpose_a": True, "transpose_b": True}),
    ((3, 2), (3, 4), {"adjoint_a": True}),
    ((2, 3), (4, 3), {"adjoint_b": True}),
    ((5, 2, 3), (5, 3, 4), {}),
    ((5, 2, 3), (3, 4), {}),
    ((2, 3), (5, 3, 4), {}),
    ((2, 1, 2, 3), (3, 3, 4), {}),
    ((2, 1, 3, 2), (1, 4, 4, 3), {"transpose_a": True, "adjoint_b": True}),
    ((2, 0), (0, 3), {}),
]


@pytest.mark.parametrize("sa,sb,kwargs", SHAPES)
@pytest.mark.parametrize("dtype", ["float16", "float32", "float64", "int32", "int64",
                                   "complex64", "complex128"])
def test_matmul_matches_tf(realtf, sa, sb, kwargs, dtype):
    a, b = _values(sa, dtype), _values(sb, dtype)
    rtol, atol = TOL[dtype]
    assert_same(tf.matmul(a, b, **kwargs), realtf.matmul(a, b, **kwargs), rtol=rtol, atol=atol)


def test_matmul_operator_matches_tf(realtf):
    a, b = _values((2, 3), "float32"), _values((3, 2), "float32")
    assert_same(tf.constant(a) @ tf.constant(b), realtf.constant(a) @ realtf.constant(b))
    assert_same(tf.constant(a) @ b.astype(np.float64), realtf.constant(a) @ b.astype(np.float64))
    assert_same(a @ tf.constant(b), a @ realtf.constant(b))
    assert_same(tf.Variable(a) @ b, realtf.Variable(a) @ b)
    assert_same(b.tolist() @ tf.Variable(a), b.tolist() @ realtf.Variable(a))


@pytest.mark.parametrize("call", [
    lambda m: m.matmul([1.0, 2.0], [[1.0], [2.0]]),
    lambda m: m.matmul([1.0, 2.0], [1.0, 2.0]),
    lambda m: m.matmul([1.0, 2.0], np.ones((3, 2, 2), np.float32)),
    lambda m: m.matmul(np.ones((3, 2, 2), np.float32), [1.0, 2.0]),
    lambda m: m.matmul(3.0, np.ones((3, 2, 2), np.float32)),
    lambda m: m.matmul(np.ones((2, 3)), np.ones((2, 3))),
    lambda m: m.matmul(np.ones((4, 2, 3)), np.ones((4, 2, 3))),
    lambda m: m.matmul(np.ones((4, 2, 3)), np.ones((3, 3, 2))),
    lambda m: m.matmul(np.ones((2, 3), np.float32), np.ones((3, 2))),
    lambda m: m.matmul(np.ones((2, 3), np.int8), np.ones((3, 2), np.int8)),
    lambda m: m.matmul(np.ones((2, 3), np.bool_), np.ones((3, 2), np.bool_)),
    lambda m: m.matmul(np.ones((2, 3)), np.ones((3, 2)), transpose_a=True, adjoint_a=True),
    lambda m: m.matmul(np.ones((2, 3)), [[1.0, 2.0]]),
])
def test_matmul_errors_match_tf(realtf, call):
    assert_same_outcome(lambda: call(tf), lambda: call(realtf))


@pytest.mark.parametrize("call", [
    lambda m: m.matmul([1.0, 2.0], [[1.0], [2.0]]),
    lambda m: m.matmul([1.0, 2.0], [1.0, 2.0]),
    lambda m: m.matmul([1.0, 2.0], np.ones((3, 2, 2), np.float32)),
    lambda m: m.matmul(np.ones((3, 2, 2), np.float32), [1.0, 2.0]),
    lambda m: m.matmul(np.ones((2, 3)), np.ones((2, 3))),
    lambda m: m.matmul(np.ones((4, 2, 3)), np.ones((4, 2, 3))),
    lambda m: m.matmul(np.ones((4, 2, 3)), np.ones((3, 3, 2))),
    lambda m: m.matmul(m.constant(np.ones((2, 3), np.float32)), m.constant(np.ones((3, 2)))),
])
def test_matmul_error_text_matches_tf(realtf, call):
    with pytest.raises(Exception) as ours:
        call(tf)
    with pytest.raises(Exception) as theirs:
        call(realtf)
    assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize("sa,sb,kwargs", SHAPES[:-1])
def test_matmul_gradients_match_tf(realtf, sa, sb, kwargs):
    a, b = R.random(sa), R.random(sb)

    def grads(m):
        x, y = m.constant(a), m.constant(b)
        with m.GradientTape() as tape:
            tape.watch([x, y])
            out = m.matmul(x, y, **kwargs)
            out = out * m.constant(np.arange(out.shape.num_elements(), dtype=np.float64)
                                   .reshape(tuple(out.shape)))
        return tape.gradient(out, [x, y])

    assert_same(grads(tf), grads(realtf), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kwargs", [{"adjoint_b": True}, {"transpose_b": True},
                                    {"transpose_a": True, "adjoint_b": True}])
def test_complex_matmul_gradient_matches_tf(realtf, kwargs):
    a = _values((2, 3) if "transpose_a" not in kwargs else (3, 2), "complex128")
    b = _values((2, 3), "complex128")

    def grads(m):
        x, y = m.constant(a), m.constant(b)
        with m.GradientTape() as tape:
            tape.watch([x, y])
            out = m.matmul(x, y, **kwargs) * m.constant(np.array([[1.0, 2j], [-1j, 0.5]]))
        return tape.gradient(out, [x, y])

    assert_same(grads(tf), grads(realtf), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("sa,sb,kwargs", [SHAPES[0], SHAPES[3], SHAPES[7], SHAPES[10]])
def test_matmul_second_derivatives_match_tf(realtf, sa, sb, kwargs):
    a, b = R.random(sa), R.random(sb)

    def second(m):
        x, y = m.constant(a), m.constant(b)
        with m.GradientTape(persistent=True) as outer:
            outer.watch([x, y])
            with m.GradientTape() as inner:
                inner.watch([x, y])
                out = m.matmul(x, y, **kwargs)
                out = m.matmul(out, out, transpose_b=True)  # quadratic in x and y
            gx, gy = inner.gradient(out, [x, y])
            gx = gx * m.constant(np.linspace(-1, 1, gx.shape.num_elements()).reshape(
                tuple(gx.shape)))
        return outer.gradient(gx, [x, y])

    assert_same(second(tf), second(realtf), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("sa,sb,kwargs", [
    ((2, 3), (3,), {}), ((4, 2, 3), (3,), {}), ((2, 3), (4, 3), {}),
    ((3, 2), (3,), {"transpose_a": True}),
])
def test_matvec_matches_tf(realtf, sa, sb, kwargs):
    a, b = R.random(sa), R.random(sb)
    assert_same(tf.linalg.matvec(a, b, **kwargs), realtf.linalg.matvec(a, b, **kwargs))


# -- einsum and tensordot -----------------------------------------------------------------------

EQUATIONS = [
    ("ij,jk->ik", [(2, 3), (3, 4)]), ("ij,jk", [(2, 3), (3, 4)]), ("ii->i", [(3, 3)]),
    ("ii", [(3, 3)]), ("ij->", [(2, 3)]), ("ij->j", [(2, 3)]), ("ji", [(2, 3)]),
    ("...ij,...jk->...ik", [(5, 2, 3), (1, 3, 4)]), ("...ij,...jk->...ik", [(2, 3), (5, 3, 4)]),
    ("i,j->ij", [(2,), (3,)]), ("bij,bjk->bik", [(2, 2, 3), (2, 3, 4)]), ("iij->j", [(2, 2, 3)]),
    ("ij,ij->ij", [(2, 3), (2, 3)]), ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
    ("iji->ij", [(2, 3, 2)]), ("ij,k->ik", [(2, 3), (4,)]), ("i...->...", [(2, 3, 4)]),
    ("b i j , b j k -> b i k", [(2, 2, 3), (2, 3, 4)]),
]

def _diag_part_grad(g, shape):
    """The op that pads a diagonal's gradient back to a rectangle (MatrixDiagPartV3Grad)."""
    from tapeflow.ops import linalg
    return linalg.execute(linalg.MATRIX_DIAG_PART_PAD, linalg._pad_block_kernel, (g,), shape)


GRAD_CASES += [
    GradCase("Einsum", lambda *xs, eq=eq: tf.einsum(eq, *xs), [R.random(s) for s in shapes])
    for eq, shapes in EQUATIONS
] + [
    GradCase("Einsum", lambda a, b: tf.tensordot(a, b, 2), [R.random((2, 3)), R.random((3, 2))]),
    GradCase("MatrixInverse", tf.linalg.inv, [R.random((3, 3)) + 2 * np.eye(3)]),
    GradCase("MatrixInverse", lambda a: tf.linalg.inv(a, adjoint=True),
             [R.random((2, 3, 3)) + 2 * np.eye(3)]),
    GradCase("MatrixDeterminant", tf.linalg.det, [R.random((2, 3, 3)) + np.eye(3)]),
    GradCase("MatrixDiagPartV3", tf.linalg.diag_part, [R.random((2, 3, 4))]),
    GradCase("MatrixDiagPartV3Grad", lambda g: _diag_part_grad(g, (3, 4)), [R.random((2, 3))]),
]


@pytest.mark.parametrize("eq,shapes", EQUATIONS)
@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "complex64"])
def test_einsum_matches_tf(realtf, eq, shapes, dtype):
    xs = [_values(s, dtype) for s in shapes]
    rtol, atol = TOL[dtype]
    assert_same(tf.einsum(eq, *xs), realtf.einsum(eq, *xs), rtol=rtol, atol=atol)


@pytest.mark.parametrize("eq,shapes", EQUATIONS)
def test_einsum_gradients_match_tf(realtf, eq, shapes):
    xs = [R.random(s) for s in shapes]

    def grads(m):
        ts = [m.constant(x) for x in xs]
        with m.GradientTape() as tape:
            tape.watch(ts)
            out = m.einsum(eq, *ts)
            out = out * m.constant(np.linspace(-1, 2, out.shape.num_elements()).reshape(
                tuple(out.shape)))
        return tape.gradient(out, ts)

    assert_same(grads(tf), grads(realtf), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("call", [
    lambda m: m.einsum("ij,jk->ik", np.ones((2, 3))),
    lambda m: m.einsum("ij,jk->ik", np.ones((2, 3)), np.ones((4, 4))),
    lambda m: m.einsum("ij,jk->ik", m.constant(np.ones((2, 3), np.float32)),
                       m.constant(np.ones((3, 4)))),
    lambda m: m.einsum("ij,ij->ij", np.ones((1, 3)), np.ones((2, 3))),
])
def test_einsum_errors_match_tf(realtf, call):
    assert_same_outcome(lambda: call(tf), lambda: call(realtf))


def test_einsum_error_text_matches_tf(realtf):
    for call in (lambda m: m.einsum("ij,jk->ik", np.ones((2, 3)), np.ones((4, 4))),
                 lambda m: m.einsum("ij,jk->ik", np.ones((2, 3)))):
        with pytest.raises(Exception) as ours:
            call(tf)
        with pytest.raises(Exception) as theirs:
            call(realtf)
        assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize("sa,sb,axes", [
    ((2, 3), (3, 4), 1), ((2, 3), (3, 4), 0), ((2, 3), (3, 4), [[1], [0]]),
    ((2, 3), (3, 4), [1, 0]), ((2, 3, 4), (4, 3, 2), [[1, 2], [1, 0]]),
    ((2, 3), (3, 2), 2), ((2, 3), (3, 2), [[0, 1], [1, 0]]), ((3,), (3,), 1),
    ((2, 3), (4, 4), 1), ((2, 3), (3, 4), 3),
])
def test_tensordot_matches_tf(realtf, sa, sb, axes):
    a, b = R.random(sa), R.random(sb)
    assert_same_outcome(lambda: tf.tensordot(a, b, axes), lambda: realtf.tensordot(a, b, axes),
                        rtol=1e-12, atol=1e-12)


def test_tensordot_gradient_matches_tf(realtf):
    a, b = R.random((2, 3, 4)), R.random((4, 3, 2))

    def grads(m):
        x, y = m.constant(a), m.constant(b)
        with m.GradientTape() as tape:
            tape.watch([x, y])
            out = m.tensordot(x, y, [[1, 2], [1, 0]]) * m.constant(np.arange(4.0).reshape(2, 2))
        return tape.gradient(out, [x, y])

    assert_same(grads(tf), grads(realtf), rtol=1e-12, atol=1e-12)


# -- inverse, determinant, norms, diagonals --------------------------------------------------------

MATS = np.array([[[2.0, 1.0, 0.5], [0.3, 3.0, 1.0], [0.1, 0.2, 1.5]],
                 [[1.0, 2.0, 0.0], [2.0, 1.0, 1.0], [0.0, 1.0, 4.0]]])


@pytest.mark.parametrize("dtype", ["float32", "float64", "complex128"])
@pytest.mark.parametrize("name,kwargs", [("inv", {}), ("inv", {"adjoint": True}), ("det", {})])
def test_inverse_and_determinant_match_tf(realtf, dtype, name, kwargs):
    x = MATS.astype(dtype)
    assert_same(getattr(tf.linalg, name)(x, **kwargs), getattr(realtf.linalg, name)(x, **kwargs),
                rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["inv", "det"])
def test_inverse_and_determinant_derivatives_match_tf(realtf, name):
    def second(m):
        x = m.constant(MATS)
        w = m.constant(np.linspace(-1, 1, MATS.size).reshape(MATS.shape))
        with m.GradientTape() as outer:
            outer.watch(x)
            with m.GradientTape() as inner:
                inner.watch(x)
                y = getattr(m.linalg, name)(x)
            g = inner.gradient(y, x)
            gw = g * w
        return [g, outer.gradient(gw, x)]

    assert_same(second(tf), second(realtf), rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("call", [
    lambda m: m.linalg.inv([[1.0, 2.0], [2.0, 4.0]]),
    lambda m: m.linalg.inv([[1.0, 2.0, 3.0], [2.0, 4.0, 5.0]]),
    lambda m: m.linalg.inv([1.0, 2.0]),
    lambda m: m.linalg.inv([[1, 2], [3, 4]]),
    lambda m: m.linalg.inv(m.constant([[1, 2], [3, 4]], m.bfloat16)),
    lambda m: m.linalg.det([[1.0, 2.0, 3.0], [2.0, 4.0, 5.0]]),
    lambda m: m.linalg.det([1.0, 2.0]),
    lambda m: m.linalg.det([[1, 2], [3, 4]]),
    lambda m: m.linalg.det(m.constant([[1, 2], [3, 4]], m.float16)),
])
def test_inverse_and_determinant_errors_match_tf(realtf, call):
    assert_same_outcome(lambda: call(tf), lambda: call(realtf))


def test_inverse_error_text_matches_tf(realtf):
    for call in (lambda m: m.linalg.inv([[1.0, 2.0], [2.0, 4.0]]),
                 lambda m: m.linalg.det([1.0, 2.0])):
        with pytest.raises(Exception) as ours:
            call(tf)
        with pytest.raises(Exception) as theirs:
            call(realtf)
        assert str(ours.value) == str(theirs.value)


NORMS = [
    {}, {"ord": 1}, {"ord": np.inf}, {"ord": 3}, {"ord": 2}, {"axis": 1}, {"axis": -1, "ord": 1},
    {"axis": 0, "keepdims": True}, {"ord": "fro", "axis": [0, 1]}, {"ord": 1, "axis": (0, 1)},
    {"ord": np.inf, "axis": (1, 0)}, {"ord": 2, "axis": [0, 1]}, {"ord": 2, "axis": (-1, -2),
                                                                   "keepdims": True},
    {"ord": "euclidean", "axis": (0, 1), "keepdims": True},
]


@pytest.mark.parametrize("kwargs", NORMS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_norm_matches_tf(realtf, kwargs, dtype):
    x = (MATS[0] - 1).astype(dtype)
    assert_same(tf.norm(x, **kwargs), realtf.norm(x, **kwargs), rtol=1e-5, atol=1e-6)
    assert_same(tf.linalg.norm(x, **kwargs), realtf.linalg.norm(x, **kwargs), rtol=1e-5,
                atol=1e-6)


@pytest.mark.parametrize("kwargs", [k for k in NORMS if k.get("ord") != 2 or "axis" not in k])
def test_norm_gradients_match_tf(realtf, kwargs):
    def grads(m):
        x = m.constant(MATS[0] - 1)
        with m.GradientTape() as tape:
            tape.watch(x)
            y = m.norm(x, **kwargs)
        return tape.gradient(y, x)

    assert_same(grads(tf), grads(realtf), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("call", [
    lambda m: m.norm([3, 4]),
    lambda m: m.norm([[3.0, 4.0]], ord="fro"),
    lambda m: m.norm([[3.0, 4.0]], ord=0),
    lambda m: m.norm([[3.0, 4.0]], ord=2, axis=[0, 0]),
    lambda m: m.norm([[3.0, 4.0]], ord="nuc", axis=[0, 1]),
    lambda m: m.norm([[3.0, 4.0]], axis=(0, 1, 1)),
    lambda m: m.norm([[3.0, 4.0]], axis=1.5),
    lambda m: m.norm(m.constant([3 + 4j]), keepdims=True),
    lambda m: m.norm([[3.0, 4.0]], axis=5),
])
def test_norm_errors_match_tf(realtf, call):
    assert_same_outcome(lambda: call(tf), lambda: call(realtf))


@pytest.mark.parametrize("call", [
    lambda m, x: m.linalg.trace(x), lambda m, x: m.linalg.diag_part(x),
    lambda m, x: m.linalg.diag_part(x[:, :2]), lambda m, x: m.linalg.diag(x[0]),
    lambda m, x: m.linalg.diag(x), lambda m, x: m.linalg.matrix_transpose(x),
    lambda m, x: m.linalg.adjoint(x), lambda m, x: m.linalg.eye(3),
    lambda m, x: m.linalg.trace(x[0, 0]),
])
def test_diagonals_match_tf(realtf, call):
    assert_same_outcome(lambda: call(tf, MATS), lambda: call(realtf, MATS))


def test_diagonal_gradients_match_tf(realtf):
    def grads(m):
        x = m.constant(MATS[:, :2])
        with m.GradientTape() as tape:
            tape.watch(x)
            y = m.linalg.diag_part(x) * m.constant(np.array([[1.0, 2.0], [3.0, 4.0]]))
        return tape.gradient(y, x)

    assert_same(grads(tf), grads(realtf))


GRAD_CASES += [
    GradCase("Qr", lambda a: tf.linalg.qr(a), [R.random((4, 3))]),
    GradCase("Qr", lambda a: tf.linalg.qr(a), [R.random((2, 3, 3))]),
]


@pytest.mark.parametrize("shape,full", [((3, 3), False), ((4, 3), False), ((4, 3), True),
                                        ((3, 4), False), ((2, 4, 3), False)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_qr_matches_tf(realtf, shape, full, dtype):
    x = R.random(shape).astype(dtype)
    assert_same(list(tf.linalg.qr(x, full_matrices=full)),
                list(realtf.linalg.qr(x, full_matrices=full)), rtol=1e-4, atol=1e-5)


def test_qr_gradient_matches_tf(realtf):
    a = R.random((4, 3))

    def grads(m):
        x = m.constant(a)
        with m.GradientTape() as tape:
            tape.watch(x)
            q, r = m.linalg.qr(x)
            y = q * m.constant(np.linspace(-1, 1, 12).reshape(4, 3)) + \
                m.linalg.trace(r) * 2.0
        return tape.gradient(y, x)

    assert_same(grads(tf), grads(realtf), rtol=1e-9, atol=1e-10)


MAT = (np.random.default_rng(5).random((2, 3, 3)) + np.eye(3)).astype(np.float32)
TRACED = {
    "matmul": lambda m: tf.matmul(m, m, transpose_b=True), "matmul_op": lambda m: m @ m,
    "matvec": lambda m: tf.linalg.matvec(m, m[0, 0]),
    "einsum": lambda m: tf.einsum("bij,bkj->bik", m, m), "einsum_diag": lambda m: tf.einsum(
        "bii->bi", m), "tensordot": lambda m: tf.tensordot(m, m, [[1, 2], [2, 1]]),
    "norm": lambda m: tf.norm(m), "norm_1": lambda m: tf.norm(m, ord=1, axis=[1, 2]),
    "norm_2": lambda m: tf.norm(m, ord=2, axis=[1, 2]), "inv": lambda m: tf.linalg.inv(m),
    "det": lambda m: tf.linalg.det(m), "qr": lambda m: tf.linalg.qr(m)[1],
    "diag_part": lambda m: tf.linalg.diag_part(m[:, :2]), "trace": lambda m: tf.linalg.trace(m),
    "diag": lambda m: tf.linalg.diag(m[:, 0]),
    "band_part": lambda m: tf.linalg.band_part(m, 1, 0),
    "cholesky": lambda m: tf.linalg.cholesky(tf.matmul(m, m, transpose_b=True)),
    "solve": lambda m: tf.linalg.solve(m, m[:, :, :2]),
    "triangular_solve": lambda m: tf.linalg.triangular_solve(m, m[:, :, :2], lower=False),
}


@pytest.mark.parametrize("name", list(TRACED))
def test_values_and_gradients_are_the_same_under_tf_function(name):
    m = tf.constant(MAT)

    def step():
        with tf.GradientTape() as tape:
            tape.watch(m)
            y = TRACED[name](m)
        return y, tape.gradient(y, m)

    assert_same(list(tf.function(step)()), list(step()), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("call", [
    lambda m: m.matmul(np.full((2, 3), 100, np.int8), np.ones((3, 2), np.int8),
                       output_type=m.int32),
    lambda m: m.matmul(np.ones((2, 2, 3), np.uint8), np.ones((3, 2), np.uint8),
                       output_type=m.int32),
    lambda m: m.matmul(np.ones((2, 3), np.float16), np.ones((3, 2), np.float16),
                       output_type=m.float32),
    lambda m: m.matmul(np.ones((2, 3), np.float32), np.ones((3, 2), np.float32),
                       output_type=m.float32),
])
def test_matmul_output_type_matches_tf(realtf, call):
    assert_same_outcome(lambda: call(tf), lambda: call(realtf))


# -- band_part, cholesky, solve, triangular_solve --------------------------------------------------

SPD = np.einsum("bij,bkj->bik", MATS, MATS) + 2 * np.eye(3)
RHS = np.arange(12.0).reshape(2, 3, 2) / 7 - 0.5

GRAD_CASES += [
    GradCase("MatrixBandPart", lambda x: tf.linalg.band_part(x, 1, 0), [R.random((3, 4))]),
    GradCase("Cholesky", lambda x: tf.linalg.cholesky(
        tf.matmul(x, x, transpose_b=True) + tf.constant(3 * np.eye(3))), [R.random((2, 3, 3))]),
    GradCase("MatrixSolve", tf.linalg.solve, [R.random((3, 3)) + 2 * np.eye(3),
                                              R.random((3, 2))]),
    GradCase("MatrixSolve", lambda a, b: tf.linalg.solve(a, b, adjoint=True),
             [R.random((2, 3, 3)) + 2 * np.eye(3), R.random((2, 3, 2))]),
    GradCase("MatrixTriangularSolve", tf.linalg.triangular_solve,
             [R.random((3, 3)) + 2 * np.eye(3), R.random((3, 2))]),
    GradCase("MatrixTriangularSolve",
             lambda a, b: tf.linalg.triangular_solve(a, b, lower=False, adjoint=True),
             [R.random((3, 3)) + 2 * np.eye(3), R.random((3, 2))]),
    GradCase("LogMatrixDeterminant", lambda a: tf.linalg.slogdet(a)[1],
             [R.random((2, 3, 3)) + np.eye(3)]),
]

SOLVERS = {
    "band_part": lambda m, a, b: m.linalg.band_part(a, 1, 0),
    "band_part_upper": lambda m, a, b: m.linalg.band_part(a[:, :2], 0, -1),
    "band_part_all": lambda m, a, b: m.linalg.band_part(a, -1, -1),
    "cholesky": lambda m, a, b: m.linalg.cholesky(a),
    "solve": lambda m, a, b: m.linalg.solve(a, b),
    "solve_adjoint": lambda m, a, b: m.linalg.solve(a, b, adjoint=True),
    "triangular": lambda m, a, b: m.linalg.triangular_solve(a, b),
    "triangular_upper_adjoint": lambda m, a, b: m.linalg.triangular_solve(a, b, lower=False,
                                                                           adjoint=True),
    "slogdet": lambda m, a, b: m.linalg.slogdet(a - 3.0)[1],
    "logdet": lambda m, a, b: m.linalg.logdet(a),
}


@pytest.mark.parametrize("name", list(SOLVERS))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_solvers_match_tf(realtf, name, dtype):
    a, b = SPD.astype(dtype), RHS.astype(dtype)
    assert_same(SOLVERS[name](tf, a, b), SOLVERS[name](realtf, a, b), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", list(SOLVERS))
def test_solver_derivatives_match_tf(realtf, name):
    def second(m):
        a, b = m.constant(SPD), m.constant(RHS)
        with m.GradientTape(persistent=True) as outer:
            outer.watch([a, b])
            with m.GradientTape() as inner:
                inner.watch([a, b])
                y = SOLVERS[name](m, a, b)
                y = y * m.constant(np.linspace(-1, 1, y.shape.num_elements()).reshape(
                    tuple(y.shape)))
            ga, gb = inner.gradient(y, [a, b], unconnected_gradients="zero")
            total = m.reduce_sum(ga * ga) + m.reduce_sum(gb * gb)
        return [ga, gb] + outer.gradient(total, [a, b], unconnected_gradients="zero")

    assert_same(second(tf), second(realtf), rtol=1e-8, atol=1e-9)


def test_cholesky_of_an_indefinite_matrix_is_nan_without_error():
    out = tf.linalg.cholesky(np.array([[[1.0, 2.0], [2.0, 1.0]], [[4.0, 0.0], [0.0, 1.0]]]))
    assert np.isnan(out.numpy()[0]).all()
    np.testing.assert_allclose(out.numpy()[1], [[2.0, 0.0], [0.0, 1.0]])


@pytest.mark.parametrize("call", [
    lambda m: m.linalg.cholesky([[1.0, 2.0, 3.0], [2.0, 1.0, 0.0]]),
    lambda m: m.linalg.cholesky([1.0, 2.0]),
    lambda m: m.linalg.cholesky([[1, 0], [0, 1]]),
    lambda m: m.linalg.solve([[1.0, 2.0], [2.0, 4.0]], [[1.0], [2.0]]),
    lambda m: m.linalg.solve([[1.0, 2.0], [3.0, 4.0]], [[1.0], [2.0], [3.0]]),
    lambda m: m.linalg.band_part([1.0, 2.0], 0, 0),
])
def test_solver_errors_match_tf(realtf, call):
    assert_same_outcome(lambda: call(tf), lambda: call(realtf))


def test_solver_error_text_matches_tf(realtf):
    for call in (lambda m: m.linalg.cholesky([[1.0, 2.0, 3.0], [2.0, 1.0, 0.0]]),
                 lambda m: m.linalg.solve([[1.0, 2.0], [2.0, 4.0]], [[1.0], [2.0]])):
        with pytest.raises(Exception) as ours:
            call(tf)
        with pytest.raises(Exception) as theirs:
            call(realtf)
        assert str(ours.value) == str(theirs.value)


def test_slogdet_signs_and_singular_matrices_match_tf(realtf):
    m = np.array([[[2.0, 1.0], [1.0, 3.0]], [[1.0, 2.0], [3.0, 1.0]], [[1.0, 2.0], [2.0, 4.0]]])
    for dtype in ("float32", "float64", "complex128"):
        assert_same(list(tf.linalg.slogdet(m.astype(dtype))),
                    list(realtf.linalg.slogdet(m.astype(dtype))), rtol=1e-6, atol=1e-6)
