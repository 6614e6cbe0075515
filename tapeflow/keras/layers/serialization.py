"""`keras.layers.serialize` / `deserialize`: a layer as Keras's config dict and back (the
logic, with the custom-object registry, lives in keras/saving/serialization.py)."""


def serialize(layer):
    from tapeflow.keras.saving.serialization import serialize_keras_object
    return serialize_keras_object(layer)


def deserialize(config, custom_objects=None):
    from tapeflow.keras.saving.serialization import deserialize_keras_object
    return deserialize_keras_object(config, custom_objects)
