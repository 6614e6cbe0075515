"""Keras 3's serialized form of objects (`{"module", "class_name", "config",
"registered_name"}`), the registry of custom objects (`register_keras_serializable`,
`custom_object_scope`) and the lookup that turns a config back into an object.

Layers carry a `build_config` (the input shape they were built with); a config written by real
Keras (extra keys such as `quantization_config`, `ragged`, `shared_object_id`, `__tuple__`
wrappers) is accepted."""
import inspect
import threading

import numpy as np

from tapeflow._core.tensor import constant

_GLOBAL_CUSTOM_OBJECTS = {}
_GLOBAL_CUSTOM_NAMES = {}
_scope = threading.local()

# Keys Keras 3 writes that tapeflow's constructors do not take (dropped when not accepted).
_IGNORABLE_KEYS = frozenset({"quantization_config", "ragged", "optional", "lora_rank",
                             "lora_alpha", "shared_object_id", "build_input_shape",
                             })
_IF_DEFAULT = {"renorm": False, "renorm_clipping": None, "renorm_momentum": 0.99,
               "synchronized": False, "use_gate": False, "sliding_window": None,
               "flash_attention": None, "use_cudnn": "auto"}


def register_keras_serializable(package="Custom", name=None):
    """Decorator registering a class or function as `package>name` for (de)serialization."""

    def decorator(arg):
        class_name = name if name is not None else arg.__name__
        registered_name = package + ">" + class_name
        if inspect.isclass(arg) and not hasattr(arg, "get_config"):
            raise ValueError("Cannot register a class that does not have a get_config() method.")
        _GLOBAL_CUSTOM_OBJECTS[registered_name] = arg
        _GLOBAL_CUSTOM_NAMES[arg] = registered_name
        return arg
    return decorator


def get_registered_name(obj):
    return _GLOBAL_CUSTOM_NAMES.get(obj, getattr(obj, "__name__", None))


def get_registered_object(name, custom_objects=None, module_objects=None):
    scoped = _scope_objects()
    if name in scoped:
        return scoped[name]
    if name in _GLOBAL_CUSTOM_OBJECTS:
        return _GLOBAL_CUSTOM_OBJECTS[name]
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    if module_objects and name in module_objects:
        return module_objects[name]
    return None


def get_custom_objects():
    """The global dict of custom objects (registered names to classes/functions)."""
    return _GLOBAL_CUSTOM_OBJECTS


def _scope_objects():
    out = {}
    for d in getattr(_scope, "stack", ()):
        out.update(d)
    return out


class CustomObjectScope:
    """`with custom_object_scope({"MyLayer": MyLayer}):` makes the names visible to
    deserialization inside the block."""

    def __init__(self, custom_objects):
        self.custom_objects = dict(custom_objects or {})

    def __enter__(self):
        if not hasattr(_scope, "stack"):
            _scope.stack = []
        _scope.stack.append(self.custom_objects)
        return self

    def __exit__(self, *exc):
        _scope.stack.pop()


custom_object_scope = CustomObjectScope


# -- serialization -------------------------------------------------------------------------------
def _module_of(obj):
    from tapeflow.keras.engine.layer import Layer
    from tapeflow.keras.engine.model import Model
    from tapeflow.keras.engine.functional import Functional
    from tapeflow.keras.engine.sequential import Sequential
    from tapeflow.keras import losses, metrics, optimizers
    cls = type(obj)
    if cls in _GLOBAL_CUSTOM_NAMES:
        return cls.__module__
    if isinstance(obj, Functional) and not isinstance(obj, Sequential):
        return "keras.src.models.functional"
    if isinstance(obj, (Sequential, Model)):
        return "keras"
    if isinstance(obj, Layer):
        return "keras.layers"
    if isinstance(obj, optimizers.Optimizer):
        return "keras.optimizers"
    if isinstance(obj, losses.Loss):
        return "keras.losses"
    if isinstance(obj, metrics.Metric):
        return "keras.metrics"
    mod = cls.__module__
    for part in ("initializers", "regularizers", "constraints", "optimizers", "losses",
                 "metrics", "activations", "layers"):
        if f".keras.{part}" in mod or mod.endswith(f".{part}"):
            return f"keras.{part}"
    return mod


def serialize_keras_object(obj):
    """An object as Keras 3's JSON-able config."""
    from tapeflow._core.tensor import Tensor
    from tapeflow.keras.engine.layer import Layer
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, (np.generic,)):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return {"class_name": "__numpy__", "config": {"value": obj.tolist(),
                                                       "dtype": str(obj.dtype)}}
    if isinstance(obj, Tensor):
        return {"class_name": "__tensor__", "config": {"value": obj.numpy().tolist(),
                                                        "dtype": obj.dtype.name}}
    if isinstance(obj, (list, tuple)):
        return [serialize_keras_object(v) for v in obj]
    if isinstance(obj, dict):
        return {k: serialize_keras_object(v) for k, v in obj.items()}
    if hasattr(obj, "name") and hasattr(obj, "as_numpy_dtype"):
        return obj.name
    if inspect.isfunction(obj) or inspect.isbuiltin(obj):
        if obj in _GLOBAL_CUSTOM_NAMES:
            return {"module": obj.__module__, "class_name": "function",
                    "config": _GLOBAL_CUSTOM_NAMES[obj],
                    "registered_name": _GLOBAL_CUSTOM_NAMES[obj]}
        return obj.__name__
    if inspect.isclass(obj):
        return {"class_name": "__typespec__", "config": obj.__name__}
    if not hasattr(obj, "get_config"):
        raise TypeError(f"Cannot serialize {obj!r}: it has no `get_config()` method.")
    cls = type(obj)
    inner = obj.get_config()
    config = {"module": _module_of(obj), "class_name": cls.__name__,
              "config": serialize_keras_object(inner),
              "registered_name": _GLOBAL_CUSTOM_NAMES.get(cls)}
    if config["module"] == "keras.src.models.functional":
        config["registered_name"] = "Functional"
    if isinstance(obj, Layer):
        build = _build_config(obj)
        if build:
            config["build_config"] = serialize_keras_object(build)
        from tapeflow.keras.engine.model import Model
        if isinstance(obj, Model):
            from tapeflow.keras.saving.keras_zip import compile_config
            config["compile_config"] = compile_config(obj)
    return config


def _build_config(layer):
    """Keras's `build_config`: `{"input_shape": ...}`, or `{"shapes_dict": {"<arg>_shape":
    ...}}` for a layer whose call takes several tensors (attention), from its first call."""
    from tapeflow.keras.engine.keras_tensor import KerasTensor
    build = layer.__dict__.get("_build_shapes_dict")
    if not layer.built or not build:
        return None
    nodes = layer.__dict__.get("_inbound_nodes") or ()
    node = next((n for n in nodes if n.args), None)
    if node is None:
        return dict(build)
    try:
        bound = inspect.signature(type(layer).call).bind(None, *node.args, **node.kwargs)
    except TypeError:
        return dict(build)
    shapes = {f"{name}_shape": list(value.shape) for name, value in bound.arguments.items()
              if isinstance(value, KerasTensor)}
    if len(shapes) > 1:
        return {"shapes_dict": shapes}
    return dict(build)


# -- deserialization -----------------------------------------------------------------------------
def _plain(value):
    """Undo Keras's wrappers (`__tuple__`, `__numpy__`, `__tensor__`) in plain data."""
    if isinstance(value, dict):
        cn = value.get("class_name")
        if cn == "__tuple__":
            return tuple(_plain(v) for v in value["config"]["value"])
        if cn == "__numpy__":
            return np.asarray(value["config"]["value"], dtype=value["config"]["dtype"])
        if cn == "__tensor__":
            return constant(np.asarray(value["config"]["value"], dtype=value["config"]["dtype"]))
        return {k: _plain(v) for k, v in value.items() if k != "shared_object_id"}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _accepted_kwargs(cls):
    """Names `cls(...)` takes, following `**kwargs` up the MRO; None when it takes anything."""
    names = set()
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        try:
            params = inspect.signature(init).parameters
        except (TypeError, ValueError):
            return None
        names.update(n for n, p in params.items() if p.kind not in (p.VAR_KEYWORD,
                                                                      p.VAR_POSITIONAL))
        if not any(p.kind is p.VAR_KEYWORD for p in params.values()) or \
                klass.__module__ == "tapeflow.keras.engine.layer":
            return names
    return None


def _clean_layer_config(cls, config):
    accepted = _accepted_kwargs(cls)
    if accepted is None:
        return config
    # Keys Keras writes that tapeflow's layer does not take are dropped when known to be
    # irrelevant (or, for `_IF_DEFAULT`, at Keras's default); any other unknown key reaches
    # the constructor, whose error names it.
    return {k: v for k, v in config.items()
            if k in accepted or not (k in _IGNORABLE_KEYS or
                                     (k in _IF_DEFAULT and v == _IF_DEFAULT[k]))}


def _module_lookup(module, class_name):
    from tapeflow import keras
    for part in ("layers", "optimizers", "losses", "metrics", "initializers", "regularizers",
                 "constraints", "activations"):
        if module and (module == f"keras.{part}" or module.startswith(f"keras.src.{part}")):
            return getattr(getattr(keras, part), class_name, None)
    if class_name in ("Functional", "Model"):
        return keras.Model
    if class_name == "Sequential":
        return keras.Sequential
    for part in ("layers", "optimizers", "losses", "metrics", "initializers", "regularizers",
                 "constraints"):
        found = getattr(getattr(keras, part), class_name, None)
        if inspect.isclass(found):
            return found
    return None


def _resolve(config, custom_objects):
    class_name = config["class_name"]
    registered = config.get("registered_name")
    for name in (registered, class_name):
        if name:
            found = get_registered_object(name, custom_objects)
            if found is not None:
                return found
    return _module_lookup(config.get("module"), class_name)


def deserialize_keras_object(config, custom_objects=None, safe_mode=True, **kwargs):
    """The object described by a Keras config (a dict with `class_name`, or a plain value)."""
    if config is None or isinstance(config, (bool, int, float)):
        return config
    if isinstance(config, str):
        found = get_registered_object(config, custom_objects)
        return found if found is not None else config
    if isinstance(config, (list, tuple)):
        return [deserialize_keras_object(v, custom_objects) for v in config]
    if not isinstance(config, dict) or "class_name" not in config:
        return _plain(config)
    class_name = config["class_name"]
    if class_name in ("__tuple__", "__numpy__", "__tensor__"):
        return _plain(config)
    if class_name == "function":
        found = _resolve({"class_name": config.get("config"),
                          "registered_name": config.get("registered_name")}, custom_objects)
        if found is None:
            from tapeflow.keras import activations
            found = getattr(activations, str(config.get("config")), None)
        if found is None:
            raise TypeError(f"Could not locate function '{config.get('config')}'. Make sure "
                            "custom functions are decorated with "
                            "`@keras.saving.register_keras_serializable()`.")
        return found
    if class_name == "DTypePolicy":
        return _plain(config).get("config", {}).get("name", "float32")
    cls = _resolve(config, custom_objects)
    if cls is None:
        raise TypeError(f"Could not locate class '{class_name}'. Make sure custom classes are "
                        "decorated with `@keras.saving.register_keras_serializable()`. "
                        f"Full object config: {config}")
    inner = _plain(config.get("config", {}))
    from tapeflow.keras.engine.layer import Layer
    if inspect.isclass(cls) and issubclass(cls, Layer):
        from tapeflow.keras.saving import model_config
        with CustomObjectScope(custom_objects or {}):
            obj = model_config.layer_from_config(cls, inner, custom_objects)
        build = _plain(config.get("build_config"))
        if build and not obj.built:
            model_config.build_from_config(obj, build)
        return obj
    if not inspect.isclass(cls):
        return cls
    with CustomObjectScope(custom_objects or {}):
        if hasattr(cls, "from_config"):
            return cls.from_config(inner)
        return cls(**inner)
