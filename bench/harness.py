"""Timing machinery shared by all workloads.

A `Workload` names contenders; each contender is a setup function returning a zero-argument
`step` callable (one measured unit of work), or raising `Missing` when that contender cannot run
here (TensorFlow not installed, a layer tapeflow lacks yet). Contenders are timed alternately,
round after round, so drifts in machine load hit them all alike; the figure is the median.
"""
import dataclasses
import gc
import statistics
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


def measure(workload, quick=False, log=print):
    number = (workload.quick_number or workload.number) if quick else workload.number
    repeats = workload.quick_repeats if quick else workload.repeats
    steps, results = {}, {}
    for name, setup in workload.contenders.items():
        try:
            step = setup()
            step()  # warm-up: first-call paths, tracing, caches
            steps[name] = step
        except Missing as e:
            results[name] = Result(workload.name, name, missing=str(e))
        except ImportError as e:
            results[name] = Result(workload.name, name, missing=f"not installed ({e.name})")
    samples = {name: [] for name in steps}
    for _ in range(repeats):
        for name, step in steps.items():
            gc.collect()
            start = time.perf_counter()
            for _ in range(number):
                step()
            samples[name].append((time.perf_counter() - start) / number / workload.scale)
    for name, s in samples.items():
        results[name] = Result(workload.name, name, statistics.median(s), s)
    ordered = [results[name] for name in workload.contenders]
    for r in ordered:
        log("  " + format_row(workload, r))
    return ordered


def format_time(seconds, display):
    factor = {"us": 1e6, "ms": 1e3, "s": 1.0}[display]
    return f"{seconds * factor:.2f} {display}"


def format_row(workload, r):
    if r.missing:
        return f"{r.contender:<16} missing: {r.missing}"
    return f"{r.contender:<16} {format_time(r.seconds, workload.display):>12} per {workload.unit}"
