"""Reverse-mode autodiff: GradientTape and friends."""
