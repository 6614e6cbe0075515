"""Layer wrappers: Bidirectional (an RNN run forwards and backwards, outputs merged) and
TimeDistributed (one layer applied to every timestep, as one call on batch * time samples)."""
from tapeflow.ops import array as array_ops, joining as joining_ops
from tapeflow.keras.engine.layer import Layer, variable_scope

_MERGE_MODES = ("sum", "mul", "ave", "concat", None)


def _build_child(layer, shape):
    """Builds `layer` inside the wrapper's scope, so its weights get the wrapper's path."""
    if layer.built:
        return
    with variable_scope(layer):
        layer._build_shapes_dict = {"input_shape": shape}
        layer.build(shape)
    layer.built = True


def _clone(layer, **overrides):
    config = layer.get_config()
    config.update(overrides)
    return type(layer).from_config(config)


class Bidirectional(Layer):
    """Runs a recurrent layer over the sequence in both directions and merges the results.

    Args:
        layer: an RNN layer (LSTM, GRU, SimpleRNN, RNN), copied into `forward_layer` and a
            `go_backwards=True` twin `backward_layer` (or give `backward_layer`).
        merge_mode: "concat" (default), "sum", "mul", "ave" or None (a list of both).

    Example:
    >>> keras.layers.Bidirectional(keras.layers.LSTM(4))(tf.ones((2, 5, 3))).shape
    TensorShape([2, 8])
    """

    def __init__(self, layer, merge_mode="concat", weights=None, backward_layer=None,
                 **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError("Please initialize `Bidirectional` layer with a "
                             f"`keras.layers.Layer` instance. Received: {layer}")
        if backward_layer is not None and not isinstance(backward_layer, Layer):
            raise ValueError("`backward_layer` need to be a `keras.layers.Layer` instance. "
                             f"Received: {backward_layer}")
        if merge_mode not in _MERGE_MODES:
            raise ValueError(f"Invalid merge mode. Received: {merge_mode}. Merge mode should "
                             'be one of {"sum", "mul", "ave", "concat", None}')
        super().__init__(**kwargs)
        base = layer.name[len("forward_"):] if layer.name.startswith("forward_") else layer.name
        self.forward_layer = _clone(layer, name=f"forward_{base}")
        if backward_layer is None:
            base = layer.name[len("backward_"):] if layer.name.startswith("backward_") \
                else layer.name
            backward_layer = _clone(layer, name=f"backward_{base}",
                                    go_backwards=not layer.go_backwards)
        self.backward_layer = backward_layer
        for a in ("return_sequences", "return_state"):
            if getattr(self.forward_layer, a) != getattr(self.backward_layer, a):
                raise ValueError("Forward layer and backward layer are expected to have the "
                                 f"same value for attribute \"{a}\", got "
                                 f"\"{getattr(self.forward_layer, a)}\" for forward layer and "
                                 f"\"{getattr(self.backward_layer, a)}\" for backward layer")
        for sub in (self.forward_layer, self.backward_layer):
            if getattr(sub, "zero_output_for_mask", None) is not None:
                sub.zero_output_for_mask = sub.return_sequences
        self.merge_mode = merge_mode
        self.stateful = False
        self.return_sequences = layer.return_sequences
        self.return_state = layer.return_state
        self.supports_masking = True
        self._initial_weights = weights

    def build(self, sequences_shape, initial_state_shape=None):
        _build_child(self.forward_layer, sequences_shape)
        _build_child(self.backward_layer, sequences_shape)
        self.built = True
        if self._initial_weights:
            self.set_weights(self._initial_weights)

    def call(self, sequences, initial_state=None, mask=None, training=None):
        kwargs = {"training": training}
        if mask is not None:
            kwargs["mask"] = mask
        fwd_state = bwd_state = None
        if initial_state is not None:
            half = len(initial_state) // 2
            fwd_state, bwd_state = list(initial_state[:half]), list(initial_state[half:])
        y = self.forward_layer.call(sequences, initial_state=fwd_state, **kwargs)
        y_rev = self.backward_layer.call(sequences, initial_state=bwd_state, **kwargs)
        states = ()
        if self.return_state:
            states = tuple(y[1:]) + tuple(y_rev[1:])
            y, y_rev = y[0], y_rev[0]
        if self.return_sequences:
            y_rev = array_ops.reverse(y_rev, [1])
        mode = self.merge_mode
        if mode == "concat":
            output = joining_ops.concat([y, y_rev], axis=-1)
        elif mode == "sum":
            output = y + y_rev
        elif mode == "ave":
            output = (y + y_rev) / 2
        elif mode == "mul":
            output = y * y_rev
        else:
            output = (y, y_rev)
        if self.return_state:
            return (output + states) if mode is None else (output,) + states
        return output

    def compute_mask(self, _, mask):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        output_mask = mask if self.return_sequences else None
        if self.return_state:
            n = len(self.forward_layer.state_size) * 2
            if self.merge_mode is None:
                return [output_mask, output_mask] + [None] * n
            return [output_mask] + [None] * n
        return [output_mask, output_mask] if self.merge_mode is None else output_mask

    def get_config(self):
        from tapeflow.keras.layers.serialization import serialize
        config = super().get_config()
        config["merge_mode"] = self.merge_mode
        config["layer"] = serialize(self.forward_layer)
        config["backward_layer"] = serialize(self.backward_layer)
        return config

    @classmethod
    def from_config(cls, config):
        from tapeflow.keras.layers.serialization import deserialize
        config = dict(config)
        config["layer"] = deserialize(config["layer"])
        if config.get("backward_layer") is not None:
            config["backward_layer"] = deserialize(config["backward_layer"])
        return cls(**config)


class TimeDistributed(Layer):
    """Applies `layer` to every temporal slice of an input `(batch, time, ...)`.

    Example:
    >>> keras.layers.TimeDistributed(keras.layers.Dense(8))(tf.ones((32, 10, 16))).shape
    TensorShape([32, 10, 8])
    """

    def __init__(self, layer, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError("Please initialize `TimeDistributed` layer with a "
                             f"`keras.layers.Layer` instance. Received: {layer}")
        super().__init__(**kwargs)
        self.layer = layer
        self.supports_masking = True

    def build(self, input_shape):
        if len(input_shape) < 3:
            raise ValueError("`TimeDistributed` Layer should be passed an `input_shape` with "
                             f"at least 3 dimensions, received: {tuple(input_shape)}")
        _build_child(self.layer, (input_shape[0],) + tuple(input_shape[2:]))
        self.built = True

    def call(self, inputs, training=None, mask=None):
        shape = tuple(inputs.shape)
        static = all(d is not None for d in shape)  # static shapes keep tf.function traceable
        dyn = shape if static else array_ops.shape(inputs)
        flat = array_ops.reshape(inputs, (-1, ) +
                                 shape[2:] if static else joining_ops.concat([[-1], dyn[2:]], 0))
        kwargs = {}
        spec = type(self.layer)._call_spec_cache
        if spec.training:
            kwargs["training"] = training
        if spec.mask and mask is not None:
            kwargs["mask"] = array_ops.reshape(mask, [-1])
        y = self.layer(flat, **kwargs)
        if static and all(d is not None for d in y.shape):
            return array_ops.reshape(y, shape[:2] + tuple(y.shape[1:]))
        return array_ops.reshape(
            y, joining_ops.concat(
                [array_ops.shape(inputs)[:2], array_ops.shape(y)[1:]], 0))

    def compute_output_shape(self, input_shape):
        inner = self.layer.compute_output_shape((input_shape[0],) + tuple(input_shape[2:]))
        return (input_shape[0], input_shape[1]) + tuple(inner[1:])

    def get_config(self):
        from tapeflow.keras.layers.serialization import serialize
        config = super().get_config()
        config["layer"] = serialize(self.layer)
        return config

    @classmethod
    def from_config(cls, config):
        from tapeflow.keras.layers.serialization import deserialize
        config = dict(config)
        config["layer"] = deserialize(config["layer"])
        return cls(**config)
