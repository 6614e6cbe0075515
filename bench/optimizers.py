"""Per-step time of every optimizer's update: the fused op against the per-variable loop it
replaces (`bench/optimizer_loops.py`), eagerly and inside tf.function, on the seed model's
variables (784x512, 512, 512x10, 10 in float32).

    python -m bench.optimizers [--quick] [--only NAME ...] [--threads N]

Times are CPU seconds of the process (`time.process_time`), which move less than wall time
when other processes share the cores; torch runs one thread by default, so they measure the
work itself. Contenders alternate round by round and the median is reported.
"""
import argparse
import os
import statistics
import sys
import time

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

SHAPES = [(784, 512), (512,), (512, 10), (10,)]
OPTIMIZERS = [("SGD", {"momentum": 0.9}), ("Adam", {}), ("AdamW", {}), ("Nadam", {}),
              ("Adamax", {}), ("Lion", {}), ("RMSprop", {}), ("Adagrad", {}),
              ("Adadelta", {}), ("Ftrl", {}), ("Adafactor", {})]


def contenders(name, kwargs):
    """{contender: step()} for one optimizer: fused or loop, eager or in tf.function."""
    import tapeflow as tf
    from bench.optimizer_loops import loop_optimizer
    rng = np.random.default_rng(0)
    init = [(rng.standard_normal(s) * 0.05).astype(np.float32) for s in SHAPES]
    grads = [tf.constant((rng.standard_normal(s) * 1e-3).astype(np.float32)) for s in SHAPES]
    out = {}
    for label, make in (("fused", lambda: getattr(tf.keras.optimizers, name)(**kwargs)),
                        ("loop", lambda: loop_optimizer(name, **kwargs))):
        for traced in (False, True):
            variables = [tf.Variable(w) for w in init]
            opt = make()

            def step(opt=opt, variables=variables):
                opt.apply_gradients(zip(grads, variables))
            step = tf.function(step) if traced else step
            step()  # builds the slots (and traces)
            out[f"{label} {'function' if traced else 'eager'}"] = step
    return out


def measure(steps, number, repeats):
    samples = {name: [] for name in steps}
    for _ in range(repeats):
        for name, step in steps.items():
            start = time.process_time()
            for _ in range(number):
                step()
            samples[name].append((time.process_time() - start) / number)
    return {name: statistics.median(s) for name, s in samples.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps and rounds")
    parser.add_argument("--only", nargs="*", help="optimizer names to run")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    args = parser.parse_args(argv)
    number, repeats = (5, 3) if args.quick else (20, 9)
    import torch
    torch.set_num_threads(args.threads)
    print(f"torch threads: {torch.get_num_threads()}; ms of CPU time per step "
          f"(process_time), median of {repeats} rounds of {number} steps")
    header = ["fused eager", "loop eager", "fused function", "loop function"]
    print(f"{'optimizer':<10} " + " ".join(f"{h:>15}" for h in header) +
          f" {'loop/fused eager':>17} {'loop/fused function':>20}")
    for name, kwargs in OPTIMIZERS:
        if args.only and name not in args.only:
            continue
        t = measure(contenders(name, kwargs), number, repeats)
        print(f"{name:<10} " + " ".join(f"{t[h] * 1e3:>15.3f}" for h in header) +
              f" {t['loop eager'] / t['fused eager']:>17.2f}"
              f" {t['loop function'] / t['fused function']:>20.2f}")
    return 0


if __name__ == "__main__":
    ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if ROOT not in sys.path:
        sys.path.insert(0, ROOT)
    sys.exit(main())
