"""`tapeflow.export`: trained models and traced functions for other runtimes (ONNX), and
pictures of the graphs the lectures draw. This file only re-exports; the ONNX names load
`onnx` on first use, so `import tapeflow` does not pay for it."""
from tapeflow.export import model_export  # noqa: F401 (registers Model.export's "onnx")
from tapeflow.export.errors import ExportError  # noqa: F401
from tapeflow.export.pictures import function_graph, tape_graph  # noqa: F401 (and tape.graph)

_LAZY = {"to_onnx": "onnx_export", "run": "onnx_export", "supported_ops": "onnx_export",
         "DEFAULT_OPSET": "onnx_export"}


def __getattr__(name):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'tapeflow.export' has no attribute {name!r}")
    import importlib
    return getattr(importlib.import_module(f"tapeflow.export.{module}"), name)
