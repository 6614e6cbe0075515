"""Graph rewrites the ops register (ops/nn.py, ops/conv.py, ops/pooling.py): MatMul ->
BiasAdd [-> Relu] and Conv2D -> BiasAdd [-> Relu] chains run as one kernel with the same bits;
Relu -> MaxPool runs as MaxPool -> Relu; MaxPool keeps its argmax for its gradient. The plan
frees each intermediate after its last reader."""
import numpy as np
import pytest

import tapeflow as tf
from tapeflow.ops import _gemm


def _fused_steps(fn, *args):
    plan = fn.get_concrete_function(*args)._plan
    return [(a,) for k, v in plan.env.items() if v is _gemm.linear
            for a in plan.env.get("a" + k[1:], ())]


def _rng_tensors(*shapes, seed=0):
    rng = np.random.default_rng(seed)
    return [tf.constant(rng.standard_normal(s).astype(np.float32)) for s in shapes]


@pytest.mark.parametrize("rows", [2, 128])  # a small product (torch) and a large one (oneDNN)
def test_dense_relu_chain_fuses_and_matches_eager_bitwise(rows):
    x, w, b = _rng_tensors((rows, 784), (784, 512), (512,))

    def layer(x, w, b):
        return tf.nn.relu(tf.matmul(x, w) + b), tf.nn.bias_add(tf.matmul(x, w * 2.0), b)

    fn = tf.function(layer)
    assert sorted(_fused_steps(fn, x, w, b)) == [("none",), ("relu",)]
    for got, want in zip(fn(x, w, b), layer(x, w, b)):
        np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_no_fusion_when_an_intermediate_is_also_used():
    x, w, b = _rng_tensors((128, 784), (784, 512), (512,), seed=1)

    def layer(x, w, b):
        pre = tf.matmul(x, w)
        return tf.nn.relu(pre + b), pre  # the product itself is an output

    def layer2(x, w, b):
        z = tf.matmul(x, w) + b
        return tf.nn.relu(z), tf.reduce_sum(z)  # the pre-activation has a second reader

    fn, fn2 = tf.function(layer), tf.function(layer2)
    assert _fused_steps(fn, x, w, b) == []
    assert _fused_steps(fn2, x, w, b) == [("none",)]  # bias fuses, the ReLU stays apart
    for f, eager in ((fn, layer), (fn2, layer2)):
        for got, want in zip(f(x, w, b), eager(x, w, b)):
            np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_broadcast_bias_that_is_not_a_row_falls_back_to_separate_kernels():
    x, w, b = _rng_tensors((128, 784), (784, 512), (128, 1), seed=2)
    fn = tf.function(lambda x, w, b: tf.nn.relu(tf.matmul(x, w) + b))
    np.testing.assert_array_equal(fn(x, w, b).numpy(),
                                  tf.nn.relu(tf.matmul(x, w) + b).numpy())


def _traced_step_matching_eager(layers, optimizer, x, y):
    """Two copies of a Keras model trained three steps, eagerly and through tf.function:
    the losses and the weights must agree bit for bit. The traced step, for a look."""
    from tapeflow import keras

    def make():
        keras.utils.set_random_seed(0)
        model = keras.Sequential(layers())
        opt = optimizer()
        loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

        def step():
            with tf.GradientTape() as tape:
                loss = loss_fn(y, model(x, training=True))
            grads = tape.gradient(loss, model.trainable_variables)
            opt.apply_gradients(zip(grads, model.trainable_variables))
            return loss
        return model, step

    m1, eager_step = make()
    m2, step = make()
    traced = tf.function(step)
    for _ in range(3):
        np.testing.assert_array_equal(traced().numpy(), eager_step().numpy())
    for a, b in zip(m1.weights, m2.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    return traced


def test_keras_dense_training_step_matches_eager_bitwise():
    from tapeflow import keras
    x, = _rng_tensors((128, 784), seed=3)
    y = tf.constant(np.arange(128) % 10)
    traced = _traced_step_matching_eager(
        lambda: [keras.Input((784,)), keras.layers.Dense(512, "relu"), keras.layers.Dense(10)],
        lambda: keras.optimizers.SGD(0.1), x, y)
    assert ("relu",) in _fused_steps(traced)


@pytest.mark.parametrize("pool, shape, padding", [
    (tf.nn.max_pool2d, (4, 9, 9, 3), "VALID"),
    (tf.nn.max_pool2d, (4, 9, 9, 3), "SAME"),
    (tf.nn.max_pool3d, (2, 5, 6, 7, 2), "SAME"),
])
def test_max_pool_keeps_its_argmax_for_the_gradient_bitwise(pool, shape, padding):
    from tapeflow.ops import pooling
    x, = _rng_tensors(shape, seed=4)

    def step(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = pool(x, 2, 2, padding)
            loss = tf.reduce_sum(y * y)
        return y, tape.gradient(loss, x)

    fn = tf.function(step)
    for got, want in zip(fn(x), step(x)):
        np.testing.assert_array_equal(got.numpy(), want.numpy())
    kernels = _kernels(fn, x)
    assert pooling.max_pool_argmax_kernel in kernels
    assert pooling._max_pool_kernel not in kernels
    plain = tf.function(lambda x: pool(x, 2, 2, padding))  # no gradient: the plain kernel
    assert pooling._max_pool_kernel in _kernels(plain, x)


def _kernels(fn, *args):
    env = fn.get_concrete_function(*args)._plan.env
    return [v for k, v in env.items() if k.startswith("k")]


def _conv_net(x, f1, b1, f2, b2, padding):
    """conv+bias+relu -> max pool -> conv+bias+relu, and a loss."""
    h = tf.nn.relu(tf.nn.conv2d(x, f1, 1, padding) + b1)
    p = tf.nn.max_pool2d(h, 2, 2, "VALID")
    z = tf.nn.relu(tf.nn.bias_add(tf.nn.conv2d(p, f2, 1, padding), b2))
    return z, tf.reduce_sum(z * z)


@pytest.mark.parametrize("padding", ["VALID", "SAME"])
def test_conv_bias_relu_and_relu_pool_rewrites_match_eager_bitwise(padding):
    from tapeflow.ops import conv, pooling
    x, f1, b1, f2, b2 = _rng_tensors((8, 12, 12, 3), (3, 3, 3, 8), (8,), (3, 3, 8, 16), (16,),
                                     seed=5)
    b1 = b1 - 3.0  # many all-negative windows: the pool's ties at zero after the relu
    params = [x, f1, b1, f2, b2]

    def step(*params):
        with tf.GradientTape() as tape:
            tape.watch(params)
            z, loss = _conv_net(*params, padding)
        return [z, loss] + list(tape.gradient(loss, params))

    fn = tf.function(step)
    for got, want in zip(fn(*params), step(*params)):
        np.testing.assert_array_equal(got.numpy(), want.numpy())
    steps = fn.get_concrete_function(*params)._plan.steps
    kernels = [s.kernel for s in steps]
    fused = [s.attrs[-1] for s in steps if s.kernel is conv.conv_bias_kernel]
    # the first conv's relu moved after the pool, so only its bias fused; the second's fused
    assert fused == ["none", "relu"]
    first_pool = kernels.index(pooling.max_pool_argmax_kernel)
    assert steps[first_pool + 1].op.name == "Relu"
    assert kernels.count(pooling.max_pool_grad_argmax_kernel) == 1


def test_relu_read_elsewhere_stays_before_the_pool():
    from tapeflow.ops import pooling
    x, = _rng_tensors((4, 8, 8, 3), seed=6)

    def f(x):
        h = tf.nn.relu(x)
        return tf.nn.max_pool2d(h, 2, 2, "VALID"), tf.reduce_sum(h)

    fn = tf.function(f)
    for got, want in zip(fn(x), f(x)):
        np.testing.assert_array_equal(got.numpy(), want.numpy())
    steps = fn.get_concrete_function(x)._plan.steps
    pool = [s.kernel for s in steps].index(pooling._max_pool_kernel)
    assert any(s.op.name == "Relu" for s in steps[:pool])


def test_keras_cnn_training_step_matches_eager_bitwise():
    from tapeflow import keras
    L = keras.layers
    x, = _rng_tensors((16, 12, 12, 1), seed=7)
    y = tf.constant(np.arange(16) % 10)
    _traced_step_matching_eager(
        lambda: [keras.Input((12, 12, 1)), L.Conv2D(8, 3, activation="relu"), L.MaxPooling2D(),
                 L.Conv2D(8, 3, activation="relu"), L.Flatten(), L.Dense(10)],
        lambda: keras.optimizers.Adam(0.01), x, y)


def test_plan_frees_each_intermediate_after_its_last_reader():
    import weakref

    import torch
    fn = tf.function(lambda x: tf.reduce_sum(tf.exp(x * 3.0) + 1.0))
    x = tf.constant(np.ones((64, 64), np.float32))
    env = fn.get_concrete_function(x)._plan.env
    kernels = {v: k for k, v in env.items() if k.startswith("k")}
    exp, add = env[kernels[torch.exp]], env[kernels[torch.add]]
    watched, alive_at_add = [], []

    def exp_and_watch(t):  # `x * 3.0`, whose last reader this is
        watched.append(weakref.ref(t))
        return exp(t)

    def add_and_look(a, b):  # runs after exp: `x * 3.0` should be gone by now
        alive_at_add.append(watched[-1]() is not None)
        return add(a, b)
    env[kernels[torch.exp]], env[kernels[torch.add]] = exp_and_watch, add_and_look
    np.testing.assert_allclose(fn(x).numpy(), (np.exp(3.0) + 1) * 64 * 64, rtol=1e-6)
    assert alive_at_add == [False]


@pytest.mark.parametrize("kind", ["depthwise", "strided", "dilated", "conv1d", "odd_same"])
# conv1d is a 2-D convolution followed by a squeeze: its bias add reads the squeeze, so it runs
# unfused (same bits either way)
def test_conv_bias_fusion_covers_every_2d_convolution_bitwise(kind):
    from tapeflow.ops import conv
    x4, = _rng_tensors((2, 11, 11, 4), seed=8)
    if kind == "depthwise":
        f, b = _rng_tensors((3, 3, 4, 2), (8,), seed=9)
        layer = lambda x, f, b: tf.nn.depthwise_conv2d(x, f, [1, 1, 1, 1], "SAME") + b  # noqa: E731
    elif kind == "conv1d":
        x4, f, b = _rng_tensors((2, 11, 4), (3, 4, 5), (5,), seed=10)
        layer = lambda x, f, b: tf.nn.relu(tf.nn.conv1d(x, f, 2, "SAME") + b)  # noqa: E731
    else:
        f, b = _rng_tensors((3, 3, 4, 5), (5,), seed=11)
        stride, dilation, padding = {"strided": (2, 1, "VALID"), "dilated": (1, 2, "SAME"),
                                     "odd_same": (2, 1, "SAME")}[kind]
        layer = lambda x, f, b: tf.nn.relu(tf.nn.conv2d(  # noqa: E731
            x, f, stride, padding, dilations=dilation) + b)
    fn = tf.function(layer)
    np.testing.assert_array_equal(fn(x4, f, b).numpy(), layer(x4, f, b).numpy())
    steps = fn.get_concrete_function(x4, f, b)._plan.steps
    assert [s.kernel for s in steps].count(conv.conv_bias_kernel) == (kind != "conv1d")
