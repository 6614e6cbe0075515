"""Datasets read from Python generators and text files."""
import gzip
import os

import numpy as np

from tapeflow._core import dtypes, nest
from tapeflow._core.errors import InvalidArgumentError, NotFoundError
from tapeflow._core.shape import TensorShape
from tapeflow._core.spec import TensorSpec
from tapeflow._core.tensor import convert_to_tensor, wrap_strings
from tapeflow.data.dataset import UNKNOWN_CARDINALITY, DatasetV2


def _specs(types, shapes):
    """TensorSpecs pairing `output_types` with `output_shapes`, whose shapes (tuples or lists
    themselves) are leaves where the types are (TF's map_structure_up_to)."""
    if not nest.is_nested(types):
        return TensorSpec(TensorShape(shapes), types)
    if isinstance(types, dict):
        return {k: _specs(t, None if shapes is None else shapes[k]) for k, t in types.items()}
    parts = [_specs(t, None if shapes is None else shapes[i]) for i, t in enumerate(types)]
    return type(types)(*parts) if hasattr(type(types), "_fields") else type(types)(parts)


class GeneratorDataset(DatasetV2):
    """Elements yielded by a Python generator (`Dataset.from_generator`)."""

    _name = "FlatMap"

    def __init__(self, generator, output_types, output_shapes, args, output_signature):
        if not callable(generator):
            raise TypeError("`generator` must be a Python callable.")
        if output_signature is None:
            if output_types is None:
                raise TypeError("The `output_signature` argument must be set.")
            if output_shapes is None:
                output_shapes = nest.map_structure(lambda _: None, output_types)
            output_signature = _specs(output_types, output_shapes)
        for s in nest.flatten(output_signature):
            if not isinstance(s, TensorSpec):
                raise TypeError(f"`output_signature` must contain objects that are subclass of "
                                f"`tf.TypeSpec` but found {type(s)} which is not.")
        self._generator = generator
        self._args = () if args is None else tuple(args)
        self._spec = output_signature

    def _cardinality(self):
        return UNKNOWN_CARDINALITY

    def _iterate(self):
        flat_spec = nest.flatten(self._spec)
        for value in self._generator(*self._args):
            flat = [value] if not nest.is_nested(self._spec) else nest.flatten(
                _as_structure(value, self._spec))
            if len(flat) != len(flat_spec):
                raise InvalidArgumentError(
                    None, None, f"TypeError: `generator` yielded an element that did not match "
                    f"the expected structure. The expected structure was {self._spec}, but the "
                    f"yielded element was {value}.")
            leaves = []
            for v, s in zip(flat, flat_spec):
                try:
                    t = convert_to_tensor(np.asarray(v, dtype=s.dtype.as_numpy_dtype)
                                          if s.dtype is not dtypes.string else v, dtype=s.dtype)
                except (TypeError, ValueError):
                    raise InvalidArgumentError(
                        None, None, f"TypeError: `generator` yielded an element that could not "
                        f"be converted to the expected type. The expected type was "
                        f"{s.dtype.name}, but the yielded element was {v}.") from None
                if not s.shape.is_compatible_with(t.shape):
                    raise InvalidArgumentError(
                        None, None, f"TypeError: `generator` yielded an element of shape "
                        f"{t.shape} where an element of shape {s.shape} was expected.")
                leaves.append(t)
            yield nest.pack_sequence_as(self._spec, leaves)


def _as_structure(value, spec):
    if isinstance(spec, tuple) and isinstance(value, list):
        return tuple(value)
    return value


class TextLineDataset(DatasetV2):
    """The lines of one or more text files, without their line endings
    (`tf.data.TextLineDataset`)."""

    _name = "TextLine"

    def __init__(self, filenames, compression_type=None, buffer_size=None,
                 num_parallel_reads=None, name=None):
        if isinstance(filenames, (str, bytes, os.PathLike)):
            filenames = [filenames]
        elif hasattr(filenames, "numpy"):
            filenames = np.asarray(filenames.numpy()).reshape(-1).tolist()
        self._files = [os.fsdecode(f) for f in filenames]
        self._compression = (compression_type or "").upper()
        if self._compression not in ("", "GZIP", "ZLIB"):
            raise InvalidArgumentError(None, None, f"Unsupported compression type: "
                                       f"{compression_type}")
        self._spec = TensorSpec([], dtypes.string)

    def _cardinality(self):
        return UNKNOWN_CARDINALITY

    def _open(self, path):
        if not os.path.exists(path):
            raise NotFoundError(None, None, f"{path}; No such file or directory")
        if self._compression == "GZIP":
            return gzip.open(path, "rb")
        if self._compression == "ZLIB":
            import io
            import zlib
            with open(path, "rb") as f:
                return io.BytesIO(zlib.decompress(f.read()))
        return open(path, "rb")

    def _iterate(self):
        for path in self._files:
            with self._open(path) as f:
                for line in f:
                    yield wrap_strings(np.array(line.rstrip(b"\n").rstrip(b"\r"), dtype=object))
