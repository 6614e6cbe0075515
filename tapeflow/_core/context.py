"""Per-thread runtime state: the device scope, the name scope and the current interpreter.

The device scope is a stack of torch devices (innermost last) that `tf.device` pushes and pops
(string parsing and placement rules live in `device.py`); `current_device()` is where new
tensors go. The default device is the first visible CUDA GPU, else the CPU, fixed the first
time it is asked for (TF's runtime "initialisation": visible devices cannot change after it).

The interpreter is what runs each op: eager execution unless a tape records or a tf.function
is being traced (`dispatch.py` owns the interpreters and the stack of them).
"""
import threading

import torch


_eager_interpreter = None   # set once by dispatch.py, which defines it


def set_eager_interpreter(interpreter):
    global _eager_interpreter
    _eager_interpreter = state.interpreter = interpreter


class _State(threading.local):
    def __init__(self):
        self.interpreter = _eager_interpreter  # the top of the stack (dispatch.py)
        self.device_stack = []   # torch devices, innermost scope last
        self.device_specs = []   # the merged DeviceSpec of each scope (None: default placement)
        self.name_scope = ""     # prefix of new variables' names (tf.name_scope, module.py)


state = _State()  # (this thread's interpreter is set when dispatch.py defines it)

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
