"""Intra-op threads that follow the machine's load.

torch's OpenMP workers spin for a moment after each parallel region before they sleep. On an
idle machine that is what makes small ops fast (the seed model's fit epoch: 0.25 s spinning
against 0.41 s with sleeping workers, OMP_WAIT_POLICY=PASSIVE); but when another process
keeps a core busy, two spinning workers on two cores fight it and the epoch takes 1.2 s. One
thread per core that nobody else uses does best in both cases (0.32 s with one core busy).

So `tick()` — called by Keras's fit/evaluate/predict loops before each batch, by every
tf.function call and by `GradientTape.gradient` (once a step of an eager loop) — looks at
the kernel's count of runnable threads (`procs_running` in /proc/stat) at most every
`INTERVAL` seconds, while this process is at work: what runs beyond our own runnable threads
(counted from /proc/self/task: a worker that went to sleep between two tf.function calls is
not ours to subtract, and assuming it was hid a busy core from every call's look) belongs
to other processes, and torch gets the cores they leave (at least one, at most torch's
default). The median of the last `LOOKS` looks decides, so one passing process changes
nothing; a process that ran while we waited (for input, or between two benchmark samples)
is not counted against us. Nothing changes when the user chose a number
(`tf.config.threading.set_intra_op_parallelism_threads`, `OMP_NUM_THREADS`) or where
/proc/stat does not exist.
"""
import collections
import os
import statistics
import time

import torch

INTERVAL = 0.5  # seconds between looks at the machine's load
LOOKS = 3       # looks whose median decides

_default = torch.get_num_threads()
_state = {"enabled": False, "next": 0.0, "looks": collections.deque(maxlen=LOOKS)}


def enable():
    """Adapt (the default, and after the user hands the choice back: a thread count of 0)."""
    _state["enabled"] = "OMP_NUM_THREADS" not in os.environ and os.path.exists("/proc/stat")
    _state["looks"].clear()


def disable():
    """Stop adapting (the user set the thread count)."""
    _state["enabled"] = False


def running():
    """Threads the kernel counts as runnable right now, on the whole machine."""
    with open("/proc/stat", "rb") as f:
        for line in f:
            if line.startswith(b"procs_running"):
                return int(line.split()[1])
    raise ValueError("no procs_running in /proc/stat")


def ours_running():
    """This process's threads in state R (running or runnable) right now, the caller's
    included."""
    n = 0
    for tid in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{tid}/stat", "rb") as f:
                stat = f.read()
        except OSError:  # the thread ended meanwhile
            continue
        end = stat.rindex(b")")  # the name may hold spaces and parentheses
        n += stat[end + 2:end + 3] == b"R"
    return max(n, 1)


def others_cores(runnable, ours):
    """Cores other processes want, when `runnable` threads run and `ours` are this process's
    (its main thread and its spinning OpenMP workers)."""
    return max(0, runnable - ours)


def threads_for(others):
    """torch threads when other processes hold `others` cores."""
    free = (os.cpu_count() or 1) - others
    return max(1, min(_default, int(free + 0.5)))


def tick():
    """Adapts torch's intra-op threads to the load, at most every INTERVAL seconds."""
    if not _state["enabled"]:
        return
    now = time.perf_counter()
    if now < _state["next"]:
        return
    _state["next"] = now + INTERVAL
    try:
        runnable, ours = running(), ours_running()
    except (OSError, ValueError, IndexError):
        _state["enabled"] = False
        return
    looks = _state["looks"]
    looks.append(others_cores(runnable, ours))
    if len(looks) < LOOKS:
        return
    want = threads_for(statistics.median(looks))
    if want != torch.get_num_threads():
        torch.set_num_threads(want)


enable()
