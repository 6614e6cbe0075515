"""Saving is atomic and loading is all-or-nothing: a killed save leaves the old file, and a
truncated, corrupt or wrong-architecture file raises an error naming the file and the
mismatch, without changing the model."""
import os
import signal
import subprocess
import sys
import textwrap
import zipfile

import numpy as np
import pytest

from tapeflow import keras

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))


def mlp(units=3):
    return keras.Sequential([keras.Input((4,)), keras.layers.Dense(5, activation="relu"),
                             keras.layers.Dense(units)])


X = np.linspace(-1, 1, 12, dtype="float32").reshape(3, 4)


def test_kill_during_save_keeps_the_old_file(tmp_path):
    path = str(tmp_path / "m.keras")
    script = textwrap.dedent(f"""
        import sys, time, zipfile
        import numpy as np
        from tapeflow import keras
        m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(5, activation="relu"),
                              keras.layers.Dense(3)])
        m.save({path!r})
        np.save({path!r} + ".expected.npy", m.predict(np.linspace(-1, 1, 12, dtype="float32")
                                                      .reshape(3, 4), verbose=0))
        m.set_weights([w + 1 for w in m.get_weights()])
        real = zipfile.ZipFile.writestr
        def slow(self, name, data, *a, **k):
            real(self, name, data, *a, **k)
            self.fp.flush()
            print("WRITING", flush=True)
            time.sleep(60)
        zipfile.ZipFile.writestr = slow
        m.save({path!r})
        print("FINISHED", flush=True)
    """)
    env = dict(os.environ, PYTHONPATH=ROOT)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env, text=True)
    try:
        line = proc.stdout.readline()
        while line and "WRITING" not in line:
            line = proc.stdout.readline()
        assert "WRITING" in line, proc.stderr.read()
        # The new archive is being written next to the old one, not over it.
        assert any(n.endswith(".tmp") for n in os.listdir(tmp_path))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    loaded = keras.models.load_model(path)
    expected = np.load(path + ".expected.npy")
    np.testing.assert_allclose(loaded.predict(X, verbose=0), expected, rtol=1e-6)


def _unchanged(model, before):
    for a, b in zip(model.get_weights(), before):
        np.testing.assert_array_equal(a, b)


def test_truncated_keras_file(tmp_path):
    path = str(tmp_path / "m.keras")
    mlp().save(path)
    data = open(path, "rb").read()
    bad = str(tmp_path / "bad.keras")
    with open(bad, "wb") as f:
        f.write(data[:len(data) // 2])
    with pytest.raises(ValueError, match="bad.keras.*truncated or corrupt"):
        keras.models.load_model(bad)
    model = mlp()
    before = model.get_weights()
    with pytest.raises(ValueError, match="bad.keras"):
        model.load_weights(bad)
    _unchanged(model, before)


def test_corrupt_weights_inside_archive(tmp_path):
    path = str(tmp_path / "m.keras")
    mlp().save(path)
    bad = str(tmp_path / "corrupt.keras")
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(bad, "w") as dst:
        for name in src.namelist():
            data = src.read(name)
            if name == "model.weights.h5":
                data = data[:100] + b"\0" * (len(data) - 100)
            dst.writestr(name, data)
    with pytest.raises(ValueError, match="corrupt.keras/model.weights.h5"):
        keras.models.load_model(bad)


def test_truncated_weights_file(tmp_path):
    path = str(tmp_path / "m.weights.h5")
    mlp().save_weights(path)
    data = open(path, "rb").read()
    with open(path, "wb") as f:
        f.write(data[:len(data) // 3])
    model = mlp()
    before = model.get_weights()
    with pytest.raises(ValueError, match="m.weights.h5.*truncated, corrupt"):
        model.load_weights(path)
    _unchanged(model, before)


def test_wrong_architecture_loads_nothing(tmp_path):
    path = str(tmp_path / "m.weights.h5")
    mlp(units=3).save_weights(path)
    model = mlp(units=4)  # first layer matches, the last does not
    before = model.get_weights()
    with pytest.raises(ValueError) as err:
        model.load_weights(path)
    msg = str(err.value)
    assert "m.weights.h5" in msg and "dense" in msg and "(5, 4)" in msg and "(5, 3)" in msg
    assert "Nothing was loaded" in msg
    _unchanged(model, before)
    # A model with an extra layer: the missing group is named.
    deeper = keras.Sequential([keras.Input((4,)), keras.layers.Dense(5),
                               keras.layers.Dense(3), keras.layers.Dense(2)])
    before = deeper.get_weights()
    with pytest.raises(ValueError, match="no weights for layer"):
        deeper.load_weights(path)
    _unchanged(deeper, before)


def test_bad_names_and_formats(tmp_path):
    model = mlp()
    with pytest.raises(ValueError, match="must end in `.weights.h5`"):
        model.save_weights(str(tmp_path / "w.h5"))
    with pytest.raises(ValueError, match="Invalid filepath extension for saving"):
        model.save(str(tmp_path / "m.tf"))
    not_zip = tmp_path / "x.keras"
    not_zip.write_bytes(b"hello")
    with pytest.raises(ValueError, match="x.keras"):
        keras.models.load_model(str(not_zip))
    with pytest.raises(NotImplementedError, match="legacy HDF5"):
        model.save(str(tmp_path / "m.h5"))
    with pytest.raises(NotImplementedError, match="legacy HDF5"):
        keras.models.load_model(str(tmp_path / "m.h5"))
    with pytest.raises(ValueError, match="File not found"):
        keras.models.load_model(str(tmp_path / "missing.keras"))


def test_save_replaces_atomically_and_leaves_no_temporary(tmp_path):
    path = str(tmp_path / "m.keras")
    a = mlp()
    a.save(path)
    b = mlp()
    b.save(path)
    assert sorted(os.listdir(tmp_path)) == ["m.keras"]
    np.testing.assert_allclose(keras.models.load_model(path).predict(X, verbose=0),
                               b.predict(X, verbose=0), rtol=1e-6)
