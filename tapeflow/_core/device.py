"""Devices and runtime configuration: `tf.device`, `tf.DeviceSpec` and the `tf.config` calls.

Device strings are parsed exactly as TensorFlow's `DeviceSpec` parses them, merged with the
enclosing scope (the outermost scope merges with `/job:localhost/replica:0/task:0/device:CPU:0`,
as TF does), and resolved to a torch device. A device that does not exist falls back to the
default device under soft placement (TF's default); with soft placement off it raises TF's
error. The scope itself is the per-thread stack in `context.py`; this module owns the parsing,
the device lists (`PhysicalDevice`, `LogicalDevice`) and the process-wide switches (TF32,
threads, visible devices), each of which maps onto torch's own setting.
"""
import collections
import os
import threading

import torch

from tapeflow._core import context, threads
from tapeflow._core.errors import InvalidArgumentError

_VALID_DEVICE_TYPES = frozenset({"CPU", "GPU", "TPU", "CUSTOM", "EPU"})
_LOCAL_CPU = "/job:localhost/replica:0/task:0/device:CPU:0"


# -- DeviceSpec ----------------------------------------------------------------------------------

class DeviceSpec:
    """A (possibly partial) device specification: job, replica, task, device type and index.

    Example:
    >>> tf.DeviceSpec.from_string("/GPU:0").to_string()
    '/device:GPU:0'
    """

    __slots__ = ("job", "replica", "task", "device_type", "device_index")

    def __init__(self, job=None, replica=None, task=None, device_type=None, device_index=None):
        self.job = job
        self.replica = None if replica is None else int(replica)
        self.task = None if task is None else int(task)
        self.device_type = device_type
        self.device_index = None if device_index is None else int(device_index)

    @classmethod
    def from_string(cls, spec):
        return cls(*_parse(spec))

    def to_string(self):
        out = []
        if self.job is not None:
            out.append("/job:" + self.job)
        if self.replica is not None:
            out.append(f"/replica:{self.replica}")
        if self.task is not None:
            out.append(f"/task:{self.task}")
        if self.device_type is not None:
            index = "*" if self.device_index is None else str(self.device_index)
            out.append(f"/device:{self.device_type}:{index}")
        return "".join(out)

    def make_merged_spec(self, dev):
        """A copy of this spec with the fields `dev` sets taken from `dev`."""
        merged = self.replace()
        for field in self.__slots__:
            value = getattr(dev, field)
            if value is not None:
                setattr(merged, field, value)
        return merged

    def replace(self, **kwargs):
        fields = {f: getattr(self, f) for f in self.__slots__}
        fields.update(kwargs)
        return DeviceSpec(**fields)

    @property
    def _key(self):
        return tuple(getattr(self, f) for f in self.__slots__)

    def __eq__(self, other):
        return isinstance(other, DeviceSpec) and self._key == other._key

    def __hash__(self):
        return hash(self._key)

    def __repr__(self):
        return f"<DeviceSpec(job={self.job}, replica={self.replica}, task={self.task}, " \
               f"device_type={self.device_type}, device_index={self.device_index})>"


_parsed = {}  # spec string -> components (TF caches these too: scopes are entered often)


def _parse(spec):
    """TF's DeviceSpec string grammar: `/job:J/replica:R/task:T/device:TYPE:I`, with the short
    forms `/TYPE:I`, `TYPE` and `*` for any index."""
    cached = _parsed.get(spec)
    if cached is None:
        cached = _parsed[spec] = _parse_uncached(spec)
    return cached


def _parse_uncached(spec):
    job = replica = task = device_type = device_index = None
    spec = spec or ""
    for y in (part.split(":") for part in spec.split("/")):
        n = len(y)
        if n == 2 and y[0] == "job":
            job = y[1]
        elif n == 2 and y[0] == "replica":
            replica = y[1]
        elif n == 2 and y[0] == "task":
            task = y[1]
        elif n in (1, 2) and y[0].upper() in _VALID_DEVICE_TYPES:
            if device_type is not None:
                raise ValueError(f"Multiple device types are not allowed while parsing the "
                                 f"device spec: {spec}.")
            device_type = y[0].upper()
            if n == 2 and y[1] != "*":
                device_index = int(y[1])
        elif n == 3 and y[0] == "device":
            if device_type is not None:
                raise ValueError(f"Multiple device types are not allowed while parsing the "
                                 f"device spec: {spec}.")
            device_type = y[1]
            if y[2] != "*":
                device_index = int(y[2])
        elif n and y[0] != "":
            raise ValueError(f"Unknown attribute '{y[0]}' is encountered while parsing the "
                             f"device spec: '{spec}'.")
    return job, replica, task, device_type, device_index


# -- placement -------------------------------------------------------------------------------

_soft_placement = True


def get_soft_device_placement():
    return _soft_placement


def set_soft_device_placement(enabled):
    """With soft placement (the default) a missing device falls back to the default device."""
    global _soft_placement
    _soft_placement = bool(enabled)
    _scopes.clear()


def _available_names():
    names = [f"/job:localhost/replica:0/task:0/device:CPU:{i}" for i in range(_cpu_count())]
    names += [f"/job:localhost/replica:0/task:0/device:GPU:{i}"
              for i in range(len(context.visible_gpus()))]
    return names


def _resolve(spec):
    """The torch device for a fully merged spec (TF's placement rules, soft or strict)."""
    full = spec.to_string()
    if spec.job != "localhost" or spec.replica != 0 or spec.task != 0:
        raise InvalidArgumentError(None, None, f"{full} unknown device.")
    kind = (spec.device_type or "CPU").upper()
    index = spec.device_index or 0
    gpus = context.visible_gpus()
    if kind == "CPU" and index < _cpu_count():
        return torch.device("cpu")
    if kind == "GPU" and index < len(gpus):
        return torch.device("cuda", gpus[index])
    if _soft_placement:
        return context.default_device()
    types = "[GPU, CPU]" if gpus else "[CPU]"
    raise InvalidArgumentError(
        None, None, f"Could not satisfy device specification '{full}'. enable_soft_placement=0. "
        f"Supported device types {types}. All available devices [{', '.join(_available_names())}].")


_scopes = {}  # (outer spec, name) -> (merged spec, torch device); cleared when settings change


class device:  # noqa: N801 - TF's public name
    """Context manager that places the tensors and ops created inside it on a device.

    Args:
        device_name: a device string (`'/CPU:0'`, `'/GPU:0'`, `'/device:GPU:1'`,
            `'/job:localhost/replica:0/task:0/device:CPU:0'`...), a `DeviceSpec` or a
            `LogicalDevice`; `None` restores the default placement.

    Example:
    >>> with tf.device('/CPU:0'):
    ...     x = tf.constant([1.0])
    >>> x.device
    '/job:localhost/replica:0/task:0/device:CPU:0'
    """

    __slots__ = ("_name", "_entered")

    def __init__(self, device_name):
        if callable(device_name) and not isinstance(device_name, (str, DeviceSpec)):
            raise RuntimeError("tf.device does not support functions.")
        if isinstance(device_name, LogicalDevice):
            device_name = device_name.name
        elif isinstance(device_name, DeviceSpec):
            device_name = device_name.to_string()
        self._name = device_name
        self._entered = []

    def __enter__(self):
        name = self._name
        if name is None:
            spec, dev = None, context.default_device()
        else:
            if not isinstance(name, str):
                raise ValueError(f"Expecting a string device name. Got {type(name)}({name})")
            outer = context.state.device_specs[-1] if context.state.device_specs else None
            key = (outer, name)
            hit = _scopes.get(key)
            if hit is None:
                base = outer if outer is not None else DeviceSpec.from_string(_LOCAL_CPU)
                merged = base.make_merged_spec(DeviceSpec.from_string(name))
                hit = _scopes[key] = (merged, _resolve(merged))
            spec, dev = hit
        context.push_device(dev, spec)
        self._entered.append(spec)
        return None

    def __exit__(self, *exc_info):
        specs = context.state.device_specs
        if not specs or specs[-1] is not self._entered[-1]:
            raise RuntimeError("Exiting device scope without proper scope nesting")
        self._entered.pop()
        context.pop_device()
        return False


def current_device_name():
    """The TF name of the device the current scope places new tensors on."""
    d = context.current_device()
    kind = "GPU" if d.type == "cuda" else d.type.upper()
    return f"/job:localhost/replica:0/task:0/device:{kind}:{d.index or 0}"


# -- device lists ----------------------------------------------------------------------------

PhysicalDevice = collections.namedtuple("PhysicalDevice", ["name", "device_type"])
LogicalDevice = collections.namedtuple("LogicalDevice", ["name", "device_type"])
LogicalDeviceConfiguration = collections.namedtuple(
    "LogicalDeviceConfiguration", ["memory_limit", "experimental_priority",
                                   "experimental_device_ordinal"], defaults=(None, None, 0))
_logical_configs = {}  # PhysicalDevice -> [LogicalDeviceConfiguration]


_CPU0 = PhysicalDevice("/physical_device:CPU:0", "CPU")


def _physical():
    global _physical_devices
    if _physical_devices is None:
        gpus = torch.cuda.device_count() if torch.cuda.is_available() else 0
        _physical_devices = [_CPU0] + [PhysicalDevice(f"/physical_device:GPU:{i}", "GPU")
                                       for i in range(gpus)]
    return list(_physical_devices)


_physical_devices = None


def list_physical_devices(device_type=None):
    """The devices of the machine, e.g. `[PhysicalDevice(name='/physical_device:CPU:0',
    device_type='CPU')]`; `device_type` ('CPU', 'GPU') filters them (case-sensitive, as TF)."""
    return [d for d in _physical() if device_type is None or d.device_type == device_type]


def get_visible_devices(device_type=None):
    gpus = set(context.visible_gpus())
    return [d for d in list_physical_devices(device_type)
            if d.device_type != "GPU" or int(d.name.rsplit(":", 1)[1]) in gpus]


def set_visible_devices(devices, device_type=None):
    """Hides the GPUs not listed (before the first tensor is made, as in TF). The CPU cannot be
    hidden."""
    if isinstance(devices, PhysicalDevice):
        devices = [devices]
    if device_type in (None, "GPU"):
        context.set_visible_gpus(sorted(int(d.name.rsplit(":", 1)[1]) for d in devices
                                        if d.device_type == "GPU"))
        _scopes.clear()


def _cpu_count():
    return max(1, len(_logical_configs.get(_CPU0, ())))


def list_logical_devices(device_type=None):
    """The devices ops can be placed on, e.g. `LogicalDevice(name='/device:CPU:0', ...)`."""
    devices = [LogicalDevice(f"/device:CPU:{i}", "CPU") for i in range(_cpu_count())]
    devices += [LogicalDevice(f"/device:GPU:{i}", "GPU")
                for i in range(len(context.visible_gpus()))]
    return [d for d in devices if device_type is None or d.device_type == device_type]


def set_logical_device_configuration(device, logical_devices):
    """Records the split of a physical device into logical ones. Several logical CPUs are
    listed (and accepted by `tf.device`) but all run on torch's one CPU device; GPU memory
    limits are not enforced."""
    _logical_configs[device] = list(logical_devices or ())
    _scopes.clear()


def get_logical_device_configuration(device):
    return _logical_configs.get(device)


def _gpu_index(device):
    if isinstance(device, (PhysicalDevice, LogicalDevice)):
        device = device.name
    spec = DeviceSpec.from_string(str(device).replace("/physical_device:", "/device:"))
    if spec.device_type != "GPU":
        raise ValueError("Cannot set memory growth on non-GPU and non-Pluggable devices")
    return spec.device_index or 0


_memory_growth = {}


def set_memory_growth(device, enable):
    """Accepted and remembered; torch's caching allocator already grows on demand."""
    _gpu_index(device)
    _memory_growth[device] = bool(enable)


def get_memory_growth(device):
    _gpu_index(device)
    return _memory_growth.get(device, False)


def get_memory_info(device):
    """`{'current': bytes, 'peak': bytes}` allocated on a GPU (from torch's allocator)."""
    i = _gpu_index(device)
    return {"current": torch.cuda.memory_allocated(i),
            "peak": torch.cuda.max_memory_allocated(i)}


def reset_memory_stats(device):
    torch.cuda.reset_peak_memory_stats(_gpu_index(device))


def get_device_details(device):
    """`{'device_name': ..., 'compute_capability': (major, minor)}` for a GPU, `{}` otherwise."""
    if device.device_type != "GPU":
        return {}
    i = int(device.name.rsplit(":", 1)[1])
    return {"device_name": torch.cuda.get_device_name(i),
            "compute_capability": torch.cuda.get_device_capability(i)}


def get_memory_usage(device):
    """Deprecated in TF for `get_memory_info(device)['current']`."""
    return get_memory_info(device)["current"]


_policy = {"device": None, "synchronous": True}


def set_device_policy(device_policy):
    """Accepted and remembered: inputs on another device are always copied (TF's 'silent')."""
    if device_policy not in (None, "warn", "explicit", "silent", "silent_for_int32"):
        raise ValueError(f"Not a valid device policy: {device_policy!r}")
    _policy["device"] = device_policy


def get_device_policy():
    return _policy["device"] or "silent"


def set_synchronous_execution(enable):
    _policy["synchronous"] = bool(enable)


def get_synchronous_execution():
    return _policy["synchronous"]


# -- TF32 and threads ----------------------------------------------------------------------------

_tf32 = True


def enable_tensor_float_32_execution(enabled):
    """TF32 for float32 matmuls and convolutions on Ampere+ GPUs: on by default, as in TF."""
    global _tf32
    _tf32 = bool(enabled)
    torch.backends.cuda.matmul.allow_tf32 = _tf32
    torch.backends.cudnn.allow_tf32 = _tf32


def tensor_float_32_execution_enabled():
    return _tf32


enable_tensor_float_32_execution(True)

def enable_op_determinism():
    """Deterministic kernels from then on (torch's deterministic algorithms; an op without a
    deterministic implementation raises, as in TF)."""
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(True)


_threads = {"intra": 0, "inter": 0}
_torch_default_threads = torch.get_num_threads()
_lock = threading.Lock()


def get_intra_op_parallelism_threads():
    return _threads["intra"]


def set_intra_op_parallelism_threads(num_threads):
    """Threads used inside one op (torch.set_num_threads); 0 restores the system default."""
    with _lock:
        _threads["intra"] = int(num_threads)
        threads.disable() if num_threads else threads.enable()  # the user's number holds
        torch.set_num_threads(int(num_threads) or _torch_default_threads)


def get_inter_op_parallelism_threads():
    return _threads["inter"]


def set_inter_op_parallelism_threads(num_threads):
    """Threads that run independent ops (torch.set_num_interop_threads, which torch accepts
    only before its first parallel work; later calls are remembered only)."""
    with _lock:
        _threads["inter"] = int(num_threads)
        if num_threads:
            try:
                torch.set_num_interop_threads(int(num_threads))
            except RuntimeError:
                pass


# -- tf.test helpers ---------------------------------------------------------------------------

def is_built_with_cuda():
    return torch.version.cuda is not None


def is_built_with_gpu_support():
    return torch.version.cuda is not None or getattr(torch.version, "hip", None) is not None


def is_built_with_rocm():
    return getattr(torch.version, "hip", None) is not None


def is_built_with_xla():
    return False


def is_cpu_target_available(cpu_target):
    return False


def is_gpu_available(cuda_only=False, min_cuda_compute_capability=None):
    """Deprecated in TF (use `tf.config.list_physical_devices('GPU')`), kept for old code."""
    for i in context.visible_gpus():
        if min_cuda_compute_capability is None or \
                torch.cuda.get_device_capability(i) >= tuple(min_cuda_compute_capability):
            return True
    return False


def gpu_device_name():
    return "/device:GPU:0" if context.visible_gpus() else ""
