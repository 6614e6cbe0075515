"""`tf.ragged`: re-exports of the ragged factories and helpers (tapeflow/ops/ragged.py,
tapeflow/ops/ragged_tensor.py)."""
from tapeflow.ops.ragged import constant, map_flat_values  # noqa: F401
from tapeflow.ops.ragged_tensor import RaggedTensor, RaggedTensorSpec  # noqa: F401
