"""Pictures of tapes and traced functions: the structure and labels of the graph (values of the
forward pass, the gradient on each edge of the backward pass, fused ops), not pixels. The
`dot` program is not needed: images are tested with a stand-in `dot` on the PATH."""
import os
import re
import stat

import pytest

import tapeflow as tf
from tapeflow import keras
from tapeflow.keras.utils import picture as picture_module

pytest.importorskip("graphviz")


def lecture():
    """The lecture's graph: loss = |y_true - (w * x + b)| with x=2, w=3, b=1, y_true=4; and
    its tensors by name (drawn from here, the picture would find them itself)."""
    x, y_true = tf.constant(2.0), tf.constant(4.0)
    w, b = tf.Variable(3.0), tf.Variable(1.0)
    with tf.GradientTape(persistent=True) as tape:
        x1 = w * x
        x2 = x1 + b
        loss = tf.abs(y_true - x2)
    names = {"x": x, "y_true": y_true, "w": w, "b": b, "x1": x1, "x2": x2, "loss": loss}
    return tape, names


def node_of(pic, first_line):
    return next(i for i, (text, *_) in pic.nodes.items() if text.splitlines()[0] == first_line)


def edge_label(pic, src, dst):
    labels = [t for s, d, t, _ in pic.edges if s == src and d == dst]
    assert len(labels) == 1, (src, dst, pic.edges)
    return labels[0]


def test_the_lecture_graph_forward_values():
    tape, names = lecture()
    pic = tape.graph(names=names)
    texts = {t.splitlines()[0]: t.splitlines()[1:] for t, *_ in pic.nodes.values()}
    assert texts["Mul"] == ["x1 = 6"] and texts["AddV2"] == ["x2 = 7"]
    assert texts["Abs"] == ["loss = 3"] and texts["Sub"] == ["= -3"]
    assert texts["w (Variable)"] == ["= 3"] and texts["x"] == ["= 2"]
    assert texts["y_true"] == ["= 4"]
    # the variables' reads are the variables themselves: 4 ops, 4 leaves, 7 edges
    assert len(pic.nodes) == 8 and len(pic.edges) == 7
    assert not any(t for *_, t, _ in pic.edges)  # no gradient yet: no edge labels


def test_the_lecture_graph_backward_gradients_match_tensorflow(realtf):
    tape, names = lecture()
    tape.gradient(names["loss"], [names["w"], names["b"]])
    pic = tape.graph(names=names)
    mul, add, sub, ab = (node_of(pic, n) for n in ("Mul", "AddV2", "Sub", "Abs"))
    w_node, b_node = node_of(pic, "w (Variable)"), node_of(pic, "b (Variable)")
    tw, tb = realtf.Variable(3.0), realtf.Variable(1.0)
    with realtf.GradientTape() as t:
        x2 = tw * 2.0 + tb
        tloss = realtf.abs(4.0 - x2)
    gw, gb = t.gradient(tloss, [tw, tb])
    assert edge_label(pic, w_node, mul) == f"grad {float(gw):g}" == "grad 2"
    assert edge_label(pic, b_node, add) == f"grad {float(gb):g}" == "grad 1"
    assert edge_label(pic, mul, add) == "grad 1" and edge_label(pic, add, sub) == "grad 1"
    assert edge_label(pic, sub, ab) == "grad -1"
    # the constants get no gradient (TF computes none for them); the target is ringed
    assert edge_label(pic, node_of(pic, "x"), mul) is None
    assert edge_label(pic, node_of(pic, "y_true"), sub) is None
    assert pic.nodes[ab][2]["peripheries"] == "2"
    assert "grad = 2" in pic.label(w_node)


def test_a_non_persistent_tape_is_drawn_with_its_target_before_gradient():
    x = tf.Variable([1.0, 2.0])
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(x * x)
    pic = tape.graph(y, [x])
    # each edge of x * x carries its own share; the leaf shows the sum
    assert [t for *_, t, _ in pic.edges][:2] == ["grad [1, 2]", "grad [1, 2]"]
    assert pic.label(node_of(pic, "x (Variable)")) == "x (Variable)\n= [1, 2]\ngrad = [2, 4]"
    tape.gradient(y, x)
    with pytest.raises(RuntimeError, match="persistent=True"):
        tape.graph()


def test_large_tensors_show_dtype_and_shape_and_names_can_be_given():
    x = tf.ones((3, 4))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.matmul(x, tf.ones((4, 2)))
    pic = tape.graph(names={"features": x})
    texts = [t for t, *_ in pic.nodes.values()]
    assert "features\n= float32 (3, 4)" in texts
    assert "MatMul\ny = [[4, 4], [4, 4], [4, 4]]" in texts  # 6 elements: values


def test_dot_source_and_text_with_the_callers_names():
    x = tf.constant(2.0)
    w, b = tf.Variable(3.0), tf.Variable(1.0)
    with tf.GradientTape(persistent=True) as tape:
        x1 = w * x
        loss = tf.abs(4.0 - (x1 + b))
    tape.gradient(loss, [w, b])
    pic = tape.graph()
    src = pic.source
    assert src.startswith("digraph tape {") and "rankdir=LR" in src
    assert len(re.findall(r" -> ", src)) == 7  # a Python number is drawn as a constant too
    assert '[label="grad 2"]' in src and r'label="Mul\nx1 = 6\ngrad = 1"' in src
    text = str(pic).splitlines()
    assert text[0] == "w (Variable) | = 3 | grad = 2"
    assert "    <- w (Variable)   (grad 2)" in text


def test_images_need_dot_and_text_does_not(tmp_path, monkeypatch):
    tape, names = lecture()
    pic = tape.graph(names=names)
    monkeypatch.setenv("PATH", str(tmp_path))  # no `dot` here
    assert pic._repr_svg_() is None
    with pytest.raises(ImportError, match="install graphviz"):
        pic.write(tmp_path / "g.svg")
    pic.write(tmp_path / "g.txt")
    pic.write(tmp_path / "g.dot")
    assert (tmp_path / "g.txt").read_text() == pic.text()
    assert (tmp_path / "g.dot").read_text() == pic.source
    # a stand-in `dot` that answers with a fixed drawing: the picture pipes its source to it
    fake = tmp_path / "dot"
    fake.write_text(f"#!/bin/sh\n/bin/cat > {tmp_path / 'got.dot'}\necho '<svg>ok</svg>'\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    assert picture_module.has_dot()
    assert pic._repr_svg_().strip() == "<svg>ok</svg>"
    assert (tmp_path / "got.dot").read_text() == pic.source
    pic.write(tmp_path / "g.png")
    assert (tmp_path / "g.png").read_bytes().strip() == b"<svg>ok</svg>"


def test_a_tf_function_after_the_passes_shows_the_fused_ops():
    model = keras.Sequential([keras.Input(shape=(784,)), keras.layers.Dense(64, "relu", name="h"),
                              keras.layers.Dense(10, activation="softmax", name="out")],
                             name="m")
    f = tf.function(lambda x: model(x), input_signature=[tf.TensorSpec((None, 784))])
    pic = tf.export.function_graph(f)
    firsts = [t.splitlines()[0] for t, *_ in pic.nodes.values()]
    assert firsts == ["x (input)", "m/h/kernel (variable)", "m/h/bias (variable)",
                      "_FusedMatMul (MatMul, BiasAdd, Relu)", "m/out/kernel (variable)",
                      "m/out/bias (variable)", "_FusedMatMul (MatMul, BiasAdd)", "Softmax",
                      "output_0"]
    assert pic.label(node_of(pic, "Softmax")) == "Softmax\nfloat32 (None, 10)"
    traced = tf.export.function_graph(f, passes=False)
    ops = [t.splitlines()[0] for t, _, attrs, _ in traced.nodes.values()
           if attrs["shape"] == "ellipse"]
    assert ops[:3] == ["MatMul", "AddV2", "Relu"]


def test_a_concrete_function_with_constants_and_assignments():
    v = tf.Variable(0.0)

    @tf.function
    def step(x):
        v.assign_add(tf.reduce_sum(x))
        return x * 2.0
    pic = tf.export.function_graph(step, tf.constant([1.0, 2.0]))
    texts = [t for t, *_ in pic.nodes.values()]
    assert "AssignVariableOp\nVariable" in texts
    assert "constant\n2" in texts


def test_without_the_graphviz_package_text_still_works(monkeypatch):
    import sys
    tape, names = lecture()
    pic = tape.graph(names=names)
    monkeypatch.setitem(sys.modules, "graphviz", None)
    assert str(pic).startswith("w (Variable)")
    with pytest.raises(ImportError, match="pip install graphviz"):
        pic.source  # noqa: B018


def test_an_example_renders_the_lecture_graph(tmp_path, monkeypatch, capsys):
    import runpy
    import sys
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    monkeypatch.setattr(sys, "argv", ["graph_pictures.py", "--out", str(tmp_path)])
    runpy.run_path(os.path.join(root, "examples", "graph_pictures.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert "loss = 3, d loss / d w = 2, d loss / d b = 1" in out
    assert "Mul | x1 = 6 | grad = 1" in out and "(grad 2)" in out
    assert "w (variable) | float32 ()" in out  # the tf.function's plan names w too
    written = {p.name for p in tmp_path.iterdir()}
    assert {"lecture_graph.dot", "lecture_graph.txt", "function_graph.dot", "model.txt"} <= \
        written
