"""MultiHeadAttention and Attention against real Keras: weights copied (EinsumDense kernel
shapes), outputs, attention scores and gradients w.r.t. inputs and weights compared."""
import re

import numpy as np
import pytest

import tapeflow as tf
from tests.parity import assert_same

keras = tf.keras
R = np.random.default_rng(0)
Q = R.standard_normal((2, 4, 6)).astype("float32")
V = R.standard_normal((2, 3, 5)).astype("float32")
Q_MASK = np.array([[1, 1, 0, 1], [1, 1, 1, 1]], bool)
V_MASK = np.array([[1, 1, 0], [1, 0, 1]], bool)


def _run(m, layer, inputs, call):
    xs = [m.constant(x) for x in inputs]
    with m.GradientTape() as tape:
        for x in xs:
            tape.watch(x)
        outs = m.nest.flatten(call(layer, xs))
        loss = 0.0
        for i, o in enumerate(outs):
            w = np.linspace(-1, 1, int(np.prod(o.shape))).reshape(tuple(o.shape)) * (i + 1)
            loss = loss + m.reduce_sum(o * m.constant(w, o.dtype))
    return outs, tape.gradient(loss, xs + list(layer.trainable_weights))


def check(realtf, ours, theirs, inputs, call):
    call(theirs, [realtf.constant(x) for x in inputs])
    call(ours, [tf.constant(x) for x in inputs])
    strip = lambda w: (re.sub(r"_\d+(/|$)", r"\1", w.path), tuple(w.shape))  # noqa: E731
    assert [strip(w) for w in ours.weights] == [strip(w) for w in theirs.weights]
    ours.set_weights(theirs.get_weights())
    y, g = _run(tf, ours, inputs, call)
    ty, tg = _run(realtf, theirs, inputs, call)
    assert len(y) == len(ty)
    assert [t is None for t in g] == [t is None for t in tg]
    assert all(t is not None for t in g[len(inputs):])  # every weight gets a gradient
    for a, b in zip(list(y) + list(g), list(ty) + list(tg)):
        if b is not None:
            assert_same(a, b, rtol=1e-4, atol=2e-5)


MHA_CASES = {
    "plain": (dict(), lambda l, x: l(x[0], x[1])),
    "self": (dict(), lambda l, x: l(x[0], x[0])),
    "key-value-dims": (dict(value_dim=3, output_shape=7),
                       lambda l, x: l(x[0], x[1], x[1] * 0.5)),
    "causal-scores": (dict(), lambda l, x: l(x[0], x[0], use_causal_mask=True,
                                             return_attention_scores=True)),
    "attention-mask": (dict(use_bias=False),
                       lambda l, x: l(x[0], x[1], attention_mask=np.array(
                           [[[1, 0, 1]] * 4, [[1, 1, 0]] * 4], bool))),
    "value-mask": (dict(), lambda l, x: l(x[0], x[1], value_mask=V_MASK,
                                          return_attention_scores=True)),
}


@pytest.mark.parametrize("case", list(MHA_CASES))
def test_multi_head_attention_matches_keras(realtf, case):
    kwargs, call = MHA_CASES[case]
    check(realtf, keras.layers.MultiHeadAttention(2, 4, **kwargs),
          realtf.keras.layers.MultiHeadAttention(2, 4, **kwargs), [Q, V], call)


def test_multi_head_attention_weight_shapes():
    mha = keras.layers.MultiHeadAttention(num_heads=3, key_dim=4, value_dim=2)
    mha(Q, V)
    assert [tuple(w.shape) for w in mha.weights] == [(6, 3, 4), (3, 4), (5, 3, 4), (3, 4),
                                                     (5, 3, 2), (3, 2), (3, 2, 6), (6,)]
    assert mha.weights[0].path == f"{mha.name}/query/kernel"


ATTENTION_CASES = {
    "dot": (dict(), lambda l, x: l([x[0], x[1]])),
    "scale-key": (dict(use_scale=True), lambda l, x: l([x[0], x[1], x[1] * 2.0])),
    "concat-masked": (dict(score_mode="concat", use_scale=True),
                      lambda l, x: l([x[0], x[1]], mask=[Q_MASK, V_MASK])),
    "causal-scores": (dict(), lambda l, x: l([x[0], x[0]], use_causal_mask=True,
                                             return_attention_scores=True)),
}


@pytest.mark.parametrize("case", list(ATTENTION_CASES))
def test_attention_matches_keras(realtf, case):
    kwargs, call = ATTENTION_CASES[case]
    v = R.standard_normal((2, 3, 6)).astype("float32")
    check(realtf, keras.layers.Attention(**kwargs), realtf.keras.layers.Attention(**kwargs),
          [Q, v], call)


def test_self_attention_model_with_embedding_mask(realtf):
    ids = np.array([[3, 5, 2, 0], [1, 2, 3, 4]])

    def build(k):
        inp = k.Input((4,), dtype="int32")
        e = k.layers.Embedding(8, 6, mask_zero=True)(inp)
        out = k.layers.MultiHeadAttention(2, 3)(e, e)
        return k.Model(inp, k.layers.GlobalAveragePooling1D()(out))
    ours, theirs = build(keras), build(realtf.keras)
    ours.set_weights(theirs.get_weights())
    assert_same(ours(ids), theirs(ids), rtol=1e-4, atol=1e-5)


def test_attention_errors():
    with pytest.raises(ValueError, match="score_mode"):
        keras.layers.Attention(score_mode="add")
    with pytest.raises(ValueError, match="list of inputs"):
        keras.layers.Attention()(Q)
