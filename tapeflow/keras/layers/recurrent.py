"""SimpleRNN, LSTM and GRU: the cells (one step, Keras 3's weights and gate orders) and the
layers (an RNN of that cell). LSTM and GRU run one fused op over all timesteps
(ops/rnn.py) when their configuration is the standard one (tanh/sigmoid, GRU reset_after,
no recurrent dropout in training, default zero_output_for_mask); otherwise the per-step loop of
rnn.py runs the cell.
"""
from tapeflow.ops import (array as array_ops, creation as creation_ops, joining as joining_ops,
                          linalg as linalg_ops)
from tapeflow.keras.engine.layer import Layer
from tapeflow.keras.layers.rnn import RNN, DropoutRNNCell, step_mask
from tapeflow.ops import rnn as rnn_ops

_CELL_ARGS = ("activation", "use_bias", "kernel_initializer", "recurrent_initializer",
              "bias_initializer", "kernel_regularizer", "recurrent_regularizer",
              "bias_regularizer", "kernel_constraint", "recurrent_constraint",
              "bias_constraint", "dropout", "recurrent_dropout", "seed")


def _modules():
    from tapeflow.keras import activations, constraints, initializers, regularizers
    return activations, constraints, initializers, regularizers


class _Cell(DropoutRNNCell, Layer):
    """What the three cells share: arguments, weights, config."""

    _gates = 1

    def __init__(self, units, activation="tanh", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, dropout=0.0, recurrent_dropout=0.0, seed=None,
                 **kwargs):
        if not isinstance(units, int) or isinstance(units, bool) or units <= 0:
            raise ValueError("Received an invalid value for argument `units`, expected a "
                             f"positive integer, got {units}.")
        super().__init__(**kwargs)
        activations, constraints, initializers, regularizers = _modules()
        self.units = units
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.dropout = min(1.0, max(0.0, dropout))
        self.recurrent_dropout = min(1.0, max(0.0, recurrent_dropout))
        self.seed = seed
        self.state_size = units
        self.output_size = units

    def build(self, input_shape):
        n = self._gates * self.units
        self.kernel = self.add_weight(shape=(input_shape[-1], n), name="kernel",
                                      initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.recurrent_kernel = self.add_weight(shape=(self.units, n), name="recurrent_kernel",
                                                initializer=self.recurrent_initializer,
                                                regularizer=self.recurrent_regularizer,
                                                constraint=self.recurrent_constraint)
        self.bias = self.add_weight(shape=self._bias_shape(), name="bias",
                                    initializer=self._bias_init(),
                                    regularizer=self.bias_regularizer,
                                    constraint=self.bias_constraint) if self.use_bias else None
        self.built = True

    def _bias_shape(self):
        return (self._gates * self.units,)

    def _bias_init(self):
        return self.bias_initializer

    def _inputs_h(self, inputs, h, training):
        if training and 0.0 < self.dropout < 1.0:
            inputs = inputs * self.get_dropout_mask(inputs)
        if training and 0.0 < self.recurrent_dropout < 1.0:
            h = h * self.get_recurrent_dropout_mask(h)
        return inputs, h

    def get_initial_state(self, batch_size=None):
        sizes = self.state_size if isinstance(self.state_size, list) else [self.state_size]
        return [creation_ops.zeros((batch_size, s), dtype=self._dtype) for s in sizes]

    def get_config(self):
        from tapeflow.keras.layers.core import _serialize
        config = super().get_config()
        config["units"] = self.units
        for arg in _CELL_ARGS:
            value = getattr(self, arg)
            for module in ("activations", "initializers", "regularizers", "constraints"):
                if arg.endswith(module[:-1]) or (module == "activations" and
                                                 arg.endswith("activation")):
                    value = _serialize(module, value)
            config[arg] = value
        return config


class SimpleRNNCell(_Cell):
    """One step of a fully-connected RNN: `h = activation(x @ kernel + h @ recurrent_kernel
    + bias)`."""

    def call(self, inputs, states, training=False):
        h = states[0] if isinstance(states, (list, tuple)) else states
        inputs, h_in = self._inputs_h(inputs, h, training)
        x = linalg_ops.matmul(inputs, self.kernel)
        if self.bias is not None:
            x = x + self.bias
        out = x + linalg_ops.matmul(h_in, self.recurrent_kernel)
        if self.activation is not None:
            out = self.activation(out)
        return out, ([out] if isinstance(states, (list, tuple)) else out)


class LSTMCell(_Cell):
    """One LSTM step; kernel (in, 4u), recurrent_kernel (u, 4u), bias (4u,), gates i, f, c, o.

    `unit_forget_bias=True` initialises the forget gate's bias to ones."""

    _gates = 4

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid",
                 unit_forget_bias=True, implementation=2, **kwargs):
        super().__init__(units, activation=activation, **kwargs)
        self.recurrent_activation = _modules()[0].get(recurrent_activation)
        self.unit_forget_bias = unit_forget_bias
        self.implementation = implementation
        self.state_size = [units, units]

    def _bias_init(self):
        if not self.unit_forget_bias:
            return self.bias_initializer
        init, u = self.bias_initializer, self.units

        def bias(shape, dtype=None):
            return joining_ops.concat([
                init((u, ), dtype=dtype),
                creation_ops.ones((u, ), dtype=dtype),
                init((2 * u, ), dtype=dtype)
            ], 0)
        return bias

    def call(self, inputs, states, training=False):
        h, c = states[0], states[1]
        inputs, h_in = self._inputs_h(inputs, h, training)
        z = linalg_ops.matmul(inputs, self.kernel) + linalg_ops.matmul(h_in, self.recurrent_kernel)
        if self.bias is not None:
            z = z + self.bias
        zi, zf, zc, zo = joining_ops.split(z, 4, axis=-1)
        ra = self.recurrent_activation
        c = ra(zf) * c + ra(zi) * self.activation(zc)
        h = ra(zo) * self.activation(c)
        return h, [h, c]

    def get_config(self):
        from tapeflow.keras.layers.core import _serialize
        config = super().get_config()
        config.update({"recurrent_activation": _serialize("activations",
                                                          self.recurrent_activation),
                       "unit_forget_bias": self.unit_forget_bias})
        return config


class GRUCell(_Cell):
    """One GRU step; kernel (in, 3u), recurrent_kernel (u, 3u), gates z, r, h; with
    `reset_after=True` (default) the bias is (2, 3u): input and recurrent biases."""

    _gates = 3

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid",
                 reset_after=True, implementation=2, **kwargs):
        super().__init__(units, activation=activation, **kwargs)
        self.recurrent_activation = _modules()[0].get(recurrent_activation)
        self.reset_after = reset_after
        self.implementation = implementation

    def _bias_shape(self):
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def call(self, inputs, states, training=False):
        h = states[0] if isinstance(states, (list, tuple)) else states
        inputs, h_in = self._inputs_h(inputs, h, training)
        u = self.units
        x = linalg_ops.matmul(inputs, self.kernel)
        if self.bias is not None:
            x = x + (self.bias[0] if self.reset_after else self.bias)
        xz, xr, xh = joining_ops.split(x, 3, axis=-1)
        ra = self.recurrent_activation
        if self.reset_after:
            inner = linalg_ops.matmul(h_in, self.recurrent_kernel)
            if self.bias is not None:
                inner = inner + self.bias[1]
            rz, rr, rh = joining_ops.split(inner, 3, axis=-1)
            z, r = ra(xz + rz), ra(xr + rr)
            hh = self.activation(xh + r * rh)
        else:
            inner = linalg_ops.matmul(h_in, self.recurrent_kernel[:, :2 * u])
            rz, rr = joining_ops.split(inner, 2, axis=-1)
            z, r = ra(xz + rz), ra(xr + rr)
            hh = self.activation(xh +
                                 linalg_ops.matmul(r * h_in, self.recurrent_kernel[:, 2 * u:]))
        h = z * h + (1 - z) * hh
        return h, ([h] if isinstance(states, (list, tuple)) else h)

    def get_config(self):
        from tapeflow.keras.layers.core import _serialize
        config = super().get_config()
        config.update({"recurrent_activation": _serialize("activations",
                                                          self.recurrent_activation),
                       "reset_after": self.reset_after})
        return config


class _CellLayer(RNN):
    """An RNN layer that owns its cell (built from the layer's own arguments) and exposes the
    cell's settings as its attributes, as Keras's SimpleRNN/LSTM/GRU do."""

    _cell_class = None

    def __init__(self, units, return_sequences=False, return_state=False, go_backwards=False,
                 stateful=False, unroll=False, use_cudnn="auto", **kwargs):
        cell_kwargs = {k: kwargs.pop(k) for k in list(kwargs)
                       if k in _CELL_ARGS or k in self._extra_args}
        cell = self._cell_class(units, name=self._cell_name, dtype=kwargs.get("dtype"),
                                **cell_kwargs)
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, unroll=unroll, **kwargs)
        self.use_cudnn = use_cudnn

    _extra_args = ()

    def __getattr__(self, name):
        cell = self.__dict__.get("cell")
        if cell is not None and (name in _CELL_ARGS or name in self._extra_args or
                                 name in ("units", "implementation")):
            return getattr(cell, name)
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def _fused_ok(self, mask, training):
        cell = self.cell
        activations = _modules()[0]
        return (self.use_cudnn in ("auto", True) and not self.zero_output_for_mask
                and cell.activation is activations.tanh
                and cell.recurrent_activation is activations.sigmoid
                and not (training and cell.recurrent_dropout > 0))

    def _dropped(self, sequences, training):
        if training and 0.0 < self.cell.dropout < 1.0:
            m = self.cell.get_dropout_mask(sequences[:, 0, :])
            self.cell.reset_dropout_mask()
            return sequences * array_ops.expand_dims(m, 1)
        return sequences

    def get_config(self):
        config = super().get_config()
        config.update({k: v for k, v in self.cell.get_config().items()
                       if k not in ("name", "trainable", "dtype")})
        return config


class SimpleRNN(_CellLayer):
    """A fully-connected RNN whose output is fed back as its input.

    Example:
    >>> keras.layers.SimpleRNN(4)(tf.ones((32, 10, 8))).shape
    TensorShape([32, 4])
    """

    _cell_class = SimpleRNNCell
    _cell_name = "simple_rnn_cell"


class LSTM(_CellLayer):
    """Long Short-Term Memory layer (Hochreiter 1997), Keras's weights and gate order.

    Runs one fused op over time (tanh/sigmoid, no recurrent dropout in training); otherwise
    the per-step loop of LSTMCell.

    Example:
    >>> out, h, c = keras.layers.LSTM(4, return_sequences=True, return_state=True)(
    ...     tf.ones((32, 10, 8)))
    >>> out.shape, h.shape
    (TensorShape([32, 10, 4]), TensorShape([32, 4]))
    """

    _cell_class = LSTMCell
    _cell_name = "lstm_cell"
    _extra_args = ("recurrent_activation", "unit_forget_bias", "implementation")

    def call(self, sequences, initial_state=None, mask=None, training=False):
        mask = step_mask(mask)
        if not self._fused_ok(mask, training):
            return super().call(sequences, initial_state, mask=mask, training=training)
        h0, c0 = self._initial_state(sequences, initial_state)
        cell = self.cell
        bias = cell.bias if cell.bias is not None else creation_ops.zeros(
            (4 * cell.units, ), self._dtype)
        seq, h, c = rnn_ops.lstm_sequence(self._dropped(sequences, training), h0, c0,
                                          cell.kernel, cell.recurrent_kernel, bias, mask,
                                          self.go_backwards)
        return self._finish(h, seq, [h, c])


class GRU(_CellLayer):
    """Gated Recurrent Unit (Cho et al. 2014), Keras's weights (reset_after=True: bias (2, 3u)).

    Runs one fused op over time in the default configuration; otherwise GRUCell's loop.

    Example:
    >>> keras.layers.GRU(4)(tf.ones((32, 10, 8))).shape
    TensorShape([32, 4])
    """

    _cell_class = GRUCell
    _cell_name = "gru_cell"
    _extra_args = ("recurrent_activation", "reset_after", "implementation")

    def call(self, sequences, initial_state=None, mask=None, training=False):
        mask = step_mask(mask)
        if not (self.cell.reset_after and self._fused_ok(mask, training)):
            return super().call(sequences, initial_state, mask=mask, training=training)
        h0, = self._initial_state(sequences, initial_state)
        cell = self.cell
        if cell.bias is not None:
            b_in, b_rec = cell.bias[0], cell.bias[1]
        else:
            b_in = b_rec = creation_ops.zeros((3 * cell.units,), self._dtype)
        seq, h = rnn_ops.gru_sequence(self._dropped(sequences, training), h0, cell.kernel,
                                      cell.recurrent_kernel, b_in, b_rec, mask,
                                      self.go_backwards)
        return self._finish(h, seq, [h])
