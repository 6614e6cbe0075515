"""Datasets over files: `tf.data.TFRecordDataset` (the records of TFRecord files, read by
`tapeflow/io/tfrecord.py`), `Dataset.list_files` (the paths a glob matches) and
`tf.data.experimental.TFRecordWriter` (a dataset of strings written as records).

Filenames may be a string, a list, a string tensor or a dataset of strings (as TF accepts);
with `num_parallel_reads` files are read `num_parallel_reads` at a time in round-robin order,
one record from each in turn, which is TF's deterministic interleave order.
"""
import os

import numpy as np
import torch

from tapeflow._core import dtypes
from tapeflow._core.errors import InvalidArgumentError
from tapeflow._core.spec import TensorSpec
from tapeflow._core.tensor import wrap_strings
from tapeflow.data.dataset import AUTOTUNE, UNKNOWN_CARDINALITY, DatasetV2
from tapeflow.io import file_io
from tapeflow.io import tfrecord as io_tfrecord
from tapeflow.io.tfrecord import TFRecordOptions, read_records
from tapeflow.ops.random import generator


def _filenames(filenames):
    """The file names as a list of str (read when iterating, for a dataset of names)."""
    if isinstance(filenames, DatasetV2):
        spec = filenames.element_spec
        if not isinstance(spec, TensorSpec) or spec.dtype is not dtypes.string or \
                spec.shape.rank not in (0, None):
            raise TypeError("The `filenames` argument must contain `tf.string` elements. Got a "
                            f"dataset of `{spec}` elements.")
        return None
    if isinstance(filenames, (str, bytes, os.PathLike)):
        return [os.fsdecode(filenames)]
    if hasattr(filenames, "numpy"):
        if filenames.dtype is not dtypes.string:
            raise TypeError("The `filenames` argument must contain `tf.string` elements. Got "
                            f"`{filenames.dtype!r}` elements.")
        return [os.fsdecode(f) for f in np.asarray(filenames.numpy()).reshape(-1).tolist()]
    return [os.fsdecode(f.numpy() if hasattr(f, "numpy") else f) for f in filenames]


class TFRecordDataset(DatasetV2):
    """The records of one or more TFRecord files, as scalar string tensors.

    Example:
    >>> ds = tf.data.TFRecordDataset(["a.tfrecord", "b.tfrecord"])
    >>> for raw in ds.take(1):
    ...     example = tf.train.Example.FromString(raw.numpy())
    """

    _name = "TFRecord"

    def __init__(self, filenames, compression_type=None, buffer_size=None,
                 num_parallel_reads=None, name=None):
        self._files = _filenames(filenames)
        self._file_dataset = filenames if self._files is None else None
        self._compression = TFRecordOptions.get_compression_type_string(compression_type)
        if buffer_size is not None and int(buffer_size) < 0:
            raise InvalidArgumentError(None, None, "`buffer_size` must be >= 0 (0 == no "
                                       "buffering) [Op:TFRecordDataset]")
        if num_parallel_reads == AUTOTUNE:
            num_parallel_reads = os.cpu_count() or 2
        self._parallel = int(num_parallel_reads or 1)
        self._spec = TensorSpec([], dtypes.string)

    def __repr__(self):
        return f"<TFRecordDatasetV2 element_spec={self.element_spec}>"

    def _cardinality(self):
        return UNKNOWN_CARDINALITY

    def _paths(self):
        if self._files is not None:
            return iter(self._files)
        return (os.fsdecode(t.numpy()) for t in self._file_dataset)

    def _iterate(self):
        paths = self._paths()
        if self._parallel == 1:
            for path in paths:
                for record in read_records(path, self._compression):
                    yield wrap_strings(np.array(record, dtype=object))
            return
        # TF's deterministic parallel interleave: a slot whose file has ended takes the next
        # file, and the turn passes to the next slot
        def open_next():
            path = next(paths, None)
            return None if path is None else read_records(path, self._compression)
        slots = [open_next() for _ in range(self._parallel)]
        i = 0
        while any(it is not None for it in slots):
            it = slots[i]
            if it is not None:
                record = next(it, None)
                if record is None:
                    slots[i] = open_next()
                else:
                    yield wrap_strings(np.array(record, dtype=object))
            i = (i + 1) % self._parallel


class _FileListDataset(DatasetV2):
    """The paths matching glob patterns (`Dataset.list_files`), shuffled unless asked not to."""

    _name = "Shuffle"

    def __init__(self, file_pattern, shuffle, seed):
        if hasattr(file_pattern, "numpy"):
            patterns = [os.fsdecode(p) for p in np.asarray(file_pattern.numpy()).reshape(-1)]
        elif isinstance(file_pattern, (str, bytes, os.PathLike)):
            patterns = [os.fsdecode(file_pattern)]
        else:
            patterns = [os.fsdecode(p) for p in file_pattern]
        self._patterns = patterns
        self._shuffle = True if shuffle is None else bool(shuffle)
        self._seed = seed
        self._name = "Shuffle" if self._shuffle else "TensorSlice"
        self._spec = TensorSpec([], dtypes.string)

    def _matches(self):
        found = sorted(file_io.glob(self._patterns))  # TF sorts the matches (MatchingFiles)
        if not found:
            raise InvalidArgumentError(None, None, "Expected 'tf.Tensor(False, shape=(), "
                                       "dtype=bool)' to be true. Summarized data: b'No files "
                                       "matched pattern: " + ", ".join(self._patterns) + "'")
        return found

    def _cardinality(self):
        return len(self._matches())

    def _iterate(self):
        found = self._matches()
        if self._shuffle:
            order = torch.randperm(len(found), generator=generator(torch.device("cpu"),
                                                                   self._seed)).tolist()
            found = [found[i] for i in order]
        for path in found:
            yield wrap_strings(np.array(path.encode(), dtype=object))


def list_files(file_pattern, shuffle=None, seed=None, name=None):
    """A dataset of the paths matching `file_pattern` (a glob, or a list of them)."""
    ds = _FileListDataset(file_pattern, shuffle, seed)
    ds._matches()  # TF checks for matches when the dataset is made
    return ds


class TFRecordWriter:
    """Writes a dataset of scalar strings to a TFRecord file
    (`tf.data.experimental.TFRecordWriter`; deprecated in TF, still used by its tutorials)."""

    def __init__(self, filename, compression_type=None, name=None):
        self._filename = filename
        self._compression = TFRecordOptions.get_compression_type_string(compression_type)

    def write(self, dataset):
        spec = dataset.element_spec
        if not isinstance(spec, TensorSpec) or spec.dtype is not dtypes.string or \
                spec.shape.rank != 0:
            shapes = getattr(spec, "shape", spec)
            types = getattr(spec, "dtype", spec)
            raise TypeError("`dataset` must produce scalar `DT_STRING` tensors whereas it "
                            f"produces shape {shapes} and types {types}")
        with io_tfrecord.TFRecordWriter(self._filename, self._compression) as writer:
            for record in dataset:
                writer.write(record.numpy())
