"""Keras's global settings: the default float type (`floatx`), the fuzz factor (`epsilon`),
the image data format, and `clear_session()` (which also restarts the default names)."""
from tapeflow.keras.engine import naming

_settings = {"floatx": "float32", "epsilon": 1e-7, "image_data_format": "channels_last"}


def floatx():
    return _settings["floatx"]


def set_floatx(value):
    accepted = {"bfloat16", "float16", "float32", "float64"}
    if value not in accepted:
        raise ValueError(f"Unknown `floatx` value: {value}. Expected one of {accepted}")
    _settings["floatx"] = str(value)


def epsilon():
    return _settings["epsilon"]


def set_epsilon(value):
    _settings["epsilon"] = float(value)


def image_data_format():
    return _settings["image_data_format"]


def set_image_data_format(data_format):
    if data_format not in ("channels_first", "channels_last"):
        raise ValueError("The `data_format` argument must be one of {'channels_first', "
                         f"'channels_last'}}. Received: data_format={data_format}")
    _settings["image_data_format"] = data_format


def clear_session(free_memory=True):
    """Resets Keras's global state: default layer names start again at `dense`."""
    naming.clear_session()


def backend():
    return "tensorflow"
