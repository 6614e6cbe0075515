"""`keras.Model`: a layer that trains (compile/fit/evaluate/predict, from training.py).

`keras.Model(inputs, outputs)` makes a functional model (functional.py); a subclass defines
its layers in `__init__` and its computation in `call`, with any extra arguments it likes.
"""
from tapeflow.ops import creation as creation_ops
from tapeflow.keras.engine import naming
from tapeflow.keras.engine.layer import Layer
from tapeflow.keras.engine.training import Trainer


def _is_functional_init(args, kwargs):
    return len(args) == 2 or (len(args) == 1 and "outputs" in kwargs) or (
        "inputs" in kwargs and "outputs" in kwargs)


def _inject_functional(cls):
    """Rebases `cls` (a Model subclass) on Functional in place of Model (Keras's
    `inject_functional_model_class`)."""
    from tapeflow.keras.engine.functional import Functional
    if cls is Model:
        return Functional
    if cls is object or not issubclass(cls, Model):
        return cls
    cls.__bases__ = tuple(_inject_functional(base) for base in cls.__bases__)
    return cls


class Model(Trainer, Layer):
    """A layer with training and inference features.

    Example (functional):
    >>> inputs = keras.Input(shape=(37,))
    >>> x = keras.layers.Dense(32, activation="relu")(inputs)
    >>> outputs = keras.layers.Dense(5, activation="softmax")(x)
    >>> model = keras.Model(inputs=inputs, outputs=outputs)

    Example (subclassing):
    >>> class MyModel(keras.Model):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.dense = keras.layers.Dense(5)
    ...     def call(self, inputs, training=False):
    ...         return self.dense(inputs)
    """

    def __new__(cls, *args, **kwargs):
        if cls is Model and _is_functional_init(args, kwargs):
            from tapeflow.keras.engine.functional import Functional
            return Layer.__new__(Functional)
        return Layer.__new__(cls)

    def __init__(self, *args, **kwargs):
        if _is_functional_init(args, kwargs) and type(self) is not Model:
            # a subclass built as `Sub(inputs, outputs)` becomes a Functional subclass, as in
            # Keras (the "Customizing what happens in fit()" guide does this)
            from tapeflow.keras.engine.functional import Functional
            if not isinstance(self, Functional):
                _inject_functional(type(self))
            Functional.__init__(self, *args, **kwargs)
            return
        trainable = kwargs.pop("trainable", True)
        name = kwargs.pop("name", None)
        dtype = kwargs.pop("dtype", None)
        if name is None:  # an empty name stays empty, as in Keras
            name = naming.auto_name(self)
        Layer.__init__(self, trainable=trainable, name=name, dtype=dtype, **kwargs)
        Trainer.__init__(self)

    @property
    def layers(self):
        return self._layers

    def get_layer(self, name=None, index=None):
        if index is not None and name is not None:
            raise ValueError("Provide only a layer name or a layer index. Received: "
                             f"index={index}, name={name}.")
        if index is not None:
            if len(self.layers) <= index:
                raise ValueError(f"Was asked to retrieve layer at index {index} but model "
                                 f"only has {len(self.layers)} layers.")
            return self.layers[index]
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError(f"No such layer: {name}. Existing layers are: "
                         f"{[layer.name for layer in self.layers]}.")

    def _build_on_call(self, inputs):
        from tapeflow.keras.engine.layer import _shape_of
        self._build_shapes_dict = {"input_shape": _shape_of(inputs)}
        if type(self).build is not Model.build:
            self.build(_shape_of(inputs))
        self.built = True

    def build(self, input_shape=None):
        """Builds a subclassed model by calling it once on zeros of `input_shape` (None
        dims as 1)."""
        if self.built:
            return
        if input_shape is None:
            raise ValueError("You must provide an `input_shape` argument.")

        def zeros(shape):
            return creation_ops.zeros([1 if d is None else d for d in shape], dtype=self.dtype)
        if isinstance(input_shape, (list, tuple)) and input_shape and \
                isinstance(input_shape[0], (list, tuple)):
            x = [zeros(s) for s in input_shape]
        else:
            x = zeros(tuple(input_shape))
        self.built = True
        self._build_shapes_dict = {"input_shape": tuple(input_shape)}
        self(x)

    def summary(self, line_length=None, positions=None, print_fn=None, expand_nested=False,
                show_trainable=False, layer_range=None):
        from tapeflow.keras.engine.summary import print_summary
        print_summary(self, line_length=line_length, positions=positions, print_fn=print_fn,
                      expand_nested=expand_nested, show_trainable=show_trainable,
                      layer_range=layer_range)

    def get_config(self):
        return {"name": self.name, "trainable": self.trainable}

    # -- saving (the logic lives in tapeflow/keras/saving) ---------------------------------------
    @classmethod
    def from_config(cls, config, custom_objects=None):
        from tapeflow.keras.saving import model_config
        if "layers" in config and "input_layers" in config:
            return model_config.functional_from_config(config, custom_objects, cls)
        if "layers" in config and issubclass(cls, model_config.Sequential):
            return model_config.sequential_from_config(config, custom_objects, cls)
        return cls(**config)

    def to_json(self, **kwargs):
        """The model's serialized config as a JSON string (`keras.models.model_from_json`)."""
        from tapeflow.keras.saving import keras_zip
        return keras_zip.model_config_json(self, **kwargs)

    def save(self, filepath, overwrite=True, zipped=None, **kwargs):
        """Saves the model as a Keras 3 `.keras` file."""
        from tapeflow.keras.saving import saving_api
        saving_api.save_model(self, filepath, overwrite=overwrite, zipped=zipped, **kwargs)

    def save_weights(self, filepath, overwrite=True, max_shard_size=None):
        """Saves the weights as a Keras 3 `.weights.h5` file."""
        from tapeflow.keras.saving import saving_api
        saving_api.save_weights(self, filepath, overwrite=overwrite)

    def export(self, filepath, format="tf_saved_model", verbose=None, input_signature=None,
               **kwargs):
        """Exports the model for inference (Keras 3's API): tapeflow writes `format="onnx"`
        (`opset_version=` picks the ONNX opset); the `None` dimensions stay dynamic."""
        from tapeflow.keras.saving import exporters
        exporters.export(self, filepath, format, verbose=verbose,
                         input_signature=input_signature, **kwargs)

    def load_weights(self, filepath, skip_mismatch=False, **kwargs):
        """Loads weights from a `.weights.h5` or `.keras` file (all or nothing)."""
        from tapeflow.keras.saving import saving_api
        saving_api.load_weights(self, filepath, skip_mismatch=skip_mismatch, **kwargs)
