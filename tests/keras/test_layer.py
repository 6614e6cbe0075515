"""keras.layers.Layer: building, weight tracking, training flag, losses, config."""
import numpy as np
import pytest

import tapeflow as tf

keras = tf.keras


class Linear(keras.layers.Layer):
    def __init__(self, units=2, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.seen_shape = input_shape
        self.w = self.add_weight(shape=(input_shape[-1], self.units), name="w")
        self.b = self.add_weight(shape=(self.units,), initializer="zeros", name="b")
        self.steps = self.add_weight(shape=(), initializer="zeros", trainable=False,
                                     name="steps")

    def call(self, x):
        return tf.matmul(x, self.w) + self.b


def test_builds_on_first_call_from_input_shape():
    layer = Linear(3)
    assert not layer.built
    y = layer(np.ones((4, 5), dtype="float32"))
    assert layer.built and layer.seen_shape == (4, 5)
    assert tuple(y.shape) == (4, 3)
    assert [w.name for w in layer.weights] == ["w", "b", "steps"]
    assert [w.name for w in layer.trainable_weights] == ["w", "b"]
    assert [w.name for w in layer.non_trainable_weights] == ["steps"]
    assert layer.count_params() == 5 * 3 + 3 + 1
    assert layer.weights[0].path == f"{layer.name}/w"


def test_float64_numpy_inputs_are_cast_to_the_layer_dtype():
    y = Linear(2)(np.ones((1, 3)))
    assert y.dtype == tf.float32


def test_count_params_before_build_raises():
    layer = keras.layers.Dense(2, name="d")
    with pytest.raises(ValueError, match="isn't built"):
        layer.count_params()


def test_default_names_are_unique_snake_case():
    a, b = Linear(), Linear()
    assert a.name.startswith("linear") and b.name.startswith("linear") and a.name != b.name
    assert repr(a).startswith("<Linear name=linear")


class Block(keras.layers.Layer):
    """Sub-layers in attributes, a list and a dict; a raw tf.Variable too."""

    def __init__(self):
        super().__init__()
        self.first = keras.layers.Dense(3)
        self.stack = [keras.layers.Dense(4), keras.layers.Dense(2)]
        self.named = {"out": keras.layers.Dense(1)}
        self.scale = tf.Variable(2.0)

    def call(self, x):
        x = self.first(x)
        for layer in self.stack:
            x = layer(x)
        return self.named["out"](x) * self.scale


def test_tracks_sublayers_in_attributes_lists_and_dicts():
    block = Block()
    block(np.ones((2, 5), dtype="float32"))
    assert len(block._layers) == 4
    # own variable first, then each sub-layer's kernel and bias in attribute order
    assert len(block.weights) == 1 + 4 * 2
    assert block.count_params() == 1 + (5 * 3 + 3) + (3 * 4 + 4) + (4 * 2 + 2) + (2 + 1)
    block.trainable = False
    assert block.trainable_weights == [] and len(block.non_trainable_weights) == 9
    assert not block.first.trainable and not block.first.kernel.trainable
    block.trainable = True
    assert len(block.trainable_weights) == 9


def test_set_and_get_weights_round_trip():
    layer = keras.layers.Dense(2)
    layer.build((None, 3))
    new = [np.arange(6, dtype="float32").reshape(3, 2), np.array([1.0, -1.0], "float32")]
    layer.set_weights(new)
    for a, b in zip(layer.get_weights(), new):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="expecting 2 weights"):
        layer.set_weights(new[:1])


class Recorder(keras.layers.Layer):
    def call(self, x, training=None):
        self.got = training
        return x


class Outer(keras.layers.Layer):
    def __init__(self):
        super().__init__()
        self.inner = Recorder()

    def call(self, x, training=None):
        return self.inner(x)


@pytest.mark.parametrize("training", [True, False, None])
def test_training_flag_propagates_to_inner_layers(training):
    outer = Outer()
    outer(np.ones((1, 2), "float32"), training=training)
    assert outer.inner.got is training


def test_explicit_training_on_inner_call_wins():
    rec = Recorder()
    rec(np.ones((1, 1), "float32"), training=True)
    assert rec.got is True


class LossAdder(keras.layers.Layer):
    def call(self, x):
        self.add_loss(tf.reduce_sum(x))
        return x


def test_add_loss_is_reset_on_each_outermost_call():
    layer = LossAdder()
    layer(np.ones((2, 2), "float32"))
    layer(np.ones((1, 2), "float32"))
    assert len(layer.losses) == 1
    assert float(layer.losses[0]) == 2.0


def test_regularizer_losses_are_listed():
    layer = keras.layers.Dense(2, kernel_regularizer=keras.regularizers.L2(0.5))
    layer.build((None, 3))
    layer.kernel.assign(np.ones((3, 2), "float32"))
    assert len(layer.losses) == 1
    np.testing.assert_allclose(float(layer.losses[0]), 0.5 * 6, rtol=1e-6)


def test_get_config_from_config_round_trip():
    layer = keras.layers.Dense(7, activation="relu", use_bias=False, name="my_dense")
    config = layer.get_config()
    assert config["units"] == 7 and config["name"] == "my_dense"
    assert config["activation"] == "relu" and config["use_bias"] is False
    clone = keras.layers.Dense.from_config(config)
    assert clone.units == 7 and clone.name == "my_dense" and clone.use_bias is False


def test_dense_config_matches_keras(realtf):
    ours = keras.layers.Dense(3, name="d").get_config()
    theirs = realtf.keras.layers.Dense(3, name="d").get_config()
    assert list(ours) == list(theirs)
    for key in ("name", "trainable", "dtype", "units", "activation", "use_bias"):
        assert ours[key] == theirs[key], key


def test_unknown_kwarg_raises():
    with pytest.raises(ValueError, match="Unrecognized keyword arguments"):
        keras.layers.Dense(2, bogus=1)


def test_dense_rejects_bad_units():
    with pytest.raises(ValueError, match="Received: units=-1"):
        keras.layers.Dense(-1)


def test_clear_session_restarts_default_names():
    keras.backend.clear_session()
    assert keras.layers.Dense(1).name == "dense"
    assert keras.layers.Dense(1).name == "dense_1"
    keras.backend.clear_session()
    assert keras.layers.Dense(1).name == "dense"


def test_floatx_sets_the_default_layer_dtype():
    keras.backend.set_floatx("float64")
    try:
        layer = keras.layers.Dense(1)
        assert layer(np.ones((1, 2))).dtype == tf.float64
        assert layer.kernel.dtype == tf.float64
    finally:
        keras.backend.set_floatx("float32")
    assert keras.backend.floatx() == "float32" and keras.backend.epsilon() == 1e-7


def test_add_weight_accepts_the_keras2_name_first_form():
    class Old(keras.layers.Layer):
        def build(self, input_shape):
            self.kernel = self.add_weight("kernel", shape=[int(input_shape[-1]), 2])

        def call(self, x):
            return tf.matmul(x, self.kernel)
    layer = Old()
    assert layer(np.ones((1, 3), "float32")).shape == (1, 2)
    assert layer.kernel.name == "kernel"


def _path_models(k):
    class Block(k.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.inner = k.layers.Dense(2, name="inner")

        def call(self, x):
            return self.inner(x)

    class Sub(k.Model):
        def __init__(self):
            super().__init__(name="sub")
            self.a = k.layers.Dense(3, name="a")
            self.block = Block(name="blk")

        def call(self, x):
            return self.block(self.a(x))

    class BuildsChild(k.layers.Layer):
        def build(self, shape):
            self.w = self.add_weight(shape=(shape[-1], 1), name="w")
            self.child = k.layers.Dense(1, name="child")
            self.child.build(shape)

        def call(self, x):
            return x @ self.w + self.child(x)

    inp = k.Input((4,))
    functional = k.Model(inp, Block(name="blk2")(k.layers.Dense(3, name="a2")(inp)))
    return {"subclassed": (Sub(), True), "functional": (functional, False),
            "sequential": (k.Sequential([k.layers.Dense(2, name="d1"), Block(name="blk3")],
                                        name="seq"), True),
            "sequential with Input": (k.Sequential([k.Input((4,)), k.layers.Dense(
                2, name="d2")], name="seq2"), False),
            "build builds a child": (BuildsChild(name="parent"), True)}


@pytest.mark.parametrize("case", list(_path_models(keras)))
def test_variable_paths_follow_keras_name_scopes(realtf, case):
    paths = []
    for k in (keras, realtf.keras):
        model, needs_call = _path_models(k)[case]
        if needs_call:
            model(np.ones((1, 4), "float32"))
        paths.append([v.path for v in model.weights])
    assert paths[0] == paths[1]
