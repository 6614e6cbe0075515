"""Embedding (a gathered lookup table whose gradient scatters back into the rows used) and
Masking, the two layers that start a Keras mask (see engine/masking.py)."""
from tapeflow._core import dtypes
from tapeflow.ops import (comparison as comparison_ops, creation as creation_ops,
                          elementwise as elementwise_ops, gather as gather_ops,
                          reduction as reduction_ops)
from tapeflow.keras.engine.layer import Layer


class Embedding(Layer):
    """Turns non-negative integer indices into dense vectors: row `i` of `embeddings`.

    Args:
        input_dim: the vocabulary size (largest index + 1).
        output_dim: the size of each vector.
        embeddings_initializer: default "uniform" (-0.05, 0.05).
        mask_zero: whether index 0 is padding; the output then carries a mask
            `inputs != 0` that masking-aware layers (RNNs, attention) consume.

    Example:
    >>> layer = keras.layers.Embedding(1000, 8, mask_zero=True)
    >>> layer(tf.constant([[3, 7, 0]])).shape
    TensorShape([1, 3, 8])
    """

    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform",
                 embeddings_regularizer=None, embeddings_constraint=None, mask_zero=False,
                 weights=None, lora_rank=None, lora_alpha=None, quantization_config=None,
                 input_length=None, **kwargs):
        for arg, value in (("input_dim", input_dim), ("output_dim", output_dim)):
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"`{arg}` must be a positive integer. Received: "
                                 f"{arg}={value} (of type {type(value).__name__}).")
        super().__init__(**kwargs)
        from tapeflow.keras import constraints, initializers, regularizers
        self.input_dim = input_dim
        self.output_dim = output_dim
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.embeddings_constraint = constraints.get(embeddings_constraint)
        self.mask_zero = mask_zero
        self.supports_masking = mask_zero
        self.autocast = False
        if weights is not None:
            self.build()
            self.set_weights(weights if isinstance(weights, list) and len(weights) == 1
                             else [weights])

    def build(self, input_shape=None):
        if self.built:
            return
        self.embeddings = self.add_weight(shape=(self.input_dim, self.output_dim),
                                          initializer=self.embeddings_initializer,
                                          name="embeddings",
                                          regularizer=self.embeddings_regularizer,
                                          constraint=self.embeddings_constraint)
        self.built = True

    def call(self, inputs):
        if inputs.dtype not in (dtypes.int32, dtypes.int64):
            inputs = elementwise_ops.cast(inputs, dtypes.int32)
        out = gather_ops.gather(self.embeddings, inputs, axis=0)
        return out if out.dtype is self._dtype else elementwise_ops.cast(out, self._dtype)

    def compute_mask(self, inputs, mask=None):
        if not self.mask_zero:
            return None
        return comparison_ops.not_equal(inputs, 0)

    def compute_output_shape(self, input_shape):
        return (*input_shape, self.output_dim)

    def get_config(self):
        from tapeflow.keras.layers.core import _serialize
        config = super().get_config()
        config.update({
            "input_dim": self.input_dim, "output_dim": self.output_dim,
            "embeddings_initializer": _serialize("initializers", self.embeddings_initializer),
            "embeddings_regularizer": _serialize("regularizers", self.embeddings_regularizer),
            "activity_regularizer": _serialize("regularizers", self.activity_regularizer),
            "embeddings_constraint": _serialize("constraints", self.embeddings_constraint),
            "mask_zero": self.mask_zero,
        })
        return config


class Masking(Layer):
    """Masks the timesteps whose every feature equals `mask_value`: they become zeros and
    downstream masking-aware layers skip them.

    Example:
    >>> x = np.ones((2, 3, 4), "float32"); x[:, 1] = 0
    >>> keras.layers.Masking(0.0)(x)   # timestep 1 is masked
    """

    def __init__(self, mask_value=0.0, **kwargs):
        super().__init__(**kwargs)
        self.mask_value = mask_value
        self.supports_masking = True
        self.built = True

    def compute_mask(self, inputs, mask=None):
        return reduction_ops.reduce_any(comparison_ops.not_equal(inputs, self.mask_value), axis=-1)

    def call(self, inputs):
        keep = reduction_ops.reduce_any(comparison_ops.not_equal(inputs, self.mask_value),
                                        axis=-1,
                                        keepdims=True)
        return comparison_ops.where(keep, inputs, creation_ops.zeros_like(inputs))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config["mask_value"] = self.mask_value
        return config
