"""The file formats of the Keras data sets: gzip-compressed IDX (Fashion-MNIST), `.npz` whose
ragged sequences are pickled object arrays (IMDB, Reuters), and CIFAR's pickled batches.

Pickles are read with an unpickler that builds NumPy arrays and nothing else (the globals an
array's pickle names), so a tampered file in the cache cannot run code: Keras reads them the
same way and refuses the same files.
"""
import gzip
import io
import pickle
import zipfile

import numpy as np

# (module, name) pairs an ndarray's pickle refers to; NumPy 1 and NumPy 2 spell `multiarray`
# differently. Python lists and ints inside object arrays need no global at all.
_ARRAY_GLOBALS = frozenset({("numpy", "ndarray"), ("numpy", "dtype"),
                            ("numpy.core.multiarray", "_reconstruct"),
                            ("numpy._core.multiarray", "_reconstruct")})


class _ArrayUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) not in _ARRAY_GLOBALS:
            raise pickle.UnpicklingError(
                f"Refusing to deserialize `{module}.{name}` while loading a Keras dataset. "
                "The file may be corrupted or malicious.")
        return super().find_class(module, name)


def read_idx_labels(path):
    with gzip.open(path, "rb") as f:
        return np.frombuffer(f.read(), np.uint8, offset=8)


def read_idx_images(path, count):
    with gzip.open(path, "rb") as f:
        return np.frombuffer(f.read(), np.uint8, offset=16).reshape(count, 28, 28)


def _read_npy(stream):
    major, minor = np.lib.format.read_magic(stream)
    if major == 1:
        _, _, dtype = np.lib.format.read_array_header_1_0(stream)
    elif major in (2, 3):  # 3.0's header is 2.0's in UTF-8: same layout up to the pickle
        _, _, dtype = np.lib.format.read_array_header_2_0(stream)
    else:
        raise ValueError(f"Unsupported `.npy` file version: {(major, minor)}.")
    if dtype.hasobject:
        return _ArrayUnpickler(stream).load()
    stream.seek(0)
    return np.lib.format.read_array(stream, allow_pickle=False)


def read_npz(path):
    """{name: array} of an `.npz` file; object arrays are unpickled as arrays only."""
    arrays = {}
    with zipfile.ZipFile(path) as archive:
        for member in archive.namelist():
            if member.endswith(".npy"):
                arrays[member[:-len(".npy")]] = _read_npy(io.BytesIO(archive.read(member)))
    return arrays


def read_cifar_batch(path, label_key="labels"):
    """`(data, labels)` of one CIFAR batch: images (n, 3, 32, 32) as stored, labels a list.

    The batches are Python 2 pickles of a dict with byte-string keys."""
    with open(path, "rb") as f:
        batch = {key.decode("utf8"): value
                 for key, value in _ArrayUnpickler(f, encoding="bytes").load().items()}
    data = batch["data"]
    return data.reshape(data.shape[0], 3, 32, 32), batch[label_key]
