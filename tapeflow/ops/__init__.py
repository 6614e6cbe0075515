"""The ops, by family. Importing this package registers every op and attaches the tensor
operators (`+`, `@`, `[]`, ...) to `Tensor` and `Variable`."""
from tapeflow.ops import math  # noqa: F401
from tapeflow.ops import comparison, elementwise, special  # noqa: F401
from tapeflow.ops import array, gather, indexing, joining, padding  # noqa: F401
from tapeflow.ops import einsum, linalg, linalg_solve  # noqa: F401
from tapeflow.ops import nn  # noqa: F401
from tapeflow.ops import nn_distribute, nn_impl, nn_xent  # noqa: F401
from tapeflow.ops import conv, pooling  # noqa: F401
from tapeflow.ops import training, training_adaptive  # noqa: F401
from tapeflow.ops import random, string_format, string_hash, string_unicode, strings  # noqa: F401
from tapeflow.ops import creation, reduction, sorting  # noqa: F401
from tapeflow.ops import rnn  # noqa: F401
from tapeflow.ops import clip  # noqa: F401
from tapeflow.ops import variable_methods  # noqa: F401
from tapeflow.ops import collective  # noqa: F401
from tapeflow.ops import image_adjust, image_codec, image_color, image_geometry  # noqa: F401
from tapeflow.ops import image_metrics, image_resize  # noqa: F401
