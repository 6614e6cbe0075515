"""`keras.utils.to_categorical` and `normalize` (NumPy in, NumPy out, as Keras 3)."""
import numpy as np

from tapeflow._core.tensor import constant


def to_categorical(x, num_classes=None):
    """One-hot encodes integer class labels: `to_categorical([0, 2], 3)` (float64 NumPy,
    or a tensor for a tensor input)."""
    if hasattr(x, "numpy") and not isinstance(x, np.ndarray):
        x = x.numpy()
        out = to_categorical(x, num_classes)
        return constant(out.astype(np.float32))
    x = np.array(x, dtype="int64")
    shape = x.shape
    if shape and shape[-1] == 1 and len(shape) > 1:
        shape = tuple(shape[:-1])
    x = x.reshape(-1)
    if not num_classes:
        num_classes = int(np.max(x)) + 1
    out = np.zeros((x.shape[0], num_classes))
    out[np.arange(x.shape[0]), x] = 1
    return out.reshape(shape + (num_classes,))


def normalize(x, axis=-1, order=2):
    """Scales `x` to unit `order`-norm along `axis`."""
    x = np.asarray(x)
    norm = np.atleast_1d(np.linalg.norm(x, order, axis))
    norm[norm == 0] = 1
    return x / np.expand_dims(norm, axis)
