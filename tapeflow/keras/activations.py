"""`keras.activations`: the activation functions layers take by name or as callables, with
`get` / `serialize` / `deserialize`.

`softmax` and `sigmoid` remember the logits they were given (Keras sets `_keras_logits` on
their output), so a crossentropy loss on their output computes from the logits: stable where
a probability underflows. Our tensors have no attribute slot for it, so a small table keyed by
the output's identity (checked through a weak reference) holds the last few.
"""
import weakref

import tapeflow as tf
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
        return tf.nn.relu(x)
    x = tf.convert_to_tensor(x)
    if negative_slope != 0.0:
        if max_value is None and threshold == 0:
            return tf.nn.leaky_relu(x, alpha=negative_slope)
        negative_part = tf.nn.relu(-x + threshold) if threshold != 0 else tf.nn.relu(-x)
    clip_max = max_value is not None
    if threshold != 0:
        x = tf.where(x > tf.cast(threshold, x.dtype), x, tf.zeros_like(x))
    elif max_value == 6:
        x = tf.nn.relu6(x)
        clip_max = False
    else:
        x = tf.nn.relu(x)
    if clip_max:
        x = tf.clip_by_value(x, tf.cast(0.0, x.dtype), tf.cast(max_value, x.dtype))
    if negative_slope != 0.0:
        x = x - negative_slope * negative_part
    return x


def leaky_relu(x, negative_slope=0.2):
    """`x` where positive, `negative_slope * x` elsewhere."""
    return tf.nn.leaky_relu(x, alpha=negative_slope)


def relu6(x):
    """`min(max(x, 0), 6)`."""
    return tf.nn.relu6(x)


def softmax(x, axis=-1):
    """`exp(x) / sum(exp(x))` along `axis` (the logits are remembered for crossentropy)."""
    if axis is None:
        x = tf.convert_to_tensor(x)
        output = tf.reshape(tf.nn.softmax(tf.reshape(x, [-1])), tf.shape(x))
    else:
        output = tf.nn.softmax(x, axis=axis)
    return _remember_logits(output, x)


def log_softmax(x, axis=-1):
    """`x - log(sum(exp(x)))` along `axis`."""
    return tf.nn.log_softmax(x, axis=axis)


def sigmoid(x):
    """`1 / (1 + exp(-x))` (the logits are remembered for crossentropy)."""
    return _remember_logits(tf.math.sigmoid(x), x)


def tanh(x):
    """The hyperbolic tangent."""
    return tf.math.tanh(x)


def elu(x, alpha=1.0):
    """`x` where positive, `alpha * (exp(x) - 1)` elsewhere."""
    res = tf.nn.elu(x)
    if alpha == 1:
        return res
    return tf.where(tf.convert_to_tensor(x) > 0, res, alpha * res)


def selu(x):
    """Scaled ELU with the self-normalising constants."""
    return tf.nn.selu(x)


def gelu(x, approximate=False):
    """Gaussian error linear unit (`approximate=True`: the tanh approximation)."""
    return tf.nn.gelu(x, approximate=approximate)


def softplus(x):
    """`log(exp(x) + 1)`."""
    return tf.math.softplus(x)


def softsign(x):
    """`x / (abs(x) + 1)`."""
    return tf.nn.softsign(x)


def silu(x):
    """`x * sigmoid(x)` (also named swish)."""
    return tf.nn.silu(x)


swish = silu


def exponential(x):
    """`exp(x)`."""
    return tf.exp(x)


def hard_sigmoid(x):
    """`relu6(x + 3) / 6`, a piecewise-linear sigmoid."""
    x = tf.convert_to_tensor(x)
    return tf.nn.relu6(x + tf.constant(3.0, x.dtype)) / tf.constant(6.0, x.dtype)


def hard_silu(x):
    """`x * hard_sigmoid(x)` (also named hard_swish)."""
    x = tf.convert_to_tensor(x)
    return x * hard_sigmoid(x)


hard_swish = hard_silu


def mish(x):
    """`x * tanh(softplus(x))`."""
    x = tf.convert_to_tensor(x)
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
