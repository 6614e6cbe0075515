"""The functional API and Sequential: graph building, shape inference, calls, summary text
compared with real Keras."""
import numpy as np
import pytest

import tapeflow as tf

keras = tf.keras
RNG = np.random.default_rng(3)


def test_input_and_keras_tensor():
    inp = keras.Input(shape=(3,), name="a")
    assert inp.shape == (None, 3) and inp.dtype == "float32"
    assert "KerasTensor shape=(None, 3), dtype=float32" in repr(inp)
    with pytest.raises(ValueError, match="symbolic"):
        inp.numpy()


def test_multi_input_multi_output_shared_layer():
    a, b = keras.Input((3,), name="a"), keras.Input((2,), name="b")
    shared = keras.layers.Dense(2, name="shared")
    left = keras.layers.Concatenate(name="cat")([shared(a), b])
    right = keras.layers.Add(name="plus")([shared(a), b])
    model = keras.Model([a, b], [left, right])
    assert [l.name for l in model.layers] == ["a", "shared", "b", "cat", "plus"]
    assert left.shape == (None, 4) and right.shape == (None, 2)
    xa = RNG.standard_normal((5, 3)).astype("float32")
    xb = RNG.standard_normal((5, 2)).astype("float32")
    out_left, out_right = model([xa, xb])
    h = shared(xa).numpy()
    np.testing.assert_allclose(out_left.numpy(), np.concatenate([h, xb], 1), rtol=1e-6)
    np.testing.assert_allclose(out_right.numpy(), h + xb, rtol=1e-6)
    by_name = model({"a": xa, "b": xb})
    np.testing.assert_allclose(by_name[1].numpy(), out_right.numpy())
    assert len(model.weights) == 2  # the shared layer's, once


def test_operators_on_keras_tensors():
    inp = keras.Input((2,))
    out = (inp * 2.0 + 1.0)[:, :1]
    model = keras.Model(inp, out)
    np.testing.assert_allclose(model(np.ones((3, 2), "float32")).numpy(), 3.0)
    assert out.shape == (None, 1)


def test_unknown_non_batch_dims_stay_unknown():
    inp = keras.Input((None, 4))
    assert keras.layers.Dense(3)(inp).shape == (None, None, 3)


def test_disconnected_graph_raises():
    a, b = keras.Input((2,)), keras.Input((2,))
    out = keras.layers.Add()([a, b])
    with pytest.raises(ValueError, match="Graph disconnected"):
        keras.Model(a, out)


def test_sequential_variants_agree():
    layers = [keras.layers.Dense(4, activation="relu"), keras.layers.Dense(2)]
    with_input = keras.Sequential([keras.Input((3,))] + layers)
    assert with_input.built and with_input.output_shape == (None, 2)
    added = keras.Sequential()
    for layer in layers:
        added.add(layer)
    assert not added.built
    x = RNG.standard_normal((2, 3)).astype("float32")
    np.testing.assert_allclose(added(x).numpy(), with_input(x).numpy())
    assert added.built and len(added.layers) == 2 and len(added.weights) == 4
    with pytest.warns(UserWarning, match="input_shape"):
        legacy = keras.Sequential([keras.layers.Dense(2, input_shape=(3,))])
    assert legacy.built and legacy.layers[0].kernel.shape == (3, 2)


def test_sequential_duplicate_names_raise():
    with pytest.raises(ValueError, match="unique names"):
        keras.Sequential([keras.layers.Dense(1, name="x"), keras.layers.Dense(1, name="x")])


class Subclassed(keras.Model):
    def __init__(self):
        super().__init__(name="subclassed")
        self.d1 = keras.layers.Dense(4, activation="relu", name="d1")
        self.drop = keras.layers.Dropout(0.5, name="drop")
        self.d2 = keras.layers.Dense(2, name="d2")

    def call(self, x, training=False, isidentity=False):
        if isidentity:
            return x
        return self.d2(self.drop(self.d1(x), training=training))


def test_subclassed_model_with_extra_arguments():
    model = Subclassed()
    x = np.ones((3, 2), "float32")
    np.testing.assert_array_equal(model(x, isidentity=True).numpy(), x)
    a, b = model(x), model(x, training=False)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert [l.name for l in model.layers] == ["d1", "drop", "d2"]
    assert len(model.trainable_weights) == 4
    built = Subclassed()
    built.build((None, 2))
    assert built.count_params() == 2 * 4 + 4 + 4 * 2 + 2


# -- summary --------------------------------------------------------------------------------

def _summary(model):
    lines = []
    model.summary(print_fn=lines.append)
    return "".join(lines)


def _sequential(k):
    return k.Sequential([k.Input((20,)), k.layers.Dense(64, activation="relu", name="hidden"),
                         k.layers.Dropout(0.2, name="drop"),
                         k.layers.Dense(10, activation="softmax", name="out")], name="mlp")


def _graph(k):
    a, b = k.Input((3,), name="a"), k.Input((2,), name="b_input_with_a_long_name")
    shared = k.layers.Dense(2, name="shared")
    left = k.layers.Concatenate(name="concatenate")([shared(a), b])
    right = k.layers.Add(name="add")([shared(a), b])
    return k.Model([a, b], [left, right], name="graph")


def _unbuilt(k):
    return k.Sequential([k.layers.Dense(3, name="u1"), k.layers.Dense(2, name="u2")],
                        name="lazy")


def _subclassed(k):
    class Two(k.Model):
        def __init__(self):
            super().__init__(name="two")
            self.a = k.layers.Dense(4, name="a")
            self.b = k.layers.Dense(2, name="b")

        def call(self, x):
            return self.b(self.a(x))
    model = Two()
    model(np.zeros((3, 5), "float32"))
    return model


def _nested(k):
    inner = k.Sequential([k.layers.Dense(3, name="i1")], name="inner")
    inp = k.Input((2,), name="x")
    return k.Model(inp, k.layers.Dense(1, name="o")(inner(inp)), name="outer")


@pytest.mark.parametrize("build", [_sequential, _graph, _unbuilt, _subclassed, _nested])
@pytest.mark.parametrize("columns", ["80", "200"])
def test_summary_text_matches_keras(realtf, monkeypatch, build, columns):
    monkeypatch.setenv("COLUMNS", columns)
    assert _summary(build(keras)) == _summary(build(realtf.keras))


def test_expanded_nested_summary_matches_keras(realtf, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    texts = []
    for k in (keras, realtf.keras):
        lines = []
        _nested(k).summary(print_fn=lines.append, expand_nested=True, show_trainable=True)
        texts.append("".join(lines))
    assert texts[0] == texts[1]


def test_summary_with_optimizer_params_matches_keras(realtf, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    texts = []
    for k in (keras, realtf.keras):
        model = _sequential(k)
        model.compile(k.optimizers.SGD(momentum=0.9), "sparse_categorical_crossentropy")
        model.fit(np.zeros((4, 20), "float32"), np.zeros(4, "int32"), verbose=0)
        texts.append(_summary(model))
    assert texts[0] == texts[1]


def test_legacy_input_shape_arguments_warn_like_keras():
    with pytest.warns(UserWarning, match="Do not pass an `input_shape`"):
        keras.layers.Dense(2, input_dim=3)
    with pytest.warns(UserWarning, match="`input_shape` is deprecated"):
        layer = keras.layers.InputLayer(input_shape=(3,))
    assert layer.batch_shape == (None, 3)
