"""Per-thread runtime state: the device scope and the stack of active recorders.

A recorder is anything that wants to see ops as they run: a `GradientTape` (autodiff) or a
graph being traced (`tf.function`). Ops call `record()` only when `state.recorders` is
non-empty, so with nothing active an op pays one attribute check. Recorders are duck-typed
(`record_op`, `read_variable`, `watches`) so that this low layer imports nothing above it.
"""
import threading

import torch


class _State(threading.local):
    def __init__(self):
        self.recorders = []
        self.device_stack = []


state = _State()

_default_device = None


def default_device():
    """The first CUDA GPU when torch sees one, else the CPU (TensorFlow's rule)."""
    global _default_device
    if _default_device is None:
        _default_device = torch.device("cuda", 0) if torch.cuda.is_available() else \
            torch.device("cpu")
    return _default_device


def current_device():
    stack = state.device_stack
    return stack[-1] if stack else default_device()


def record(op, kernel, inputs, attrs, outputs):
    """Show a finished op to every active recorder (tapes decide themselves if it concerns them)."""
    for r in state.recorders:
        r.record_op(op, kernel, inputs, attrs, outputs)


def push_recorder(recorder):
    state.recorders.append(recorder)


def pop_recorder(recorder):
    recs = state.recorders
    for i in range(len(recs) - 1, -1, -1):
        if recs[i] is recorder:
            del recs[i]
            return
