"""One contender of one workload in a process of its own (`python -m bench.worker WORKLOAD
CONTENDER [--quick] [--device D]`): TensorFlow's thread pools, PyTorch's OpenMP workers and
tapeflow's caches never share a process, so no contender runs beside another's spinning or
warm threads. The parent (`harness.measure`) drives it over a pipe, one line per command:

    parent -> worker: "N"        run the step N times
    worker -> parent: "@@ T"     the N calls took T seconds (perf_counter)

The worker says "@@ ready" after setup and one warm-up call, "@@ missing REASON" when this
contender cannot run here; its own prints (a library's log lines) pass through to stderr.
"""
import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from bench import workloads  # noqa: E402
from bench.harness import InProcess  # noqa: E402  (setup, warm-up, timing: as in-process)

MARK = "@@"


def find(name, quick, device):
    for w in workloads.all_workloads(quick, device):
        if w.name == name:
            return w
    raise SystemExit(f"no workload named {name!r}")


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("workload")
    parser.add_argument("contender")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)
    reply = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)
    sys.stdout = sys.stderr  # everything but the replies goes to stderr
    workload = find(args.workload, args.quick, args.device)
    runner = InProcess(workload, args.contender, args.quick, args.device)
    if runner.missing:
        print(f"{MARK} missing {runner.missing}", file=reply)
        return 0
    print(f"{MARK} ready", file=reply)
    for line in sys.stdin:
        print(f"{MARK} {runner.time(int(line))!r}", file=reply)
    return 0


if __name__ == "__main__":
    sys.exit(main())
