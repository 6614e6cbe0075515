"""Keras's serialized form of configurable objects (`{"module", "class_name", "config",
"registered_name"}`) and name lookup, shared by the optimizers, losses, metrics, initializers,
activations, regularizers and constraints modules' `serialize` / `deserialize` / `get`."""
import inspect


def serialize_object(obj, module):
    """A class instance as Keras's dict; a plain function as its name."""
    if obj is None:
        return None
    if inspect.isfunction(obj) or inspect.isbuiltin(obj):
        return obj.__name__
    return {"module": module, "class_name": type(obj).__name__, "config": obj.get_config(),
            "registered_name": None}


def deserialize_object(config, objects, custom_objects=None, kind="object"):
    """An object from its serialized form: a dict (class name + config) or a name."""
    lookup = dict(objects)
    if custom_objects:
        lookup.update(custom_objects)
    if isinstance(config, str):
        found = lookup.get(config)
        if found is None:
            raise ValueError(f"Could not interpret {kind} identifier: {config}")
        return found
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"Could not interpret {kind} identifier: {config}")
    name = config["class_name"]
    cls = lookup.get(name)
    if cls is None:
        raise ValueError(f"Could not interpret {kind} identifier: {config}")
    inner = config.get("config", {})
    if not isinstance(cls, type):  # a function registered under a name
        return cls
    if hasattr(cls, "from_config"):
        return cls.from_config(dict(inner))
    return cls(**inner)


def get_object(identifier, objects, deserialize, kind, instantiate=True):
    """What a module's `get` returns: None for None; a config dict through `deserialize`, a
    name looked up in `objects`, anything else as given; then a class is instantiated with
    no arguments (unless `instantiate=False`) and any other callable returned as it is."""
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        obj = deserialize(identifier)
    elif isinstance(identifier, str):
        obj = objects.get(identifier)
    else:
        obj = identifier
    if callable(obj):
        return obj() if instantiate and inspect.isclass(obj) else obj
    raise ValueError(f"Could not interpret {kind} identifier: {identifier}")
