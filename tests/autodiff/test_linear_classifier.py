"""examples/linear_classifier.py learns: the loss falls and the two Gaussians separate."""
import importlib.util
import pathlib

import numpy as np

EXAMPLE = pathlib.Path(__file__).resolve().parents[2] / "examples" / "linear_classifier.py"


def _load():
    spec = importlib.util.spec_from_file_location("linear_classifier", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_linear_classifier_learns(capsys):
    losses, accuracy = _load().main()
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith("Loss at step 0: ")
    assert len([line for line in printed if line.startswith("Loss at step")]) == 40
    assert accuracy > 0.9
    assert losses[-1] < losses[0] / 4
    assert np.all(np.isfinite(losses))


def test_same_training_in_tensorflow_reaches_the_same_loss(realtf):
    """The same program under real TF, from the same initial W, gives the same losses."""
    module = _load()
    inputs, targets = module.make_data(0)
    w0 = np.array([[0.3], [0.7]], dtype=np.float32)

    def train(m):
        W, b = m.Variable(w0), m.Variable(np.zeros((1,), np.float32))
        out = []
        for _ in range(40):
            with m.GradientTape() as tape:
                predictions = m.matmul(inputs, W) + b
                loss = m.reduce_mean(m.square(targets - predictions))
            gW, gb = tape.gradient(loss, [W, b])
            W.assign_sub(gW * 0.1)
            b.assign_sub(gb * 0.1)
            out.append(float(loss))
        return out

    import tapeflow as tf
    np.testing.assert_allclose(train(tf), train(realtf), rtol=1e-4, atol=1e-5)
