"""Per-thread runtime state: the device scope and the stack of active recorders.

The device scope is a stack of torch devices (innermost last) that `tf.device` pushes and pops
(string parsing and placement rules live in `device.py`); `current_device()` is where new
tensors go. The default device is the first visible CUDA GPU, else the CPU, fixed the first
time it is asked for (TF's runtime "initialisation": visible devices cannot change after it).

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
        self.device_stack = []   # torch devices, innermost scope last
        self.device_specs = []   # the merged DeviceSpec of each scope (None: default placement)
        self.graph = None        # the tf.function graph being traced, if any (function/graph.py)
        self.name_scope = ""     # prefix of new variables' names (tf.name_scope, module.py)


state = _State()

_default_device = None
_visible_gpus = None  # indices of the CUDA devices tf.config.set_visible_devices left visible


_all_gpus = None


def visible_gpus():
    """Indices of the CUDA devices tapeflow may use (all that torch sees, unless narrowed)."""
    global _all_gpus
    if _visible_gpus is not None:
        return _visible_gpus
    if _all_gpus is None:
        _all_gpus = tuple(range(torch.cuda.device_count())) if torch.cuda.is_available() else ()
    return _all_gpus


def set_visible_gpus(indices):
    """Narrows the usable GPUs; only before the default device is fixed (as TF refuses after
    its runtime is initialised)."""
    global _visible_gpus
    if _default_device is not None and tuple(indices) != visible_gpus():
        raise RuntimeError("Visible devices cannot be modified after being initialized")
    _visible_gpus = tuple(indices)


def default_device():
    """The first visible CUDA GPU when torch sees one, else the CPU (TensorFlow's rule)."""
    global _default_device
    if _default_device is None:
        gpus = visible_gpus()
        _default_device = torch.device("cuda", gpus[0]) if gpus else torch.device("cpu")
    return _default_device


def current_device():
    stack = state.device_stack
    return stack[-1] if stack else default_device()


def push_device(device, spec):
    state.device_stack.append(device)
    state.device_specs.append(spec)


def pop_device():
    state.device_stack.pop()
    state.device_specs.pop()


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


def unknown_size(d):
    """Whether size `d` stands for a `None` dimension in a trace serving every size of it
    (function/polymorphic.py): code that would loop over such a size must refuse, as TF's
    does for an unknown dimension."""
    g = state.graph
    return g is not None and bool(g.sentinels) and d != 0 and \
        any(d % s == 0 for s in g.sentinels)
