"""tf.nn activations, softmax, bias_add, l2_loss and the cross-entropies against real
TensorFlow (values, dtypes, errors, first and second derivatives), and their gradient cases."""
import numpy as np
import pytest

import tapeflow as tf
from tapeflow.ops import nn as nn_ops
from tapeflow.ops import nn_xent
from tests.gradcheck import GradCase
from tests.parity import assert_same, assert_same_outcome

R = np.random.default_rng(2)


def _dist(shape):
    """Rows that sum to 1 (softmax cross-entropy's gradient is exact only for those)."""
    p = R.random(shape) + 0.1
    return p / p.sum(-1, keepdims=True)


def _sparse_backprop(logits):
    labels = tf.constant([[0, 2], [1, 3]])
    return nn_xent.execute(nn_xent.SPARSE_XENT_BACKPROP, nn_xent._sparse_backprop_kernel,
                           (logits, labels))


GRAD_CASES = [
    GradCase("Relu", tf.nn.relu, [R.random((5,)) - 0.5]),
    GradCase("ReluGrad", nn_ops.relu_grad, [R.random((5,)), R.random((5,)) - 0.5]),
    GradCase("Relu6", tf.nn.relu6, [R.random((6,)) * 8 - 1]),
    GradCase("Relu6Grad", nn_ops.relu6_grad, [R.random((6,)), R.random((6,)) * 8 - 1]),
    GradCase("LeakyRelu", lambda x: tf.nn.leaky_relu(x, alpha=0.3), [R.random((5,)) - 0.5]),
    GradCase("LeakyReluGrad", lambda g, x: nn_ops.leaky_relu_grad(g, x, 0.3),
             [R.random((5,)), R.random((5,)) - 0.5]),
    GradCase("Elu", tf.nn.elu, [R.random((5,)) - 0.5]),
    GradCase("EluGrad", nn_ops.elu_grad, [R.random((5,)), R.random((5,)) - 0.5]),
    GradCase("Selu", tf.nn.selu, [R.random((5,)) - 0.5]),
    GradCase("SeluGrad", nn_ops.selu_grad, [R.random((5,)), R.random((5,)) - 0.5]),
    GradCase("Softplus", tf.nn.softplus, [R.random((5,)) * 4 - 2]),
    GradCase("SoftplusGrad", nn_ops.softplus_grad, [R.random((5,)), R.random((5,)) * 4 - 2]),
    GradCase("Softsign", tf.nn.softsign, [R.random((5,)) - 0.5]),
    GradCase("SoftsignGrad", nn_ops.softsign_grad, [R.random((5,)), R.random((5,)) - 0.5]),
    GradCase("Gelu", tf.nn.gelu, [R.random((6,)) * 6 - 3]),
    GradCase("Gelu", lambda x: tf.nn.gelu(x, approximate=True), [R.random((6,)) * 6 - 3]),
    GradCase("Silu", tf.nn.silu, [R.random((6,)) * 6 - 3]),
    GradCase("Softmax", tf.nn.softmax, [R.random((3, 4))]),
    GradCase("Softmax", lambda x: tf.nn.softmax(x, axis=0), [R.random((3, 4))]),
    GradCase("LogSoftmax", tf.nn.log_softmax, [R.random((3, 4))]),
    GradCase("LogSoftmax", lambda x: tf.nn.log_softmax(x, axis=1), [R.random((2, 3, 2))]),
    GradCase("BiasAdd", tf.nn.bias_add, [R.random((3, 4)), R.random((4,))]),
    GradCase("BiasAdd", lambda x, b: tf.nn.bias_add(x, b, data_format="NCHW"),
             [R.random((2, 3, 2, 2)), R.random((3,))]),
    GradCase("L2Loss", tf.nn.l2_loss, [R.random((3, 4))]),
    GradCase("SoftmaxCrossEntropyWithLogits", tf.nn.softmax_cross_entropy_with_logits,
             [_dist((3, 4)), R.random((3, 4))]),
    GradCase("SoftmaxCrossEntropyWithLogits",
             lambda z, x: tf.nn.softmax_cross_entropy_with_logits(z, x, axis=0),
             [_dist((1, 3)).T, R.random((3, 4))]),
    GradCase("SparseSoftmaxCrossEntropyWithLogits",
             lambda x: tf.nn.sparse_softmax_cross_entropy_with_logits([[0, 2], [1, 3]], x),
             [R.random((2, 2, 4))]),
    GradCase("SparseSoftmaxCrossEntropyWithLogitsBackprop", _sparse_backprop,
             [R.random((2, 2, 4))]),
    GradCase("SigmoidCrossEntropyWithLogits", tf.nn.sigmoid_cross_entropy_with_logits,
             [R.random((3, 4)), R.random((3, 4)) * 4 - 2]),
]

FLOAT_TYPES = ["float16", "float32", "float64"]
X = np.array([[-3.0, -1.0, -0.5, 0.0], [0.5, 1.0, 6.0, 7.5]])
TOL = {"float16": (2e-3, 2e-3), "float32": (1e-5, 1e-6), "float64": (1e-12, 1e-12)}

ACTIVATIONS = [
    ("relu", {}), ("relu6", {}), ("leaky_relu", {}), ("leaky_relu", {"alpha": 0.5}),
    ("elu", {}), ("selu", {}), ("softplus", {}), ("softsign", {}),
    ("softmax", {}), ("softmax", {"axis": 0}), ("log_softmax", {}), ("log_softmax", {"axis": 0}),
    ("l2_loss", {}), ("gelu", {}), ("gelu", {"approximate": True}), ("silu", {}),
    ("swish", {}), ("silu", {"beta": 0.5}), ("sigmoid", {}), ("tanh", {}),
    ("l2_normalize", {}), ("l2_normalize", {"axis": 1}), ("l2_normalize", {"axis": [0, 1]}),
]


@pytest.mark.parametrize("name,kwargs", ACTIVATIONS)
@pytest.mark.parametrize("dtype", FLOAT_TYPES)
def test_activation_values_match_tf(realtf, name, kwargs, dtype):
    x = X.astype(dtype)
    rtol, atol = TOL[dtype]
    if name == "gelu" and dtype == "float32":
        rtol = 1e-4  # TF's and torch's erfc/tanh differ in the last bits in the tails
    assert_same(getattr(tf.nn, name)(x, **kwargs), getattr(realtf.nn, name)(x, **kwargs),
                rtol=rtol, atol=atol)


# sigmoid and tanh are tf.math's ops re-exported; their gradients are tested with tf.math's
@pytest.mark.parametrize("name,kwargs", [a for a in ACTIVATIONS if a[0] not in ("sigmoid", "tanh")])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_activation_gradients_match_tf(realtf, name, kwargs, dtype):
    x = X.astype(dtype)

    def grad(m):
        t = m.constant(x)
        with m.GradientTape() as tape:
            tape.watch(t)
            y = getattr(m.nn, name)(t, **kwargs) * m.constant(np.arange(1, x.size + 1).reshape(
                x.shape).astype(dtype) if name != "l2_loss" else np.array(3, dtype))
        return tape.gradient(y, t)

    assert_same(grad(tf), grad(realtf), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["relu", "relu6", "elu", "selu", "softplus", "leaky_relu",
                                  "softmax", "log_softmax", "gelu", "silu", "l2_normalize"])
# (softsign is missing: TF has no gradient for SoftsignGrad; ours is checked by GRAD_CASES)
def test_second_derivatives_match_tf(realtf, name):
    x = X.astype("float64")

    def second(m):
        t = m.constant(x)
        w = m.constant(np.linspace(-1, 2, x.size).reshape(x.shape))
        with m.GradientTape() as outer:
            outer.watch(t)
            with m.GradientTape() as inner:
                inner.watch(t)
                y = _total(m, getattr(m.nn, name)(t) * w)
            g = inner.gradient(y, t)
            gw = g * w
        return outer.gradient(gw, t)

    assert_same(second(tf), second(realtf), rtol=1e-9, atol=1e-12)


def _total(m, x):
    if m is tf:
        from tapeflow.ops.broadcast import reduce_sum_raw
        return reduce_sum_raw(x, tuple(range(x.ndim)), False)
    return m.reduce_sum(x)


@pytest.mark.parametrize("name,dtype", [
    ("relu", "int32"), ("relu", "int8"), ("relu", "int64"), ("relu", "bool"),
    ("relu", "complex64"), ("relu6", "int32"), ("leaky_relu", "int32"), ("elu", "int32"),
    ("selu", "int32"), ("softplus", "int32"), ("softsign", "int64"), ("softmax", "int32"),
    ("log_softmax", "int32"), ("l2_loss", "int32"),
])
def test_activation_dtype_rules_match_tf(realtf, name, dtype):
    x = np.array([[1, -2], [3, 0]]).astype(dtype)
    assert_same_outcome(lambda: getattr(tf.nn, name)(x), lambda: getattr(realtf.nn, name)(x))


def test_relu_gradient_at_zero_is_zero():
    x = tf.constant([0.0, 1.0, -1.0])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.nn.relu(x)
    np.testing.assert_array_equal(tape.gradient(y, x).numpy(), [0.0, 1.0, 0.0])


@pytest.mark.parametrize("call", [
    lambda m: m.nn.softmax(3.0),
    lambda m: m.nn.softmax([1.0, 2.0], axis=1),
    lambda m: m.nn.log_softmax([[1.0, 2.0]], axis=-3),
    lambda m: m.nn.relu(m.constant(["a"])),
])
def test_softmax_errors_match_tf(realtf, call):
    assert_same_outcome(lambda: call(tf), lambda: call(realtf))


def test_error_text_matches_tf(realtf):
    for call in (lambda m: m.nn.softmax(3.0), lambda m: m.nn.softmax([1.0, 2.0], axis=1)):
        with pytest.raises(Exception) as ours:
            call(tf)
        with pytest.raises(Exception) as theirs:
            call(realtf)
        assert str(ours.value) == str(theirs.value)
    with pytest.raises(tf.errors.InvalidArgumentError) as ours:
        tf.nn.elu([1, 2])
    with pytest.raises(realtf.errors.InvalidArgumentError) as theirs:
        realtf.nn.elu([1, 2])
    assert str(ours.value).split("\n")[0] == str(theirs.value).split("\n")[0]


# -- bias_add ---------------------------------------------------------------------------------

@pytest.mark.parametrize("call", [
    lambda m: m.nn.bias_add([[1.0, 2.0]], [1.0, 2.0]),
    lambda m: m.nn.bias_add(np.ones((2, 3, 4)), np.arange(3.0), data_format="NCHW"),
    lambda m: m.nn.bias_add(np.ones((2, 3, 4, 5), np.float32), np.arange(3, dtype=np.float32),
                            data_format="NCHW"),
    lambda m: m.nn.bias_add(np.ones((2, 3, 4), np.float16), np.arange(4, dtype=np.float16)),
    lambda m: m.nn.bias_add([[1.0, 2.0]], [1.0, 2.0, 3.0]),
    lambda m: m.nn.bias_add([[1.0, 2.0]], [[1.0, 2.0]]),
    lambda m: m.nn.bias_add([1.0, 2.0], [1.0, 2.0]),
    lambda m: m.nn.bias_add(m.constant([[1.0, 2.0]]), m.constant([1, 2])),
])
def test_bias_add_matches_tf(realtf, call):
    assert_same_outcome(lambda: call(tf), lambda: call(realtf))


def test_bias_add_error_text_matches_tf(realtf):
    for call in (lambda m: m.nn.bias_add([[1.0, 2.0]], [1.0, 2.0, 3.0]),
                 lambda m: m.nn.bias_add([[1.0, 2.0]], [[1.0, 2.0]])):
        with pytest.raises(tf.errors.InvalidArgumentError) as ours:
            call(tf)
        with pytest.raises(realtf.errors.InvalidArgumentError) as theirs:
            call(realtf)
        assert str(ours.value) == str(theirs.value)


# -- cross-entropies -------------------------------------------------------------------------

LOGITS = np.array([[1.0, -2.0, 3.0], [0.5, 0.5, -40.0]])
LABELS = np.array([[0.2, 0.3, 0.5], [1.0, 0.0, 0.0]])


@pytest.mark.parametrize("dtype", FLOAT_TYPES)
@pytest.mark.parametrize("call", [
    lambda m, d: m.nn.softmax_cross_entropy_with_logits(LABELS.astype(d), LOGITS.astype(d)),
    lambda m, d: m.nn.softmax_cross_entropy_with_logits(LABELS[:1].astype(d), LOGITS.astype(d)),
    lambda m, d: m.nn.softmax_cross_entropy_with_logits(LABELS.T.astype(d), LOGITS.T.astype(d),
                                                        axis=0),
    lambda m, d: m.nn.softmax_cross_entropy_with_logits(LABELS[None].astype(d),
                                                        LOGITS[None].astype(d)),
    lambda m, d: m.nn.softmax_cross_entropy_with_logits(LABELS[0].astype(d),
                                                        LOGITS[0].astype(d)),
    lambda m, d: m.nn.sparse_softmax_cross_entropy_with_logits([2, 0], LOGITS.astype(d)),
    lambda m, d: m.nn.sparse_softmax_cross_entropy_with_logits(
        np.array([[2, 0]], np.int64), LOGITS[None].astype(d)),
    lambda m, d: m.nn.sparse_softmax_cross_entropy_with_logits(np.int32(1), LOGITS[0].astype(d)),
    lambda m, d: m.nn.sigmoid_cross_entropy_with_logits(LABELS.astype(d), LOGITS.astype(d)),
    lambda m, d: m.nn.sigmoid_cross_entropy_with_logits(labels=LABELS.astype(d),
                                                        logits=(LOGITS * 100).astype(d)),
])
def test_cross_entropy_values_match_tf(realtf, call, dtype):
    rtol, atol = TOL[dtype]
    assert_same(call(tf, dtype), call(realtf, dtype), rtol=max(rtol, 1e-6), atol=atol)


@pytest.mark.parametrize("call", [
    lambda m: m.nn.softmax_cross_entropy_with_logits([0.0, 1.0], [1.0, 2.0, 3.0]),
    lambda m: m.nn.softmax_cross_entropy_with_logits([0, 1], [1.0, 2.0]),
    lambda m: m.nn.softmax_cross_entropy_with_logits(m.constant([0, 1]), m.constant([1.0, 2])),
    lambda m: m.nn.softmax_cross_entropy_with_logits([[1, 0]], m.constant([[1, 2]])),
    lambda m: m.nn.sparse_softmax_cross_entropy_with_logits([0, 5], LOGITS[:, :2]),
    lambda m: m.nn.sparse_softmax_cross_entropy_with_logits([0, -1], LOGITS[:, :2]),
    lambda m: m.nn.sparse_softmax_cross_entropy_with_logits([[0, 1]], LOGITS[:, :2]),
    lambda m: m.nn.sparse_softmax_cross_entropy_with_logits([0, 1, 1], LOGITS[:, :2]),
    lambda m: m.nn.sparse_softmax_cross_entropy_with_logits([0.0, 1.0], LOGITS[:, :2]),
    lambda m: m.nn.sparse_softmax_cross_entropy_with_logits(m.constant([0, 1], m.uint8),
                                                            LOGITS[:, :2]),
    lambda m: m.nn.sigmoid_cross_entropy_with_logits([0.0, 1.0], [[1.0, 2.0], [3.0, 4.0]]),
    lambda m: m.nn.sigmoid_cross_entropy_with_logits([0, 1], [1.0, 2.0]),
    lambda m: m.nn.sigmoid_cross_entropy_with_logits(logits=[0.0, 1.0]),
])
def test_cross_entropy_errors_match_tf(realtf, call):
    assert_same_outcome(lambda: call(tf), lambda: call(realtf))


def test_sparse_label_error_text_matches_tf(realtf):
    with pytest.raises(tf.errors.InvalidArgumentError) as ours:
        tf.nn.sparse_softmax_cross_entropy_with_logits([0, 5], LOGITS[:, :2])
    with pytest.raises(realtf.errors.InvalidArgumentError) as theirs:
        realtf.nn.sparse_softmax_cross_entropy_with_logits([0, 5], LOGITS[:, :2])
    assert str(ours.value) == str(theirs.value)


XENT_GRADS = {
    "softmax": lambda m, z, x: m.nn.softmax_cross_entropy_with_logits(z, x),
    "softmax_axis0": lambda m, z, x: m.nn.softmax_cross_entropy_with_logits(z, x, axis=0),
    "sparse": lambda m, z, x: m.nn.sparse_softmax_cross_entropy_with_logits([2, 0], x),
    "sigmoid": lambda m, z, x: m.nn.sigmoid_cross_entropy_with_logits(z, x),
}


XENT_WEIGHTS = {"softmax": np.array([1.5, -2.0]), "softmax_axis0": np.array([1.5, -2.0, 0.5]),
                "sparse": np.array([1.5, -2.0]), "sigmoid": np.array([1.5, -2.0, 0.5])}


@pytest.mark.parametrize("kind", list(XENT_GRADS))
def test_cross_entropy_gradients_match_tf(realtf, kind):
    # TF's softmax cross-entropy gradient is softmax - labels, exact only for distributions;
    # the labels here are not normalised on purpose, so this checks TF's formula itself.
    labels = np.array([[0.1, 0.7, 0.5], [1.0, 0.0, 0.3]])

    def grads(m):
        z, x = m.constant(labels), m.constant(LOGITS)
        with m.GradientTape(persistent=True) as tape:
            tape.watch([z, x])
            loss = XENT_GRADS[kind](m, z, x) * m.constant(XENT_WEIGHTS[kind])
        return [g for g in tape.gradient(loss, [z, x]) if g is not None]

    assert_same(grads(tf), grads(realtf), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("kind", list(XENT_GRADS))
def test_cross_entropy_second_derivatives_match_tf(realtf, kind):
    labels = _dist((2, 3))

    def hess(m):
        z, x = m.constant(labels), m.constant(LOGITS)
        w = m.constant(np.array([[0.3, -1.0, 2.0], [1.0, 0.5, -0.5]]))
        with m.GradientTape() as outer:
            outer.watch(x)
            with m.GradientTape() as inner:
                inner.watch(x)
                loss = XENT_GRADS[kind](m, z, x)
            g = inner.gradient(loss, x) * w
        return outer.gradient(g, x)

    assert_same(hess(tf), hess(realtf), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("dtype", FLOAT_TYPES)
@pytest.mark.parametrize("axes,keepdims", [([0], False), ([0, 1], False), ([1], True),
                                           ([0, 1], True)])
def test_moments_match_tf(realtf, dtype, axes, keepdims):
    x = X.astype(dtype)
    rtol, atol = TOL[dtype]
    assert_same(tf.nn.moments(x, axes, keepdims=keepdims),
                list(realtf.nn.moments(x, axes, keepdims=keepdims)), rtol=rtol, atol=atol)


def test_moments_gradients_match_tf(realtf):
    def second(m):
        t = m.constant(X)
        with m.GradientTape() as outer:
            outer.watch(t)
            with m.GradientTape() as inner:
                inner.watch(t)
                mean, var = m.nn.moments(t, [1])
                y = _total(m, mean * m.constant(np.array([1.0, 2.0])) +
                           var * m.constant(np.array([3.0, -1.0])))
            g = inner.gradient(y, t)
            gw = g * m.constant(np.linspace(-1, 2, X.size).reshape(X.shape))
        return [g, outer.gradient(gw, t)]

    assert_same(second(tf), second(realtf), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("call", [
    lambda m: m.nn.gelu([1, 2]),
    lambda m: m.nn.l2_normalize([3, 4]),
    lambda m: m.nn.moments(m.constant([[1, 2], [3, 4]]), [0]),
])
def test_composed_ops_dtype_rules_match_tf(realtf, call):
    assert_same_outcome(lambda: call(tf), lambda: call(realtf))


def test_silu_beta_tensor_gets_gradient(realtf):
    def grads(m):
        x, beta = m.constant(X), m.constant(0.7, m.float64)
        with m.GradientTape() as tape:
            tape.watch([x, beta])
            y = m.nn.silu(x, beta)
        return tape.gradient(y, [x, beta])

    assert_same(grads(tf), grads(realtf), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("rate", [0.0, 0.25, 0.5, 0.9])
def test_dropout_keeps_and_scales_like_tf(rate):
    x = np.ones((200, 50), np.float32)
    y = tf.nn.dropout(x, rate, seed=3).numpy()
    assert set(np.unique(y)) <= {0.0, np.float32(1 / (1 - rate))}
    assert abs((y == 0).mean() - rate) < 0.03
    shared = tf.nn.dropout(x, rate, noise_shape=[200, 1]).numpy()
    assert (shared == shared[:, :1]).all()


def test_dropout_gradient_is_the_mask():
    x = tf.constant(np.arange(1.0, 101.0))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.nn.dropout(x, 0.5)
    g = tape.gradient(y, x).numpy()
    np.testing.assert_array_equal(g, np.where(y.numpy() == 0, 0.0, 2.0))


@pytest.mark.parametrize("call", [
    lambda m: m.nn.dropout(np.ones(3, np.float32), 1.0),
    lambda m: m.nn.dropout(np.ones(3, np.float32), -0.1),
    lambda m: m.nn.dropout(np.ones(3, np.int32), 0.5),
    lambda m: m.nn.dropout(np.ones(3, np.float32), 0.0),
])
def test_dropout_arguments_match_tf(realtf, call):
    assert_same_outcome(lambda: call(tf), lambda: call(realtf))


TRACED = {
    "relu": lambda x: tf.nn.relu(x), "relu6": lambda x: tf.nn.relu6(x * 8),
    "elu": lambda x: tf.nn.elu(x), "selu": lambda x: tf.nn.selu(x),
    "leaky_relu": lambda x: tf.nn.leaky_relu(x), "softplus": lambda x: tf.nn.softplus(x),
    "softsign": lambda x: tf.nn.softsign(x), "gelu": lambda x: tf.nn.gelu(x),
    "silu": lambda x: tf.nn.silu(x), "softmax": lambda x: tf.nn.softmax(x),
    "log_softmax": lambda x: tf.nn.log_softmax(x, axis=0),
    "bias_add": lambda x: tf.nn.bias_add(x, np.array([1.0, 2.0, 3.0], np.float32)),
    "l2_loss": lambda x: tf.nn.l2_loss(x),
    "xent": lambda x: tf.nn.softmax_cross_entropy_with_logits(tf.nn.softmax(x * 2), x),
    "xent_int_labels": lambda x: tf.nn.softmax_cross_entropy_with_logits([[0, 0, 1]], x),
    "sparse_xent": lambda x: tf.nn.sparse_softmax_cross_entropy_with_logits([0, 2, 1, 1], x),
    "sigmoid_xent": lambda x: tf.nn.sigmoid_cross_entropy_with_logits(tf.nn.sigmoid(x * 2), x),
    "moments": lambda x: tf.nn.moments(x, [0])[1], "l2_normalize": lambda x: tf.nn.l2_normalize(x),
}


@pytest.mark.parametrize("name", list(TRACED))
def test_values_and_gradients_are_the_same_under_tf_function(name):
    x = tf.constant(np.random.default_rng(4).random((4, 3)).astype(np.float32) - 0.5)

    def step():
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = TRACED[name](x)
        return y, tape.gradient(y, x)

    assert_same(list(tf.function(step)()), list(step()))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("call", [
    lambda m, x: m.nn.batch_normalization(x, np.float32(0.5).astype(x.dtype),
                                          x.var(0), x[0], x[1], 1e-3),
    lambda m, x: m.nn.batch_normalization(x, x.mean(0), x.var(0), None, None, 1e-3),
    lambda m, x: m.nn.weighted_cross_entropy_with_logits((x > 0).astype(x.dtype), x * 50, 2.5),
    lambda m, x: m.nn.embedding_lookup(x, [[0, 1], [1, 1]]),
    lambda m, x: m.nn.embedding_lookup(x, [1, 0], max_norm=0.5),
    lambda m, x: m.nn.embedding_lookup([x], np.array([1])),
])
def test_more_nn_compositions_match_tf(realtf, dtype, call):
    x = X.astype(dtype)
    assert_same(call(tf, x), call(realtf, x), rtol=1e-5, atol=1e-6)


def test_batch_normalization_gradients_match_tf(realtf):
    def grads(m):
        x, mean, var = m.constant(X), m.constant(X.mean(0)), m.constant(X.var(0) + 0.5)
        off, sc = m.constant(X[0]), m.constant(X[1])
        with m.GradientTape() as tape:
            tape.watch([x, mean, var, off, sc])
            y = m.nn.batch_normalization(x, mean, var, off, sc, 1e-3) * m.constant(X)
        return tape.gradient(y, [x, mean, var, off, sc])

    assert_same(grads(tf), grads(realtf), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("call", [
    lambda m, x: m.nn.relu(x), lambda m, x: m.nn.gelu(x), lambda m, x: m.nn.softmax(x),
    lambda m, x: m.nn.elu(x), lambda m, x: m.nn.l2_loss(x),
    lambda m, x: m.nn.softmax_cross_entropy_with_logits(m.cast(x > 0, x.dtype), x),
    lambda m, x: m.nn.sparse_softmax_cross_entropy_with_logits([0, 1], x),
    lambda m, x: m.nn.sigmoid_cross_entropy_with_logits(m.cast(x > 0, x.dtype), x),
])
def test_bfloat16_matches_tf_to_its_precision(realtf, call):
    x = np.array([[1.0, -2.0, 3.0], [0.5, 0.5, -4.0]])
    ours, theirs = call(tf, tf.cast(x, tf.bfloat16)), call(realtf, realtf.cast(x, realtf.bfloat16))
    assert ours.dtype.name == theirs.dtype.name == "bfloat16"
    np.testing.assert_allclose(np.asarray(ours.numpy(), np.float32),
                               np.asarray(theirs.numpy(), np.float32), rtol=1e-2, atol=1e-2)
