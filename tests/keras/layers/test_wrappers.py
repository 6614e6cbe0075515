"""Bidirectional and TimeDistributed against real Keras (copied weights; outputs and
gradients), over merge modes, states and masks."""
import numpy as np
import pytest

import tapeflow as tf
from tests.keras.layers.test_rnn import MASK, X, check_rnn
from tests.parity import assert_same

keras = tf.keras


@pytest.mark.parametrize("mode", ["concat", "sum", "mul", "ave", None])
@pytest.mark.parametrize("flags", [dict(), dict(return_sequences=True, return_state=True)],
                         ids=["last", "seq-state"])
def test_bidirectional_lstm_matches_keras(realtf, mode, flags):
    check_rnn(realtf, keras.layers.Bidirectional(keras.layers.LSTM(5, **flags), merge_mode=mode),
              realtf.keras.layers.Bidirectional(realtf.keras.layers.LSTM(5, **flags),
                                                merge_mode=mode))


@pytest.mark.parametrize("name", ["GRU", "SimpleRNN", "LSTM"])
def test_masked_bidirectional_matches_keras(realtf, name):
    # Bidirectional forces zero_output_for_mask=return_sequences on its layers, as Keras.
    flags = dict(return_sequences=True)
    check_rnn(realtf, keras.layers.Bidirectional(getattr(keras.layers, name)(4, **flags)),
              realtf.keras.layers.Bidirectional(getattr(realtf.keras.layers, name)(4, **flags)),
              mask=MASK)


def test_bidirectional_initial_state_and_weight_paths(realtf):
    states = [np.random.default_rng(1).standard_normal((3, 4)).astype("float32")
              for _ in range(4)]
    ours = keras.layers.Bidirectional(keras.layers.LSTM(4, return_state=True))
    theirs = realtf.keras.layers.Bidirectional(realtf.keras.layers.LSTM(4, return_state=True))
    check_rnn(realtf, ours, theirs, initial_state=states)
    assert ours.weights[0].path == f"{ours.name}/{ours.forward_layer.name}/lstm_cell/kernel"
    assert ours.backward_layer.go_backwards and not ours.forward_layer.go_backwards
    with pytest.raises(ValueError, match="Invalid merge mode"):
        keras.layers.Bidirectional(keras.layers.LSTM(2), merge_mode="max")


@pytest.mark.parametrize("make,rank", [(lambda k: k.layers.Dense(3, activation="tanh"), 3),
                                       (lambda k: k.layers.Conv1D(2, 2), 4)],
                         ids=["dense", "conv1d"])
def test_time_distributed_matches_keras(realtf, make, rank):
    x = np.random.default_rng(2).standard_normal((2, 3, 4, 5)[:rank]).astype("float32")
    check_rnn(realtf, keras.layers.TimeDistributed(make(keras)),
              realtf.keras.layers.TimeDistributed(make(realtf.keras)), x=x)


def test_wrappers_in_a_functional_model(realtf):
    def build(k):
        inp = k.Input((5, 4))
        h = k.layers.Bidirectional(k.layers.GRU(3, return_sequences=True))(inp)
        out = k.layers.TimeDistributed(k.layers.Dense(2))(h)
        return k.Model(inp, out)
    ours, theirs = build(keras), build(realtf.keras)
    assert ours.output_shape == (None, 5, 2) if hasattr(ours, "output_shape") else True
    ours.set_weights(theirs.get_weights())
    assert_same(ours(X), theirs(X), rtol=1e-4, atol=1e-5)
