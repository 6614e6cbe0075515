"""Convolution layers: Conv1D/2D/3D, Conv1D/2D/3DTranspose, DepthwiseConv2D and
SeparableConv2D (Keras 3's, in tapeflow ops).

Weights have Keras's shapes and order, so `set_weights(keras_layer.get_weights())` moves them
unchanged: a kernel is (k.., in, filters), a transposed kernel (k.., filters, in), a depthwise
kernel (kh, kw, in, depth_multiplier), each followed by its bias.
"""
from tapeflow.ops import array as array_ops, conv as conv_ops, padding as padding_ops
from tapeflow.keras.engine.layer import Layer
from tapeflow.keras.layers.core import _activations, _serialize


def normalize_tuple(value, n, name, allow_zero=False):
    """An int or an n-sequence of ints as an n-tuple, checked as Keras checks it."""
    if isinstance(value, int):
        result = (value,) * n
    else:
        try:
            result = tuple(int(v) for v in value)
        except (TypeError, ValueError):
            raise ValueError(f"The `{name}` argument must be a tuple of {n} integers. "
                             f"Received {name}={value}") from None
        if len(result) != n:
            raise ValueError(f"The `{name}` argument must be a tuple of {n} integers. "
                             f"Received {name}={value}")
    if any(v < 0 or (v == 0 and not allow_zero) for v in result):
        req = "0" if allow_zero else "1"
        raise ValueError(f"The `{name}` argument must be a tuple of {n} integers. Received "
                         f"{name}={value} including values <{req}")
    return result


def standardize_data_format(data_format):
    if data_format is None:
        return "channels_last"
    value = str(data_format).lower()
    if value not in ("channels_first", "channels_last"):
        raise ValueError("The `data_format` argument must be one of {'channels_first', "
                         f"'channels_last'}}. Received: data_format={data_format}")
    return value


def standardize_padding(padding, allow_causal=False):
    value = str(padding).lower()
    allowed = ("valid", "same", "causal") if allow_causal else ("valid", "same")
    if value not in allowed:
        raise ValueError(f"The `padding` argument must be a list/tuple or one of {allowed}. "
                         f"Received: {padding}")
    return value


def tf_data_format(rank, data_format):
    """Keras's data_format as TF's ('NHWC', 'NCDHW'...)."""
    spatial = {1: "W", 2: "HW", 3: "DHW"}[rank]
    return "NC" + spatial if data_format == "channels_first" else "N" + spatial + "C"


def check_ndim(layer, shape, ndim, kind="ndim"):
    """Keras's InputSpec check: `kind` 'ndim' (exactly) or 'min_ndim' (at least)."""
    found = len(shape)
    if found == ndim or (kind == "min_ndim" and found > ndim):
        return
    raise ValueError(f"Input 0 with name 'None' of layer '{layer.name}' is incompatible with "
                     f"the layer: expected {kind}={ndim}, found ndim={found}. Full shape "
                     f"received: {tuple(shape)}")


def _initializer(value):
    from tapeflow.keras import initializers
    return initializers.get(value)


def _regularizer(value):
    from tapeflow.keras import regularizers
    return regularizers.get(value)


def _constraint(value):
    from tapeflow.keras import constraints
    return constraints.get(value)


class BaseConv(Layer):
    """The N-d convolution shared by Conv1D/2D/3D: `activation(conv(inputs, kernel) + bias)`."""

    def __init__(self, rank, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, groups=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.rank = rank
        if filters is not None and (not isinstance(filters, int) or filters <= 0):
            raise ValueError("Invalid value for argument `filters`. Expected a strictly "
                             f"positive value. Received filters={filters}.")
        self.filters = filters
        self.groups = groups or 1
        self.kernel_size = normalize_tuple(kernel_size, rank, "kernel_size")
        self.strides = normalize_tuple(strides, rank, "strides")
        self.dilation_rate = normalize_tuple(dilation_rate, rank, "dilation_rate")
        self.padding = standardize_padding(padding, allow_causal=rank == 1)
        self.data_format = standardize_data_format(data_format)
        self.activation = _activations().get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = _initializer(kernel_initializer)
        self.bias_initializer = _initializer(bias_initializer)
        self.kernel_regularizer = _regularizer(kernel_regularizer)
        self.bias_regularizer = _regularizer(bias_regularizer)
        self.kernel_constraint = _constraint(kernel_constraint)
        self.bias_constraint = _constraint(bias_constraint)
        if self.groups != 1:
            raise NotImplementedError("Grouped convolutions (groups > 1) are not supported.")

    def _channel_axis(self):
        return 1 if self.data_format == "channels_first" else -1

    def _kernel_shape(self, input_channels):
        return self.kernel_size + (input_channels, self.filters)

    def build(self, input_shape):
        check_ndim(self, input_shape, self.rank + 2, "min_ndim")
        channels = input_shape[self._channel_axis()]
        if channels is None:
            raise ValueError("The channel dimension of the inputs should be defined. "
                             f"Received: input_shape={input_shape}")
        self.kernel = self.add_weight(name="kernel", shape=self._kernel_shape(channels),
                                      initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.bias = self.add_weight(name="bias", shape=(self.filters,),
                                    initializer=self.bias_initializer,
                                    regularizer=self.bias_regularizer,
                                    constraint=self.bias_constraint) if self.use_bias else None
        self.built = True

    def convolve(self, inputs):
        padding = self.padding
        if padding == "causal":
            left = self.dilation_rate[0] * (self.kernel_size[0] - 1)
            pads = [[0, 0], [0, 0], [left, 0]] if self.data_format == "channels_first" else \
                [[0, 0], [left, 0], [0, 0]]
            inputs, padding = padding_ops.pad(inputs, pads), "valid"
        return conv_ops.convolution(inputs,
                                    self.kernel,
                                    strides=self.strides,
                                    padding=padding.upper(),
                                    data_format=tf_data_format(self.rank, self.data_format),
                                    dilations=self.dilation_rate)

    def call(self, inputs):
        if len(inputs.shape) != self.rank + 2:
            check_ndim(self, inputs.shape, self.rank + 2)
        outputs = self.convolve(inputs)
        if self.bias is not None:
            if self.data_format == "channels_first":
                outputs = outputs + array_ops.reshape(self.bias, (1, -1) + (1,) * self.rank)
            else:
                outputs = outputs + self.bias
        activation = self.activation
        return outputs if activation is None else activation(outputs)

    def get_config(self):
        config = super().get_config()
        config.update({
            "filters": self.filters, "kernel_size": self.kernel_size, "strides": self.strides,
            "padding": self.padding, "data_format": self.data_format,
            "dilation_rate": self.dilation_rate, "groups": self.groups,
            "activation": _serialize("activations", self.activation) or "linear",
            "use_bias": self.use_bias,
            "kernel_initializer": _serialize("initializers", self.kernel_initializer),
            "bias_initializer": _serialize("initializers", self.bias_initializer),
            "kernel_regularizer": _serialize("regularizers", self.kernel_regularizer),
            "bias_regularizer": _serialize("regularizers", self.bias_regularizer),
            "activity_regularizer": _serialize("regularizers", self.activity_regularizer),
            "kernel_constraint": _serialize("constraints", self.kernel_constraint),
            "bias_constraint": _serialize("constraints", self.bias_constraint),
        })
        return config


class Conv1D(BaseConv):
    """1-D convolution (temporal): inputs (batch, steps, channels); `padding` may be 'causal'.

    Example:
    >>> keras.layers.Conv1D(8, 3)(tf.ones((2, 10, 4))).shape
    TensorShape([2, 8, 8])
    """

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, groups=1, **kwargs):
        super().__init__(1, filters, kernel_size, strides, padding, data_format, dilation_rate,
                         groups, **kwargs)


class Conv2D(BaseConv):
    """2-D convolution: inputs (batch, height, width, channels), kernel (kh, kw, in, filters).

    Example:
    >>> keras.layers.Conv2D(32, 3, activation="relu")(tf.ones((1, 28, 28, 1))).shape
    TensorShape([1, 26, 26, 32])
    """

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), groups=1, **kwargs):
        super().__init__(2, filters, kernel_size, strides, padding, data_format, dilation_rate,
                         groups, **kwargs)


class Conv3D(BaseConv):
    """3-D convolution: inputs (batch, depth, height, width, channels)."""

    def __init__(self, filters, kernel_size, strides=(1, 1, 1), padding="valid",
                 data_format=None, dilation_rate=(1, 1, 1), groups=1, **kwargs):
        super().__init__(3, filters, kernel_size, strides, padding, data_format, dilation_rate,
                         groups, **kwargs)


def transpose_output_length(size, kernel, stride, padding, output_padding, dilation):
    """Keras's output length of a transposed convolution."""
    kernel = (kernel - 1) * dilation + 1
    if padding == "valid":
        if output_padding is None:
            output_padding = max(kernel, stride) - kernel
        return (size - 1) * stride + kernel + output_padding
    if output_padding is None:
        return size * stride
    return (size - 1) * stride + kernel - 2 * (kernel // 2) + output_padding


class BaseConvTranspose(BaseConv):
    """The transpose (gradient) of a convolution: kernel (k.., filters, in)."""

    def __init__(self, rank, filters, kernel_size, strides=1, padding="valid",
                 output_padding=None, data_format=None, dilation_rate=1, **kwargs):
        super().__init__(rank, filters, kernel_size, strides, padding, data_format,
                         dilation_rate, **kwargs)
        self.output_padding = None if output_padding is None else normalize_tuple(
            output_padding, rank, "output_padding", allow_zero=True)

    def _kernel_shape(self, input_channels):
        return self.kernel_size + (self.filters, input_channels)

    def convolve(self, inputs):
        shape = list(inputs.shape)
        first = self.data_format == "channels_first"
        spatial = shape[2:] if first else shape[1:-1]
        out = [transpose_output_length(s, k, st, self.padding,
                                       None if self.output_padding is None else op, d)
               for s, k, st, op, d in zip(spatial, self.kernel_size, self.strides,
                                          self.output_padding or (0,) * self.rank,
                                          self.dilation_rate)]
        batch = shape[0] if shape[0] is not None else array_ops.shape(inputs)[
            0]  # no int(): stays a size
        output_shape = [batch, self.filters] + out if first else [batch] + out + [self.filters]
        fn = {1: conv_ops.conv1d_transpose, 2: conv_ops.conv2d_transpose,
              3: conv_ops.conv3d_transpose}[self.rank]
        return fn(inputs, self.kernel, output_shape, self.strides,
                  padding=self.padding.upper(),
                  data_format=tf_data_format(self.rank, self.data_format),
                  dilations=self.dilation_rate)

    def get_config(self):
        config = super().get_config()
        config.pop("groups")
        config["output_padding"] = self.output_padding
        order = ["name", "trainable", "dtype", "filters", "kernel_size", "strides", "padding",
                 "output_padding"]
        return {k: config[k] for k in order + [k for k in config if k not in order]}


class Conv1DTranspose(BaseConvTranspose):
    def __init__(self, filters, kernel_size, strides=1, padding="valid", output_padding=None,
                 data_format=None, dilation_rate=1, **kwargs):
        super().__init__(1, filters, kernel_size, strides, padding, output_padding,
                         data_format, dilation_rate, **kwargs)


class Conv2DTranspose(BaseConvTranspose):
    """Transposed 2-D convolution ("deconvolution"): 'same' padding multiplies the size by
    `strides`.

    Example:
    >>> keras.layers.Conv2DTranspose(3, 3, strides=2, padding="same")(
    ...     tf.ones((1, 7, 7, 8))).shape
    TensorShape([1, 14, 14, 3])
    """

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid",
                 output_padding=None, data_format=None, dilation_rate=(1, 1), **kwargs):
        super().__init__(2, filters, kernel_size, strides, padding, output_padding,
                         data_format, dilation_rate, **kwargs)


class Conv3DTranspose(BaseConvTranspose):
    def __init__(self, filters, kernel_size, strides=(1, 1, 1), padding="valid",
                 output_padding=None, data_format=None, dilation_rate=(1, 1, 1), **kwargs):
        super().__init__(3, filters, kernel_size, strides, padding, output_padding,
                         data_format, dilation_rate, **kwargs)


class DepthwiseConv2D(Layer):
    """Each input channel convolved by its own `depth_multiplier` filters: kernel
    (kh, kw, in, depth_multiplier), bias (in * depth_multiplier,).

    Example:
    >>> keras.layers.DepthwiseConv2D(3, depth_multiplier=2)(tf.ones((1, 8, 8, 4))).shape
    TensorShape([1, 6, 6, 8])
    """

    _kernel_name = "depthwise"

    def __init__(self, kernel_size, strides=(1, 1), padding="valid", depth_multiplier=1,
                 data_format=None, dilation_rate=(1, 1), activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", bias_initializer="zeros",
                 depthwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.depth_multiplier = depth_multiplier
        self.kernel_size = normalize_tuple(kernel_size, 2, "kernel_size")
        self.strides = normalize_tuple(strides, 2, "strides")
        self.dilation_rate = normalize_tuple(dilation_rate, 2, "dilation_rate")
        self.padding = standardize_padding(padding)
        self.data_format = standardize_data_format(data_format)
        self.activation = _activations().get(activation)
        self.use_bias = use_bias
        self.depthwise_initializer = _initializer(depthwise_initializer)
        self.bias_initializer = _initializer(bias_initializer)
        self.depthwise_regularizer = _regularizer(depthwise_regularizer)
        self.bias_regularizer = _regularizer(bias_regularizer)
        self.depthwise_constraint = _constraint(depthwise_constraint)
        self.bias_constraint = _constraint(bias_constraint)

    def _channels(self, input_shape):
        return input_shape[1 if self.data_format == "channels_first" else -1]

    def _bias_size(self, channels):
        return channels * self.depth_multiplier

    def _add_kernels(self, channels):
        self.kernel = self.add_weight(
            name="kernel", shape=self.kernel_size + (channels, self.depth_multiplier),
            initializer=self.depthwise_initializer, regularizer=self.depthwise_regularizer,
            constraint=self.depthwise_constraint)

    def build(self, input_shape):
        check_ndim(self, input_shape, 4, "min_ndim")
        channels = self._channels(input_shape)
        self._add_kernels(channels)
        self.bias = self.add_weight(name="bias", shape=(self._bias_size(channels),),
                                    initializer=self.bias_initializer,
                                    regularizer=self.bias_regularizer,
                                    constraint=self.bias_constraint) if self.use_bias else None
        self.built = True

    def convolve(self, inputs):
        return conv_ops.depthwise_conv2d(inputs,
                                         self.kernel, (1, ) + self.strides + (1, ),
                                         self.padding.upper(),
                                         data_format=tf_data_format(2, self.data_format),
                                         dilations=self.dilation_rate)

    call = BaseConv.call
    rank = 2

    def _config_weights(self):
        return {
            "depthwise_initializer": _serialize("initializers", self.depthwise_initializer),
            "bias_initializer": _serialize("initializers", self.bias_initializer),
            "depthwise_regularizer": _serialize("regularizers", self.depthwise_regularizer),
            "bias_regularizer": _serialize("regularizers", self.bias_regularizer),
            "activity_regularizer": _serialize("regularizers", self.activity_regularizer),
            "depthwise_constraint": _serialize("constraints", self.depthwise_constraint),
            "bias_constraint": _serialize("constraints", self.bias_constraint),
        }

    def get_config(self):
        config = super().get_config()
        config.update({
            "depth_multiplier": self.depth_multiplier, "kernel_size": self.kernel_size,
            "strides": self.strides, "padding": self.padding, "data_format": self.data_format,
            "dilation_rate": self.dilation_rate,
            "activation": _serialize("activations", self.activation) or "linear",
            "use_bias": self.use_bias,
        })
        config.update(self._config_weights())
        return config


class SeparableConv2D(DepthwiseConv2D):
    """A depthwise convolution then a pointwise (1x1) one to `filters` channels: weights
    depthwise_kernel (kh, kw, in, depth_multiplier), pointwise_kernel (1, 1, in * mult,
    filters), bias (filters,).
    """

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), depth_multiplier=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", pointwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None,
                 pointwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, pointwise_constraint=None, bias_constraint=None,
                 **kwargs):
        super().__init__(kernel_size, strides, padding, depth_multiplier, data_format,
                         dilation_rate, activation, use_bias, depthwise_initializer,
                         bias_initializer, depthwise_regularizer, bias_regularizer,
                         activity_regularizer, depthwise_constraint, bias_constraint, **kwargs)
        self.filters = filters
        self.pointwise_initializer = _initializer(pointwise_initializer)
        self.pointwise_regularizer = _regularizer(pointwise_regularizer)
        self.pointwise_constraint = _constraint(pointwise_constraint)

    def _bias_size(self, channels):
        return self.filters

    def _add_kernels(self, channels):
        self.depthwise_kernel = self.add_weight(
            name="depthwise_kernel", shape=self.kernel_size + (channels, self.depth_multiplier),
            initializer=self.depthwise_initializer, regularizer=self.depthwise_regularizer,
            constraint=self.depthwise_constraint)
        self.pointwise_kernel = self.add_weight(
            name="pointwise_kernel",
            shape=(1, 1, channels * self.depth_multiplier, self.filters),
            initializer=self.pointwise_initializer, regularizer=self.pointwise_regularizer,
            constraint=self.pointwise_constraint)

    def convolve(self, inputs):
        return conv_ops.separable_conv2d(inputs,
                                         self.depthwise_kernel,
                                         self.pointwise_kernel, (1, ) + self.strides + (1, ),
                                         self.padding.upper(),
                                         data_format=tf_data_format(2, self.data_format),
                                         dilations=self.dilation_rate)

    def get_config(self):
        config = super().get_config()
        config = {k: v for k, v in config.items() if not k.endswith(
            ("_initializer", "_regularizer", "_constraint"))}
        config["filters"] = self.filters
        order = ["name", "trainable", "dtype", "depth_multiplier", "filters"]
        config = {k: config[k] for k in order + [k for k in config if k not in order]}
        for kind, module in (("initializer", "initializers"), ("regularizer", "regularizers"),
                             ("constraint", "constraints")):
            for part in ("depthwise", "pointwise", "bias"):
                config[f"{part}_{kind}"] = _serialize(module, getattr(self, f"{part}_{kind}"))
            if kind == "regularizer":
                config["activity_regularizer"] = _serialize("regularizers",
                                                            self.activity_regularizer)
        return config


# Keras's aliases.
Convolution1D, Convolution2D, Convolution3D = Conv1D, Conv2D, Conv3D
Convolution2DTranspose = Conv2DTranspose
