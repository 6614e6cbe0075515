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
                           "--verbose", "0", "--seed", "0"], capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    accuracy = float(re.search(r"test accuracy: ([0-9.]+)", done.stdout).group(1))
    assert accuracy > floor, done.stdout
