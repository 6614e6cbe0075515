"""`keras.Sequential`: a plain stack of layers, each with one input and one output.

Given an input shape (a `keras.Input` first, or `input_shape=` on the first layer), the model
is built at once and records its functional graph (for `summary()` shapes); otherwise it is
built on its first call. Calls run the layers one after the other.
"""
from tapeflow.keras.engine import naming
from tapeflow.keras.engine.functional import Functional, Input, InputLayer, conform_input
from tapeflow.keras.engine.keras_tensor import KerasTensor
from tapeflow.keras.engine.layer import Layer, variable_scope
from tapeflow.keras.engine.model import Model


class Sequential(Model):
    """A linear stack of layers.

    Example:
    >>> model = keras.Sequential([
    ...     keras.Input(shape=(784,)),
    ...     keras.layers.Dense(512, activation="relu"),
    ...     keras.layers.Dense(10, activation="softmax"),
    ... ])
    """

    def __init__(self, layers=None, trainable=True, name=None):
        if name is None:
            name = naming.uniquify("sequential")
        super().__init__(trainable=trainable, name=name)
        self._layers_list = []
        self._functional = None
        self._input_batch_shape = None
        for layer in layers or ():
            self.add(layer, rebuild=False)
        self._maybe_rebuild()

    def add(self, layer, rebuild=True):
        """Adds a layer (or a `keras.Input`) on top of the stack."""
        if isinstance(layer, KerasTensor):
            history = layer._keras_history
            if history is None or not isinstance(history[0], InputLayer):
                raise ValueError("Only `keras.Input` KerasTensors can be added to a "
                                 f"Sequential model. Received: {layer}")
            layer = history[0]
        if not isinstance(layer, Layer):
            raise ValueError("Only instances of `keras.Layer` can be added to a Sequential "
                             f"model. Received: {layer} (of type {type(layer)})")
        if isinstance(layer, InputLayer) and self._layers_list and \
                isinstance(self._layers_list[0], InputLayer):
            raise ValueError(f"Sequential model '{self.name}' has already been configured to "
                             f"use input shape {self._layers_list[0].batch_shape}. You cannot "
                             f"add a different Input layer to it.")
        names = {l.name for l in self._layers_list}
        if layer.name in names:
            raise ValueError(f"All layers added to a Sequential model should have unique "
                             f"names. Name '{layer.name}' is already the name of a layer in "
                             "this model. Update the `name` argument to pass a unique name.")
        if not self._layers_list and not isinstance(layer, InputLayer) and \
                getattr(layer, "_input_shape_arg", None) is not None:
            self._layers_list.append(InputLayer(batch_shape=layer._input_shape_arg))
        self._layers_list.append(layer)
        if rebuild:
            self._maybe_rebuild()
        else:
            self.built = False

    def pop(self, rebuild=True):
        layer = self._layers_list.pop()
        self.built = False
        self._functional = None
        if rebuild:
            self._maybe_rebuild()
        return layer

    def _maybe_rebuild(self):
        self.built = False
        self._functional = None
        if self._layers_list and isinstance(self._layers_list[0], InputLayer) and \
                len(self._layers_list) > 1:
            self._build_graph(self._layers_list[0].batch_shape)

    def _build_graph(self, batch_shape):
        first = self._layers_list[0]
        if isinstance(first, InputLayer):
            inputs = first.output_tensor
        else:
            inputs = Input(batch_shape=batch_shape, dtype=self.dtype)
            self._layers_list.insert(0, inputs._keras_history[0])
        x = inputs
        with variable_scope(self):  # Keras builds the layers in the model's name scope
            for layer in self._layers_list[1:]:
                x = layer(x)
        self._functional = Functional(inputs, x, name=self.name + "_graph")
        self._input_batch_shape = tuple(batch_shape)
        self.built = True

    def build(self, input_shape=None):
        if self.built:
            return
        if input_shape is None:
            raise ValueError("You must provide an `input_shape` argument.")
        if not self._layers_list:
            raise ValueError(f"Sequential model {self.name} cannot be built because it has "
                             "no layers. Call `model.add(layer)`.")
        self._build_graph((None,) + tuple(input_shape)[1:] if tuple(input_shape)[:1] else
                          tuple(input_shape))

    def _build_on_call(self, inputs):
        from tapeflow.keras.engine.layer import _shape_of
        shape = _shape_of(inputs)
        self.build((None,) + tuple(shape[1:]))

    def _tracked(self):
        return list(self._layers_list), Layer._tracked(self)[1]

    @property
    def layers(self):
        layers = self._layers_list
        if layers and isinstance(layers[0], InputLayer):
            return layers[1:]
        return list(layers)

    def call(self, inputs, training=None, mask=None):
        x = inputs
        if self._functional is not None and hasattr(x, "shape"):
            x = conform_input(x, self._functional.inputs[0])
        for layer in self._layers_list:
            if type(layer) is InputLayer:
                continue
            x = layer(x)
        return x

    @property
    def inputs(self):
        return self._functional.inputs if self._functional is not None else None

    @property
    def outputs(self):
        return self._functional.outputs if self._functional is not None else None

    @property
    def input(self):
        return self._functional.input if self._functional is not None else None

    @property
    def output(self):
        return self._functional.output if self._functional is not None else None

    @property
    def input_shape(self):
        return self._input_batch_shape

    @property
    def output_shape(self):
        return self._functional.output.shape if self._functional is not None else None

    def get_config(self):
        from tapeflow.keras.layers import serialize
        layers = [serialize(l) for l in self._layers_list]
        return {"name": self.name, "trainable": self.trainable, "dtype": self.dtype,
                "layers": layers}
