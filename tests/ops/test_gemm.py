"""ops/_gemm.py: float32 CPU products through oneDNN, everything else through torch."""
import time

import numpy as np
import pytest
import torch

import tapeflow as tf
from tapeflow._core import threads
from tapeflow.ops import _gemm


def _strided_operands():
    g = torch.Generator().manual_seed(0)
    a = torch.randn(200, 300, generator=g)
    b = torch.randn(300, 400, generator=g)
    yield a, b
    yield a[::2], b[:, ::2]                       # row and column strides
    yield a.t().contiguous().t(), b.t().contiguous().t()  # column-major
    yield torch.randn(1, 300, generator=g).expand(128, 300), b  # stride 0
    yield torch.randn(4, 32, 300, generator=g), b  # batch dimensions are rows
    yield torch.randn(4, 300, 32, generator=g).transpose(1, 2), b  # ... of a strided batch
    yield torch.randn(128, 512, generator=g).t(), torch.randn(128, 10, generator=g)  # tall x^T
    yield torch.randn(128, 784, generator=g).t(), torch.randn(128, 512, generator=g)  # x^T dy


@pytest.mark.parametrize("a, b", list(_strided_operands()))
def test_matmul_agrees_with_float64_product(a, b):
    out = _gemm.matmul(a, b)
    want = a.double() @ b.double()
    assert out.dtype == torch.float32 and out.shape == want.shape
    np.testing.assert_allclose(out.numpy(), want.numpy(), rtol=1e-4, atol=1e-3)


def test_addmm_adds_bias_rows_and_writes_out():
    g = torch.Generator().manual_seed(1)
    a, b = torch.randn(128, 128, generator=g), torch.randn(128, 512, generator=g)
    bias = torch.randn(512, generator=g)
    full = torch.randn(128, 512, generator=g)
    out = torch.empty(128, 512)
    assert _gemm.addmm(full, a, b, out=out) is out
    np.testing.assert_allclose(out.numpy(), (full.double() + a.double() @ b.double()).numpy(),
                               rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(_gemm.addmm(bias, a, b).numpy(),
                               (bias.double() + a.double() @ b.double()).numpy(),
                               rtol=1e-4, atol=1e-3)


class _Spy:
    def __init__(self, inner):
        self.inner, self.calls = inner, 0

    def __call__(self, *args):
        self.calls += 1
        return self.inner(*args)


@pytest.mark.skipif(_gemm._inner_product is None, reason="this torch build has no oneDNN")
def test_routing_large_float32_to_onednn_and_the_rest_to_torch(monkeypatch):
    spy = _Spy(_gemm._inner_product)
    monkeypatch.setattr(_gemm, "_inner_product", spy)
    big = tf.ones((128, 784))
    w = tf.ones((784, 512))
    assert float(tf.matmul(big, w)[0, 0]) == 784.0
    assert spy.calls == 1
    tf.matmul(tf.ones((2, 2)), tf.ones((2, 2)))                       # small: torch
    tf.matmul(tf.ones((128, 784), tf.float64), tf.ones((784, 512), tf.float64))  # float64
    tf.matmul(tf.ones((4, 128, 784)), tf.ones((4, 784, 512)))          # batched b
    assert spy.calls == 1
    tf.matmul(big, tf.ones((512, 784)), transpose_b=True)              # b^T is a view
    assert spy.calls == 2


def test_matmul_gradient_through_onednn_matches_float64():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((128, 300)).astype(np.float32)
    w = rng.standard_normal((300, 256)).astype(np.float32)
    tx, tw = tf.constant(x), tf.Variable(w)
    with tf.GradientTape() as tape:
        tape.watch(tx)
        y = tf.reduce_sum(tf.matmul(tx, tw) ** 2)
    gx, gw = tape.gradient(y, [tx, tw])
    x64, w64 = x.astype(np.float64), w.astype(np.float64)
    dy = 2 * x64 @ w64
    np.testing.assert_allclose(gx.numpy(), dy @ w64.T, rtol=1e-4, atol=1e-2)
    np.testing.assert_allclose(gw.numpy(), x64.T @ dy, rtol=1e-4, atol=1e-2)


@pytest.mark.skipif(threads._default < 2, reason="torch has one thread here: none to give up")
@pytest.mark.parametrize("op", ["matmul", "conv2d"])
def test_an_eager_loop_of_large_ops_lets_threads_follow_the_load(op, adaptive, monkeypatch):
    # no tape, no tf.function, no fit: the products themselves must look at the load
    monkeypatch.setattr(threads, "running", lambda: threads.ours_running() + 1)  # one core taken
    a = tf.random.normal((256, 256), seed=1)
    x, f = tf.random.normal((8, 28, 28, 16), seed=2), tf.random.normal((3, 3, 16, 32), seed=3)
    for _ in range(threads.LOOKS + 1):
        time.sleep(threads.INTERVAL + 0.01)
        tf.matmul(a, a) if op == "matmul" else tf.nn.conv2d(x, f, 1, "VALID")
    assert torch.get_num_threads() == threads.threads_for(1)
