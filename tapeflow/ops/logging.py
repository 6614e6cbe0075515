"""`tf.print`: prints tensors when it runs — every call of a tf.function, not only at trace
time — as TensorFlow's print_v2 does: Python structures laid out by `pprint` (dict keys sorted,
long structures wrapped), each tensor summarised by TF's C++ formatter (`[0 1 2 ... 7 8 9]`;
string_format.py), a lone scalar string printed raw.
"""
import collections
import os
import pprint
import random
import sys

import numpy as np

from tapeflow._core import dtypes, nest
from tapeflow._core.errors import InvalidArgumentError
from tapeflow._core.sparse_tensor import SparseTensor
from tapeflow._core.tensor import Tensor, convert_to_tensor, is_tensor
from tapeflow.ops._op import define, execute, host_check
from tapeflow.ops.ragged import print_text
from tapeflow.ops.ragged_tensor import RaggedTensor
from tapeflow.ops.string_format import format_text, summarize as summarize_tensor

PRINT = define("PrintV2", differentiable=False, stateful=True)
PRINT.meta_fn = lambda *args: ()  # printing happens when the graph runs, not while tracing


@host_check
def _print_kernel(*args):
    *tensors, template, placeholder, dtype_names, summarize, end, stream = args
    text = format_text(template, placeholder, tensors, dtype_names, summarize)
    _write(text.decode("utf-8", "replace") + end, stream)
    return ()


def _write(text, stream):
    if stream == "stderr":
        stream = sys.stderr
    elif stream == "stdout":
        stream = sys.stdout
    elif isinstance(stream, str):  # "file://path": appended to, as TF's kernel does
        with open(stream[len("file://"):], "a", encoding="utf-8") as f:
            f.write(text)
        return
    stream.write(text)
    if hasattr(stream, "flush"):
        stream.flush()


class _RawText:
    """Text printed as it is where a tensor's summary would go (a RaggedTensor's)."""

    def __init__(self, text):
        self.text = text

    def array(self):
        a = np.empty((), dtype=object)
        a[()] = self.text.encode("utf-8")
        return a


def _placeholder_for(text):
    """A placeholder string that does not occur in `text` (TF's choice: same seed, same
    digits)."""
    placeholder, rng = "{}", random.Random(5)
    while placeholder in text:
        placeholder += str(rng.randint(0, 9))
    return placeholder


def _sorted_ordered_dict(x):
    return collections.OrderedDict(sorted(x.items())) if isinstance(x, collections.OrderedDict) \
        else x


def _template(inputs, sep, tensors, summarize):
    """TF's print_v2 template: each input pformat-ed with its tensors as placeholders (a
    SparseTensor as `SparseTensor(indices={}, values={}, shape={})`), appending the tensors."""
    free = [nest.map_structure(lambda x: "" if is_tensor(x) else x, _sorted_ordered_dict(i))
            for i in inputs]
    placeholder = _placeholder_for(" ".join(pprint.pformat(x) for x in free))
    templates = []
    for input_ in inputs:
        marks = []
        for x in nest.flatten(input_):
            if isinstance(x, RaggedTensor):  # rendered now, as TF's ragged_tensor_to_string
                tensors.append(_RawText(print_text(x, summarize)))
                marks.append(placeholder)
            elif isinstance(x, SparseTensor):
                tensors.extend([x.indices, x.values, x.dense_shape])
                marks.append(f"SparseTensor(indices={placeholder}, values={placeholder}, "
                             f"shape={placeholder})")
            elif is_tensor(x):
                tensors.append(convert_to_tensor(x))
                marks.append(placeholder)
            else:
                marks.append(x)
        if isinstance(input_, str):
            templates.append(input_)
        else:
            templates.append(pprint.pformat(nest.pack_sequence_as(input_, marks)))
    template = sep.join(templates).replace("'" + placeholder + "'", placeholder)
    return template, placeholder


def _is_dense(x):
    return isinstance(x, Tensor) or hasattr(x, "_as_tensor_for_ops")


def _stream_name(output_stream):
    if output_stream is None or output_stream is sys.stderr:
        return "stderr"
    if output_stream is sys.stdout:
        return "stdout"
    if isinstance(output_stream, str) and output_stream.startswith("file://"):
        return output_stream
    if hasattr(output_stream, "write"):  # any text stream (TF takes only the two above)
        return output_stream
    raise ValueError(f"Unsupported output stream, logging level, or file.{output_stream}. "
                     "Supported streams are sys.stdout, sys.stderr, tf.logging.info, "
                     "tf.logging.warning, tf.logging.error. File needs to be in the form of "
                     "'file://<filepath>'.")


def print_v2(*inputs, output_stream=None, summarize=3, sep=" ", end=os.linesep, name=None):
    """`tf.print`: print tensors and Python values, at run time (to stderr by default)."""
    stream = _stream_name(output_stream)
    tensors = []
    if len(inputs) == 1 and _is_dense(inputs[0]):
        t = convert_to_tensor(inputs[0])
        if t.dtype is dtypes.string and t.shape.rank == 0:  # a lone scalar string: raw
            _write(t.numpy().decode("utf-8", "replace") + end, stream)
            return None
    template, placeholder = _template(inputs, sep, tensors, summarize)
    kinds = tuple("raw" if isinstance(t, _RawText) else t.dtype.name for t in tensors)
    attrs = (template, placeholder, kinds, summarize, end, stream)
    if any(k in ("string", "raw") for k in kinds):
        # string data lives on the host and a trace cannot record it: print now
        _print_kernel(*[t.array() if isinstance(t, _RawText) else t._t for t in tensors],
                      *attrs)
        return None
    execute(PRINT, _print_kernel, tuple(tensors), attrs)
    return None


# -- Assert ------------------------------------------------------------------------------------

ASSERT = define("Assert", differentiable=False, stateful=True)
ASSERT.meta_fn = lambda *args: ()  # the condition is checked when the graph runs


@host_check
def _assert_kernel(condition, *args):
    *data, template, dts, summarize = args
    if bool(condition):
        return ()
    values = iter(zip(data, dts))
    shown = [summarize_tensor(Tensor(*next(values)), summarize) if item is None else item
             for item in template]
    raise InvalidArgumentError(None, None, f"assertion failed: [{'] ['.join(shown)}]")


def _summarize_eager(t, summarize):
    """An eager Assert's view of one data item, as TF's: the first `summarize` values (all
    for a negative one) joined by ", ", then "..." if some are left out."""
    a = t.numpy()
    if np.ndim(a) == 0:
        return str(a) if summarize else ""
    flat = a.reshape(-1)
    count = flat.size if summarize < 0 else summarize
    return ", ".join([str(x) for x in flat[:count]] + (["..."] if count < flat.size else []))


def Assert(condition, data, summarize=None, name=None):  # noqa: N802 - TF's name
    """`tf.debugging.Assert`: raises InvalidArgumentError when `condition` is false, showing
    `data` (strings and tensors); inside a tf.function, each time the function runs."""
    cond = convert_to_tensor(condition)
    if cond.dtype is not dtypes.bool:
        raise TypeError(f"condition must be a bool tensor, got {cond.dtype.name}.")
    summarize = 3 if summarize is None else summarize
    if not cond._is_symbolic():
        if not bool(cond):
            shown = [_summarize_eager(convert_to_tensor(x), summarize) for x in data]
            raise InvalidArgumentError(
                None, None, f"Expected '{str(cond)}' to be true. Summarized data: "
                            + "\n".join(shown))
        return None
    tensors, template, dts = [], [], []
    for x in data:
        if isinstance(x, str):
            template.append(x)
        else:
            t = convert_to_tensor(x)
            tensors.append(t)
            dts.append(t.dtype)
            template.append(None)  # a tensor's place in the message
    execute(ASSERT, _assert_kernel, (cond, *tensors), (tuple(template), tuple(dts), summarize))
    return None
