"""`tf.nn`: re-exports of the neural-network ops (tapeflow/ops/nn.py, nn_xent.py)."""
from tapeflow.ops.elementwise import sigmoid, tanh  # noqa: F401
from tapeflow.ops.nn import (bias_add, elu, gelu, l2_loss, l2_normalize, leaky_relu,  # noqa: F401
                             log_softmax, moments, relu, relu6, selu, silu, softmax, softplus,
                             softsign, swish)
from tapeflow.ops.nn_xent import (sigmoid_cross_entropy_with_logits,  # noqa: F401
                                  softmax_cross_entropy_with_logits,
                                  sparse_softmax_cross_entropy_with_logits)
from tapeflow.ops.sorting import top_k  # noqa: F401
