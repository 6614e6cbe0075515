"""Intra-op threads that follow the machine's load.

torch's OpenMP workers spin for a moment after each parallel region before they sleep. On an
idle machine that is what makes small ops fast (the seed model's fit epoch: 0.25 s spinning
against 0.41 s with sleeping workers, OMP_WAIT_POLICY=PASSIVE); but when another process
keeps a core busy, two spinning workers on two cores fight it and the epoch takes 1.2 s. One
thread per core that nobody else uses does best in both cases (0.32 s with one core busy).

So `tick()` — called by Keras's fit/evaluate/predict loops before each batch, by every
tf.function call and by `GradientTape.gradient` (once a step of an eager loop) — looks at /proc/stat at most every `INTERVAL` seconds: the CPU time other
processes used since the last look (all busy time less this process's own) says how many
cores they hold, and torch gets the rest (at least one, at most torch's default); a window in
which this process mostly waited (for input, or between two benchmark samples) decides
nothing. Nothing changes when the user chose a number
(`tf.config.threading.set_intra_op_parallelism_threads`, `OMP_NUM_THREADS`) or where
/proc/stat does not exist.
"""
import os
import time

import torch

INTERVAL = 0.5  # seconds between looks at the machine's load

_default = torch.get_num_threads()
_clock_ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
_state = {"enabled": "OMP_NUM_THREADS" not in os.environ and os.path.exists("/proc/stat"),
          "next": 0.0, "last": None}


def disable():
    """Stop adapting (the user set the thread count)."""
    _state["enabled"] = False


def enable():
    """Adapt again (the user handed the choice back: a thread count of 0)."""
    _state["enabled"] = "OMP_NUM_THREADS" not in os.environ and os.path.exists("/proc/stat")
    _state["last"] = None


def _snapshot():
    with open("/proc/stat", "rb") as f:
        fields = [int(v) for v in f.readline().split()[1:9]]
    own = os.times()
    return sum(fields), fields[3] + fields[4], (own.user + own.system) * _clock_ticks


def others_cores(before, after):
    """Cores other processes kept busy between two snapshots (total, idle, own ticks), or
    None when this process mostly waited meanwhile (under half a core): such a window says
    what others do while we sleep, not what they take from us while we run."""
    total, idle = after[0] - before[0], after[1] - before[1]
    if total <= 0:
        return None
    per_core = total / (os.cpu_count() or 1)
    own = after[2] - before[2]
    if own < 0.5 * per_core:
        return None
    return max(0.0, (total - idle) - own) / per_core


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
        snap = _snapshot()
    except (OSError, ValueError, IndexError):
        _state["enabled"] = False
        return
    last, _state["last"] = _state["last"], snap
    if last is None:
        return
    others = others_cores(last, snap)
    if others is None:
        return
    want = threads_for(others)
    if want != torch.get_num_threads():
        torch.set_num_threads(want)
