"""`keras.utils.pad_sequences`: variable-length sequences (token ids of texts, mostly) as one
NumPy array of equal-length rows, as text models are fed."""
import numpy as np


def pad_sequences(sequences, maxlen=None, dtype="int32", padding="pre", truncating="pre",
                  value=0.0):
    """Pads (or truncates) every sequence to `maxlen` (default: the longest).

    Args:
        sequences: a list of sequences (lists or arrays; their items may be arrays too).
        maxlen: the length of the rows.
        dtype: the dtype of the result (`object` for strings of any length).
        padding: 'pre' or 'post': where the padding goes.
        truncating: 'pre' or 'post': which end of a long sequence is dropped.
        value: the padding value.

    Example:
    >>> keras.utils.pad_sequences([[1], [2, 3], [4, 5, 6]])
    array([[0, 0, 1],
           [0, 2, 3],
           [4, 5, 6]], dtype=int32)
    """
    if not hasattr(sequences, "__len__"):
        raise ValueError("`sequences` must be iterable.")
    lengths, item_shape = [], None
    for s in sequences:
        try:
            lengths.append(len(s))
        except TypeError as e:
            raise ValueError("`sequences` must be a list of iterables. Found non-iterable: "
                             f"{s}") from e
        if item_shape is None and len(s):
            item_shape = np.asarray(s).shape[1:]  # the first non-empty sequence decides
    item_shape = item_shape or ()
    if maxlen is None:
        maxlen = int(np.max(lengths)) if lengths else 0
    textual = np.issubdtype(dtype, np.str_) or np.issubdtype(dtype, np.bytes_)
    if isinstance(value, str) and dtype is not object and not textual:
        raise ValueError(f"`dtype` {dtype} is not compatible with `value`'s type: "
                         f"{type(value)}\nYou should set `dtype=object` for variable length "
                         "strings.")
    out = np.full((len(sequences), maxlen) + tuple(item_shape), value, dtype=dtype)
    for i, s in enumerate(sequences):
        if not len(s):
            continue
        if truncating == "pre":
            kept = s[-maxlen:]
        elif truncating == "post":
            kept = s[:maxlen]
        else:
            raise ValueError(f'Truncating type "{truncating}" not understood')
        kept = np.asarray(kept, dtype=dtype)
        if kept.shape[1:] != tuple(item_shape):
            raise ValueError(f"Shape of sample {kept.shape[1:]} of sequence at position {i} "
                             f"is different from expected shape {tuple(item_shape)}")
        if padding == "post":
            out[i, :len(kept)] = kept
        elif padding == "pre":
            out[i, -len(kept):] = kept
        else:
            raise ValueError(f'Padding type "{padding}" not understood')
    return out
