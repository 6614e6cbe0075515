"""Batching transformations: batch, padded_batch, unbatch.

`batch` over an index stream (see dataset.py) gathers each batch with one indexing kernel per
component; otherwise it stacks the elements it collects.
"""
import itertools

import numpy as np
import torch

from tapeflow._core import dtypes, nest
from tapeflow._core.errors import InvalidArgumentError
from tapeflow._core.shape import TensorShape
from tapeflow._core.spec import TensorSpec
from tapeflow._core.tensor import Tensor, wrap, wrap_strings
from tapeflow.data import structure
from tapeflow.data.dataset import UNKNOWN_CARDINALITY
from tapeflow.data.transforms import _Unary

def _batch_cardinality(n, batch_size, drop_remainder):
    if n < 0:
        return n
    return n // batch_size if drop_remainder else -(-n // batch_size)


class BatchDataset(_Unary):
    _name = "Batch"

    def __init__(self, input_dataset, batch_size, drop_remainder):
        super().__init__(input_dataset)
        self._batch_size = int(batch_size)
        if self._batch_size <= 0:
            raise InvalidArgumentError(None, None, "batch_size must be greater than zero.")
        self._drop = bool(drop_remainder)

    @property
    def element_spec(self):
        return structure.batched_spec(self._input.element_spec,
                                      self._batch_size if self._drop else None)

    def _cardinality(self):
        return _batch_cardinality(self._input._cardinality(), self._batch_size, self._drop)

    def _iterate(self):
        source, indices = self._input._source, self._input._indices()
        b = self._batch_size
        if indices is not None:
            while True:
                chunk = list(itertools.islice(indices, b))
                if not chunk or (self._drop and len(chunk) < b):
                    return
                yield source._gather(chunk)
        it = self._input._iterate()
        while True:
            chunk = list(itertools.islice(it, b))
            if not chunk or (self._drop and len(chunk) < b):
                return
            yield structure.stack(chunk)


class PaddedBatchDataset(BatchDataset):
    _name = "PaddedBatch"

    def __init__(self, input_dataset, batch_size, padded_shapes, padding_values,
                 drop_remainder):
        super().__init__(input_dataset, batch_size, drop_remainder)
        self._padded_shapes = padded_shapes
        self._padding_values = padding_values

    @property
    def element_spec(self):
        spec = self._input.element_spec
        if self._padded_shapes is not None:
            flat = [TensorSpec(TensorShape(p), s.dtype) for s, p in
                    zip(nest.flatten(spec), self._shapes_list(spec))]
            spec = nest.pack_sequence_as(spec, flat)
        else:
            spec = nest.map_structure(lambda s: TensorSpec([None] * s.shape.rank, s.dtype),
                                      spec)
        return structure.batched_spec(spec, self._batch_size if self._drop else None)

    def _shapes_list(self, element):
        """padded_shapes per component (a bare shape list pads a single-tensor element)."""
        if not nest.is_nested(element):
            return [self._padded_shapes]
        return list(_shapes_up_to(element, self._padded_shapes))

    def _iterate(self):
        it = self._input._iterate()
        b = self._batch_size
        while True:
            chunk = list(itertools.islice(it, b))
            if not chunk or (self._drop and len(chunk) < b):
                return
            yield self._pad(chunk)

    def _pad(self, chunk):
        template = chunk[0]
        flats = [nest.flatten(e) for e in chunk]
        shapes = self._shapes_list(template) if self._padded_shapes is not None else None
        if self._padding_values is None:
            values = [None] * len(flats[0])
        else:
            values = nest.flatten(self._padding_values)
            if len(values) == 1 and len(flats[0]) > 1:
                values = values * len(flats[0])
        out = []
        for i in range(len(flats[0])):
            parts = [f[i] for f in flats]
            rank = parts[0].ndim
            target = [max(p._t.shape[d] for p in parts) for d in range(rank)]
            if shapes is not None and shapes[i] is not None:
                wanted = TensorShape(shapes[i]).as_list() if not isinstance(shapes[i], int) \
                    else [shapes[i]]
                for d, w in enumerate(wanted):
                    if w is not None and w >= 0:
                        if w < target[d]:
                            raise InvalidArgumentError(
                                None, None, f"Attempted to pad to a smaller size than the input "
                                f"element. Input shape {target} padded shape {wanted}.")
                        target[d] = w
            dtype = parts[0].dtype
            fill = values[i]
            if dtype is dtypes.string:
                fill = b"" if fill is None else (fill.numpy() if isinstance(fill, Tensor)
                                                 else fill)
                batch = np.full([len(parts)] + target, fill, dtype=object)
                for k, p in enumerate(parts):
                    batch[(k,) + tuple(slice(0, s) for s in p._t.shape)] = p._t
                out.append(wrap_strings(batch))
                continue
            fill = 0 if fill is None else (fill.numpy() if isinstance(fill, Tensor) else fill)
            batch = torch.full([len(parts)] + target, fill, dtype=dtype.torch,
                               device=parts[0]._t.device)
            for k, p in enumerate(parts):
                batch[(k,) + tuple(slice(0, s) for s in p._t.shape)] = p._t
            out.append(wrap(batch, dtype))
        return nest.pack_sequence_as(template, out)


def _shapes_up_to(element, shapes):
    """Flattens `shapes` to the structure of `element`, keeping each shape (a list) whole."""
    if isinstance(element, dict):
        for k in sorted(element):
            yield from _shapes_up_to(element[k], shapes[k])
    elif isinstance(element, tuple):
        for e, p in zip(element, shapes):
            yield from _shapes_up_to(e, p)
    else:
        yield shapes


class UnbatchDataset(_Unary):
    _name = "Unbatch"

    @property
    def element_spec(self):
        return structure.unbatched_spec(self._input.element_spec)

    def _cardinality(self):
        n = self._input._cardinality()
        if n < 0:
            return n
        firsts = {s.shape[0] for s in nest.flatten(self._input.element_spec)}
        return n * firsts.pop() if len(firsts) == 1 and None not in firsts else \
            UNKNOWN_CARDINALITY

    def _iterate(self):
        for element in self._input._iterate():
            flat = nest.flatten(element)
            if any(t.ndim == 0 for t in flat):
                raise ValueError("Unbatching a tensor is only supported for rank >= 1")
            yield from structure.unstack(element)


