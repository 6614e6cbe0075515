"""The error the exporters raise (kept free of the `onnx` import, which is paid only when an
export runs)."""


class ExportError(ValueError):
    """A function or model cannot be converted to ONNX (an op without an ONNX equivalent, a
    stateful step, a dimension that cannot stay dynamic). `op` names the TF op at fault."""

    def __init__(self, message, op=None):
        super().__init__(message)
        self.op = op
