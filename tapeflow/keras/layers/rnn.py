"""The generic recurrent layer `keras.layers.RNN(cell)` (a list of cells: StackedRNNCells): it
runs a cell over the time axis of `(batch, time, features)` sequences, with Keras 3's
semantics for `return_sequences`,
`return_state`, `go_backwards`, masks (a masked step keeps the previous states; its output is
the previous output, or zeros with `zero_output_for_mask=True`) and `initial_state`.

This per-timestep loop through tapeflow ops is the general path (any cell, second derivatives);
LSTM and GRU (recurrent.py) take one fused op over all steps (ops/rnn.py) when their
configuration allows it. Cells live in recurrent.py.
"""
from tapeflow._core import dtypes
from tapeflow._core.tensor import convert_to_tensor
from tapeflow.ops import (array as array_ops, comparison as comparison_ops,
                          creation as creation_ops, elementwise as elementwise_ops,
                          joining as joining_ops, random as random_ops)
from tapeflow._core import nest
from tapeflow.keras.engine.layer import Layer


def _as_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


def step_mask(mask):
    """The (batch, time) mask an RNN uses: the first of a list, as bool (Keras casts too)."""
    if isinstance(mask, (list, tuple)):
        mask = mask[0]
    if mask is not None and mask.dtype != dtypes.bool:
        mask = elementwise_ops.cast(mask, dtypes.bool)
    return mask


class DropoutRNNCell:
    """Mixin of cells with `dropout`/`recurrent_dropout`: one mask per sequence (the same for
    every step), created at the first step of a call and dropped by the RNN after it."""

    _dropout_mask = None
    _recurrent_dropout_mask = None

    def _make_mask(self, like, rate):
        keep = elementwise_ops.cast(
            random_ops.uniform(like.shape, dtype=like.dtype, seed=getattr(self, "seed", None))
            >= rate, like.dtype)
        return keep * (1.0 / (1.0 - rate))

    def get_dropout_mask(self, step_input):
        if self._dropout_mask is None and self.dropout > 0:
            self._dropout_mask = self._make_mask(step_input, self.dropout)
        return self._dropout_mask

    def get_recurrent_dropout_mask(self, state):
        if self._recurrent_dropout_mask is None and self.recurrent_dropout > 0:
            self._recurrent_dropout_mask = self._make_mask(state, self.recurrent_dropout)
        return self._recurrent_dropout_mask

    def reset_dropout_mask(self):
        self._dropout_mask = None

    def reset_recurrent_dropout_mask(self):
        self._recurrent_dropout_mask = None


class StackedRNNCells(Layer):
    """Cells run one above the other at each step, as one cell: what `RNN([cell, ...])`
    makes. Its state is the list of the cells' states."""

    def __init__(self, cells, **kwargs):
        super().__init__(**kwargs)
        for cell in cells:
            if "call" not in dir(cell) or "state_size" not in dir(cell):
                raise ValueError("All cells must have a `call` method and a `state_size` "
                                 f"attribute. Received cells={cells}")
        self.cells = list(cells)

    @property
    def state_size(self):
        return [c.state_size for c in self.cells]

    @property
    def output_size(self):
        last = self.cells[-1]
        size = getattr(last, "output_size", None)
        if size is not None:
            return size
        return last.state_size[0] if isinstance(last.state_size, (list, tuple)) \
            else last.state_size

    def get_initial_state(self, batch_size=None):
        out = []
        for cell in self.cells:
            fn = getattr(cell, "get_initial_state", None)
            if fn is not None:
                out.append(fn(batch_size=batch_size))
            else:
                sizes = _as_list(cell.state_size)
                out.append([creation_ops.zeros((batch_size, d), dtype=self._dtype) for d in sizes])
        return out

    def build(self, input_shape):
        from tapeflow.keras.engine.layer import _ctx
        shape = tuple(input_shape)
        for cell in self.cells:
            if isinstance(cell, Layer) and not cell.built:
                _ctx.build_scope.append(cell.name)
                try:
                    cell.build(shape)
                finally:
                    _ctx.build_scope.pop()
                cell.built = True
            size = getattr(cell, "output_size", None) or _as_list(cell.state_size)[0]
            shape = (shape[0], size)
        self.built = True

    def call(self, inputs, states, training=False):
        new_states = []
        for cell, cell_states in zip(self.cells, states):
            is_list = isinstance(cell_states, (list, tuple))
            cell_states = list(cell_states) if is_list else [cell_states]
            kwargs = {"training": training} if isinstance(cell, Layer) and \
                type(cell)._call_spec_cache.training else {}
            inputs, cell_states = (cell.call if isinstance(cell, Layer) else cell)(
                inputs, cell_states, **kwargs)
            cell_states = _as_list(cell_states)
            if len(cell_states) == 1 and not is_list:
                cell_states = cell_states[0]
            new_states.append(cell_states)
        return inputs, new_states

    def get_config(self):
        from tapeflow.keras.layers.serialization import serialize
        config = super().get_config()
        config["cells"] = [serialize(c) for c in self.cells]
        return config

    @classmethod
    def from_config(cls, config):
        from tapeflow.keras.layers.serialization import deserialize
        config = dict(config)
        config["cells"] = [deserialize(c) for c in config["cells"]]
        return cls(**config)


def rnn_loop(step, sequences, states, mask=None, go_backwards=False,
             zero_output_for_mask=False, return_all_outputs=True):
    """Runs `step(x_t, states) -> (output, new_states)` over axis 1; returns (last output,
    outputs (batch, time, ...) in processing order or None, final states)."""
    xs = joining_ops.unstack(sequences, axis=1)
    masks = joining_ops.unstack(mask, axis=1) if mask is not None else None
    if go_backwards:
        xs = xs[::-1]
        masks = masks[::-1] if masks is not None else None
    outputs, prev = [], None
    for t, x in enumerate(xs):
        out, new_states = step(x, states)
        new_states = _as_list(new_states)
        if masks is not None:
            m = array_ops.expand_dims(masks[t], -1)
            kept = [
                comparison_ops.where(m, n, s)
                for n, s in zip(nest.flatten(new_states), nest.flatten(states))
            ]
            new_states = nest.pack_sequence_as(new_states, kept)
            if prev is None or zero_output_for_mask:
                prev = creation_ops.zeros_like(out)
            out = comparison_ops.where(m, out, prev)
        prev = out
        states = new_states
        if return_all_outputs:
            outputs.append(out)
    return prev, (joining_ops.stack(outputs, axis=1) if return_all_outputs else None), states


class RNN(Layer):
    """Base class for recurrent layers: runs `cell` over the time axis.

    Args:
        cell: an RNN cell (a layer with `call(inputs, states)` and `state_size`).
        return_sequences: return the whole output sequence instead of the last output.
        return_state: also return the final states.
        go_backwards: process the sequence backwards (outputs come in processing order).
        stateful: only False is supported.
        unroll: accepted (every loop here is unrolled in Python).
        zero_output_for_mask: masked steps output zeros instead of the previous output.

    Example:
    >>> layer = keras.layers.RNN(keras.layers.LSTMCell(4), return_sequences=True)
    >>> layer(tf.ones((2, 5, 3))).shape
    TensorShape([2, 5, 4])
    """

    def __init__(self, cell, return_sequences=False, return_state=False, go_backwards=False,
                 stateful=False, unroll=False, zero_output_for_mask=False, **kwargs):
        if isinstance(cell, (list, tuple)):
            cell = StackedRNNCells(cell)
        if "call" not in dir(cell):
            raise ValueError("Argument `cell` should have a `call` method. "
                             f"Received: cell={cell}")
        if "state_size" not in dir(cell):
            raise ValueError("The RNN cell should have a `state_size` attribute (single "
                             "integer or list of integers, one integer per RNN state). "
                             f"Received: cell={cell}")
        if stateful:
            raise NotImplementedError("stateful=True is not supported by tapeflow's RNN "
                                      "layers.")
        super().__init__(**kwargs)
        self.cell = cell
        self.return_sequences = return_sequences
        self.return_state = return_state
        self.go_backwards = go_backwards
        self.stateful = stateful
        self.unroll = unroll
        self.zero_output_for_mask = zero_output_for_mask
        self.supports_masking = True
        state_size = cell.state_size
        self.single_state = isinstance(state_size, int)
        self.state_size = [state_size] if self.single_state else list(state_size)

    def build(self, sequences_shape, initial_state_shape=None):
        if isinstance(self.cell, Layer) and not self.cell.built:
            from tapeflow.keras.engine.layer import _ctx
            _ctx.build_scope.append(self.cell.name)
            try:
                self.cell.build((sequences_shape[0],) + tuple(sequences_shape[2:]))
            finally:
                _ctx.build_scope.pop()
            self.cell.built = True
        self.built = True

    def compute_mask(self, _, mask):
        mask = nest.flatten(mask)[0] if mask is not None else None
        output_mask = mask if self.return_sequences else None
        if self.return_state:
            return [output_mask] + [None] * len(self.state_size)
        return output_mask

    def get_initial_state(self, batch_size):
        fn = getattr(self.cell, "get_initial_state", None)
        if fn is not None:
            return _as_list(fn(batch_size=batch_size))
        return [creation_ops.zeros((batch_size, d), dtype=self._dtype) for d in self.state_size]

    def _initial_state(self, sequences, initial_state):
        if initial_state is None:
            batch = sequences.shape[0]
            return self.get_initial_state(batch if batch is not None else
                                          array_ops.shape(sequences)[0])
        return nest.map_structure(
            lambda s: elementwise_ops.cast(convert_to_tensor(s), self._dtype),
            _as_list(initial_state))

    def inner_loop(self, sequences, initial_state, mask, training=False):
        cell = self.cell
        kwargs = {"training": training} if isinstance(cell, Layer) and \
            type(cell)._call_spec_cache.training else {}
        call = cell.call if isinstance(cell, Layer) else cell

        def step(x, states):
            out, new_states = call(x, states if not self.single_state else states, **kwargs)
            return out, new_states

        return rnn_loop(step, sequences, initial_state, mask=mask,
                        go_backwards=self.go_backwards,
                        zero_output_for_mask=self.zero_output_for_mask,
                        return_all_outputs=self.return_sequences)

    def call(self, sequences, initial_state=None, mask=None, training=False):
        mask = step_mask(mask)
        states = self._initial_state(sequences, initial_state)
        last, outputs, states = self.inner_loop(sequences, states, mask, training=training)
        cells = self.cell.cells if isinstance(self.cell, StackedRNNCells) else [self.cell]
        for cell in cells:
            if isinstance(cell, DropoutRNNCell):
                cell.reset_dropout_mask()
                cell.reset_recurrent_dropout_mask()
        return self._finish(last, outputs, states)

    def _finish(self, last, outputs, states):
        output = outputs if self.return_sequences else last
        if self.return_state:
            return (output, *states)
        return output

    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        batch, length = sequences_shape[0], sequences_shape[1]
        size = getattr(self.cell, "output_size", None) or self.state_size[0]
        out = (batch, length, size) if self.return_sequences else (batch, size)
        if self.return_state:
            return (out, *[(batch, s) for s in self.state_size])
        return out

    def get_config(self):
        from tapeflow.keras.layers.serialization import serialize
        config = super().get_config()
        config.update({
            "return_sequences": self.return_sequences, "return_state": self.return_state,
            "go_backwards": self.go_backwards, "stateful": self.stateful,
            "unroll": self.unroll, "zero_output_for_mask": self.zero_output_for_mask,
        })
        if type(self) is RNN:
            config["cell"] = serialize(self.cell)
        return config

    @classmethod
    def from_config(cls, config):
        if "cell" in config and isinstance(config["cell"], dict):
            from tapeflow.keras.layers.serialization import deserialize
            config = dict(config, cell=deserialize(config["cell"]))
        return cls(**config)
