"""tapeflow: the TensorFlow 2 programming model, with PyTorch as the kernel library.

`import tapeflow as tf` gives the `tf.*` namespace. This file only re-exports; the logic lives
in the private modules named beside each import.
"""
from tapeflow._version import __version__  # noqa: F401

# -- core -----------------------------------------------------------------------------------
from tapeflow._core import nest  # noqa: F401
from tapeflow._core.dtypes import (DType, as_dtype, bfloat16, bool, complex64, complex128,  # noqa: F401,A004
                                   double, float16, float32, float64, half, int8, int16, int32,
                                   int64, string, uint8, uint16, uint32, uint64)
from tapeflow._core.errors import OperatorNotAllowedInGraphError  # noqa: F401
from tapeflow._core.shape import Dimension, TensorShape  # noqa: F401
from tapeflow._core.tensor import (Tensor, constant, convert_to_tensor, is_tensor,  # noqa: F401
                                   register_tensor_conversion_function)
from tapeflow._core.variable import (Variable, VariableAggregation,  # noqa: F401
                                     VariableSynchronization)
from tapeflow import errors, dtypes  # noqa: F401,E402

newaxis = None

# -- ops (each family re-exported from its module in tapeflow/ops/) ---------------------------
from tapeflow import ops as _ops  # noqa: E402,F401  (registers ops, attaches operators)
from tapeflow.ops.math import (add, divide, multiply, negative, subtract,  # noqa: F401,E402
                               truediv)

# -- elementwise math, comparisons, logical and bitwise ops (tapeflow/ops/math.py,
#    elementwise.py, comparison.py) ----------------------------------------------------------
from tapeflow import bitwise, math  # noqa: E402,F401
from tapeflow.ops.comparison import (equal, greater, greater_equal, less, less_equal,  # noqa: F401,E402
                                     logical_and, logical_not, logical_or, not_equal, where)
from tapeflow.ops.elementwise import (abs, acos, acosh, asin, asinh, atan, atanh, cast,  # noqa: F401,E402,A004
                                      clip_by_value, complex, cos, cosh, exp, floor, round,
                                      sigmoid, sign, sin, sinh, sqrt, square, tan, tanh)
from tapeflow.ops.elementwise import pow  # noqa: F401,E402,A004
from tapeflow.ops.math import atan2, maximum, minimum  # noqa: F401,E402
from tapeflow.ops.special import add_n, scalar_mul  # noqa: F401,E402

# -- array manipulation and indexing (tapeflow/ops/array.py, joining.py, indexing.py, gather.py,
#    padding.py) -------------------------------------------------------------------------------
from tapeflow.ops.array import (broadcast_to, expand_dims, identity, rank, reshape,  # noqa: F401,E402
                                reverse, shape, size, squeeze, tile, transpose)
from tapeflow.ops.joining import concat, shape_n, split, stack, unstack  # noqa: F401,E402
from tapeflow.ops.gather import (boolean_mask, gather, gather_nd, one_hot, scatter_nd,  # noqa: F401,E402
                                 tensor_scatter_nd_add, tensor_scatter_nd_update)
from tapeflow.ops.indexing import slice, strided_slice  # noqa: F401,E402,A004
from tapeflow.ops.padding import pad  # noqa: F401,E402

# -- linalg and nn (tapeflow/ops/linalg.py, nn.py, nn_xent.py) --------------------------------
from tapeflow import linalg, nn  # noqa: E402,F401
from tapeflow.ops.einsum import einsum, tensordot  # noqa: F401,E402
from tapeflow.ops.linalg import matmul, norm  # noqa: F401,E402

# -- reductions, creation, sorting (tapeflow/ops/reduction.py, creation.py, sorting.py) -------
from tapeflow.ops.creation import (eye, fill, linspace, ones, ones_like, range, zeros,  # noqa: F401,E402,A004
                                   zeros_like)
from tapeflow.ops.reduction import (argmax, argmin, cumsum, reduce_all, reduce_any,  # noqa: F401,E402
                                    reduce_logsumexp, reduce_max, reduce_mean, reduce_min,
                                    reduce_prod, reduce_sum)
from tapeflow.ops.sorting import argsort, sort, unique, unique_with_counts  # noqa: F401,E402

# -- random, strings, devices and config (tapeflow/ops/random.py, strings.py, _core/device.py) --
from tapeflow import config, random, strings, test  # noqa: E402,F401
from tapeflow.ops.strings import as_string  # noqa: E402,F401
from tapeflow._core.device import DeviceSpec, device  # noqa: E402,F401

# -- autodiff ---------------------------------------------------------------------------------
from tapeflow import autodiff  # noqa: E402,F401
from tapeflow.autodiff import (GradientTape, UnconnectedGradients, custom_gradient,  # noqa: F401,E402
                               recompute_grad, stop_gradient)

# -- tf.function and graph control flow (tapeflow/function/) ----------------------------------
from tapeflow._core.spec import TensorSpec  # noqa: F401,E402
from tapeflow.function.control_flow import cond, while_loop  # noqa: F401,E402
from tapeflow.function.graph import init_scope  # noqa: F401,E402
from tapeflow.function.tf_function import function  # noqa: F401,E402
from tapeflow.ops.logging import print_v2 as print  # noqa: F401,E402,A001

# -- keras (tapeflow/keras/) ------------------------------------------------------------------
from tapeflow import keras  # noqa: E402,F401
# -- tf.train: checkpoints (tapeflow/train/, H11) ---------------------------------------
from tapeflow import train  # noqa: E402,F401

# -- tf.data (tapeflow/data/) -------------------------------------------------------------------
from tapeflow import data  # noqa: E402,F401

# -- tf.Module, tf.name_scope (tapeflow/_core/module.py), norm clipping (tapeflow/ops/clip.py),
#    tf.TensorArray (tapeflow/ops/tensor_array.py) and tf.executing_eagerly (_core/dispatch.py) --
from tapeflow._core.module import Module, name_scope  # noqa: F401,E402
from tapeflow.ops.clip import clip_by_global_norm, clip_by_norm  # noqa: F401,E402
from tapeflow.ops.tensor_array import TensorArray  # noqa: F401,E402
from tapeflow._core.dispatch import executing_eagerly  # noqa: F401,E402

# -- export: ONNX and pictures of graphs (tapeflow/export/, issue 15) -------------------------
from tapeflow import export  # noqa: E402,F401

# -- tf.distribute (tapeflow/distribute/: strategies on torch.distributed; the strategy API that
#    Keras reads lives below Keras in tapeflow/distribute_lib.py) ---------------------------------
from tapeflow import distribute  # noqa: E402,F401

# -- tf.summary: event files for TensorBoard (tapeflow/summary/) -------------------------------
from tapeflow import summary  # noqa: E402,F401

# -- tf.io: files, TFRecords, tf.train.Example parsing (tapeflow/io/), and tf.image
#    (tapeflow/ops/image*.py) ---------------------------------------------------------------------
from tapeflow import image, io  # noqa: E402,F401
from tapeflow.ops.image_color import saturate_cast  # noqa: E402,F401

# -- AutoGraph: tf.autograph (tapeflow/function/autograph/) ------------------------------------
from tapeflow import autograph  # noqa: E402,F401

# -- printing, jit and composite tensors: tf.debugging (tapeflow/ops/debugging.py), tf.sparse and
#    tf.ragged (tapeflow/_core/sparse_tensor.py, ops/sparse.py, ops/ragged*.py) ---------------------
from tapeflow import debugging  # noqa: E402,F401
from tapeflow.ops.logging import Assert  # noqa: E402,F401
from tapeflow import ragged, sparse  # noqa: E402,F401
from tapeflow._core.sparse_tensor import SparseTensor, SparseTensorSpec  # noqa: F401,E402
from tapeflow.ops.ragged_tensor import RaggedTensor, RaggedTensorSpec  # noqa: F401,E402
