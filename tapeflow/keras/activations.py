"""`keras.activations`: the activation functions layers take by name or as callables, with
`get` / `serialize` / `deserialize`.

`softmax` and `sigmoid` remember the logits they were given (Keras sets `_keras_logits` on
their output), so a crossentropy loss on their output computes from the logits: stable where
a probability underflows. Our tensors have no attribute slot for it, so a small table keyed by
the output's identity (checked through a weak reference) holds the last few.
"""
import weakref

from tapeflow._core.tensor import constant, convert_to_tensor
from tapeflow.ops import (array as array_ops, comparison as comparison_ops,
                          creation as creation_ops, elementwise as elementwise_ops, nn as nn_ops)
from tapeflow.keras._objects import deserialize_object, get_object

_LOGITS = {}
_LOGITS_KEPT = 64


def _remember_logits(output, logits):
    if len(_LOGITS) >= _LOGITS_KEPT:
        # Forget outputs that are gone, then the oldest: a model's final softmax is the
        # newest entry when its loss looks it up, even with many softmaxes before it.
        for key in [k for k, (ref, _) in _LOGITS.items() if ref() is None]:
            del _LOGITS[key]
        while len(_LOGITS) >= _LOGITS_KEPT:
            del _LOGITS[next(iter(_LOGITS))]
    _LOGITS[id(output)] = (weakref.ref(output), logits)
    return output


def keras_logits(output):
    """The logits `output` was computed from by `softmax`/`sigmoid` here, else None."""
    entry = _LOGITS.get(id(output))
    if entry is not None and entry[0]() is output:
        return entry[1]
    return None


def relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """`max(x, 0)`, or with options: a slope below `threshold`, a cap at `max_value`."""
    if negative_slope == 0.0 and max_value is None and threshold == 0.0:
        return nn_ops.relu(x)
    x = convert_to_tensor(x)
    if negative_slope != 0.0:
        if max_value is None and threshold == 0:
            return nn_ops.leaky_relu(x, alpha=negative_slope)
        negative_part = nn_ops.relu(-x + threshold) if threshold != 0 else nn_ops.relu(-x)
    clip_max = max_value is not None
    if threshold != 0:
        x = comparison_ops.where(x > elementwise_ops.cast(threshold, x.dtype), x,
                                 creation_ops.zeros_like(x))
    elif max_value == 6:
        x = nn_ops.relu6(x)
        clip_max = False
    else:
        x = nn_ops.relu(x)
    if clip_max:
        x = elementwise_ops.clip_by_value(x, elementwise_ops.cast(0.0, x.dtype),
                                          elementwise_ops.cast(max_value, x.dtype))
    if negative_slope != 0.0:
        x = x - negative_slope * negative_part
    return x


def leaky_relu(x, negative_slope=0.2):
    """`x` where positive, `negative_slope * x` elsewhere."""
    return nn_ops.leaky_relu(x, alpha=negative_slope)


def relu6(x):
    """`min(max(x, 0), 6)`."""
    return nn_ops.relu6(x)


def softmax(x, axis=-1):
    """`exp(x) / sum(exp(x))` along `axis` (the logits are remembered for crossentropy)."""
    if axis is None:
        x = convert_to_tensor(x)
        output = array_ops.reshape(nn_ops.softmax(array_ops.reshape(x, [-1])), array_ops.shape(x))
    else:
        output = nn_ops.softmax(x, axis=axis)
    return _remember_logits(output, x)


def log_softmax(x, axis=-1):
    """`x - log(sum(exp(x)))` along `axis`."""
    return nn_ops.log_softmax(x, axis=axis)


def sigmoid(x):
    """`1 / (1 + exp(-x))` (the logits are remembered for crossentropy)."""
    return _remember_logits(elementwise_ops.sigmoid(x), x)


def tanh(x):
    """The hyperbolic tangent."""
    return elementwise_ops.tanh(x)


def elu(x, alpha=1.0):
    """`x` where positive, `alpha * (exp(x) - 1)` elsewhere."""
    res = nn_ops.elu(x)
    if alpha == 1:
        return res
    return comparison_ops.where(convert_to_tensor(x) > 0, res, alpha * res)


def selu(x):
    """Scaled ELU with the self-normalising constants."""
    return nn_ops.selu(x)


def gelu(x, approximate=False):
    """Gaussian error linear unit (`approximate=True`: the tanh approximation)."""
    return nn_ops.gelu(x, approximate=approximate)


def softplus(x):
    """`log(exp(x) + 1)`."""
    return nn_ops.softplus(x)


def softsign(x):
    """`x / (abs(x) + 1)`."""
    return nn_ops.softsign(x)


def silu(x):
    """`x * sigmoid(x)` (also named swish)."""
    return nn_ops.silu(x)


swish = silu


def exponential(x):
    """`exp(x)`."""
    return elementwise_ops.exp(x)


def hard_sigmoid(x):
    """`relu6(x + 3) / 6`, a piecewise-linear sigmoid."""
    x = convert_to_tensor(x)
    return nn_ops.relu6(x + constant(3.0, x.dtype)) / constant(6.0, x.dtype)


def hard_silu(x):
    """`x * hard_sigmoid(x)` (also named hard_swish)."""
    x = convert_to_tensor(x)
    return x * hard_sigmoid(x)


hard_swish = hard_silu


def mish(x):
    """`x * tanh(softplus(x))`."""
    x = convert_to_tensor(x)
    return x * tanh(softplus(x))


def linear(x):
    """The identity: returns `x` unchanged."""
    return x


ALL_OBJECTS_DICT = {fn.__name__: fn for fn in (
    relu, leaky_relu, relu6, softmax, log_softmax, sigmoid, tanh, elu, selu, gelu, softplus,
    softsign, silu, exponential, hard_sigmoid, hard_silu, mish, linear)}
ALL_OBJECTS_DICT["swish"] = silu
ALL_OBJECTS_DICT["hard_swish"] = hard_silu


def serialize(activation):
    """A built-in activation's name; a custom callable's name or config."""
    if hasattr(activation, "get_config"):
        return {"module": type(activation).__module__, "class_name": type(activation).__name__,
                "config": activation.get_config(), "registered_name": None}
    name = getattr(activation, "__name__", None)
    if name is None:
        raise ValueError(f"Unknown activation function '{activation}' cannot be serialized.")
    return name


def deserialize(config, custom_objects=None):
    """An activation function from its name (or serialized dict)."""
    return deserialize_object(config, ALL_OBJECTS_DICT, custom_objects,
                              "activation function")


def get(identifier):
    """An activation function from a name, a dict, a callable, or None (linear)."""
    if identifier is None:
        return linear
    return get_object(identifier, ALL_OBJECTS_DICT, deserialize, "activation function",
                      instantiate=False)
