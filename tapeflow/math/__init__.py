"""`tf.math`: re-exports of the math ops (logic in tapeflow/ops/)."""
from tapeflow.ops.reduction import (argmax, argmin, count_nonzero, cumprod, cumsum,  # noqa: F401
                                    reduce_all, reduce_any, reduce_euclidean_norm,
                                    reduce_logsumexp, reduce_max, reduce_mean, reduce_min,
                                    reduce_prod, reduce_std, reduce_sum, reduce_variance)
from tapeflow.ops.sorting import in_top_k, top_k  # noqa: F401
from tapeflow.ops.nn import log_softmax, softmax, softplus, softsign  # noqa: F401
from tapeflow.ops.comparison import (equal, greater, greater_equal, less, less_equal,  # noqa: F401
                                     logical_and, logical_not, logical_or, logical_xor, not_equal)
from tapeflow.ops.elementwise import (abs, acos, acosh, angle, asin, asinh, atan, atanh,  # noqa: F401,A004
                                      ceil, cos, cosh, erf, erfc, exp, expm1, floor, imag,
                                      is_finite, is_inf, is_nan, log, log1p, real, reciprocal,
                                      rint, round, rsqrt, sigmoid, sign, sin, sinh, sqrt, square,
                                      tan, tanh)
from tapeflow.ops.elementwise import pow  # noqa: F401,A004
from tapeflow.ops.math import (add, atan2, conj, divide, divide_no_nan, floordiv,  # noqa: F401
                               floormod, maximum, minimum, mod, multiply, negative,
                               squared_difference, subtract, truediv)
from tapeflow.ops.special import (add_n, digamma, erfinv, lgamma, log_sigmoid,  # noqa: F401
                                  multiply_no_nan, ndtri, reciprocal_no_nan, scalar_mul, xdivy,
                                  xlogy)
