"""`tapeflow run`: unmodified TensorFlow scripts run with their imports resolved to tapeflow."""
import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent("""
    import sys
    import tensorflow as tf
    from tensorflow import errors
    print(tf.__name__, errors.__name__)
    x = tf.Variable(3.0)
    with tf.GradientTape() as tape:
        y = x * x
    print(tape.gradient(y, x))
    print(sys.argv[1:])
""")


def run(tmp_path, body, *args):
    script = tmp_path / "script.py"
    script.write_text(body)
    return subprocess.run([sys.executable, "-m", "tapeflow", "run", str(script), *args],
                          capture_output=True, text=True, timeout=120)


def test_tensorflow_imports_resolve_to_tapeflow(tmp_path):
    done = run(tmp_path, SCRIPT, "--epochs", "2")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "tapeflow tapeflow.errors"
    assert lines[1] == "tf.Tensor(6.0, shape=(), dtype=float32)"
    assert lines[2] == "['--epochs', '2']"


def test_missing_module_names_the_tapeflow_module(tmp_path):
    done = run(tmp_path, "import tensorflow.no_such_module\n")
    assert done.returncode != 0
    assert "tapeflow has no 'tapeflow.no_such_module'" in done.stderr


def test_missing_script_is_a_usage_error(tmp_path):
    done = subprocess.run([sys.executable, "-m", "tapeflow", "run", str(tmp_path / "nope.py")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "script not found" in done.stderr


@pytest.mark.parametrize("name,target", [("tensorflow", "tapeflow"),
                                         ("tensorflow.keras.layers", "tapeflow.keras.layers"),
                                         ("keras", "tapeflow.keras"),
                                         ("keras.layers", "tapeflow.keras.layers"),
                                         ("kerasx", None), ("tensorflowing", None)])
def test_alias_names(name, target):
    from tapeflow._compat import target_name
    assert target_name(name) == target
