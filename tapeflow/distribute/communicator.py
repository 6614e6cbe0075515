"""The collectives of a multi-worker job, on torch.distributed: Gloo for CPU tensors, NCCL for
CUDA tensors when torch has it (`CommunicationImplementation.AUTO`).

Rendezvous: the chief's `TF_CONFIG` address hosts torch's `TCPStore`, and every other worker
listens on its own address, so that when a collective fails each survivor can tell which
peers are gone (TF's collective health check pings its peers' servers the same way). A peer
that dies breaks Gloo's connections at once; a peer that hangs, or never connects, runs into
the timeout (`CommunicationOptions.timeout_seconds`). Either way the survivors raise TF's
error naming the task and its address: `UnavailableError` for peers that no longer answer,
`DeadlineExceededError` when all answer but a collective timed out. A failed communicator
refuses every later collective with the same error (TF: "Restart your program to reset").

`ProcessGroupCommunicator` is the communicator `tapeflow/ops/collective.py` describes: packed
all-reduce (one call per dtype and device), all-gather of unequal sizes, broadcast from the
chief.
"""
import atexit
import datetime
import enum
import socket
import threading
import time

import torch
import torch.distributed as dist

from tapeflow._core.context import default_device
from tapeflow._core.errors import DeadlineExceededError, UnavailableError

DEFAULT_TIMEOUT_SECONDS = 300.0


class CommunicationImplementation(enum.Enum):
    """Which collective library carries the all-reduces: AUTO (NCCL for GPU tensors when
    available, else Gloo), RING (Gloo), NCCL."""
    AUTO = "AUTO"
    RING = "RING"
    NCCL = "NCCL"


class CommunicationOptions:
    """`tf.distribute.experimental.CommunicationOptions`: the implementation and the timeout
    of every collective (and of connecting), in seconds (default 300 in tapeflow; TF waits
    forever)."""

    def __init__(self, bytes_per_pack=0, timeout_seconds=None,
                 implementation=CommunicationImplementation.AUTO):
        if bytes_per_pack < 0:
            raise ValueError(f"bytes_per_pack must be non-negative, got {bytes_per_pack}")
        if timeout_seconds is not None and timeout_seconds <= 0:
            raise ValueError(f"timeout_seconds must be positive, got {timeout_seconds}")
        if isinstance(implementation, str):
            implementation = CommunicationImplementation(implementation.upper())
        self.bytes_per_pack = bytes_per_pack
        self.timeout_seconds = timeout_seconds
        self.implementation = implementation

    def __str__(self):
        return (f"Options(bytes_per_pack={self.bytes_per_pack},timeout_seconds="
                f"{self.timeout_seconds}, implementation={self.implementation})")


def _backend(implementation):
    nccl = torch.cuda.is_available() and dist.is_nccl_available()
    if implementation is CommunicationImplementation.NCCL:
        if not nccl:
            raise ValueError("CommunicationImplementation.NCCL needs CUDA GPUs and a torch "
                             "built with NCCL; this machine has "
                             f"{'no GPU' if not torch.cuda.is_available() else 'no NCCL'}.")
        return "cpu:gloo,cuda:nccl"
    if implementation is CommunicationImplementation.AUTO and nccl:
        return "cpu:gloo,cuda:nccl"
    return "gloo"


class _Listener:
    """A socket listening on this task's address, answering peers' health checks."""

    def __init__(self, task):
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self._socket.bind(task.host_port)
        except OSError as e:
            self._socket.close()
            raise UnavailableError(None, None, f"Task {task.name} cannot listen on its "
                                   f"address {task.address}: {e}") from None
        self._socket.listen(64)
        threading.Thread(target=self._serve, daemon=True, name="tapeflow-health").start()

    def _serve(self):
        while True:
            try:
                conn, _ = self._socket.accept()
            except OSError:
                return
            conn.close()

    def close(self):
        self._socket.close()


def _answers(task, timeout=1.0):
    try:
        with socket.create_connection(task.host_port, timeout=timeout):
            return True
    except OSError:
        return False


def _first_line(error):
    text = str(error).strip().split("\n")[0]
    if text.startswith("[") and "] " in text:  # gloo prefixes its source location
        text = text.split("] ", 1)[1]
    return text.split(". This is typically caused by")[0]  # and appends generic advice


class ProcessGroupCommunicator:
    """The job's collectives, over torch.distributed's default process group."""

    def __init__(self, tasks, me, timeout_seconds=None, implementation=None):
        self.tasks = tasks
        self.me = me
        self.rank = me.rank
        self.num_replicas = len(tasks)
        self.timeout_seconds = float(timeout_seconds or DEFAULT_TIMEOUT_SECONDS)
        self._failure = None
        self._listener = _Listener(me) if me.rank != 0 else None
        timeout = datetime.timedelta(seconds=self.timeout_seconds)
        chief = tasks[0]
        host, port = chief.host_port
        backend = _backend(implementation or CommunicationImplementation.AUTO)
        try:
            if "nccl" in backend:  # NCCL works on the device tapeflow places tensors on
                device = default_device()
                if device.type == "cuda":
                    torch.cuda.set_device(device)
            store = dist.TCPStore(host, port, self.num_replicas, is_master=me.rank == 0,
                                  timeout=timeout, wait_for_workers=True)
            dist.init_process_group(backend, store=store, rank=me.rank,
                                    world_size=self.num_replicas, timeout=timeout)
            self._store = store
        except (RuntimeError, OSError) as e:  # DistStoreError/DistNetworkError among them
            raise self._failed(e, connecting=True) from None
        atexit.register(self._shutdown)

    def _shutdown(self, patience=60.0):
        """At exit: wait (a while) for the others to finish too, then close the group, so no
        worker's connections drop while a peer still uses them."""
        if self._failure is None:
            try:
                dist.monitored_barrier(timeout=datetime.timedelta(seconds=patience))
            except Exception:  # noqa: BLE001 - exiting anyway; a peer may be gone
                pass
        try:
            dist.destroy_process_group()
        except Exception:  # noqa: BLE001 - exiting anyway
            pass
        if self._listener is not None:
            self._listener.close()

    # -- failures --------------------------------------------------------------------------------
    def _unreachable(self, patience=3.0):
        """The peers that do not answer; a crashing peer may take a moment to go, so ask
        again for up to `patience` seconds while all answer."""
        deadline = time.monotonic() + patience
        while True:
            gone = [t for t in self.tasks if t is not self.me and not _answers(t)]
            if gone or time.monotonic() > deadline:
                return gone
            time.sleep(0.2)

    def _failed(self, error, connecting=False):
        text = _first_line(error)
        gone = self._unreachable()
        seen_by = f"(seen by {self.me.name} at {self.me.address})"
        if gone:
            names = ", ".join(f"{t.name} at {t.address}" for t in gone)
            verb = "did not join the job" if connecting else "is unreachable"
            if len(gone) > 1:
                verb = "did not join the job" if connecting else "are unreachable"
            failure = UnavailableError(
                None, None, f"Collective ops is aborted by: task {names} {verb} {seen_by}: "
                f"{text}\nThe error could be from a previous operation. Restart your "
                "program to reset.")
        elif "timed out" in text.lower() or "timeout" in text.lower():
            failure = DeadlineExceededError(
                None, None, f"Collective ops timed out after {self.timeout_seconds:g} s "
                f"{seen_by}, although every task answers: one of "
                f"{', '.join(t.name for t in self.tasks if t is not self.me)} is stuck or "
                f"far behind: {text}\nThe error could be from a previous operation. "
                "Restart your program to reset.")
        else:
            failure = UnavailableError(
                None, None, f"Collective ops is aborted by: {text} {seen_by}\nThe error "
                "could be from a previous operation. Restart your program to reset.")
        self._failure = failure
        return failure

    def _call(self, fn, *args, **kwargs):
        if self._failure is not None:
            raise self._failure
        try:
            return fn(*args, **kwargs)
        except RuntimeError as e:  # gloo's and NCCL's errors, torch.distributed.DistError
            raise self._failed(e) from None

    # -- collectives -----------------------------------------------------------------------------
    def all_reduce(self, tensors, op):
        """The sum (or mean, floats only) of each tensor over the workers; tensors of one
        dtype and device travel in one buffer."""
        out = [None] * len(tensors)
        groups = {}
        for i, t in enumerate(tensors):
            groups.setdefault((t.dtype, t.device), []).append(i)
        for indices in groups.values():
            flat = torch.cat([tensors[i].reshape(-1) for i in indices])
            self._call(dist.all_reduce, flat)
            if op == "mean":
                flat.div_(self.num_replicas)
            offset = 0
            for i in indices:
                n = tensors[i].numel()
                out[i] = flat[offset:offset + n].view(tensors[i].shape)
                offset += n
        return out

    def all_gather(self, tensor, axis):
        """The workers' tensors concatenated along `axis`; their sizes along it may differ."""
        x = tensor.movedim(axis, 0).contiguous()
        size = torch.tensor([x.shape[0]], dtype=torch.int64, device=x.device)
        sizes = [torch.empty_like(size) for _ in range(self.num_replicas)]
        self._call(dist.all_gather, sizes, size)
        sizes = [int(s) for s in sizes]
        longest = max(sizes)
        if x.shape[0] < longest:
            x = torch.cat([x, x.new_zeros((longest - x.shape[0],) + tuple(x.shape[1:]))])
        parts = [torch.empty_like(x) for _ in range(self.num_replicas)]
        self._call(dist.all_gather, parts, x)
        out = torch.cat([p[:n] for p, n in zip(parts, sizes)])
        return out.movedim(0, axis)

    def broadcast(self, tensor):
        """The chief's value of `tensor` (a new tensor)."""
        x = tensor.detach().clone().contiguous()
        self._call(dist.broadcast, x, 0)
        return x

    def broadcast_object(self, obj):
        """The chief's `obj` (any picklable Python value)."""
        holder = [obj]
        self._call(dist.broadcast_object_list, holder, 0)
        return holder[0]

    def barrier(self):
        self._call(dist.barrier)


_communicator = None


def communicator_for(tasks, me, options):
    """The process's one communicator (torch.distributed has one default group per process):
    made on first use, shared by every strategy of the same cluster."""
    global _communicator
    addresses = [t.address for t in tasks]
    if _communicator is not None:
        if [t.address for t in _communicator.tasks] != addresses or \
                _communicator.rank != me.rank:
            raise RuntimeError("This process already belongs to a different tf.distribute job "
                               f"({_communicator.me.name} of {len(_communicator.tasks)}); a "
                               "process can join one cluster only.")
        return _communicator
    _communicator = ProcessGroupCommunicator(tasks, me, options.timeout_seconds,
                                             options.implementation)
    return _communicator
