"""Every layer family through `.keras` files both ways with real Keras 3: the configs, the
weight paths (sub-layers such as RNN cells, Bidirectional halves and attention projections)
and the predictions agree."""
import numpy as np
import pytest

from tapeflow import keras as tk


@pytest.fixture(scope="module")
def rk(realtf):
    import keras
    return keras


def seq(shape, *layers):
    """A Sequential of `layers` (source strings naming `L.*` layers) on `Input(shape)`."""
    return lambda K: K.Sequential([K.Input(shape)] + [eval(code, {"L": K.layers})
                                                      for code in layers])


C = {
    "dense_act": (seq((5,), "L.Dense(3, activation='relu', use_bias=False)",
                      "L.Activation('softmax')"), (4, 5)),
    "conv1d": (seq((8, 3), "L.Conv1D(2, 3, padding='same')", "L.MaxPooling1D()",
                   "L.GlobalAveragePooling1D()"), (2, 8, 3)),
    "conv2dT": (seq((6, 6, 2), "L.Conv2DTranspose(2, 3, strides=2)", "L.AveragePooling2D(2)",
                    "L.GlobalMaxPooling2D()"), (2, 6, 6, 2)),
    "conv3d": (seq((4, 4, 4, 1), "L.Conv3D(2, 2)", "L.Flatten()"), (2, 4, 4, 4, 1)),
    "depthsep": (seq((6, 6, 2), "L.DepthwiseConv2D(3)", "L.SeparableConv2D(3, 2)"),
                 (2, 6, 6, 2)),
    "norms": (seq((5,), "L.LayerNormalization()", "L.BatchNormalization(momentum=0.9)"),
              (3, 5)),
    "reshape": (seq((6,), "L.Reshape((2, 3))", "L.ZeroPadding1D(1)", "L.Cropping1D(1)",
                    "L.UpSampling1D(2)"), (2, 6)),
    "pad2d": (seq((4, 4, 1), "L.ZeroPadding2D(1)", "L.Cropping2D(1)", "L.UpSampling2D()"),
              (2, 4, 4, 1)),
    "activations": (seq((5,), "L.LeakyReLU(0.2)", "L.ELU()", "L.ReLU(max_value=1.0)",
                        "L.Softmax()"), (3, 5)),
    "dropouts": (seq((4, 4, 2), "L.SpatialDropout2D(0.2)", "L.GaussianNoise(0.1)",
                     "L.GaussianDropout(0.1)", "L.Dropout(0.1)"), (2, 4, 4, 2)),
    "rescale": (seq((5,), "L.Rescaling(2.0, offset=1.0)", "L.Identity()"), (3, 5)),
    "normalization": (seq((3,), "L.Normalization(mean=[1., 2., 3.], variance=[1., 4., 9.])"),
                      (2, 3)),
    "simple_rnn": (seq((5, 3), "L.SimpleRNN(4, return_sequences=True)",
                       "L.LSTM(2, go_backwards=True)"), (2, 5, 3)),
    "masked_gru": (seq((5, 3), "L.Masking(0.0)", "L.GRU(2, reset_after=False)"), (2, 5, 3)),
    "wrappers": (seq((5, 3), "L.Bidirectional(L.LSTM(2, return_sequences=True))",
                     "L.TimeDistributed(L.Dense(3))"), (2, 5, 3)),
    "rnn_cell": (seq((5, 3), "L.RNN(L.LSTMCell(3))"), (2, 5, 3)),
}


def mha(K):
    q = K.Input((4, 6))
    return K.Model(q, K.layers.MultiHeadAttention(2, 3)(q, q))


def attention(K):
    q, v = K.Input((4, 6)), K.Input((4, 6))
    return K.Model([q, v], K.layers.Attention()([q, v]))


def merging(K):
    a, b = K.Input((4,)), K.Input((4,))
    L = K.layers
    merged = [L.Add()([a, b]), L.Subtract()([a, b]), L.Multiply()([a, b]),
              L.Average()([a, b]), L.Maximum()([a, b]), L.Minimum()([a, b])]
    return K.Model([a, b], L.Concatenate()(merged))


C["mha"] = (mha, (2, 4, 6))
C["attention"] = (attention, [(2, 4, 6), (2, 4, 6)])
C["merging"] = (merging, [(2, 4), (2, 4)])


@pytest.mark.parametrize("direction", ["tapeflow->keras", "keras->tapeflow"])
@pytest.mark.parametrize("name", list(C))
def test_layer_round_trip(rk, tmp_path, name, direction):
    build, shape = C[name]
    r = np.random.RandomState(0)
    x = [r.rand(*s).astype("f") for s in shape] if isinstance(shape, list) else \
        r.rand(*shape).astype("f")
    src, dst = (tk, rk) if direction == "tapeflow->keras" else (rk, tk)
    model = build(src)
    model.set_weights([(r.rand(*w.shape) * 0.5 + 0.1).astype(w.dtype)
                       for w in model.get_weights()])
    path = str(tmp_path / "m.keras")
    model.save(path)
    loaded = dst.models.load_model(path)
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert len(model.get_weights()) == len(loaded.get_weights())
    np.testing.assert_allclose(np.asarray(loaded.predict(x, verbose=0)),
                               np.asarray(model.predict(x, verbose=0)), rtol=2e-4, atol=2e-5)
