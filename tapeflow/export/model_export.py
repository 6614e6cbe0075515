"""`Model.export(filepath, format="onnx")`: Keras 3's export call, written by `to_onnx`.

Keras sits below export in the layers, so this module registers the writer with
`keras.saving.exporters` when `tapeflow.export` loads (as `import tapeflow` does); the
`onnx` package is imported only when a model is exported.
"""
import os

from tapeflow.keras.saving import exporters


def export_model(model, filepath, verbose=None, input_signature=None, opset_version=None,
                 **kwargs):
    """Writes `model` as an ONNX file at `filepath`, printing Keras's message unless
    `verbose=False`."""
    if kwargs:
        raise ValueError(f"Unrecognized keyword arguments for format='onnx': {sorted(kwargs)}")
    from tapeflow.export.onnx_export import DEFAULT_OPSET, to_onnx
    filepath = os.fspath(filepath)
    to_onnx(model, input_signature, filepath,
            opset=DEFAULT_OPSET if opset_version is None else opset_version)
    if verbose is None or verbose:
        print(f"Saved artifact at '{filepath}'.")


exporters.register("onnx", export_model)
