"""Reverse-mode autodiff: GradientTape and friends (`tf.autodiff` re-exports from here)."""
from tapeflow.autodiff.backprop import UnconnectedGradients  # noqa: F401
from tapeflow.autodiff.custom_gradient import custom_gradient, recompute_grad  # noqa: F401
from tapeflow.autodiff.stop_gradient import stop_gradient  # noqa: F401
from tapeflow.autodiff.tape import GradientTape  # noqa: F401
