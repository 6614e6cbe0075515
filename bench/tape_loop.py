"""The seed training loop, timed side by side: SGD on (x - 4)**2 for 500 steps, a fresh
GradientTape each step, in tapeflow eager, TensorFlow eager and PyTorch eager.

    python bench/tape_loop.py [--repeats 7] [--steps 500]

Prints the median time per 500-step loop of each contender and the ratio tapeflow / TF
(the goal is at most 1/3). PyTorch is the contender here, so it uses its own autograd.
"""
import argparse
import os
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


def gradient_tape_loop(tf, steps, lr=0.1):
    """The seed, written once for both tapeflow and TensorFlow (`tf` is either module)."""
    x = tf.Variable(10.0)
    for _ in range(steps):
        with tf.GradientTape() as tape:
            loss = (x - 4) ** 2
        grad = tape.gradient(loss, x)
        x.assign_sub(lr * grad)
    return float(x.numpy())


def torch_loop(torch, steps, lr=0.1):
    x = torch.tensor(10.0, requires_grad=True)
    for _ in range(steps):
        loss = (x - 4) ** 2
        loss.backward()
        with torch.no_grad():
            x -= lr * x.grad
        x.grad = None
    return float(x.detach())


def timed(fn, repeats):
    """Median wall time and median CPU time (this process, all threads) of `fn()`; the CPU
    figure is steadier on a shared machine."""
    fn()  # warm-up: imports, caches, first-call paths
    wall, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = fn()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return statistics.median(wall), statistics.median(cpu), result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--steps", type=int, default=500)
    args = parser.parse_args(argv)

    import tapeflow
    import tensorflow
    import torch

    rows = [
        ("tapeflow eager", lambda: gradient_tape_loop(tapeflow, args.steps)),
        ("TF eager", lambda: gradient_tape_loop(tensorflow, args.steps)),
        ("PyTorch eager", lambda: torch_loop(torch, args.steps)),
    ]
    print(f"tape_loop: SGD on (x - 4)**2, {args.steps} steps, fresh tape each step "
          f"(median of {args.repeats})")
    results, cpu = {}, {}
    for name, fn in rows:
        seconds, cpu_seconds, final_x = timed(fn, args.repeats)
        results[name], cpu[name] = seconds, cpu_seconds
        print(f"  {name:<15} {seconds * 1e3:8.2f} ms/loop  {seconds / args.steps * 1e6:7.1f} "
              f"us/step  (cpu {cpu_seconds * 1e3:7.2f} ms; final x = {final_x:.6f})")
    ratio = results["tapeflow eager"] / results["TF eager"]
    cpu_ratio = cpu["tapeflow eager"] / cpu["TF eager"]
    verdict = "met" if ratio <= 1 / 3 else "MISSED"
    print(f"  tapeflow / TF   {ratio:8.3f}  (cpu {cpu_ratio:.3f}; goal <= 0.333: {verdict})")
    print(f"  tapeflow / PyTorch {results['tapeflow eager'] / results['PyTorch eager']:5.2f}")
    return ratio


if __name__ == "__main__":
    main()
