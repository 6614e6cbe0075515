"""Model and layer configs in Keras 3's layout: a Functional model as its layers with their
`inbound_nodes` (KerasTensors as `__keras_tensor__` entries naming `[layer, node, index]`),
`input_layers` and `output_layers`; a Sequential as its layer list; and the way back.

The order of a Functional model's layers is Keras's (`map_graph`: by decreasing depth, then by
traversal order from the outputs), since Keras names weight groups by position."""
import collections

from tapeflow._core import nest
from tapeflow.keras.engine.functional import Functional, InputLayer, OperatorLayer
from tapeflow.keras.engine.keras_tensor import KerasTensor
from tapeflow.keras.engine.layer import variable_scope
from tapeflow.keras.engine.sequential import Sequential


# -- Keras's layer order ---------------------------------------------------------------------------
def keras_layer_order(model):
    """The layers of a Functional model in the order Keras 3 lists them (`model.layers`)."""
    inputs, outputs = model._inputs, model._outputs
    input_ids = {id(t) for t in inputs}
    finished, order, indices = set(), [], {}

    def visit(tensor):
        layer, node_index, _ = tensor._keras_history
        node = layer._inbound_nodes[node_index]
        if id(node) in finished:
            return
        if id(layer) not in indices:
            indices[id(layer)] = len(indices)
        if not isinstance(layer, InputLayer) and id(tensor) not in input_ids:
            for t in node.input_tensors:
                visit(t)
        finished.add(id(node))
        order.append(node)

    for t in outputs:
        visit(t)
    node_depth, layer_depth, layers = {}, {}, {}
    for node in reversed(order):
        depth = max(node_depth.setdefault(id(node), 0), layer_depth.get(id(node.layer), 0))
        layer_depth[id(node.layer)] = depth
        layers[id(node.layer)] = node.layer
        node_depth[id(node)] = depth
        for t in node.input_tensors:
            parent = t._keras_history[0]._inbound_nodes[t._keras_history[1]]
            node_depth[id(parent)] = max(depth + 1, node_depth.get(id(parent), 0))
    for t in inputs:
        layer = t._keras_history[0]
        if id(layer) not in layer_depth:
            layer_depth[id(layer)] = 0
            indices[id(layer)] = -1
            layers[id(layer)] = layer
    by_depth = collections.defaultdict(list)
    for key, depth in layer_depth.items():
        by_depth[depth].append(layers[key])
    out = []
    for depth in sorted(by_depth, reverse=True):
        out.extend(sorted(by_depth[depth], key=lambda l: indices[id(l)]))
    return out


def saving_layers(model):
    """The layers Keras walks under `layers/` for a Sequential or Functional model."""
    if isinstance(model, Sequential):
        return list(model.layers)
    return keras_layer_order(model)


# -- Functional config -----------------------------------------------------------------------------
def functional_config(model):
    from tapeflow.keras.saving.serialization import serialize_keras_object
    layers = keras_layer_order(model)
    model_nodes = {id(n) for n in model._nodes}
    for t in model._inputs:
        model_nodes.add(id(t._keras_history[0]._inbound_nodes[0]))
    reindex = {}
    for layer in layers:
        kept = 0
        for i, node in enumerate(layer._inbound_nodes):
            if id(node) in model_nodes:
                reindex[(id(layer), i)] = kept
                kept += 1

    def tensor_ref(t):
        layer, node_index, index = t._keras_history
        return [layer.name, reindex.get((id(layer), node_index), 0), index]

    def arg(value):
        if isinstance(value, KerasTensor):
            return {"class_name": "__keras_tensor__",
                    "config": {"shape": list(value.shape), "dtype": value.dtype,
                               "keras_history": tensor_ref(value)}}
        if isinstance(value, (list, tuple)):
            return [arg(v) for v in value]
        if isinstance(value, dict):
            return {k: arg(v) for k, v in value.items()}
        return serialize_keras_object(value)

    entries = []
    for layer in layers:
        if isinstance(layer, OperatorLayer):
            raise NotImplementedError(
                f"Cannot save the model '{model.name}': its operation '{layer.name}' is a "
                "Python operator applied to KerasTensors. Use layers (e.g. "
                "`keras.layers.Add`) in models that are saved.")
        entry = serialize_keras_object(layer)
        entry["name"] = layer.name
        nodes = []
        if not isinstance(layer, InputLayer):
            for node in layer._inbound_nodes:
                if id(node) in model_nodes:
                    nodes.append({"args": arg(list(node.args)), "kwargs": arg(node.kwargs)})
        entry["inbound_nodes"] = nodes
        entries.append(entry)
    return {"name": model.name, "trainable": model.trainable, "layers": entries,
            "input_layers": nest.map_structure(tensor_ref, model._inputs_struct),
            "output_layers": nest.map_structure(tensor_ref, model._outputs_struct)}


def _is_ref(value):
    return isinstance(value, (list, tuple)) and len(value) == 3 and isinstance(value[0], str) \
        and isinstance(value[1], int) and isinstance(value[2], int)


def functional_from_config(config, custom_objects=None, cls=None):
    from tapeflow.keras.saving.serialization import _plain, deserialize_keras_object
    created, pending = {}, []
    tensors = {}   # (layer name, node index) -> flat output KerasTensors
    for entry in config["layers"]:
        layer = deserialize_layer(entry, custom_objects)
        name = entry.get("name", layer.name)
        created[name] = layer
        if isinstance(layer, InputLayer):
            tensors[(name, 0)] = [layer.output_tensor]
        for node in entry.get("inbound_nodes", []):
            pending.append((name, node))
    counts = collections.Counter()

    def ready(value):
        if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
            name, node_index, _ = value["config"]["keras_history"]
            return (name, node_index) in tensors
        if isinstance(value, (list, tuple)):
            return all(ready(v) for v in value)
        if isinstance(value, dict) and "class_name" not in value:
            return all(ready(v) for v in value.values())
        return True

    def resolve(value):
        if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
            name, node_index, index = value["config"]["keras_history"]
            return tensors[(name, node_index)][index]
        if isinstance(value, list):
            return [resolve(v) for v in value]
        if isinstance(value, dict) and "class_name" not in value:
            return {k: resolve(v) for k, v in value.items()}
        return deserialize_keras_object(_plain(value), custom_objects)

    while pending:
        progress = False
        for item in list(pending):
            name, node = item
            if isinstance(node, list):  # Keras 2 style node: [[name, node, index, kwargs]...]
                node = {"args": [[{"class_name": "__keras_tensor__",
                                   "config": {"keras_history": n[:3]}} for n in node]],
                        "kwargs": {}}
            args, kwargs = node.get("args", []), node.get("kwargs", {})
            if not (ready(args) and ready(kwargs)):
                continue
            out = created[name](*resolve(args), **resolve(kwargs))
            tensors[(name, counts[name])] = nest.flatten(out)
            counts[name] += 1
            pending.remove(item)
            progress = True
        if not progress:
            raise ValueError("Cannot rebuild the functional model: the layers "
                             f"{sorted({n for n, _ in pending})} wait for inputs that no "
                             "layer produces.")

    def refs(value):
        if _is_ref(value):
            name, node_index, index = value
            return tensors[(name, node_index)][index]
        if isinstance(value, dict):
            return {k: refs(v) for k, v in value.items()}
        return [refs(v) for v in value]

    inputs, outputs = refs(config["input_layers"]), refs(config["output_layers"])
    cls = cls if cls is not None and cls is not Functional else None
    if cls is not None:
        return cls(inputs=inputs, outputs=outputs, name=config.get("name"),
                   trainable=config.get("trainable", True))
    from tapeflow.keras.engine.model import Model
    return Model(inputs=inputs, outputs=outputs, name=config.get("name"),
                 trainable=config.get("trainable", True))


def sequential_from_config(config, custom_objects=None, cls=Sequential):
    model = cls(name=config.get("name"), trainable=config.get("trainable", True))
    for entry in config["layers"]:
        model.add(deserialize_layer(entry, custom_objects), rebuild=False)
    model._maybe_rebuild()
    shape = config.get("build_input_shape")
    if not model.built and shape:
        model.build(tuple(shape))
    return model


# -- layers ------------------------------------------------------------------------------------
def deserialize_layer(entry, custom_objects=None):
    """A layer from its Keras entry, not built (its model's graph builds it)."""
    from tapeflow.keras.saving.serialization import deserialize_keras_object
    entry = {k: v for k, v in entry.items() if k not in ("build_config", "inbound_nodes")}
    return deserialize_keras_object(entry, custom_objects)


def layer_from_config(cls, config, custom_objects=None):
    from tapeflow.keras.saving.serialization import _clean_layer_config
    if "layers" in config and (issubclass(cls, Sequential) or cls.__name__ == "Sequential"):
        return sequential_from_config(config, custom_objects, cls)
    if "input_layers" in config and "output_layers" in config:
        return functional_from_config(config, custom_objects, cls)
    config = _clean_layer_config(cls, config)
    if cls.__name__ == "Lambda" and isinstance(config.get("function"), (str, dict)):
        config["function"] = _lambda_function(config["function"], custom_objects)
    return cls.from_config(config)


def _lambda_function(spec, custom_objects):
    """The function of a Lambda layer's config: a registered or custom object by name."""
    from tapeflow.keras.saving.serialization import get_registered_object
    name = spec if isinstance(spec, str) else spec.get("registered_name") or spec.get("config")
    found = get_registered_object(name, custom_objects) if isinstance(name, str) else None
    if found is None:
        raise ValueError(f"Cannot restore the function of a `Lambda` layer ({name!r}): "
                         "tapeflow does not load Python bytecode from files. Register the "
                         "function with `@keras.saving.register_keras_serializable()` or pass "
                         "it in `custom_objects`.")
    return found


def _shape(value):
    if isinstance(value, (list, tuple)) and all(v is None or isinstance(v, int) for v in value):
        return tuple(value)
    if isinstance(value, (list, tuple)):
        return [_shape(v) for v in value]
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    return value


def build_from_config(layer, build_config):
    """Builds `layer` from its Keras `build_config` (`{"input_shape": ...}`)."""
    if "shapes_dict" in build_config:
        shapes = {k: _shape(v) for k, v in build_config["shapes_dict"].items()}
        with variable_scope(layer):
            layer.build(**shapes)
        layer.built = True
        return
    shape = _shape(build_config.get("input_shape"))
    if shape is None:
        return
    from tapeflow.keras.engine.model import Model
    if isinstance(layer, Model):
        layer.build(shape)
        return
    with variable_scope(layer):
        layer.build(shape)
    layer._build_shapes_dict = {"input_shape": shape}
    layer.built = True


def model_from_config(config, custom_objects=None):
    """`keras.models.model_from_config`: a model from its serialized dict."""
    from tapeflow.keras.saving.serialization import deserialize_keras_object
    return deserialize_keras_object(config, custom_objects)


def model_from_json(json_string, custom_objects=None):
    """`keras.models.model_from_json`: a model (unbuilt weights) from `model.to_json()`."""
    import json
    return model_from_config(json.loads(json_string), custom_objects)
