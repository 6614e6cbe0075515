"""Attention layers: MultiHeadAttention (Vaswani et al. 2017, Keras 3's weights: EinsumDense
projections query/key/value (d_model, num_heads, key_dim) and attention_output (num_heads,
value_dim, d_model)) and Attention (Luong dot-product or Bahdanau concat scores)."""
import math

from tapeflow._core import dtypes
from tapeflow._core.tensor import constant
from tapeflow.ops import (array as array_ops, comparison as comparison_ops,
                          creation as creation_ops, einsum as einsum_ops,
                          elementwise as elementwise_ops, linalg as linalg_ops, nn as nn_ops,
                          nn_impl as nn_impl_ops, reduction as reduction_ops)
from tapeflow.keras.engine.layer import Layer, variable_scope
from tapeflow.keras.engine.masking import get_keras_mask
from tapeflow.keras.layers.wrappers import _build_child

_NEG = -1e9  # what Keras's masked softmax puts at masked positions (float32)


class _Projection(Layer):
    """An EinsumDense of MultiHeadAttention: `einsum(equation, x, kernel) + bias`."""

    def __init__(self, equation, kernel_tail, bias_shape, common, **kwargs):
        super().__init__(**kwargs)
        self.equation = equation
        self.kernel_tail = tuple(kernel_tail)
        self.bias_shape = bias_shape
        self.common = common

    def build(self, input_shape):
        c = self.common
        lead = () if self.equation.startswith("abcd") else (input_shape[-1],)
        self.kernel = self.add_weight(name="kernel", shape=lead + self.kernel_tail,
                                      initializer=c["kernel_initializer"],
                                      regularizer=c["kernel_regularizer"],
                                      constraint=c["kernel_constraint"])
        self.bias = self.add_weight(name="bias", shape=self.bias_shape,
                                    initializer=c["bias_initializer"],
                                    regularizer=c["bias_regularizer"],
                                    constraint=c["bias_constraint"]) \
            if self.bias_shape is not None else None
        self.built = True

    def call(self, inputs):
        y = einsum_ops.einsum(self.equation, inputs, self.kernel)
        return y if self.bias is None else y + self.bias


def _masked_softmax(scores, mask):
    if mask is None:
        return nn_ops.softmax(scores, axis=-1)
    scores = comparison_ops.where(mask, scores,
                                  creation_ops.fill(_shape(scores), constant(_NEG, scores.dtype)))
    return comparison_ops.where(mask, nn_ops.softmax(scores, axis=-1),
                                creation_ops.zeros_like(scores))


def _causal_mask(t, s):
    rows = creation_ops.range(t)[:, None]
    cols = creation_ops.range(s)[None, :]
    return array_ops.expand_dims(rows >= cols, 0)  # (1, T, S): query i sees keys <= i


def _dim(x, axis):
    """A static dimension when known (keeps tf.function traces free of shape tensors)."""
    d = x.shape[axis]
    return d if d is not None else array_ops.shape(x)[axis]


def _shape(x):
    return tuple(x.shape) if all(d is not None for d in x.shape) else array_ops.shape(x)


def _and(a, b):
    return b if a is None else comparison_ops.logical_and(a, b)


class MultiHeadAttention(Layer):
    """Multi-head attention: projects query/key/value into `num_heads` heads, attends with
    scaled dot products over the sequence axis, and projects back.

    Args:
        num_heads: number of attention heads.
        key_dim: size of each head for query and key.
        value_dim: size of each head for value (default key_dim).
        dropout: dropout rate on the attention probabilities (training only).
        use_bias: whether the projections have biases.
        output_shape: last dimension of the output (default: the query's).

    Call: `layer(query, value, key=None, attention_mask=None, return_attention_scores=False,
    training=None, use_causal_mask=False)`; Keras masks on query/value/key are honoured.

    Example:
    >>> mha = keras.layers.MultiHeadAttention(num_heads=2, key_dim=4)
    >>> mha(tf.ones((2, 5, 8)), tf.ones((2, 3, 8))).shape
    TensorShape([2, 5, 8])
    """

    def __init__(self, num_heads, key_dim, value_dim=None, dropout=0.0, use_bias=True,
                 output_shape=None, attention_axes=None, flash_attention=None,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, seed=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        from tapeflow.keras import constraints, initializers, regularizers
        self.supports_masking = True
        self.num_heads = num_heads
        self.key_dim = key_dim
        self.value_dim = value_dim if value_dim else key_dim
        self.dropout = dropout
        self.use_bias = use_bias
        if output_shape is not None and isinstance(output_shape, int):
            output_shape = (output_shape,)
        self._output_shape = output_shape
        if attention_axes is not None and tuple(
                attention_axes if isinstance(attention_axes, (list, tuple))
                else (attention_axes,)) not in ((1,), (-2,)):
            raise NotImplementedError("tapeflow's MultiHeadAttention attends over the sequence "
                                      f"axis only. Received: attention_axes={attention_axes}")
        self.attention_axes = attention_axes
        self.seed = seed
        self._common = dict(
            kernel_initializer=initializers.get(kernel_initializer),
            bias_initializer=initializers.get(bias_initializer),
            kernel_regularizer=regularizers.get(kernel_regularizer),
            bias_regularizer=regularizers.get(bias_regularizer),
            kernel_constraint=constraints.get(kernel_constraint),
            bias_constraint=constraints.get(bias_constraint))
        self._inverse_sqrt_key_dim = 1.0 / math.sqrt(float(key_dim))
        heads = (num_heads, key_dim)
        bias = heads if use_bias else None
        self._query_dense = _Projection("abc,cde->abde", heads, bias, self._common, name="query")
        self._key_dense = _Projection("abc,cde->abde", heads, bias, self._common, name="key")
        vheads = (num_heads, self.value_dim)
        self._value_dense = _Projection("abc,cde->abde", vheads, vheads if use_bias else None,
                                        self._common, name="value")
        self._output_dense = None
        self._projections_built = False

    @property
    def query_dense(self):
        return self._query_dense

    @property
    def key_dense(self):
        return self._key_dense

    @property
    def value_dense(self):
        return self._value_dense

    @property
    def output_dense(self):
        return self._output_dense

    def build(self, query_shape, value_shape=None, key_shape=None):
        if value_shape is None:  # the engine builds on the first input only: wait for call
            return
        if len(query_shape) != 3:
            raise NotImplementedError("tapeflow's MultiHeadAttention takes (batch, sequence, "
                                      f"features) inputs. Received: query_shape={query_shape}")
        key_shape = value_shape if key_shape is None else key_shape
        out_dim = self._output_shape or (query_shape[-1],)
        if len(out_dim) != 1:
            raise NotImplementedError("output_shape must be one dimension. Received: "
                                      f"output_shape={self._output_shape}")
        self._output_dense = _Projection("abcd,cde->abe", (self.num_heads, self.value_dim) +
                                         tuple(out_dim), tuple(out_dim) if self.use_bias
                                         else None, self._common, name="attention_output")
        with variable_scope(self):
            _build_child(self._query_dense, tuple(query_shape))
            _build_child(self._key_dense, tuple(key_shape))
            _build_child(self._value_dense, tuple(value_shape))
            _build_child(self._output_dense, tuple(query_shape[:2]) +
                         (self.num_heads, self.value_dim))
        self._projections_built = True
        self.built = True

    def _attention_mask(self, query, value, query_mask, value_mask, key_mask, attention_mask,
                        use_causal_mask):
        mask = None
        if query_mask is not None:
            mask = array_ops.expand_dims(elementwise_ops.cast(query_mask, dtypes.bool),
                                         -1)  # (B, T, 1)
        for m in (value_mask, key_mask):
            if m is not None:
                m = elementwise_ops.cast(m, dtypes.bool)
                mask = _and(mask, array_ops.expand_dims(m, -2))  # (B, 1, S)
        if use_causal_mask:
            mask = _and(mask, _causal_mask(_dim(query, 1), _dim(value, 1)))
        if attention_mask is not None:
            attention_mask = elementwise_ops.cast(attention_mask, dtypes.bool)
            mask = attention_mask if mask is None else comparison_ops.logical_and(
                attention_mask, mask)
        return mask

    def call(self, query, value, key=None, query_mask=None, value_mask=None, key_mask=None,
             attention_mask=None, return_attention_scores=False, training=None,
             use_causal_mask=False):
        if key is None:
            key = value
        query_mask = get_keras_mask(query) if query_mask is None else query_mask
        value_mask = get_keras_mask(value) if value_mask is None else value_mask
        key_mask = get_keras_mask(key) if key_mask is None else key_mask
        if not self._projections_built:
            self.build(tuple(query.shape), tuple(value.shape), tuple(key.shape))
        mask = self._attention_mask(query, value, query_mask, value_mask, key_mask,
                                    attention_mask, use_causal_mask)
        q = self._query_dense(query) * constant(self._inverse_sqrt_key_dim, query.dtype)
        k = self._key_dense(key)
        v = self._value_dense(value)
        scores = einsum_ops.einsum("aecd,abcd->acbe", k, q)                        # (B, N, T, S)
        if mask is not None:
            mask = array_ops.expand_dims(mask, 1)
            mask = comparison_ops.logical_and(mask, creation_ops.ones(_shape(scores), dtypes.bool))
        scores = _masked_softmax(scores, mask)
        dropped = scores
        if training and self.dropout > 0:
            dropped = nn_impl_ops.dropout(scores, rate=self.dropout, seed=self.seed)
        out = self._output_dense(einsum_ops.einsum("acbe,aecd->abcd", dropped, v))
        if return_attention_scores:
            return out, scores
        return out

    def compute_mask(self, inputs, previous_mask):
        return get_keras_mask(inputs) if previous_mask is None else (
            previous_mask[0] if isinstance(previous_mask, list) else previous_mask)

    # Keras's public names of the projections (saving walks them: `.../query_dense/vars`).
    query_dense = property(lambda self: self._query_dense)
    key_dense = property(lambda self: self._key_dense)
    value_dense = property(lambda self: self._value_dense)
    output_dense = property(lambda self: self._output_dense)

    def compute_output_shape(self, query_shape, value_shape=None, key_shape=None):
        out = self._output_shape or (query_shape[-1],)
        return tuple(query_shape[:-1]) + tuple(out)

    def get_config(self):
        from tapeflow.keras.layers.core import _serialize
        config = super().get_config()
        config.update({
            "num_heads": self.num_heads, "key_dim": self.key_dim,
            "value_dim": self.value_dim, "dropout": self.dropout, "use_bias": self.use_bias,
            "output_shape": self._output_shape, "attention_axes": self.attention_axes,
            "seed": self.seed,
        })
        for k, v in self._common.items():
            config[k] = _serialize(k.split("_")[1] + "s", v)
        return config


class Attention(Layer):
    """Dot-product (Luong-style) attention: `softmax(query @ key^T) @ value`.

    Args:
        use_scale: learn a scalar `scale` multiplying the scores.
        score_mode: "dot" (default) or "concat" (`sum(tanh(query + key))`).
        dropout: dropout rate on the attention weights (training only).

    Call: `layer([query, value])` or `layer([query, value, key])`, with
    `mask=[query_mask, value_mask]`, `return_attention_scores`, `use_causal_mask`.

    Example:
    >>> q, v = tf.ones((2, 3, 4)), tf.ones((2, 5, 4))
    >>> keras.layers.Attention()([q, v]).shape
    TensorShape([2, 3, 4])
    """

    def __init__(self, use_scale=False, score_mode="dot", dropout=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        if score_mode not in ("dot", "concat"):
            raise ValueError("Invalid value for argument score_mode. Expected one of "
                             f"{{'dot', 'concat'}}. Received: score_mode={score_mode}")
        self.use_scale = use_scale
        self.score_mode = score_mode
        self.dropout = dropout
        self.seed = seed
        self.supports_masking = True
        self.scale = None
        self.concat_score_weight = None

    def build(self, input_shape):
        if not isinstance(input_shape, list) or len(input_shape) not in (2, 3):
            raise ValueError(f"{self.name} layer must be called on a list of inputs, namely "
                             f"[query, value] or [query, value, key]. Received: "
                             f"inputs={input_shape}.")
        if self.use_scale:
            self.scale = self.add_weight(name="scale", shape=(), initializer="ones")
        if self.score_mode == "concat":
            self.concat_score_weight = self.add_weight(name="concat_score_weight", shape=(),
                                                       initializer="ones")
        self.built = True

    def _scores(self, query, key):
        if self.score_mode == "dot":
            scores = linalg_ops.matmul(query, key, transpose_b=True)
            return scores if self.scale is None else scores * self.scale
        q, k = array_ops.expand_dims(query, -2), array_ops.expand_dims(key, -3)
        inner = q + k if self.scale is None else self.scale * (q + k)
        return self.concat_score_weight * reduction_ops.reduce_sum(
            elementwise_ops.tanh(inner), axis=-1)

    def call(self, inputs, mask=None, training=False, return_attention_scores=False,
             use_causal_mask=False):
        q, v = inputs[0], inputs[1]
        k = inputs[2] if len(inputs) > 2 else v
        q_mask = mask[0] if mask else None
        v_mask = mask[1] if mask else None
        scores = self._scores(q, k)
        if v_mask is not None:
            v_mask = array_ops.expand_dims(elementwise_ops.cast(v_mask, dtypes.bool), -2)
        if use_causal_mask:
            causal = _causal_mask(_dim(scores, -2), _dim(scores, -1))
            v_mask = causal if v_mask is None else comparison_ops.logical_and(v_mask, causal)
        if v_mask is not None:
            scores = comparison_ops.where(v_mask, scores, scores - 1.0e9)
        weights = nn_ops.softmax(scores, axis=-1)
        if training and self.dropout > 0:
            weights = nn_impl_ops.dropout(weights, rate=self.dropout, seed=self.seed)
        out = linalg_ops.matmul(weights, v)
        if q_mask is not None:
            out = comparison_ops.where(
                array_ops.expand_dims(elementwise_ops.cast(q_mask, dtypes.bool), -1), out,
                creation_ops.zeros_like(out))
        if return_attention_scores:
            return out, weights
        return out

    def compute_mask(self, inputs, mask=None):
        if mask is None or mask[0] is None:
            return None
        return mask[0]

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0][:-1]) + (input_shape[1][-1],)

    def get_config(self):
        config = super().get_config()
        config.update({"use_scale": self.use_scale, "score_mode": self.score_mode,
                       "dropout": self.dropout, "seed": self.seed})
        return config
