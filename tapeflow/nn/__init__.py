"""`tf.nn`: re-exports of the neural-network ops (tapeflow/ops/nn.py, nn_xent.py)."""
from tapeflow.ops.nn import (bias_add, elu, l2_loss, leaky_relu, log_softmax, relu,  # noqa: F401
                             relu6, selu, softmax, softplus, softsign)
from tapeflow.ops.nn_xent import (sigmoid_cross_entropy_with_logits,  # noqa: F401
                                  softmax_cross_entropy_with_logits,
                                  sparse_softmax_cross_entropy_with_logits)
