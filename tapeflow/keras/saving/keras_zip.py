"""The `.keras` file: a zip holding `metadata.json` (Keras version, date), `config.json` (the
model's serialized config with its `compile_config`) and `model.weights.h5` (Keras 3's h5
layout, see h5_weights.py), as Keras 3 writes it."""
import datetime
import io
import json
import zipfile

from tapeflow.keras.saving import atomic, h5_weights
from tapeflow.keras.saving.serialization import (CustomObjectScope, deserialize_keras_object,
                                                 serialize_keras_object)

KERAS_VERSION = "3.15.1"  # the Keras that ships with tensorflow 2.21, whose files we write
_CONFIG, _METADATA, _WEIGHTS = "config.json", "metadata.json", "model.weights.h5"


def _json_default(obj):
    import numpy as np
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if hasattr(obj, "as_list"):
        return obj.as_list()
    raise TypeError(f"Cannot serialize {obj!r} ({type(obj).__name__}) to JSON.")


def model_config_json(model, **kwargs):
    return json.dumps(serialize_keras_object(model), default=_json_default, **kwargs)


def save_model(model, filepath, include_optimizer=True):
    config = model_config_json(model)
    metadata = json.dumps({"keras_version": KERAS_VERSION, "date_saved":
                           datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S")})
    weights = h5_weights.h5_bytes(model, include_optimizer)
    with atomic.atomic_write(filepath) as f:
        with zipfile.ZipFile(f, "w", zipfile.ZIP_STORED) as z:
            z.writestr(_METADATA, metadata)
            z.writestr(_CONFIG, config)
            z.writestr(_WEIGHTS, weights)


def _read_zip(filepath):
    try:
        with zipfile.ZipFile(filepath, "r") as z:
            names = set(z.namelist())
            missing = [n for n in (_CONFIG, _WEIGHTS) if n not in names]
            if missing:
                raise ValueError(f"The file '{filepath}' is not a complete .keras archive: "
                                 f"it lacks {', '.join(missing)}.")
            config = z.read(_CONFIG)
            weights = z.read(_WEIGHTS)
    except (zipfile.BadZipFile, EOFError, OSError, zipfile.LargeZipFile) as e:
        if isinstance(e, FileNotFoundError):
            raise
        raise ValueError(f"Cannot read the .keras file '{filepath}': it is truncated or "
                         f"corrupt ({e}).") from None
    try:
        config = json.loads(config)
    except ValueError as e:
        raise ValueError(f"The config.json in '{filepath}' is not valid JSON ({e}).") from None
    return config, weights


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    config, weights = _read_zip(filepath)
    groups = h5_weights.read_h5(io.BytesIO(weights), f"{filepath}/{_WEIGHTS}")
    compile_config = config.get("compile_config") if compile else None
    entry = {k: v for k, v in config.items() if k != "compile_config"}
    with CustomObjectScope(custom_objects or {}):
        model = deserialize_keras_object(entry, custom_objects)
        if compile_config:
            compile_from_config(model, compile_config, custom_objects)
    plan = h5_weights.plan_assignments(model, groups, filepath,
                                       skip_optimizer=not compile_config)
    h5_weights.assign(plan)
    return model


def compile_config(model):
    """Keras's `compile_config` of a compiled model ({} when not compiled)."""
    args = getattr(model, "_saving_compile_args", None)
    if not getattr(model, "compiled", False) or args is None:
        return {}
    out = dict(args)
    out["optimizer"] = model.optimizer
    return serialize_keras_object(out)


def compile_from_config(model, config, custom_objects=None):
    config = dict(config)
    for key in ("optimizer", "loss", "metrics", "weighted_metrics", "loss_weights"):
        if key in config:
            config[key] = deserialize_keras_object(config[key], custom_objects)
    model.compile(**config)
    if model.built and model.optimizer is not None and not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)
