"""Keras masks carried beside tensors: Keras 3 sets `_keras_mask` on a tensor, but our `Tensor`
has `__slots__`, so the mask lives in a side table keyed by the tensor's id (a weak reference
drops the entry when the tensor dies). `Layer.__call__` reads the mask of its first input into
`call(mask=...)` and stores `compute_mask(inputs, mask)` on its outputs when the layer
`supports_masking` (Embedding(mask_zero=True), Masking, RNNs...)."""
import weakref

from tapeflow._core import nest

_MASKS = {}  # id(tensor) -> (weakref to the tensor, mask)


def get_keras_mask(x):
    entry = _MASKS.get(id(x))
    if entry is not None and entry[0]() is x:
        return entry[1]
    return None


def set_keras_mask(x, mask):
    key = id(x)
    if mask is None:
        _MASKS.pop(key, None)
        return
    try:
        ref = weakref.ref(x, lambda _, k=key: _MASKS.pop(k, None))
    except TypeError:  # not a tensor (None, a Python value): nothing to attach to
        return
    _MASKS[key] = (ref, mask)


def previous_mask(inputs):
    """The mask (or list of masks) attached to a layer's first input, or None."""
    if not _MASKS:
        return None
    if isinstance(inputs, (list, tuple)):
        masks = [get_keras_mask(x) for x in inputs]
        return masks if any(m is not None for m in masks) else None
    return get_keras_mask(inputs)


def set_output_masks(layer, inputs, outputs, mask):
    """Attaches `layer.compute_mask(inputs, mask)` to the outputs that have no mask yet."""
    out_masks = layer.compute_mask(inputs, mask)
    if out_masks is None:
        return
    flat_out = nest.flatten(outputs)
    flat_masks = nest.flatten(out_masks) if isinstance(out_masks, (list, tuple)) else \
        [out_masks] * len(flat_out)
    for o, m in zip(flat_out, flat_masks):
        if m is not None and get_keras_mask(o) is None:
            set_keras_mask(o, m)
