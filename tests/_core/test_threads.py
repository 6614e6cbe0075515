"""torch's intra-op threads follow the machine's load (tapeflow/_core/threads.py): the
arithmetic on /proc/stat snapshots, the user's choice winning, and a real busy process seen."""
import os
import subprocess
import sys
import time

import pytest
import torch

import tapeflow as tf
from tapeflow._core import threads

CORES = os.cpu_count() or 1


def test_others_are_the_runnable_threads_beyond_ours():
    assert threads.others_cores(3, 2) == 1
    assert threads.others_cores(1, 2) == 0    # our workers asleep: nobody else
    assert threads.others_cores(2, 1) == 1


def test_threads_for_leaves_others_their_cores():
    assert threads.threads_for(0.0) == min(threads._default, CORES)
    assert threads.threads_for(CORES) == 1           # never fewer than one
    if CORES >= 2 and threads._default >= 2:
        assert threads.threads_for(1.0) == CORES - 1
        assert threads.threads_for(0.3) == CORES     # a little noise keeps every core


def _spin(seconds):
    """Work as training does: parallel torch ops, whose OpenMP workers spin in between."""
    a = torch.randn(256, 256)
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        a = torch.tanh(a @ a)


def _work_until(threads_wanted, seconds):
    """Our own work with a tick after each slice, until torch has `threads_wanted` threads or
    `seconds` passed; the thread count it ends with."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        _spin(0.06)
        threads.tick()
        if torch.get_num_threads() == threads_wanted:
            break
    return torch.get_num_threads()


@pytest.mark.skipif(not os.path.exists("/proc/stat") or CORES != 2 or threads._default != 2,
                    reason="measures a 2-core Linux machine (CI's)")
def test_a_busy_core_takes_a_thread_and_gives_it_back(adaptive):
    # what the machine's other processes leave us before the spinner starts is what we must
    # get back after it stops: a CI machine may run something else meanwhile
    if _work_until(2, 2.0) != 2:
        pytest.skip("another process already holds a core: nothing to give back")
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.3)
        assert _work_until(1, 3.0) == 1
    finally:
        spinner.kill()
        spinner.wait()
    assert _work_until(2, 3.0) == 2


@pytest.mark.skipif(not os.path.exists("/proc/stat") or CORES != 2 or threads._default != 2,
                    reason="measures a 2-core Linux machine (CI's)")
def test_a_busy_core_is_seen_when_our_workers_sleep_at_the_look(adaptive):
    # a tf.function call looks before its kernels run, when our OpenMP workers may have gone
    # to sleep: they are not runnable then and must not be subtracted from the count
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.3)
        for _ in range(6):
            _spin(0.03)
            time.sleep(0.06)             # the workers fall asleep
            threads.tick()
        assert torch.get_num_threads() == 1
    finally:
        spinner.kill()
        spinner.wait()


def test_our_running_threads_are_counted_from_proc():
    if not os.path.exists("/proc/self/task"):
        pytest.skip("no /proc")
    assert 1 <= threads.ours_running() <= len(os.listdir("/proc/self/task"))


def test_the_users_thread_count_holds(adaptive):
    try:
        tf.config.threading.set_intra_op_parallelism_threads(1)
        assert not threads._state["enabled"]
        threads._state["next"] = 0.0
        threads.tick()
        assert torch.get_num_threads() == 1
    finally:
        tf.config.threading.set_intra_op_parallelism_threads(0)
    assert torch.get_num_threads() == threads._default
    assert threads._state["enabled"] == ("OMP_NUM_THREADS" not in os.environ)  # 0: adapt again
