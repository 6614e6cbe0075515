"""Keras models as ONNX: every exportable layer and every example model, run by onnxruntime,
gives what `model.predict` gives for two batch sizes from one exported file; what cannot be
exported says which op (and layer); `Model.export` and `tapeflow export` write the file."""
import importlib
import pathlib
import sys

import numpy as np
import pytest

import tapeflow as tf
from tapeflow import keras

pytest.importorskip("onnxruntime")
from tapeflow import export  # noqa: E402

L = keras.layers
ROOT = pathlib.Path(__file__).resolve().parents[2]


def one(shape, make, dtype="float32"):
    """A model of one layer on one input."""
    def build():
        inp = keras.Input(shape=shape, dtype=dtype)
        return keras.Model(inp, make()(inp))
    return build


def on(shape, wire):
    """A functional model: `wire(input)` returns the output."""
    def build():
        inp = keras.Input(shape=shape)
        return keras.Model(inp, wire(inp))
    return build


def two_inputs(layer):
    def build():
        a, b = keras.Input(shape=(4,)), keras.Input(shape=(4,))
        return keras.Model([a, b], layer()([a, L.Dense(4)(b)]))
    return build


SEQ = (5, 3)
IMG = (9, 9, 3)
VOL = (4, 4, 4, 2)
LAYERS = {
    "Dense": one((8,), lambda: L.Dense(4, activation="relu")),
    "Dense_3d": one((5, 8), lambda: L.Dense(4, activation="tanh")),
    "Activation": one((4,), lambda: L.Activation("gelu")),
    "ReLU": one((4,), lambda: L.ReLU(max_value=1.0, negative_slope=0.1)),
    "LeakyReLU": one((4,), lambda: L.LeakyReLU(0.2)), "ELU": one((4,), lambda: L.ELU(0.5)),
    "Softmax": one((3, 4), lambda: L.Softmax(axis=1)),
    "Dropout": one((4,), lambda: L.Dropout(0.5)),
    "GaussianDropout": one((4,), lambda: L.GaussianDropout(0.3)),
    "GaussianNoise": one((4,), lambda: L.GaussianNoise(0.3)),
    "SpatialDropout1D": one(SEQ, lambda: L.SpatialDropout1D(0.3)),
    "SpatialDropout2D": one(IMG, lambda: L.SpatialDropout2D(0.3)),
    "Flatten": one((3, 4), L.Flatten), "Identity": one((4,), L.Identity),
    "Reshape": one((12,), lambda: L.Reshape((3, -1))),
    "Lambda": one((4,), lambda: L.Lambda(lambda x: tf.square(x) + 1.0)),
    "Rescaling": one((4,), lambda: L.Rescaling(1 / 255.0, offset=-0.5)),
    "Normalization": one((4,), lambda: L.Normalization(mean=[1, 2, 3, 4],
                                                       variance=[1, 2, 3, 4])),
    "Conv1D": one((10, 3), lambda: L.Conv1D(4, 3, padding="same", strides=2)),
    "Conv2D": one(IMG, lambda: L.Conv2D(4, 3, padding="same", strides=2, activation="relu")),
    "Conv2D_dilated": one(IMG, lambda: L.Conv2D(4, 3, dilation_rate=2)),
    "Conv2D_channels_first": one((3, 9, 9), lambda: L.Conv2D(4, 3,
                                                             data_format="channels_first")),
    "Conv3D": one((6, 6, 6, 2), lambda: L.Conv3D(3, 2)),
    "Conv1DTranspose": one((10, 3), lambda: L.Conv1DTranspose(4, 3, strides=2,
                                                              padding="same")),
    "Conv2DTranspose": one((5, 5, 3), lambda: L.Conv2DTranspose(4, 3, strides=2)),
    "Conv2DTranspose_same": one((5, 5, 3), lambda: L.Conv2DTranspose(4, 4, strides=2,
                                                                      padding="same")),
    "Conv3DTranspose": one(VOL, lambda: L.Conv3DTranspose(3, 2, strides=2)),
    "DepthwiseConv2D": one(IMG, lambda: L.DepthwiseConv2D(3, depth_multiplier=2)),
    "SeparableConv2D": one(IMG, lambda: L.SeparableConv2D(4, 3, padding="same")),
    "MaxPooling1D": one((10, 3), lambda: L.MaxPooling1D(2)),
    "MaxPooling2D": one(IMG, lambda: L.MaxPooling2D(2, padding="same")),
    "MaxPooling3D": one(VOL, lambda: L.MaxPooling3D(2)),
    "AveragePooling1D": one((10, 3), lambda: L.AveragePooling1D(3, strides=2)),
    "AveragePooling2D": one(IMG, lambda: L.AveragePooling2D(2, padding="same")),
    "AveragePooling3D": one(VOL, lambda: L.AveragePooling3D(2)),
    "GlobalAveragePooling1D": one(SEQ, L.GlobalAveragePooling1D),
    "GlobalAveragePooling2D": one(IMG, L.GlobalAveragePooling2D),
    "GlobalAveragePooling3D": one(VOL, L.GlobalAveragePooling3D),
    "GlobalMaxPooling1D": one(SEQ, L.GlobalMaxPooling1D),
    "GlobalMaxPooling2D": one(IMG, lambda: L.GlobalMaxPooling2D(keepdims=True)),
    "GlobalMaxPooling3D": one(VOL, L.GlobalMaxPooling3D),
    "BatchNormalization": one((5, 4), L.BatchNormalization),
    "BatchNormalization_conv": one(IMG, lambda: L.BatchNormalization(axis=-1)),
    "LayerNormalization": one((5, 4), L.LayerNormalization),
    "Cropping1D": one((6, 2), lambda: L.Cropping1D((1, 2))),
    "Cropping2D": one((6, 6, 2), lambda: L.Cropping2D(((1, 0), (2, 1)))),
    "Cropping3D": one(VOL, lambda: L.Cropping3D(1)),
    "ZeroPadding1D": one((6, 2), lambda: L.ZeroPadding1D(2)),
    "ZeroPadding2D": one((4, 4, 2), lambda: L.ZeroPadding2D(((1, 0), (0, 2)))),
    "ZeroPadding3D": one(VOL, lambda: L.ZeroPadding3D(1)),
    "UpSampling1D": one((3, 2), lambda: L.UpSampling1D(3)),
    "UpSampling2D": one((3, 3, 2), lambda: L.UpSampling2D(2)),
    "Embedding": one((5,), lambda: L.Embedding(10, 3), dtype="int32"),
    "SimpleRNN": one(SEQ, lambda: L.SimpleRNN(4)),
    "LSTM": one(SEQ, lambda: L.LSTM(4)),
    "LSTM_sequences_backwards": one(SEQ, lambda: L.LSTM(4, return_sequences=True,
                                                        go_backwards=True)),
    "LSTM_state": on(SEQ, lambda x: L.LSTM(4, return_state=True)(x)[2]),
    "LSTM_hard_sigmoid": one(SEQ, lambda: L.LSTM(4, recurrent_activation="hard_sigmoid")),
    "GRU": one(SEQ, lambda: L.GRU(4, return_sequences=True)),
    "GRU_backwards": one(SEQ, lambda: L.GRU(4, go_backwards=True)),
    "GRU_reset_before": one(SEQ, lambda: L.GRU(4, reset_after=False)),
    "RNN_cells": one(SEQ, lambda: L.RNN([L.LSTMCell(4), L.GRUCell(3)])),
    "Masking_LSTM": on(SEQ, lambda x: L.LSTM(4)(L.Masking()(x))),
    "Masking_GRU": on(SEQ, lambda x: L.GRU(4, return_sequences=True)(L.Masking()(x))),
    "Bidirectional": one(SEQ, lambda: L.Bidirectional(L.LSTM(4, return_sequences=True))),
    "TimeDistributed": one(SEQ, lambda: L.TimeDistributed(L.Dense(2))),
    "Attention": on((4, 6), lambda x: L.Attention(use_scale=True)([x, x])),
    "MultiHeadAttention": on((4, 6), lambda x: L.MultiHeadAttention(2, 3)(x, x)),
    "Add": two_inputs(L.Add), "Subtract": two_inputs(L.Subtract),
    "Multiply": two_inputs(L.Multiply), "Average": two_inputs(L.Average),
    "Maximum": two_inputs(L.Maximum), "Minimum": two_inputs(L.Minimum),
    "Concatenate": two_inputs(L.Concatenate),
    "operators": on((4,), lambda x: (x + 1.0) * x[:, :1] - x / 2.0),
}


def _inputs(model, batch, rng):
    out = []
    for t in model.inputs:
        shape = (batch,) + tuple(t.shape[1:])
        if t.dtype.startswith("int"):
            out.append(rng.integers(0, 10, shape).astype(t.dtype))
            continue
        x = rng.standard_normal(shape).astype(np.float32)
        if len(shape) == 3:
            x[:, 3:] = 0.0  # trailing zero steps: what Masking masks
        out.append(x)
    return out


def assert_runs_as_predict(model, batches=(2, 5), atol=1e-5):
    proto = export.to_onnx(model)
    rng = np.random.default_rng(0)
    for batch in batches:
        x = _inputs(model, batch, rng)
        want = model.predict(x if len(x) > 1 else x[0], verbose=0)
        got = export.run(proto, *x)
        for g, w in zip(got, tf.nest.flatten(want)):
            assert g.shape == w.shape
            np.testing.assert_allclose(g, w, rtol=1e-5, atol=atol)
    return proto


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_layer_exports(name):
    keras.utils.set_random_seed(1)
    model = LAYERS[name]()
    for layer in model.layers:  # moving statistics other than 0 and 1
        if isinstance(layer, L.BatchNormalization):
            layer.moving_mean.assign(tf.random.normal(layer.moving_mean.shape))
            layer.moving_variance.assign(tf.random.uniform(layer.moving_variance.shape) + 0.5)
    assert_runs_as_predict(model)


def _example(name):
    sys.path.insert(0, str(ROOT / "examples"))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.pop(0)


@pytest.mark.parametrize("example", ["mnist_mlp", "mnist_cnn", "lstm_fashion_mnist"])
def test_example_models_export(example):
    keras.utils.set_random_seed(0)
    model = _example(example).build_model(keras)
    proto = assert_runs_as_predict(model, batches=(1, 3))
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"


def test_the_linear_classifier_example_as_a_tf_function():
    data = _example("linear_classifier").make_data()[0]
    w, b = tf.Variable(tf.random.uniform((2, 1))), tf.Variable(tf.zeros((1,)))
    model = tf.function(lambda x: tf.matmul(x, w) + b,
                        input_signature=[tf.TensorSpec((None, 2))])
    got = export.run(export.to_onnx(model), data)[0]
    np.testing.assert_allclose(got, model(data).numpy(), rtol=1e-6, atol=1e-6)


def test_a_subclassed_model_exports_from_its_first_call():
    class Tower(keras.Model):
        def __init__(self):
            super().__init__()
            self.a, self.b = L.Dense(8, activation="relu"), L.Dense(2)

        def call(self, x, training=False):
            return self.b(self.a(x))
    model = Tower()
    x = np.ones((3, 5), np.float32)
    model(x)
    np.testing.assert_allclose(export.run(export.to_onnx(model), x)[0], model(x).numpy(),
                               rtol=1e-6, atol=1e-6)


def test_nested_models_and_multiple_outputs():
    inner = keras.Sequential([keras.Input(shape=(4,)), L.Dense(3, activation="relu")])
    inp = keras.Input(shape=(4,))
    h = inner(inp)
    model = keras.Model(inp, [L.Dense(2, name="left")(h), L.Dense(1, name="right")(h)])
    proto = assert_runs_as_predict(model)
    assert [o.name for o in proto.graph.output] == ["output_0", "output_1"]


def test_variables_are_initializers_named_by_their_path():
    model = keras.Sequential([keras.Input(shape=(3,)), L.Dense(2, name="dense_a")], name="seq")
    proto = export.to_onnx(model)
    names = {i.name for i in proto.graph.initializer}
    assert {"seq_dense_a_kernel", "seq_dense_a_bias"} <= names  # paths: seq/dense_a/kernel
    kernel = next(i for i in proto.graph.initializer if i.name == "seq_dense_a_kernel")
    from onnx import numpy_helper
    np.testing.assert_array_equal(numpy_helper.to_array(kernel), model.layers[0].kernel.numpy())


def test_an_op_without_onnx_equivalent_is_named_with_its_layer():
    inp = keras.Input(shape=(4,))
    out = L.Lambda(lambda x: tf.math.lgamma(tf.abs(x) + 1.0), name="log_gamma")(L.Dense(4)(inp))
    model = keras.Model(inp, out)
    with pytest.raises(export.ExportError, match=r"Op 'Lgamma' has no ONNX equivalent.*"
                                                 r"layer 'log_gamma'"):
        export.to_onnx(model)


def test_assignments_are_dropped_with_a_warning_and_reads_after_them_refused(caplog):
    v = tf.Variable(1.0)

    @tf.function(input_signature=[tf.TensorSpec((None,))])
    def count(x):
        v.assign_add(1.0)
        return x * 2.0
    export.to_onnx(count)
    assert "assignments are not part of the exported model" in caplog.text

    @tf.function(input_signature=[tf.TensorSpec((None,))])
    def stateful(x):
        v.assign_add(1.0)
        return x * v
    with pytest.raises(export.ExportError, match="after assigning"):
        export.to_onnx(stateful)


@pytest.mark.parametrize("bad", [12, 99, "17", True])
def test_opset_is_checked(bad):
    model = keras.Sequential([keras.Input(shape=(3,)), L.Dense(2)])
    with pytest.raises(ValueError, match=r"`opset` must be an int from 13"):
        export.to_onnx(model, opset=bad)


def test_fused_steps_export_too():
    """A trace whose MatMul -> Add -> Relu chain was fused (the rewrite rule ops/nn.py
    registers) exports as the three ONNX ops."""
    from tapeflow.function.plan import Program, passes
    model = keras.Sequential([keras.Input(shape=(600,)), L.Dense(300, activation="relu")])
    f = tf.function(lambda x: model(x), input_signature=[tf.TensorSpec((None, 600))])
    concrete = f.get_concrete_function()
    graph = concrete.graph
    program = Program(graph, concrete._output_slots)
    dict(passes())["fuse_matmul_bias_relu"](program)
    graph.steps = program.steps
    assert any(s.kernel.__name__ == "linear" for s in graph.steps if s.kernel)
    x = np.random.default_rng(0).standard_normal((4, 600)).astype(np.float32)
    np.testing.assert_allclose(export.run(export.to_onnx(concrete), x)[0],
                               model(x).numpy(), rtol=1e-4, atol=1e-4)


def test_model_export_writes_the_file(tmp_path, capsys):
    model = keras.Sequential([keras.Input(shape=(3,)), L.Dense(2)])
    path = tmp_path / "model.onnx"
    model.export(path, format="onnx", opset_version=15)
    assert capsys.readouterr().out == f"Saved artifact at '{path}'.\n"
    import onnx
    assert onnx.load(str(path)).opset_import[0].version == 15
    with pytest.raises(ValueError, match=r"Unrecognized format=tflite\. Supported formats"):
        model.export(tmp_path / "m", format="tflite")
    with pytest.raises(ValueError, match=r"format='tf_saved_model' is not available"):
        model.export(tmp_path / "m")


def test_the_export_command(tmp_path, capsys):
    from tapeflow.__main__ import main
    model = keras.Sequential([keras.Input(shape=(3,)), L.Dense(2)])
    model.save(tmp_path / "m.keras")
    assert main(["export", str(tmp_path / "m.keras"), str(tmp_path / "m.onnx"),
                 "--opset", "18"]) == 0
    assert capsys.readouterr().out == f"Saved artifact at '{tmp_path / 'm.onnx'}'.\n"
    x = np.ones((2, 3), np.float32)
    np.testing.assert_allclose(export.run(tmp_path / "m.onnx", x)[0], model(x).numpy(),
                               rtol=1e-6)
    with pytest.raises(SystemExit):
        main(["export", str(tmp_path / "missing.keras"), str(tmp_path / "m.onnx")])
