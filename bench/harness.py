"""Timing machinery shared by all workloads.

A `Workload` names contenders; each contender is a setup function returning a zero-argument
`step` callable (one measured unit of work), or raising `Missing` when that contender cannot run
here (TensorFlow not installed, a layer tapeflow lacks yet). Contenders are timed alternately,
round after round, so drifts in machine load hit them all alike; the figure is the median.
By default each contender runs in a process of its own (`bench/worker.py`), started once per
workload and driven over a pipe: one framework's threads (TensorFlow's spinning Eigen pools,
torch's OpenMP workers) never slow another's steps. `isolate=False` runs them all here.
"""
import dataclasses
import gc
import os
import statistics
import subprocess
import sys
import time


class Missing(Exception):
    """This contender cannot run this workload here (the reason is reported, not hidden)."""


@dataclasses.dataclass
class Workload:
    name: str
    description: str
    unit: str                      # what one step is, e.g. "op", "loop of 500 steps", "epoch"
    contenders: dict               # contender name -> setup() -> step callable
    number: int = 1                # calls of step() per timed sample
    quick_number: int = None
    repeats: int = 7
    quick_repeats: int = 3
    scale: float = 1.0             # seconds per unit = sample time / number / scale
    display: str = "ms"            # "us", "ms" or "s"


@dataclasses.dataclass
class Result:
    workload: str
    contender: str
    seconds: float = None          # median seconds per unit
    samples: list = None
    missing: str = None            # reason, when the contender could not run


SETTLE = 1.0  # seconds between samples: TF's Eigen pools spin on after a step, for a while


def measure(workload, quick=False, log=print, isolate=True, device="cpu"):
    number = (workload.quick_number or workload.number) if quick else workload.number
    repeats = workload.quick_repeats if quick else workload.repeats
    runners, results = {}, {}
    make = Worker if isolate else InProcess
    try:
        for name in workload.contenders:   # started one after another: setups do not overlap
            runner = make(workload, name, quick, device)
            if runner.missing:
                results[name] = Result(workload.name, name, missing=runner.missing)
            else:
                runners[name] = runner
        samples = {name: [] for name in runners}
        for _ in range(repeats):
            for name, runner in runners.items():
                if isolate:  # the previous contender's pool threads spin on after its sample
                    time.sleep(SETTLE)
                samples[name].append(runner.time(number) / number / workload.scale)
    finally:
        for runner in runners.values():
            runner.close()
    for name, s in samples.items():
        results[name] = Result(workload.name, name, statistics.median(s), s)
    ordered = [results[name] for name in workload.contenders]
    for r in ordered:
        log("  " + format_row(workload, r))
    return ordered


class InProcess:
    def __init__(self, workload, name, quick, device):
        self.missing = None
        try:
            self.step = workload.contenders[name]()
            self.step()  # warm-up: first-call paths, tracing, caches
        except Missing as e:
            self.missing = str(e)
        except ImportError as e:
            self.missing = f"not installed ({e.name})"

    def time(self, number):
        gc.collect()
        start = time.perf_counter()
        for _ in range(number):
            self.step()
        return time.perf_counter() - start

    def close(self):
        pass


class Worker:
    """A contender's own process (bench/worker.py), idle on its pipe between samples."""

    def __init__(self, workload, name, quick, device):
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        args = [sys.executable, "-m", "bench.worker", workload.name, name, "--device", device]
        self.proc = subprocess.Popen(args + (["--quick"] if quick else []), cwd=root,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                     bufsize=1)
        first = self._reply()
        self.missing = first[len("missing "):] if first.startswith("missing ") else None
        if self.missing:
            self.close()

    def _reply(self):
        for line in self.proc.stdout:
            if line.startswith("@@ "):
                return line[3:].rstrip("\n")
        self.proc.wait()
        raise RuntimeError(f"benchmark worker {' '.join(self.proc.args[3:5])} exited with "
                           f"status {self.proc.returncode} (its stderr is above)")

    def time(self, number):
        self.proc.stdin.write(f"{number}\n")
        return float(self._reply())

    def close(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            self.proc.wait(timeout=60)


def format_time(seconds, display):
    factor = {"us": 1e6, "ms": 1e3, "s": 1.0}[display]
    return f"{seconds * factor:.2f} {display}"


def format_row(workload, r):
    if r.missing:
        return f"{r.contender:<16} missing: {r.missing}"
    return f"{r.contender:<16} {format_time(r.seconds, workload.display):>12} per {workload.unit}"
