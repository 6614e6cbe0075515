"""The examples run and learn on the real Fashion-MNIST (one epoch each, to keep CI short; the
full runs and their accuracies are in the README and the closing notes)."""
import os
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data" / "fashion-mnist"


@pytest.mark.parametrize("script,floor", [("mnist_mlp.py", 0.80), ("mnist_cnn.py", 0.80),
                                          ("lstm_fashion_mnist.py", 0.60)])
def test_example_learns_in_one_epoch(tmp_path, script, floor):
    if not SHARED.is_dir():
        pytest.skip(f"the shared Fashion-MNIST files are not at {SHARED}")
    env = dict(os.environ, KERAS_HOME=str(tmp_path))  # the example links the shared files in
    done = subprocess.run([sys.executable, str(ROOT / "examples" / script), "--epochs", "1",
                           "--verbose", "0", "--seed", "0"], capture_output=True, text=True,
                          timeout=600, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    accuracy = float(re.search(r"test accuracy: ([0-9.]+)", done.stdout).group(1))
    assert accuracy > floor, done.stdout


OFFLINE = """
import os, runpy, sys, urllib.error, urllib.request
def refuse(*args, **kwargs):
    raise urllib.error.URLError("no network here")
urllib.request.urlopen = refuse
sys.argv = [sys.argv[1], "--dataset", "mnist", "--epochs", "1"]
sys.path.insert(0, os.path.dirname(sys.argv[0]))
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def test_example_offline_with_an_empty_cache_says_what_to_put_where(tmp_path):
    """A new user's first run with no network: one error naming the file, its URL, where it
    goes and what KERAS_HOME changes (MNIST digits: the examples bring no copy of them)."""
    env = dict(os.environ, KERAS_HOME=str(tmp_path))
    done = subprocess.run([sys.executable, "-c", OFFLINE, str(ROOT / "examples" / "mnist_mlp.py")],
                          capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode != 0
    message = done.stderr[done.stderr.index("Exception: URL fetch failure"):]
    url = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
    assert f"    {url}\n      -> {tmp_path / 'datasets' / 'mnist.npz'}\n" in message
    assert f"set by KERAS_HOME={tmp_path}" in message


def test_distributed_example_trains_on_two_workers(tmp_path):
    """One command starts two local workers (MultiWorkerMirroredStrategy, Gloo); the chief
    reports."""
    if not SHARED.is_dir():
        pytest.skip(f"the shared Fashion-MNIST files are not at {SHARED}")
    env = dict(os.environ, KERAS_HOME=str(tmp_path))
    done = subprocess.run([sys.executable, str(ROOT / "examples" / "distributed_mnist.py"),
                           "--workers", "2", "--epochs", "1", "--samples", "6000",
                           "--verbose", "0", "--timeout", "500"],
                          capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "2 replicas in sync, global batch 128" in done.stdout
    accuracy = float(re.search(r"test accuracy: ([0-9.]+)", done.stdout).group(1))
    assert accuracy > 0.6, done.stdout
