"""Starting a multi-worker job on this machine: one process per worker, each with its
`TF_CONFIG` (workers on 127.0.0.1, on ports that were free), as a cluster manager would.

    python -m tapeflow.distribute.launch --workers 2 [--gpus] [--timeout 600] script.py args...

`launch` waits for every worker and returns their exit codes and output; when one worker
fails it gives the others `grace` seconds to notice (they raise the named error) and then
stops them, and it never leaves a worker running, whatever happens to the launcher. With
`gpus=True` worker i sees only GPU i (`CUDA_VISIBLE_DEVICES`), one replica per GPU.
"""
import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time


def free_ports(n, host="127.0.0.1"):
    """`n` distinct ports that were free a moment ago (held together while choosing)."""
    sockets = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind((host, 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def local_cluster(num_workers, ports=None):
    """The `cluster` part of TF_CONFIG for `num_workers` workers on 127.0.0.1."""
    ports = ports or free_ports(num_workers)
    return {"worker": [f"127.0.0.1:{p}" for p in ports]}


def tf_config(cluster, index, task_type="worker"):
    return json.dumps({"cluster": cluster, "task": {"type": task_type, "index": index}})


class WorkerResult:
    """One worker's exit code (None: it was stopped), output, and wall time."""

    def __init__(self, index, returncode, output, seconds):
        self.index, self.returncode, self.output, self.seconds = \
            index, returncode, output, seconds

    def __repr__(self):
        return f"<worker {self.index}: exit {self.returncode} after {self.seconds:.1f} s>"


def _stop(proc):
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()
    proc.wait()


def launch(argv, num_workers, cluster=None, timeout=600.0, grace=60.0, env=None, cwd=None,
           gpus=False, only=None, echo=False, passthrough=()):
    """Runs `argv` (e.g. `[sys.executable, "train.py"]`) once per worker and waits.

    Args:
        cluster: TF_CONFIG's cluster (default: `num_workers` workers on free local ports).
        timeout: seconds after which every worker still running is stopped.
        grace: after a worker fails, seconds the others get to exit by themselves.
        env: extra environment variables for every worker.
        only: the worker indices to start (default all; the others "never connect").
        echo: copy each worker's output to this process's stdout when it ends.
        passthrough: worker indices whose output goes straight to this process's (their
            `output` is then empty), e.g. `(0,)` to watch the chief's progress bar.

    Returns:
        A list of `WorkerResult`, one per started worker.
    """
    cluster = cluster or local_cluster(num_workers)
    procs, logs, started = {}, {}, time.monotonic()
    ended = {}
    try:
        for i in (range(num_workers) if only is None else only):
            child_env = dict(os.environ, **(env or {}), TF_CONFIG=tf_config(cluster, i))
            if gpus:
                child_env["CUDA_VISIBLE_DEVICES"] = str(i)
            logs[i] = tempfile.TemporaryFile()
            out = None if i in passthrough else logs[i]
            procs[i] = subprocess.Popen(argv, stdout=out, stderr=None if out is None else
                                        subprocess.STDOUT, env=child_env, cwd=cwd,
                                        start_new_session=True)
        deadline = started + timeout
        while len(ended) < len(procs) and time.monotonic() < deadline:
            for i, p in procs.items():
                if i not in ended and p.poll() is not None:
                    ended[i] = time.monotonic() - started
                    if p.returncode != 0:
                        deadline = min(deadline, time.monotonic() + grace)
            time.sleep(0.05)
    finally:
        for p in procs.values():
            _stop(p)
    results = []
    for i, p in procs.items():
        logs[i].seek(0)
        output = logs[i].read().decode("utf-8", "replace")
        logs[i].close()
        code = p.returncode if i in ended else None
        results.append(WorkerResult(i, code, output, ended.get(i, time.monotonic() - started)))
        if echo:
            print(f"----- worker {i} (exit {code}) -----\n{output}", flush=True)
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description="Run a script as a local multi-worker job.")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--gpus", action="store_true", help="worker i uses GPU i only")
    parser.add_argument("--timeout", type=float, default=3600.0)
    parser.add_argument("script")
    parser.add_argument("args", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    results = launch([sys.executable, args.script, *args.args], args.workers,
                     timeout=args.timeout, gpus=args.gpus, echo=True, passthrough=(0,))
    return max((1 if r.returncode is None else abs(r.returncode)) for r in results)


if __name__ == "__main__":
    sys.exit(main())
