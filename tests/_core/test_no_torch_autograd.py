"""Hard rule 1: tapeflow never turns on torch.autograd."""
import pathlib
import re

import tapeflow as tf

PACKAGE = pathlib.Path(tf.__file__).parent


def test_source_never_enables_torch_autograd():
    pattern = re.compile(r"requires_grad\s*=\s*True|\.backward\(|torch\.autograd|requires_grad_\(")
    offenders = [f"{p.relative_to(PACKAGE)}:{i}" for p in PACKAGE.rglob("*.py")
                 for i, line in enumerate(p.read_text().splitlines(), 1) if pattern.search(line)]
    assert offenders == []


def test_tensors_from_a_training_step_never_require_grad():
    w = tf.Variable([[1.0, 2.0], [3.0, 4.0]])
    x = tf.constant([[1.0], [2.0]])
    with tf.GradientTape() as tape:
        y = w * x + x
    g = tape.gradient(y, w)
    for t in (w._t, x._t, y._t, g._t):
        assert not t.requires_grad
