"""`model.summary()`: Keras 3's table (box-drawing borders, `Layer (type)` / `Output Shape`
/ `Param #` columns, plus `Connected to` for non-sequential graphs) and the parameter totals
with their sizes. Column widths follow Keras: a fraction of the line length (at most 88 or
108, and the terminal width minus 4), reduced the way its table renderer (rich) reduces them.
"""
import math
import shutil

import numpy as np

from tapeflow._core import nest


def readable_memory_size(size):
    for unit in ["B", "KB", "MB", "GB", "TB"]:
        if size / 1024 < 1:
            return f"{size:.2f} {unit}"
        size /= 1024
    return f"{size:.2f} PB"


def _unique(weights):
    return list({id(w): w for w in weights}.values())


def count_params(weights):
    return int(sum(math.prod(w.shape) for w in _unique(weights)))


def weight_memory_size(weights):
    return float(sum(math.prod(w.shape) * w.dtype.size for w in _unique(weights)))


def _ratio_reduce(total, widths):
    """Takes `total` columns off `widths` evenly, rounding as rich does."""
    out, remaining_ratio = [], len(widths)
    for w in widths:
        cut = min(w, round(total / remaining_ratio)) if remaining_ratio else 0
        out.append(w - cut)
        total -= cut
        remaining_ratio -= 1
    return out


def _wrap(text, width):
    """Word-wraps `text` into lines of at most `width` characters; a word longer than a line
    is cut short with an ellipsis, as rich does."""
    lines = []
    for para in text.split("\n"):
        stripped = para.lstrip(" ")
        line = para[:len(para) - len(stripped)]  # keep the indent of nested layers
        for word in stripped.split(" "):
            if len(word) > width:
                word = word[:width - 1] + "\u2026"
            if not line.strip():
                line += word
            elif len(line) + 1 + len(word) <= width:
                line += " " + word
            else:
                lines.append(line)
                line = word
        lines.append(line)
    return lines


def _format_shape(shape):
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ")"


def _output_shape(layer):
    if layer._inbound_nodes:
        outputs = layer._inbound_nodes[-1].outputs
        flat = nest.flatten(outputs)
        texts = [_format_shape(t.shape) for t in flat]
        if len(texts) == 1:
            return texts[0]
        return str(nest.pack_sequence_as(outputs, texts)).replace("'", "")
    shapes = layer._build_shapes_dict
    if not shapes:
        return "?"
    try:
        out = layer.compute_output_shape(shapes["input_shape"])
    except Exception:  # noqa: BLE001 - an unknown output shape shows as '?'
        return "?"
    if isinstance(out, tuple) and all(d is None or isinstance(d, int) for d in out):
        return _format_shape(out)
    return "?"


def _is_sequential_like(model):
    from tapeflow.keras.engine.functional import Functional
    from tapeflow.keras.engine.sequential import Sequential
    if isinstance(model, Sequential) or not isinstance(model, Functional):
        return True
    nodes = model._nodes
    for node in nodes:
        if len(node.input_tensors) > 1:
            return False
    inputs = [n for n in nodes if not n.input_tensors]
    if len(inputs) > 1 or len(model.outputs) > 1:
        return False
    seen = set()
    for node in nodes:
        if id(node.layer) in seen:
            return False
        seen.add(id(node.layer))
    return True


def _connections(layer, relevant):
    parts = []
    for node in layer._inbound_nodes:
        if id(node) not in relevant:
            continue
        for t in node.input_tensors:
            inbound, node_index, tensor_index = t._keras_history
            parts.append(f"{inbound.name}[{node_index}][{tensor_index}]")
    return ", ".join(parts) if parts else "-"


def _class_name(layer):
    return getattr(layer, "_display_name", None) or type(layer).__name__


def print_summary(model, line_length=None, positions=None, print_fn=None, expand_nested=False,
                  show_trainable=False, layer_range=None):
    from tapeflow.keras.engine.sequential import Sequential
    layers = model._layers_list[1:] if isinstance(model, Sequential) and model._layers_list \
        and type(model._layers_list[0]).__name__ == "InputLayer" else model.layers
    sequential_like = _is_sequential_like(model)
    if sequential_like:
        default_length, positions = 88, positions or [0.45, 0.80, 1.0]
        header = ["Layer (type)", "Output Shape", "Param #"]
        align = ["left", "left", "right"]
    else:
        default_length, positions = 108, positions or [0.3, 0.56, 0.74, 1.0]
        header = ["Layer (type)", "Output Shape", "Param #", "Connected to"]
        align = ["left", "left", "right", "left"]
    relevant = {id(n) for n in getattr(model, "_nodes", [])}
    if show_trainable:
        default_length += 12
        positions = [p * 0.90 for p in positions] + [1.0]
        header.append("Trainable")
        align.append("center")
    default_length = min(default_length, shutil.get_terminal_size().columns - 4)
    line_length = line_length or default_length
    if positions[-1] <= 1:
        positions = [int(p * line_length) for p in positions]
    widths, current = [], 0
    for pos in positions:
        width = pos - current
        if width < 4:
            raise ValueError("Insufficient console width to print summary.")
        widths.append(width)
        current += width
    # The renderer pads each cell by one space a side and draws len+1 borders; it then
    # shrinks the columns evenly until the whole table is `line_length` wide.
    cells = [w + 2 for w in widths]
    excess = sum(cells) + len(cells) + 1 - line_length
    if excess > 0:
        cells = _ratio_reduce(excess, cells)
    inner = [c - 2 for c in cells]

    def row_lines(fields):
        wrapped = [_wrap(f, w) for f, w in zip(fields, inner)]
        height = max(len(w) for w in wrapped)
        lines = []
        for i in range(height):
            parts = []
            for col, (w, a) in enumerate(zip(inner, align)):
                text = wrapped[col][i] if i < len(wrapped[col]) else ""
                text = text.rjust(w) if a == "right" else (
                    text.center(w) if a == "center" else text.ljust(w))
                parts.append(" " + text + " ")
            lines.append(parts)
        return lines

    def fields_of(layer, prefix=""):
        name = f"{prefix}{layer.name} ({_class_name(layer)})"
        if not layer.built:
            params = "0 (unbuilt)"
        else:
            params = f"{layer.count_params():,}"
        fields = [name, _output_shape(layer), params]
        if not sequential_like:
            fields.append(_connections(layer, relevant))
        if show_trainable:
            fields.append(("Y" if layer.trainable else "N") if layer.weights else "-")
        return fields

    def rows_of(layer, level=0):
        prefix = "   " * level + "└ " if level else ""
        rows = [fields_of(layer, prefix)]
        if expand_nested and getattr(layer, "layers", None):
            for sub in layer.layers:
                rows.extend(rows_of(sub, level + 1))
        return rows

    out = [f'Model: "{model.name}"']
    out.append("┏" + "┳".join("━" * c for c in cells) + "┓")
    for parts in row_lines(header):
        out.append("┃" + "┃".join(parts) + "┃")
    out.append("┡" + "╇".join("━" * c for c in cells) + "┩")
    start, stop = 0, len(layers)
    if layer_range is not None:
        names = [l.name for l in layers]
        start, stop = names.index(layer_range[0]), names.index(layer_range[1]) + 1
    rows = [r for layer in layers[start:stop] for r in rows_of(layer)]
    for i, fields in enumerate(rows):
        for parts in row_lines(fields):
            out.append("│" + "│".join(parts) + "│")
        if i < len(rows) - 1:
            out.append("├" + "┼".join("─" * c for c in cells) + "┤")
    out.append("└" + "┴".join("─" * c for c in cells) + "┘")
    trainable = model.trainable_weights
    non_trainable = model.non_trainable_weights
    t_count, t_size = count_params(trainable), weight_memory_size(trainable)
    n_count, n_size = count_params(non_trainable), weight_memory_size(non_trainable)
    opt = getattr(model, "optimizer", None)
    opt_vars = list(opt.variables) if model.__dict__.get("compiled") and opt is not None and \
        getattr(opt, "built", False) else []
    o_count, o_size = count_params(opt_vars), weight_memory_size(opt_vars)
    total = t_count + n_count + o_count
    out.append(f" Total params: {total:,} ({readable_memory_size(t_size + n_size + o_size)})")
    out.append(f" Trainable params: {t_count:,} ({readable_memory_size(t_size)})")
    out.append(f" Non-trainable params: {n_count:,} ({readable_memory_size(n_size)})")
    if opt_vars:
        out.append(f" Optimizer params: {o_count:,} ({readable_memory_size(o_size)})")
    text = "\n".join(out)
    if print_fn is None:
        print(text)
    else:
        print_fn(text + "\n")
