"""`keras.utils.model_to_dot` / `plot_model`: the boxes carry Keras 3's labels (compared with
Keras's own label function), the edges follow the model, nested models become clusters, and
files are written as DOT source or text where Graphviz's `dot` is missing."""
import os

import pytest

from tapeflow import keras

pytest.importorskip("graphviz")
L = keras.layers

FLAGS = [dict(show_layer_names=True, show_layer_activations=False, show_dtype=False,
              show_shapes=False, show_trainable=False),
         dict(show_layer_names=False, show_layer_activations=True, show_dtype=True,
              show_shapes=True, show_trainable=True),
         dict(show_layer_names=True, show_layer_activations=True, show_dtype=False,
              show_shapes=True, show_trainable=False)]


def _cnn(k):
    return k.Sequential([k.Input(shape=(28, 28, 1)),
                         k.layers.Conv2D(4, 3, activation="relu", name="conv"),
                         k.layers.MaxPooling2D(2, name="pool"), k.layers.Flatten(name="flat"),
                         k.layers.Dense(10, activation="softmax", name="out")])


@pytest.mark.parametrize("flags", FLAGS)
def test_labels_are_keras_labels(realtf, flags):
    from keras.src.utils import model_visualization as theirs
    ours_model, their_model = _cnn(keras), _cnn(realtf.keras)
    ours_model.layers[1].trainable = False
    their_model.layers[1].trainable = False
    picture = keras.utils.model_to_dot(ours_model, **flags)
    for ours, them in zip(ours_model.layers, their_model.layers):
        html = picture.nodes[str(id(ours))][1]
        assert f"<{html}>" == theirs.make_layer_label(them, **dict(flags))


def test_sequential_edges_and_graph_attributes():
    model = _cnn(keras)
    picture = keras.utils.model_to_dot(model, rankdir="LR", dpi=96)
    ids = [str(id(layer)) for layer in model.layers]
    assert list(picture.nodes) == ids
    assert [(s, d) for s, d, _, _ in picture.edges] == list(zip(ids, ids[1:]))
    assert picture.graph_attrs == {"rankdir": "LR", "concentrate": "true", "dpi": "96",
                                   "splines": "ortho"}
    src = picture.to_string()
    assert src.startswith(f"digraph {model.name} {{") and "rankdir=LR" in src
    assert str(picture).splitlines()[:2] == ["conv (Conv2D)", "pool (MaxPooling2D)"]


def test_functional_models_draw_their_inputs_and_join_branches():
    a, b = keras.Input(shape=(4,), name="a"), keras.Input(shape=(4,), name="b")
    merged = L.Concatenate(name="cat")([L.Dense(3, name="da")(a), b])
    model = keras.Model([a, b], L.Dense(1, name="head")(merged))
    picture = keras.utils.model_to_dot(model)
    by_name = {layer.name: str(id(layer)) for layer in model.layers}
    edges = {(s, d) for s, d, _, _ in picture.edges}
    assert edges == {(by_name["a"], by_name["da"]), (by_name["da"], by_name["cat"]),
                     (by_name["b"], by_name["cat"]), (by_name["cat"], by_name["head"])}


def test_expand_nested_draws_clusters():
    inner = keras.Sequential([keras.Input(shape=(4,)), L.Dense(3, name="d1"),
                              L.Dense(3, name="d2")], name="inner")
    inp = keras.Input(shape=(4,), name="x")
    model = keras.Model(inp, L.Dense(1, name="head")(inner(inp)))
    flat = keras.utils.model_to_dot(model)
    assert [t for t, *_ in flat.nodes.values()] == ["x (InputLayer)", "inner (Sequential)",
                                                   "head (Dense)"]
    nested = keras.utils.model_to_dot(model, expand_nested=True)
    assert nested.clusters == {"inner": "inner"}
    clustered = [t for t, _, _, c in nested.nodes.values() if c == "inner"]
    assert clustered == ["d1 (Dense)", "d2 (Dense)"]
    first = {t: i for i, (t, *_) in nested.nodes.items()}
    edges = {(s, d) for s, d, _, _ in nested.edges}
    assert edges == {(first["x (InputLayer)"], first["d1 (Dense)"]),
                     (first["d1 (Dense)"], first["d2 (Dense)"]),
                     (first["d2 (Dense)"], first["head (Dense)"])}
    assert "subgraph cluster_inner" in nested.source


def test_plot_model_writes_dot_and_text_without_graphviz(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no `dot`
    model = _cnn(keras)
    pic = keras.utils.plot_model(model, to_file=tmp_path / "m.dot", show_shapes=True)
    assert (tmp_path / "m.dot").read_text() == pic.source
    keras.utils.plot_model(model, to_file=tmp_path / "m.txt", show_shapes=True)
    assert (tmp_path / "m.txt").read_text().splitlines()[0] == \
        "Conv2D | Input shape: (None, 28, 28, 1) | Output shape: (None, 26, 26, 4)"
    with pytest.raises(ImportError, match=r"You must install graphviz .* for `plot_model`"):
        keras.utils.plot_model(model, to_file=tmp_path / "m.png")
    assert not os.path.exists(tmp_path / "m.png")


def test_unbuilt_models_and_bad_arguments():
    with pytest.raises(ValueError, match="has not yet been built"):
        keras.utils.model_to_dot(keras.Sequential([L.Dense(2)]))
    model = _cnn(keras)
    with pytest.raises(ValueError, match="layer_range` is no longer supported"):
        keras.utils.model_to_dot(model, layer_range=["a", "b"])
    with pytest.raises(ValueError, match="Unrecognized keyword arguments"):
        keras.utils.model_to_dot(model, colour=True)
