"""Eager op dispatch and import time, side by side: tapeflow vs TensorFlow vs PyTorch.

    python bench/eager_ops.py [--quick]

The same workloads run as part of `python -m bench`; this script runs just these three.
Goals (issue 2): tapeflow's tf.add on 2x2 float32 at most 1/5 of TensorFlow's time, and
`import tapeflow` at most 0.6x of `import tensorflow`.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from bench.harness import measure  # noqa: E402
from bench.run import ratios  # noqa: E402
from bench.workloads import eager_add, eager_matmul, import_time  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    for w in (eager_add(), eager_matmul(), import_time()):
        print(f"{w.name}: {w.description}")
        for a, b, r in ratios(measure(w, quick=args.quick)):
            print(f"  ratio {a} / {b}: {r:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
