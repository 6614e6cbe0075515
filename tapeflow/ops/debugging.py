"""`tf.debugging.check_numerics` / `assert_all_finite`: the CheckNumerics op, which passes its
input through and raises TF's InvalidArgumentError when it holds NaN or Inf values. A host
check: under jit_compile=True it runs between the compiled regions (function/jit.py)."""
import torch

from tapeflow._core import dtypes
from tapeflow._core.tensor import convert_to_tensor
from tapeflow.ops._op import check_dtype, define, execute, host_check, kernel_error

CHECK_NUMERICS = define("CheckNumerics", stateful=True)
_FLOATS = (dtypes.bfloat16, dtypes.float16, dtypes.float32, dtypes.float64)


@host_check
def _check_numerics_kernel(x, message):
    nan, inf = bool(torch.isnan(x).any()), bool(torch.isinf(x).any())
    if nan or inf:
        found = "Inf and NaN" if nan and inf else "NaN" if nan else "Inf"
        raise kernel_error(f"{message} : Tensor had {found} values", CHECK_NUMERICS, x.device)
    return x.clone()


def check_numerics(tensor, message, name=None):
    """`tensor` itself, after checking that it holds no NaN or Inf (InvalidArgumentError
    naming `message` otherwise)."""
    x = convert_to_tensor(tensor)
    check_dtype(x, _FLOATS, CHECK_NUMERICS, signature="tensor:T -> output:T",
                traits=("attr=message:string", "is_stateful=true"))
    return execute(CHECK_NUMERICS, _check_numerics_kernel, (x,), (str(message),))


def assert_all_finite(t, msg, name=None, x=None, message=None):
    """`tf.debugging.assert_all_finite`: `check_numerics` under its other name."""
    return check_numerics(t if x is None else x, msg if message is None else message)


@CHECK_NUMERICS.gradient
def _(node, grad):
    # as TF: the gradient is checked too, its message saying so
    return check_numerics(grad, "Not a number (NaN) or infinity (Inf) values detected in "
                                f"gradient. {node.attrs[0]}")
