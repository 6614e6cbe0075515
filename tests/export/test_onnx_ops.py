"""Each op of the ONNX table, exported from a tf.function with a `None` batch dimension: the
exported file run by onnxruntime gives what tapeflow computes, in dtype and value, for two
batch sizes (shape arithmetic, not the traced size, sizes the outputs)."""
import numpy as np
import pytest

import tapeflow as tf

pytest.importorskip("onnxruntime")
from tapeflow import export  # noqa: E402

RNG = np.random.default_rng(0)


def floats(*shape, low=-2.0, high=2.0):
    return lambda b: RNG.uniform(low, high, (b,) + shape).astype(np.float32)


def ints(*shape, low=-5, high=6, dtype=np.int32):
    return lambda b: RNG.integers(low, high, (b,) + shape).astype(dtype)


def spec(*shape, dtype=tf.float32):
    return tf.TensorSpec((None,) + shape, dtype)


F4 = ([spec(4)], [floats(4)])
F34 = ([spec(3, 4)], [floats(3, 4)])
POS = ([spec(4)], [floats(4, low=0.1, high=3.0)])
UNIT = ([spec(4)], [floats(4, low=-0.9, high=0.9)])


def pairs(first, second):
    """Two operands as one input (batch, 2, ...): two `None` dimensions traced apart could not
    be broadcast against each other."""
    return lambda b: np.stack([first(b), second(b)], axis=1)


def binary(op):
    return lambda x: op(x[:, 0], x[:, 1])


TWO = ([spec(2, 4)], [pairs(floats(4), floats(4, low=0.5, high=2.0))])
INTS = ([spec(2, 4, dtype=tf.int32)], [pairs(ints(4), ints(4, low=1, high=4))])

CASES = {
    # elementwise, one input
    "abs": (tf.abs, F4), "neg": (tf.negative, F4), "exp": (tf.exp, F4),
    "log": (tf.math.log, POS), "sqrt": (tf.sqrt, POS), "rsqrt": (tf.math.rsqrt, POS),
    "reciprocal": (tf.math.reciprocal, POS), "sin": (tf.sin, F4), "cos": (tf.cos, F4),
    "tan": (tf.tan, UNIT), "asin": (tf.asin, UNIT), "acos": (tf.acos, UNIT),
    "atan": (tf.atan, F4), "sinh": (tf.sinh, F4), "cosh": (tf.cosh, F4),
    "asinh": (tf.asinh, F4), "atanh": (tf.atanh, UNIT),
    "acosh": (tf.acosh, ([spec(4)], [floats(4, low=1.1, high=3.0)])),
    "tanh": (tf.tanh, F4), "sigmoid": (tf.sigmoid, F4), "relu": (tf.nn.relu, F4),
    "relu6": (lambda x: tf.nn.relu6(x * 4.0), F4), "erf": (tf.math.erf, F4),
    "floor": (tf.floor, F4), "ceil": (tf.math.ceil, F4),
    "round": (lambda x: tf.round(x * 2.0), F4), "sign": (tf.sign, F4),
    "softsign": (tf.nn.softsign, F4), "softplus": (tf.nn.softplus, F4),
    "elu": (tf.nn.elu, F4), "selu": (tf.nn.selu, F4), "gelu": (tf.nn.gelu, F4),
    "gelu_tanh": (lambda x: tf.nn.gelu(x, approximate=True), F4),
    "silu": (tf.nn.silu, F4), "leaky_relu": (lambda x: tf.nn.leaky_relu(x, 0.1), F4),
    "log1p": (tf.math.log1p, POS), "expm1": (tf.math.expm1, F4), "square": (tf.square, F4),
    "is_nan": (lambda x: tf.math.is_nan(tf.math.log(x)), F4),
    "is_finite": (lambda x: tf.math.is_finite(tf.math.log(x)), F4),
    "logical_not": (lambda x: tf.logical_not(x > 0.0), F4),
    "softmax": (tf.nn.softmax, F34), "log_softmax": (lambda x: tf.nn.log_softmax(x, 1), F34),
    "cast": (lambda x: tf.cast(x * 3.0, tf.int32), F4),
    # elementwise, two inputs
    "add": (binary(tf.add), TWO), "sub": (binary(tf.subtract), TWO),
    "mul": (binary(tf.multiply), TWO), "div": (binary(tf.divide), TWO),
    "int_div": (binary(lambda a, b: a / b), INTS),
    "maximum": (binary(tf.maximum), TWO), "minimum": (binary(tf.minimum), TWO),
    "pow": (binary(lambda a, b: tf.pow(tf.abs(a), b)), TWO),
    "squared_difference": (binary(tf.math.squared_difference), TWO),
    "floordiv": (binary(tf.math.floordiv), TWO),
    "int_floordiv": (binary(tf.math.floordiv), INTS),
    "floormod": (binary(tf.math.floormod), TWO),
    "int_floormod": (binary(tf.math.floormod), INTS),
    "equal": (binary(lambda a, b: tf.equal(tf.round(a), tf.round(b))), TWO),
    "not_equal": (binary(lambda a, b: tf.not_equal(tf.round(a), tf.round(b))), TWO),
    "less": (binary(tf.less), TWO), "less_equal": (binary(tf.less_equal), TWO),
    "greater": (binary(tf.greater), TWO), "greater_equal": (binary(tf.greater_equal), TWO),
    "logical_and": (binary(lambda a, b: tf.logical_and(a > 0.0, b > 1.0)), TWO),
    "logical_or": (binary(lambda a, b: tf.logical_or(a > 0.0, b > 1.0)), TWO),
    "where": (binary(lambda a, b: tf.where(a > 0.0, a, b)), TWO),
    "add_n": (binary(lambda a, b: tf.add_n([a, b, a])), TWO),
    "atan2": (binary(tf.math.atan2), TWO),
    "div_no_nan": (binary(lambda a, b: tf.math.divide_no_nan(a, tf.round(b) - 1.0)), TWO),
    "bias_add": (lambda x: tf.nn.bias_add(x, tf.constant([1.0, 2.0, 3.0, 4.0])), F34),
    "broadcast_add": (lambda x: x + tf.constant([1.0, 2.0, 3.0, 4.0]), F34),
    # products
    "matmul": (lambda x: tf.matmul(x, tf.ones((4, 3))), F4),
    "matmul_t": (lambda x: tf.matmul(x, x, transpose_b=True), F34),
    "matmul_ta": (lambda x: tf.matmul(x, x, transpose_a=True), F34),
    "einsum": (lambda x: tf.einsum("bij,bkj->bik", x, x), F34),
    # reductions
    "sum": (lambda x: tf.reduce_sum(x, axis=1), F34),
    "sum_all": (tf.reduce_sum, F34),
    "sum_keep": (lambda x: tf.reduce_sum(x, axis=[1, 2], keepdims=True), F34),
    "mean": (lambda x: tf.reduce_mean(x, axis=-1), F34), "mean_all": (tf.reduce_mean, F34),
    "max": (lambda x: tf.reduce_max(x, axis=1), F34),
    "min": (lambda x: tf.reduce_min(x, axis=2, keepdims=True), F34),
    "prod": (lambda x: tf.reduce_prod(x, axis=2), F34),
    "prod_two_axes": (lambda x: tf.reduce_prod(x, axis=[1, 2]), F34),
    "any": (lambda x: tf.reduce_any(x > 1.0, axis=1), F34),
    "all": (lambda x: tf.reduce_all(x > -1.0, axis=2), F34),
    "norm": (lambda x: tf.norm(x, axis=-1), F34),
    "argmax": (lambda x: tf.argmax(x, axis=-1), F34),
    "argmin32": (lambda x: tf.argmin(x, axis=1, output_type=tf.int32), F34),
    "cumsum": (lambda x: tf.cumsum(x, axis=1), F34),
    "cumsum_exclusive_reverse": (lambda x: tf.cumsum(x, axis=2, exclusive=True, reverse=True),
                                 F34),
    "top_k": (lambda x: tf.math.top_k(x, k=2), F34),
    "sort": (lambda x: tf.sort(x, axis=-1, direction="DESCENDING"), F34),
    # shapes and layout
    "reshape_minus_one": (lambda x: tf.reshape(x, [-1, 2, 6]), F34),
    "reshape_from_shape": (lambda x: tf.reshape(x, [tf.shape(x)[0], -1]), F34),
    "reshape_batch_into_rows": (lambda x: tf.reshape(x, [-1, 4]), F34),
    "transpose": (lambda x: tf.transpose(x, [0, 2, 1]), F34),
    "expand_dims": (lambda x: tf.expand_dims(x, 1), F34),
    "squeeze": (lambda x: tf.squeeze(x[:, :1], axis=1), F34),
    "tile": (lambda x: tf.tile(x, [2, 1, 3]), F34),
    "reverse": (lambda x: tf.reverse(x, [1, 2]), F34),
    "concat": (binary(lambda a, b: tf.concat([a, b, a], axis=1)), TWO),
    "stack": (binary(lambda a, b: tf.stack([a, b], axis=1)), TWO),
    "unstack": (lambda x: tf.unstack(x, axis=1)[1], F34),
    "split": (lambda x: tf.split(x, [1, 3], axis=2), F34),
    "split_batch": (lambda x: tf.split(x, 2, axis=1), ([spec(4)], [floats(4)])),
    "fill": (lambda x: tf.fill([tf.shape(x)[0], 3], 7.0) + x[:, :3], F4),
    "zeros": (lambda x: tf.zeros([tf.shape(x)[0], 2]), F4),
    "zeros_like": (lambda x: tf.zeros_like(x) + 1.0, F4),
    "ones_like": (lambda x: tf.ones_like(x, dtype=tf.int32), F4),
    "broadcast_to": (lambda x: tf.broadcast_to(x[:, :1], tf.shape(x)), F4),
    "range": (lambda x: x + tf.cast(tf.range(4), tf.float32), F4),
    "range_batch": (lambda x: tf.cast(tf.range(tf.shape(x)[0]), tf.float32), F4),
    "pad": (lambda x: tf.pad(x, [[0, 0], [1, 2], [0, 1]], constant_values=-1.0), F34),
    "mirror_pad": (lambda x: tf.pad(x, [[0, 0], [1, 1], [2, 1]], mode="REFLECT"), F34),
    "shape_arith": (lambda x: x * tf.cast(tf.shape(x)[0] * 2, tf.float32), F4),
    # selection
    "slice": (lambda x: x[:, 1:3], F34), "slice_step": (lambda x: x[:, ::2, 1:], F34),
    "slice_reversed": (lambda x: x[:, ::-1, ::-2], F34), "index": (lambda x: x[:, 0], F34),
    "index_last": (lambda x: x[:, -1, 2], F34), "newaxis": (lambda x: x[:, None, 1, :], F34),
    "ellipsis": (lambda x: x[..., 1], F34),
    "tf_slice": (lambda x: tf.slice(x, [0, 1, 0], [-1, 2, 3]), F34),
    "gather": (lambda x: tf.gather(x, [3, 0, 0], axis=2), F34),
    "gather_rows": (lambda x, i: tf.gather(tf.ones((5, 2)) * 3.0, i),
                    ([spec(4), spec(2, dtype=tf.int32)], [floats(4), ints(2, low=0, high=5)])),
    "gather_nd": (lambda x: tf.gather_nd(x, [[0, 1], [2, 3]], batch_dims=0)
                  if False else tf.gather_nd(x[0], [[0, 1], [2, 3]]), F34),
    "one_hot": (lambda i: tf.one_hot(i, 4),
                ([spec(3, dtype=tf.int32)], [ints(3, low=-1, high=5)])),
}


def _run_case(fn, specs, makers, batch, opset=17):
    compiled = tf.function(fn, input_signature=specs)
    proto = export.to_onnx(compiled, opset=opset)
    inputs = [m(batch) for m in makers]
    ours = compiled(*inputs)
    got = export.run(proto, *inputs)
    want = [np.asarray(t.numpy()) for t in tf.nest.flatten(ours)]
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.dtype == w.dtype, f"dtype {g.dtype} != {w.dtype}"
        assert g.shape == w.shape, f"shape {g.shape} != {w.shape}"
        if w.dtype.kind == "f":
            np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-5)
        else:
            np.testing.assert_array_equal(g, w)
    return proto


@pytest.mark.parametrize("name", sorted(CASES))
def test_op_exports_with_a_dynamic_batch(name):
    fn, (specs, makers) = CASES[name]
    for batch in (2, 5):
        _run_case(fn, specs, makers, batch)


@pytest.mark.parametrize("opset", [13, 18, 21])
def test_other_opsets(opset):
    """Reductions take their axes as an input from opset 18 on; both forms check and run."""
    def fn(x):
        return tf.reduce_max(tf.reduce_mean(x, axis=1), axis=-1, keepdims=True) + \
            tf.reduce_sum(tf.squeeze(tf.expand_dims(x, 1), 1), axis=[1, 2])
    proto = _run_case(fn, *F34, batch=3, opset=opset)
    assert proto.opset_import[0].version == opset


def test_the_batch_dimension_is_a_dynamic_axis_and_shapes_are_computed():
    f = tf.function(lambda x: tf.reshape(x, [-1, 6]), input_signature=[spec(3, 4)])
    proto = export.to_onnx(f)
    dims = proto.graph.input[0].type.tensor_type.shape.dim
    assert dims[0].dim_param == "batch" and [d.dim_value for d in dims[1:]] == [3, 4]
    out = proto.graph.output[0].type.tensor_type.shape.dim
    assert out[0].dim_param == "2*batch" and out[1].dim_value == 6
    # the reshape's target is computed from the input's shape, not the traced size
    assert {n.op_type for n in proto.graph.node} >= {"Shape", "Gather", "Mul", "Concat"}
