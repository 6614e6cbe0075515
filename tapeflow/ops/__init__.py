"""The ops, by family. Importing this package registers every op and attaches the tensor
operators (`+`, `@`, `[]`, ...) to `Tensor` and `Variable`."""
from tapeflow.ops import math  # noqa: F401
