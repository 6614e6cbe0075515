"""The fused recurrent ops against the per-step loop of the Keras cells, and their gradients
against finite differences (with and without a mask, forwards and backwards)."""
import numpy as np
import pytest

import tapeflow as tf
from tapeflow.ops import rnn
from tests.gradcheck import GradCase

R = np.random.default_rng(0)
B, T, F, U = 2, 3, 2, 3
MASK = np.array([[True, True, False], [True, False, True]])


def _lstm(mask, go_backwards):
    def fn(x, h, c, w, u, b):
        m = None if mask is None else tf.constant(mask)
        return list(rnn.lstm_sequence(x, h, c, w, u, b, m, go_backwards))
    return fn


def _gru(mask, go_backwards):
    def fn(x, h, w, u, b1, b2):
        m = None if mask is None else tf.constant(mask)
        return list(rnn.gru_sequence(x, h, w, u, b1, b2, m, go_backwards))
    return fn


def _lstm_inputs():
    return [R.standard_normal(s) for s in ((B, T, F), (B, U), (B, U), (F, 4 * U),
                                           (U, 4 * U), (4 * U,))]


def _gru_inputs():
    return [R.standard_normal(s) for s in ((B, T, F), (B, U), (F, 3 * U), (U, 3 * U),
                                           (3 * U,), (3 * U,))]


GRAD_CASES = [
    GradCase("LSTMSequence", _lstm(None, False), _lstm_inputs()),
    GradCase("LSTMSequence", _lstm(MASK, True), _lstm_inputs()),
    GradCase("GRUSequence", _gru(None, True), _gru_inputs()),
    GradCase("GRUSequence", _gru(MASK, False), _gru_inputs()),
]


@pytest.mark.parametrize("layer", ["LSTM", "GRU"])
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("masked", [False, True])
def test_fused_op_equals_the_cell_loop(layer, go_backwards, masked):
    x = R.standard_normal((3, 5, 4)).astype("float32")
    mask = tf.constant(R.random((3, 5)) > 0.3) if masked else None
    kw = dict(return_sequences=True, return_state=True, go_backwards=go_backwards)
    fused = getattr(tf.keras.layers, layer)(6, **kw)
    loop = getattr(tf.keras.layers, layer)(6, use_cudnn=False, **kw)
    fused(x)
    loop(x)
    loop.set_weights(fused.get_weights())
    xt = tf.constant(x)
    results = []
    for lay in (fused, loop):
        with tf.GradientTape() as tape:
            tape.watch(xt)
            outs = lay(xt, mask=mask)
            loss = sum(tf.reduce_sum(o * (i + 1.0)) for i, o in enumerate(outs))
        grads = tape.gradient(loss, [xt] + lay.trainable_weights)
        assert len(grads) == 4 and all(g is not None for g in grads)
        results.append((outs, grads))
    for a, b in zip(tf.nest.flatten(results[0]), tf.nest.flatten(results[1])):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-5)


def test_fused_gradient_is_first_order_only():
    # The gradient op is marked non-differentiable: documented limitation.
    assert not rnn.LSTM_SEQ_GRAD.differentiable and rnn.LSTM_SEQ.differentiable


@pytest.mark.skipif(rnn._ONEDNN is None, reason="this torch build has no oneDNN LSTM layer")
@pytest.mark.parametrize("go_backwards", [False, True])
def test_onednn_lstm_equals_the_loop_kernels(monkeypatch, go_backwards):
    # float32 on the CPU without a mask runs oneDNN's LSTM layer; the loop is the reference
    import torch
    g = torch.Generator().manual_seed(0)
    b, t, f, u = 5, 7, 4, 6
    x, h0, c0 = (torch.randn(s, generator=g) for s in ((b, t, f), (b, u), (b, u)))
    w, rk, bias = (torch.randn(s, generator=g) * 0.5 for s in ((f, 4 * u), (u, 4 * u), (4 * u,)))
    dhs, dh, dc = (torch.randn(s, generator=g) for s in ((b, t, u), (b, u), (b, u)))

    def run():
        hs, h, c, saved, saved2 = rnn._lstm_kernel(x, h0, c0, w, rk, bias, go_backwards)
        grads = rnn._lstm_grad_kernel(x, h0, c0, w, rk, bias, saved, saved2, hs, h, c, dhs, dh,
                                      dc, go_backwards)
        return saved.dtype, (hs, h, c) + tuple(grads)
    fast_dtype, fast = run()
    monkeypatch.setattr(rnn, "_ONEDNN", None)
    loop_dtype, loop = run()
    assert fast_dtype == torch.uint8 and loop_dtype == torch.float32  # oneDNN's workspace
    for a, e in zip(fast, loop):
        assert a.shape == e.shape
        np.testing.assert_allclose(a.numpy(), e.numpy(), rtol=1e-5, atol=1e-5)
