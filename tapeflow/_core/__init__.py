"""Core types: dtypes, TensorShape, Tensor, Variable, devices, errors. Imports nothing above."""
