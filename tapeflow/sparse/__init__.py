"""`tf.sparse`: re-exports of the SparseTensor type (tapeflow/_core/sparse_tensor.py) and the
ops on it (tapeflow/ops/sparse.py)."""
from tapeflow._core.sparse_tensor import SparseTensor, SparseTensorSpec  # noqa: F401
from tapeflow.ops.sparse import (add, from_dense, map_values, reduce_sum, reorder,  # noqa: F401
                                 reshape, retain, sparse_dense_matmul, to_dense, to_indicator,
                                 transpose)
