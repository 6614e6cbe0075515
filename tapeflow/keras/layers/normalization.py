"""Normalisation layers: BatchNormalization and LayerNormalization (Keras 3's, in tapeflow
ops).

BatchNormalization normalises with the batch's statistics while training and with its moving
statistics otherwise; the moving mean and variance are non-trainable weights updated with
`Variable.assign` (so a traced tf.function records the update), as Keras does:
`moving = moving * momentum + batch_statistic * (1 - momentum)`.
"""
from tapeflow._core import dtypes
from tapeflow.ops import (array as array_ops, elementwise as elementwise_ops,
                          nn_impl as nn_impl_ops, reduction as reduction_ops)
from tapeflow.keras.engine.layer import Layer
from tapeflow.keras.layers.convolutional import _constraint, _initializer, _regularizer
from tapeflow.keras.layers.core import _serialize


def _axes(axis, ndim):
    axes = [axis] if isinstance(axis, int) else list(axis)
    for a in axes:
        if a >= ndim or a < -ndim:
            raise ValueError(f"Axis {a} is out of bounds for input of rank {ndim}. "
                             f"Received: axis={axis}")
    return sorted(a % ndim for a in axes)


class _Normalization(Layer):
    """gamma/beta weights and their config, shared by both layers."""

    def __init__(self, axis, epsilon, center, scale, beta_initializer, gamma_initializer,
                 beta_regularizer, gamma_regularizer, beta_constraint, gamma_constraint,
                 **kwargs):
        super().__init__(**kwargs)
        self.axis = axis
        self.epsilon = epsilon
        self.center = center
        self.scale = scale
        self.beta_initializer = _initializer(beta_initializer)
        self.gamma_initializer = _initializer(gamma_initializer)
        self.beta_regularizer = _regularizer(beta_regularizer)
        self.gamma_regularizer = _regularizer(gamma_regularizer)
        self.beta_constraint = _constraint(beta_constraint)
        self.gamma_constraint = _constraint(gamma_constraint)
        self.supports_masking = True

    def _add_scale_and_offset(self, shape):
        self.gamma = self.add_weight(shape=shape, name="gamma",
                                     initializer=self.gamma_initializer,
                                     regularizer=self.gamma_regularizer,
                                     constraint=self.gamma_constraint) if self.scale else None
        self.beta = self.add_weight(shape=shape, name="beta",
                                    initializer=self.beta_initializer,
                                    regularizer=self.beta_regularizer,
                                    constraint=self.beta_constraint) if self.center else None

    def _weights_config(self):
        return {
            "beta_initializer": _serialize("initializers", self.beta_initializer),
            "gamma_initializer": _serialize("initializers", self.gamma_initializer),
        }

    def _regularizers_config(self):
        return {
            "beta_regularizer": _serialize("regularizers", self.beta_regularizer),
            "gamma_regularizer": _serialize("regularizers", self.gamma_regularizer),
            "beta_constraint": _serialize("constraints", self.beta_constraint),
            "gamma_constraint": _serialize("constraints", self.gamma_constraint),
        }


class BatchNormalization(_Normalization):
    """Normalises each feature (along `axis`) to mean 0 and variance 1, then scales by `gamma`
    and shifts by `beta`. Weights: gamma, beta, moving_mean, moving_variance.

    Example:
    >>> bn = keras.layers.BatchNormalization()
    >>> y = bn(tf.random.normal((8, 3)), training=True)   # batch statistics; moving ones move
    >>> y = bn(tf.random.normal((8, 3)))                  # inference: moving statistics
    """

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones",
                 moving_mean_initializer="zeros", moving_variance_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                 gamma_constraint=None, synchronized=False, **kwargs):
        super().__init__(int(axis), epsilon, center, scale, beta_initializer,
                         gamma_initializer, beta_regularizer, gamma_regularizer,
                         beta_constraint, gamma_constraint, **kwargs)
        self.momentum = float(momentum)
        self.synchronized = synchronized
        self.moving_mean_initializer = _initializer(moving_mean_initializer)
        self.moving_variance_initializer = _initializer(moving_variance_initializer)

    def build(self, input_shape):
        ndim = len(input_shape)
        self._axis = axis = _axes(self.axis, ndim)[0]
        shape = (input_shape[axis],)
        self._add_scale_and_offset(shape)
        self.moving_mean = self.add_weight(shape=shape, name="moving_mean",
                                           initializer=self.moving_mean_initializer,
                                           trainable=False)
        self.moving_variance = self.add_weight(shape=shape, name="moving_variance",
                                               initializer=self.moving_variance_initializer,
                                               trainable=False)
        self._reduction_axes = [i for i in range(ndim) if i != axis]
        self._broadcast_shape = [1] * ndim
        self._broadcast_shape[axis] = input_shape[axis]
        self.built = True

    def call(self, inputs, training=None, mask=None):
        dtype = inputs.dtype
        if dtype in (dtypes.float16, dtypes.bfloat16):
            inputs = elementwise_ops.cast(inputs, dtypes.float32)
        if training and self.trainable:
            mean, variance = self._moments(inputs, mask)
            momentum = self.momentum
            self.moving_mean.assign(self.moving_mean * momentum + mean * (1.0 - momentum))
            self.moving_variance.assign(self.moving_variance * momentum +
                                        variance * (1.0 - momentum))
        else:
            mean, variance = self.moving_mean, self.moving_variance
        gamma, beta = self.gamma, self.beta
        if self._axis != inputs.ndim - 1:
            shape = self._broadcast_shape
            mean, variance = array_ops.reshape(mean, shape), array_ops.reshape(variance, shape)
            gamma = None if gamma is None else array_ops.reshape(gamma, shape)
            beta = None if beta is None else array_ops.reshape(beta, shape)
        outputs = nn_impl_ops.batch_normalization(inputs, mean, variance, beta, gamma,
                                                  self.epsilon)
        return outputs if outputs.dtype == dtype else elementwise_ops.cast(outputs, dtype)

    def _moments(self, inputs, mask):
        if mask is None:
            return nn_impl_ops.moments(inputs, self._reduction_axes)
        weights = elementwise_ops.cast(
            array_ops.broadcast_to(array_ops.expand_dims(mask, -1), array_ops.shape(inputs)),
            inputs.dtype)
        count = reduction_ops.reduce_sum(weights, self._reduction_axes, keepdims=True) + 1e-7
        mean = reduction_ops.reduce_sum(inputs * weights, self._reduction_axes,
                                        keepdims=True) / count
        variance = reduction_ops.reduce_sum(elementwise_ops.square(inputs - mean) * weights,
                                            self._reduction_axes,
                                            keepdims=True) / count
        return array_ops.squeeze(mean, self._reduction_axes), array_ops.squeeze(
            variance, self._reduction_axes)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"axis": self.axis, "momentum": self.momentum, "epsilon": self.epsilon,
                       "center": self.center, "scale": self.scale})
        config.update(self._weights_config())
        config.update({
            "moving_mean_initializer": _serialize("initializers", self.moving_mean_initializer),
            "moving_variance_initializer": _serialize("initializers",
                                                      self.moving_variance_initializer),
        })
        config.update(self._regularizers_config())
        config.update({"synchronized": self.synchronized, "renorm": False,
                       "renorm_clipping": None, "renorm_momentum": 0.99})
        return config


class LayerNormalization(_Normalization):
    """Normalises each example over `axis` (default the last) to mean 0 and variance 1, then
    scales by `gamma` and shifts by `beta`.

    Example:
    >>> keras.layers.LayerNormalization()(tf.constant([[1.0, 2.0, 3.0]]))
    """

    def __init__(self, axis=-1, epsilon=1e-3, center=True, scale=True, rms_scaling=False,
                 beta_initializer="zeros", gamma_initializer="ones", beta_regularizer=None,
                 gamma_regularizer=None, beta_constraint=None, gamma_constraint=None,
                 **kwargs):
        axis = list(axis) if isinstance(axis, (list, tuple)) else int(axis)
        super().__init__(axis, epsilon, center, scale, beta_initializer, gamma_initializer,
                         beta_regularizer, gamma_regularizer, beta_constraint,
                         gamma_constraint, **kwargs)
        self.rms_scaling = rms_scaling

    def build(self, input_shape):
        ndim = len(input_shape)
        axes = _axes(self.axis, ndim)
        self._norm_axes = axes
        self._add_scale_and_offset(tuple(input_shape[a] for a in axes))
        self._broadcast_shape = [input_shape[i] if i in axes else 1 for i in range(ndim)]
        if isinstance(self.axis, int):  # as Keras: the config shows a list once built
            self.axis = [self.axis]
        self.built = True

    def call(self, inputs):
        dtype = inputs.dtype
        low = dtype in (dtypes.float16, dtypes.bfloat16)
        x = elementwise_ops.cast(inputs, dtypes.float32) if low else inputs
        axes = self._norm_axes
        reshape = axes != [x.ndim - 1]
        gamma, beta = self.gamma, self.beta
        if reshape:
            gamma = None if gamma is None else array_ops.reshape(gamma, self._broadcast_shape)
            beta = None if beta is None else array_ops.reshape(beta, self._broadcast_shape)
        mean, variance = nn_impl_ops.moments(x, axes, keepdims=True)
        inv = elementwise_ops.rsqrt(variance + self.epsilon)
        if self.rms_scaling:
            outputs = x * inv if gamma is None else x * inv * gamma
        else:
            if gamma is not None:
                inv = inv * gamma
            shift = -mean * inv
            if beta is not None:
                shift = shift + beta
            outputs = x * inv + shift
        return outputs if outputs.dtype == dtype else elementwise_ops.cast(outputs, dtype)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"axis": self.axis, "epsilon": self.epsilon, "center": self.center,
                       "scale": self.scale, "rms_scaling": self.rms_scaling})
        config.update(self._weights_config())
        config.update(self._regularizers_config())
        return config
