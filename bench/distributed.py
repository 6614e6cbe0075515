"""Data-parallel scaling: the seed model's `fit` throughput on 1 vs N local workers
(MultiWorkerMirroredStrategy: Gloo on CPUs, NCCL with `--gpus`), and the scaling efficiency
`throughput(N) / (N * throughput(1))`. Each configuration runs examples/distributed_mnist.py
(one command starting its workers); the figure is its median epoch after the first.

    python -m bench.distributed [--workers 1 2] [--samples 20000] [--epochs 3] [--gpus]
                                [--tensorflow] [--out FILE.json]

On a machine with fewer cores than workers x threads the workers share the cores, so expect
little scaling there: the figure then measures the all-reduce's overhead.
"""
import argparse
import json
import os
import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "distributed_mnist.py"


def throughput(workers, args, tensorflow=False):
    """Images per second of the job, or None (with the reason printed) when it failed."""
    cmd = [sys.executable, str(EXAMPLE), "--workers", str(workers), "--epochs",
           str(args.epochs), "--samples", str(args.samples), "--verbose", "0",
           "--global-batch-size", str(args.global_batch_size)]
    cmd += ["--gpus"] if args.gpus else []
    cmd += ["--tensorflow"] if tensorflow else []
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=args.timeout)
    found = re.search(r"throughput: ([0-9.]+) images/s", done.stdout)
    if done.returncode != 0 or found is None:
        print(f"  {workers} workers failed (exit {done.returncode}):\n"
              f"{done.stdout[-1500:]}{done.stderr[-1500:]}")
        return None
    return float(found.group(1))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--samples", type=int, default=20000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--global-batch-size", type=int, default=128)
    parser.add_argument("--gpus", action="store_true")
    parser.add_argument("--tensorflow", action="store_true",
                        help="also run real TensorFlow's MultiWorkerMirroredStrategy")
    parser.add_argument("--timeout", type=float, default=1800.0)
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    contenders = [("tapeflow", False)] + ([("TensorFlow", True)] if args.tensorflow else [])
    rows = []
    for name, use_tf in contenders:
        base = None
        for n in args.workers:
            images = throughput(n, args, use_tf)
            if n == 1:
                base = images
            efficiency = images / (n * base) if images and base else None
            rows.append({"contender": name, "workers": n, "images_per_s": images,
                         "efficiency": efficiency})
            eff = "" if efficiency is None else f"  scaling efficiency {efficiency:.2f}"
            shown = "failed" if images is None else f"{images:.0f} images/s"
            print(f"{name}, {n} worker{'s' if n > 1 else ''}"
                  f"{' (GPU each)' if args.gpus else ' (CPU)'}: {shown}{eff}", flush=True)
    if args.out:
        pathlib.Path(args.out).write_text(json.dumps({"samples": args.samples, "rows": rows},
                                                     indent=1))
    return 0 if all(r["images_per_s"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
