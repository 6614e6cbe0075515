"""`keras.saving`: `.keras` files and `.weights.h5` files in Keras 3's format, and the
serialization of objects to Keras configs. This file only re-exports."""
from tapeflow.keras.saving.saving_api import (load_model, load_weights,  # noqa: F401
                                              save_model, save_weights)
from tapeflow.keras.saving.serialization import (CustomObjectScope,  # noqa: F401
                                                 custom_object_scope,
                                                 deserialize_keras_object,
                                                 get_custom_objects, get_registered_name,
                                                 get_registered_object,
                                                 register_keras_serializable,
                                                 serialize_keras_object)
