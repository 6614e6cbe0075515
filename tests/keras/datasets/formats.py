"""Writers of small files in the formats of the Keras data sets (what `load_data` reads from
the cache), for tests: `.npz` with object arrays of ragged lists, IDX `.gz`, CIFAR's pickled
batches in a `.tar.gz`."""
import gzip
import io
import json
import pickle
import tarfile

import numpy as np


def ragged(rng, count, vocabulary, lengths=(1, 12)):
    """A 1-D object array of `count` lists of word indices 1..vocabulary-1 (lengths vary)."""
    out = np.empty(count, dtype=object)
    for i in range(count):
        out[i] = rng.integers(1, vocabulary, rng.integers(*lengths)).tolist()
    return out


def write_npz(path, **arrays):
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **arrays)  # object arrays are pickled (protocol 3), as in Keras's files


def write_json(path, obj):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj))


def write_idx(path, array, magic):
    path.parent.mkdir(parents=True, exist_ok=True)
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.tobytes())


def cifar_batch(rng, count, label_keys=("labels",), classes=(10,)):
    """A CIFAR batch dict: byte-string keys (as Python 2 wrote them), uint8 rows of 3072."""
    batch = {b"batch_label": b"testing batch",
             b"data": rng.integers(0, 256, (count, 3072), dtype=np.uint8),
             b"filenames": [b"img_%d.png" % i for i in range(count)]}
    for key, n in zip(label_keys, classes):
        batch[key.encode()] = rng.integers(0, n, count).tolist()
    return batch


def write_tar_gz(path, members):
    """A `.tar.gz` of {name inside: pickled object}. Protocol 4: protocol 2 from Python 3
    would spell bytes through `_codecs.encode`, which the safe readers rightly refuse."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz", compresslevel=1) as archive:
        for name, obj in members.items():
            data = pickle.dumps(obj, protocol=4)
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
