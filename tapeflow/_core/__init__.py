"""Core types: dtypes, TensorShape, Tensor, Variable, devices, errors. Imports nothing above."""
import os

# torch's OpenMP workers spin while waiting for work. On a machine with more busy threads than
# cores (two notebooks, a data loader, a test runner) that turns a 1 s epoch into minutes;
# sleeping workers cost about 5% on an idle machine. Set before torch is first imported; an
# explicit OMP_WAIT_POLICY in the environment wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
