"""`keras.utils.model_to_dot` and `keras.utils.plot_model`: a model's layers as boxes and the
tensors between them as edges, labelled as Keras 3 labels them (name, class, shapes, dtype,
activation, trainable), with nested models as dashed clusters when `expand_nested`.

Keras returns a `pydot.Dot`; tapeflow returns a `Picture` (picture.py) with the same
`to_string()`/`write()`/`create()`, DOT source from the `graphviz` package, images from
Graphviz's `dot` program, and a text rendering where that is missing.
"""
import os

from tapeflow.keras.engine.functional import Functional
from tapeflow.keras.engine.sequential import Sequential
from tapeflow.keras.utils.picture import Picture, has_dot


def _activation_name(layer):
    act = layer.activation
    return getattr(act, "name", None) or getattr(act, "__name__", None) or str(act)


def _shape_text(structure):
    if structure is None:
        return "?"
    if isinstance(structure, dict):
        return ", ".join(f"{k}: {v}" for k, v in structure.items())
    return f"{structure}".replace("{", "").replace("}", "")


def _shapes(layer, attr):
    try:
        value = getattr(layer, attr)
    except (ValueError, AttributeError):
        return None
    if isinstance(value, dict):
        return {k: v.shape for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [v.shape for v in value]
    return value.shape


def _dtype(layer):
    try:
        out = layer.output
    except (ValueError, AttributeError):
        return None
    if isinstance(out, (list, tuple)):
        return [o.dtype for o in out]
    return out.dtype


def _label(layer, show_layer_names, show_layer_activations, show_dtype, show_shapes,
           show_trainable):
    """Keras 3's HTML-like table for one layer, and the same facts as text lines."""
    class_name = type(layer).__name__
    colspan = max(1, int(show_dtype) + int(show_trainable) + (2 if show_shapes else 0))
    title = f"<b>{layer.name}</b> ({class_name})" if show_layer_names else f"<b>{class_name}</b>"
    html = ('<table border="0" cellborder="1" bgcolor="black" cellpadding="10">'
            f'<tr><td colspan="{colspan}" bgcolor="black"><font point-size="16" color="white">'
            f"{title}</font></td></tr>")
    text = [f"{layer.name} ({class_name})" if show_layer_names else class_name]
    if show_layer_activations and getattr(layer, "activation", None) is not None:
        name = _activation_name(layer)
        html += (f'<tr><td bgcolor="white" colspan="{colspan}"><font point-size="14">'
                 f"Activation: <b>{name}</b></font></td></tr>")
        text.append(f"Activation: {name}")
    cols = []
    if show_shapes:
        if class_name != "InputLayer":
            shape = _shape_text(_shapes(layer, "input"))
            cols.append(f'<td bgcolor="white"><font point-size="14">Input shape: <b>{shape}'
                        "</b></font></td>")
            text.append(f"Input shape: {shape}")
        shape = _shape_text(_shapes(layer, "output"))
        cols.append(f'<td bgcolor="white"><font point-size="14">Output shape: <b>{shape}'
                    "</b></font></td>")
        text.append(f"Output shape: {shape}")
    if show_dtype:
        dtype = _dtype(layer) or "?"
        cols.append(f'<td bgcolor="white"><font point-size="14">Output dtype: <b>{dtype}'
                    "</b></font></td>")
        text.append(f"Output dtype: {dtype}")
    if show_trainable and layer.weights:
        color, word = ("forestgreen", "Trainable") if layer.trainable else \
            ("firebrick", "Non-trainable")
        cols.append(f'<td bgcolor="{color}"><font point-size="14" color="white"><b>{word}'
                    "</b></font></td>")
        text.append(word)
    if cols:
        html += f"<tr>{''.join(cols)}</tr>"
    return "\n".join(text), html + "</table>"


def _add_layer(picture, layer, options, cluster=None):
    text, html = _label(layer, **options)
    picture.node(id(layer), text, html=html, cluster=cluster, fontname="Helvetica", border=0,
                 margin=0)


def _is_model(layer):
    return isinstance(layer, (Functional, Sequential))


def _first_layer(model):
    """The box an edge into a nested model points at."""
    while _is_model(model):
        if isinstance(model, Functional):
            model = model.inputs[0]._keras_history[0]
        else:
            model = model.layers[0]
    return model


def _producer(source, output_index):
    """The box an edge out of a nested model starts at."""
    while _is_model(source):
        inner = source._functional if isinstance(source, Sequential) else source
        source, _, output_index = inner.outputs[output_index]._keras_history
    return source


def _connect(picture, src, dst):
    """One edge per pair of boxes, however many tensors pass between them (as Keras)."""
    if not any(s == str(id(src)) and d == str(id(dst)) for s, d, _, _ in picture.edges):
        picture.edge(id(src), id(dst), penwidth=2)


def _draw(picture, model, options, expand_nested, cluster=None):
    layers = model.layers  # a Functional's include its InputLayers, as Keras 3 draws them
    for layer in layers:
        if expand_nested and _is_model(layer):
            picture.cluster(layer.name, layer.name)
            _draw(picture, layer, options, expand_nested, cluster=layer.name)
        else:
            _add_layer(picture, layer, options, cluster)
    if isinstance(model, Sequential):
        if not expand_nested:
            for a, b in zip(layers, layers[1:]):
                _connect(picture, a, b)
            return
        for a, b in zip(layers, layers[1:]):
            _connect(picture, _producer(a, 0), _first_layer(b))
        return
    nodes = {id(n) for n in model._nodes}
    for layer in layers:
        for node in layer._inbound_nodes:
            if id(node) not in nodes:
                continue
            for tensor in node.input_tensors:
                source, _, output_index = tensor._keras_history
                if expand_nested:
                    src, dst = _producer(source, output_index), _first_layer(layer)
                else:
                    src, dst = source, layer
                _connect(picture, src, dst)


def model_to_dot(model, show_shapes=False, show_dtype=False, show_layer_names=True,
                 rankdir="TB", expand_nested=False, dpi=200, subgraph=False,
                 show_layer_activations=False, show_trainable=False, splines="ortho",
                 **kwargs):
    """The model as a `Picture` (DOT source, image or text) with Keras 3's labels.

    Args:
        model: a built Keras model.
        show_shapes, show_dtype, show_layer_names, show_layer_activations, show_trainable:
            what each layer's box shows.
        rankdir: "TB" (top to bottom) or "LR" (left to right).
        expand_nested: draw nested Functional/Sequential models as clusters of their layers.
        dpi: image resolution; splines: how edges are drawn ("ortho", "curved", ...).
    """
    if not model.built:
        raise ValueError("This model has not yet been built. Build the model first by "
                         "calling `build()` or by calling the model on a batch of data.")
    if kwargs.pop("layer_range", None) is not None:
        raise ValueError("Argument `layer_range` is no longer supported.")
    if kwargs:
        raise ValueError(f"Unrecognized keyword arguments: {kwargs}")
    options = {"show_layer_names": show_layer_names,
               "show_layer_activations": show_layer_activations, "show_dtype": show_dtype,
               "show_shapes": show_shapes, "show_trainable": show_trainable}
    attrs = {} if subgraph else {"rankdir": rankdir, "concentrate": "true", "dpi": dpi,
                                 "splines": splines}
    picture = Picture(model.name, **attrs)
    picture.node_attrs = {"shape": "record"}
    if not _is_model(model):  # a subclassed model is one box, as in Keras
        _add_layer(picture, model, options)
        return picture
    _draw(picture, model, options, expand_nested)
    return picture


def plot_model(model, to_file="model.png", show_shapes=False, show_dtype=False,
               show_layer_names=False, rankdir="TB", expand_nested=False, dpi=200,
               show_layer_activations=False, show_trainable=False, splines="ortho", **kwargs):
    """Draws the model into `to_file` (Keras 3's arguments; see `model_to_dot`).

    Images (`.png`, `.svg`, `.pdf`) need Graphviz's `dot` program; a `.dot` file gets the
    DOT source and a `.txt` file a text drawing without it. Returns an IPython `Image` when
    IPython is installed (for notebooks) and the file is an image, else the `Picture`.
    """
    if not model.built:
        raise ValueError("This model has not yet been built. Build the model first by "
                         "calling `build()` or by calling the model on a batch of data.")
    to_file = str(to_file)
    extension = os.path.splitext(to_file)[1][1:].lower() or "png"
    if extension not in ("dot", "gv", "txt") and not has_dot():
        raise ImportError("You must install graphviz (see instructions at "
                          "https://graphviz.gitlab.io/download/) for `plot_model` to work. "
                          "(Without it, `to_file` ending in .dot writes the DOT source and "
                          ".txt a text drawing.)")
    picture = model_to_dot(model, show_shapes=show_shapes, show_dtype=show_dtype,
                           show_layer_names=show_layer_names, rankdir=rankdir,
                           expand_nested=expand_nested, dpi=dpi,
                           show_layer_activations=show_layer_activations,
                           show_trainable=show_trainable, splines=splines, **kwargs)
    picture.write(to_file, format=extension)
    if extension in ("png", "jpg", "jpeg", "gif", "svg"):
        try:
            from IPython import display
        except ImportError:
            return picture
        return display.Image(filename=to_file) if extension != "svg" else \
            display.SVG(filename=to_file)
    return picture
