"""The formats `Model.export(filepath, format=...)` writes, each registered by the package that
writes it: `tapeflow.export` (above keras in the layers) registers "onnx" when it loads, so the
Keras model calls it without importing upwards."""

# Keras 3's formats; those tapeflow does not write are refused by name
KERAS_FORMATS = ("tf_saved_model", "onnx", "openvino", "litert", "torch")
_EXPORTERS = {}


def register(format, export):  # noqa: A002 - Keras's argument name
    """`export(model, filepath, verbose, input_signature, **kwargs)` writes `format`."""
    _EXPORTERS[format] = export


def export(model, filepath, format, verbose=None, input_signature=None,  # noqa: A002
           **kwargs):
    if format not in KERAS_FORMATS:
        raise ValueError(f"Unrecognized format={format}. Supported formats are: "
                         f"{list(KERAS_FORMATS)}.")
    writer = _EXPORTERS.get(format)
    if writer is None:
        raise ValueError(f"format={format!r} is not available in tapeflow; it exports "
                         f"{sorted(_EXPORTERS) or 'nothing (import tapeflow.export)'}: use "
                         "`model.export(filepath, format=\"onnx\")`.")
    writer(model, filepath, verbose=verbose, input_signature=input_signature, **kwargs)
