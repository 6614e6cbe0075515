"""`keras.optimizers`: the optimizers, their learning-rate schedules, and `get` /
`serialize` / `deserialize` (names are matched case-insensitively, as Keras does)."""
from tapeflow.keras.optimizers import schedules  # noqa: F401  (first: optimizer imports it)
from tapeflow.keras.optimizers.optimizer import Optimizer
from tapeflow.keras.optimizers.sgd import SGD
from tapeflow.keras.optimizers.adam import Adam, AdamW
from tapeflow.keras.optimizers.rmsprop import RMSprop
from tapeflow.keras.optimizers.adagrad import Adagrad
from tapeflow.keras.optimizers.nadam import Nadam
from tapeflow.keras.optimizers.adamax import Adamax
from tapeflow.keras.optimizers.adadelta import Adadelta
from tapeflow.keras.optimizers.lion import Lion
from tapeflow.keras.optimizers.ftrl import Ftrl
from tapeflow.keras.optimizers.adafactor import Adafactor
from tapeflow.keras.optimizers.loss_scale_optimizer import LossScaleOptimizer
from tapeflow.keras._objects import deserialize_object, serialize_object

ALL_OBJECTS_DICT = {cls.__name__.lower(): cls
                    for cls in (Optimizer, SGD, Adam, AdamW, RMSprop, Adagrad, Nadam,
                                Adamax, Adadelta, Lion, Ftrl, Adafactor, LossScaleOptimizer)}


def serialize(optimizer):
    """The optimizer's configuration as Keras's dict."""
    return serialize_object(optimizer, "keras.optimizers")


def deserialize(config, custom_objects=None):
    """An optimizer from its configuration dict (`{"class_name": ..., "config": ...}`)."""
    config = dict(config)
    if config["class_name"].lower() in ALL_OBJECTS_DICT:
        config["class_name"] = config["class_name"].lower()
    return deserialize_object(config, ALL_OBJECTS_DICT, custom_objects, "optimizer")


def get(identifier):
    """An optimizer from a name ('adam', 'rmsprop'...), a config dict, or an instance."""
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        obj = deserialize(identifier)
    elif isinstance(identifier, str):
        obj = deserialize({"class_name": identifier, "config": {}}) \
            if identifier.lower() in ALL_OBJECTS_DICT else None
    else:
        obj = identifier
    if isinstance(obj, Optimizer):
        return obj
    raise ValueError(f"Could not interpret optimizer identifier: {identifier}")
