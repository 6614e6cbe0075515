"""`tf.sparse`: re-exports of the SparseTensor type (tapeflow/_core/sparse_tensor.py)."""
from tapeflow._core.sparse_tensor import SparseTensor, SparseTensorSpec  # noqa: F401
