"""SimpleRNN, LSTM, GRU, their cells and the generic RNN against real Keras: Keras's weights
copied into ours, then outputs and gradients (inputs, weights, initial states) compared, over
return_sequences / return_state / go_backwards / masks."""
import re

import numpy as np
import pytest

import tapeflow as tf
from tests.parity import assert_same

keras = tf.keras
R = np.random.default_rng(0)
X = R.standard_normal((3, 5, 4)).astype("float32")
MASK = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [1, 0, 1, 1, 0]], bool)


def _run(m, layer, x, mask=None, initial_state=None):
    xt = m.constant(x)
    states = None if initial_state is None else [m.constant(s) for s in initial_state]
    with m.GradientTape() as tape:
        tape.watch(xt)
        kwargs = {}
        if mask is not None:
            kwargs["mask"] = m.constant(mask)
        if states is not None:
            for s in states:
                tape.watch(s)
            kwargs["initial_state"] = states
        outs = layer(xt, **kwargs)
        flat = m.nest.flatten(outs)
        loss = 0.0
        for i, o in enumerate(flat):
            w = np.linspace(-1, 1, int(np.prod(o.shape))).reshape(tuple(o.shape)) * (i + 1)
            loss = loss + m.reduce_sum(o * m.constant(w, o.dtype))
    grads = tape.gradient(loss, [xt] + (states or []) + list(layer.trainable_weights))
    return flat, grads


def _path(w):
    """A weight's path without the auto-name counters (`lstm_3` -> `lstm`)."""
    return re.sub(r"_\d+(/|$)", r"\1", w.path)


def check_rnn(realtf, ours, theirs, x=X, mask=None, initial_state=None, atol=2e-5):
    theirs(x)
    ours(x)
    assert [_path(w) for w in ours.weights] == [_path(w) for w in theirs.weights]
    assert [tuple(w.shape) for w in ours.weights] == [tuple(w.shape) for w in theirs.weights]
    ours.set_weights(theirs.get_weights())
    y, g = _run(tf, ours, x, mask, initial_state)
    ty, tg = _run(realtf, theirs, x, mask, initial_state)
    assert len(y) == len(ty)
    for a, b in zip(y, ty):
        assert_same(a, b, rtol=1e-4, atol=atol)
    assert all(t is not None for t in g) and all(t is not None for t in tg)
    for a, b in zip(g, tg):
        assert_same(a, b, rtol=1e-4, atol=atol)


FLAGS = [dict(), dict(return_sequences=True), dict(return_state=True),
         dict(return_sequences=True, return_state=True, go_backwards=True),
         dict(go_backwards=True)]


@pytest.mark.parametrize("name", ["SimpleRNN", "LSTM", "GRU"])
@pytest.mark.parametrize("flags", FLAGS, ids=lambda f: "-".join(f) or "plain")
def test_layer_matches_keras(realtf, name, flags):
    check_rnn(realtf, getattr(keras.layers, name)(6, **flags),
              getattr(realtf.keras.layers, name)(6, **flags))


@pytest.mark.parametrize("name", ["SimpleRNN", "LSTM", "GRU"])
@pytest.mark.parametrize("flags", [dict(return_sequences=True, return_state=True),
                                   dict(go_backwards=True, return_sequences=True),
                                   dict(return_state=True)],
                         ids=lambda f: "-".join(f))
def test_masked_layer_matches_keras(realtf, name, flags):
    check_rnn(realtf, getattr(keras.layers, name)(6, **flags),
              getattr(realtf.keras.layers, name)(6, **flags), mask=MASK)


@pytest.mark.parametrize("name", ["LSTM", "GRU"])
def test_per_step_path_matches_keras(realtf, name):
    # use_cudnn=False and a non-default activation both take the cell loop.
    flags = dict(return_sequences=True, return_state=True)
    check_rnn(realtf, getattr(keras.layers, name)(6, use_cudnn=False, **flags),
              getattr(realtf.keras.layers, name)(6, **flags), mask=MASK)
    check_rnn(realtf, getattr(keras.layers, name)(5, activation="relu", **flags),
              getattr(realtf.keras.layers, name)(5, activation="relu", **flags))


def test_gru_reset_before_and_no_bias_match_keras(realtf):
    check_rnn(realtf, keras.layers.GRU(4, reset_after=False, return_sequences=True),
              realtf.keras.layers.GRU(4, reset_after=False, return_sequences=True))
    for name in ("GRU", "LSTM"):
        check_rnn(realtf, getattr(keras.layers, name)(4, use_bias=False),
                  getattr(realtf.keras.layers, name)(4, use_bias=False))


@pytest.mark.parametrize("name,n", [("LSTM", 2), ("GRU", 1), ("SimpleRNN", 1)])
def test_initial_state_matches_keras(realtf, name, n):
    states = [R.standard_normal((3, 6)).astype("float32") for _ in range(n)]
    flags = dict(return_sequences=True, return_state=True)
    check_rnn(realtf, getattr(keras.layers, name)(6, **flags),
              getattr(realtf.keras.layers, name)(6, **flags), initial_state=states)


@pytest.mark.parametrize("cell", ["SimpleRNNCell", "LSTMCell", "GRUCell"])
def test_generic_rnn_of_a_cell_matches_keras(realtf, cell):
    flags = dict(return_sequences=True, go_backwards=True)
    check_rnn(realtf, keras.layers.RNN(getattr(keras.layers, cell)(4), **flags),
              realtf.keras.layers.RNN(getattr(realtf.keras.layers, cell)(4), **flags),
              mask=MASK)


def test_weight_shapes_and_unit_forget_bias():
    lstm = keras.layers.LSTM(3)
    lstm(X)
    assert [tuple(w.shape) for w in lstm.weights] == [(4, 12), (3, 12), (12,)]
    np.testing.assert_array_equal(lstm.weights[2].numpy(), [0] * 3 + [1] * 3 + [0] * 6)
    gru = keras.layers.GRU(3)
    gru(X)
    assert [tuple(w.shape) for w in gru.weights] == [(4, 9), (3, 9), (2, 9)]
    assert lstm.units == 3 and gru.reset_after


def test_embedding_mask_flows_into_lstm_in_a_model(realtf):
    ids = np.array([[3, 5, 2, 0, 0], [1, 2, 3, 4, 5], [7, 0, 0, 0, 0]])

    def build(k):
        return k.Sequential([k.Input((5,), dtype="int32"), k.layers.Embedding(10, 4,
                                                                                mask_zero=True),
                             k.layers.LSTM(6, return_sequences=True), k.layers.GRU(3)])
    ours, theirs = build(keras), build(realtf.keras)
    ours.set_weights(theirs.get_weights())
    assert_same(ours(ids), theirs(ids), rtol=1e-4, atol=1e-5)


def test_dropout_in_training_changes_the_output_and_not_at_inference():
    for layer in (keras.layers.LSTM(4, dropout=0.5, recurrent_dropout=0.5),
                  keras.layers.GRU(4, dropout=0.5), keras.layers.SimpleRNN(4, dropout=0.5)):
        a = layer(X).numpy()
        np.testing.assert_array_equal(layer(X).numpy(), a)
        assert not np.allclose(layer(X, training=True).numpy(), a)


def test_symbolic_shapes_and_config():
    inp = keras.Input((7, 3))
    out, h, c = keras.layers.LSTM(5, return_sequences=True, return_state=True)(inp)
    assert out.shape == (None, 7, 5) and h.shape == (None, 5) and c.shape == (None, 5)
    config = keras.layers.GRU(4, go_backwards=True).get_config()
    assert config["units"] == 4 and config["go_backwards"] and config["reset_after"]
    assert config["recurrent_activation"] == "sigmoid"
    with pytest.raises(ValueError, match="units"):
        keras.layers.LSTM(0)


def test_stacked_cells_match_keras(realtf):
    flags = dict(return_sequences=True, return_state=True)
    ours = keras.layers.RNN([keras.layers.LSTMCell(3), keras.layers.GRUCell(2)], **flags)
    theirs = realtf.keras.layers.RNN([realtf.keras.layers.LSTMCell(3),
                                      realtf.keras.layers.GRUCell(2)], **flags)
    check_rnn(realtf, ours, theirs, mask=MASK)
    clone = keras.layers.RNN.from_config(ours.get_config())
    assert [type(c).__name__ for c in clone.cell.cells] == ["LSTMCell", "GRUCell"]
