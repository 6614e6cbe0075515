"""`tf.nn`: re-exports of the neural-network ops (tapeflow/ops/nn.py, nn_xent.py, nn_impl.py)."""
from tapeflow.ops.elementwise import sigmoid, tanh  # noqa: F401
from tapeflow.ops.nn import (bias_add, elu, gelu, l2_loss, leaky_relu, log_softmax,  # noqa: F401
                             relu, relu6, selu, silu, softmax, softplus, softsign, swish)
from tapeflow.ops.nn_impl import (batch_normalization, dropout, embedding_lookup,  # noqa: F401
                                  l2_normalize, moments, weighted_cross_entropy_with_logits)
from tapeflow.ops.nn_xent import (sigmoid_cross_entropy_with_logits,  # noqa: F401
                                  softmax_cross_entropy_with_logits,
                                  sparse_softmax_cross_entropy_with_logits)
from tapeflow.ops.sorting import in_top_k, top_k  # noqa: F401
from tapeflow.ops.conv import (conv1d, conv1d_transpose, conv2d, conv2d_transpose,  # noqa: F401
                              conv3d, conv3d_transpose, convolution, depthwise_conv2d,
                              separable_conv2d)
from tapeflow.ops.pooling import (avg_pool, avg_pool1d, avg_pool2d, avg_pool3d,  # noqa: F401
                                  max_pool, max_pool1d, max_pool2d, max_pool3d)
from tapeflow.ops.nn_distribute import (compute_average_loss,  # noqa: F401
                                        scale_regularization_loss)
