"""`tf.stop_gradient`: the identity in the forward pass, a wall for gradients.

Registered as a non-differentiable op, so tapes never record it: its output is a constant to
autodiff, exactly as TF's `StopGradient` (whose gradient is None).
"""
from tapeflow._core.tensor import convert_to_tensor
from tapeflow.ops._op import define, execute

STOP_GRADIENT = define("StopGradient", differentiable=False)


def _identity(t):
    return t


def stop_gradient(input, name=None):  # noqa: A002 (TF's argument name)
    """Returns `input` unchanged; no gradient flows through it."""
    return execute(STOP_GRADIENT, _identity, (convert_to_tensor(input),))
