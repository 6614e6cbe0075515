"""`keras.layers.serialize` / `deserialize`: a layer as Keras's config dict and back."""


def serialize(layer):
    return {"module": "keras.layers", "class_name": type(layer).__name__,
            "config": layer.get_config(), "registered_name": None}


def deserialize(config, custom_objects=None):
    from tapeflow.keras import layers
    name = config["class_name"]
    cls = (custom_objects or {}).get(name) or getattr(layers, name, None)
    if cls is None:
        raise TypeError(f"Could not locate class '{name}'. Make sure custom classes are "
                        "decorated with `@keras.saving.register_keras_serializable()`. "
                        f"Full object config: {config}")
    return cls.from_config(dict(config["config"]))
