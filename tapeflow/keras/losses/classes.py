"""The loss classes (`keras.losses.MeanSquaredError`, ...): a loss function plus its
arguments, wrapped in `Loss` for reduction, sample weights and config."""
from tapeflow.keras.losses import functions as F
from tapeflow.keras.losses.loss import Loss, squeeze_or_expand_to_same_rank


class LossFunctionWrapper(Loss):
    """A `Loss` computing `fn(y_true, y_pred, **kwargs)` per sample."""

    def __init__(self, fn, reduction="sum_over_batch_size", name=None, dtype=None, **kwargs):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.fn = fn
        self._fn_kwargs = kwargs

    def call(self, y_true, y_pred):
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self):
        config = super().get_config()
        config.update({"fn": getattr(self.fn, "__name__", self.fn)})
        config.update(self._fn_kwargs)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if "fn" in config:
            from tapeflow.keras.losses import get
            config["fn"] = get(config["fn"])
        return cls(**config)

    def __repr__(self):
        return f"<LossFunctionWrapper({self.fn}, kwargs={self._fn_kwargs})>"


class _LossClass(LossFunctionWrapper):
    """A built-in loss class: its config is `Loss`'s plus the arguments named in `_config`
    (those Keras lists: Huber's `delta`, for one, is left out), kept as attributes too."""

    _config = ()

    def __init__(self, fn, reduction, name, dtype, **kwargs):
        super().__init__(fn, reduction=reduction, name=name, dtype=dtype, **kwargs)
        for arg in self._config:
            setattr(self, arg, kwargs[arg])

    def get_config(self):
        config = Loss.get_config(self)
        config.update({arg: getattr(self, arg) for arg in self._config})
        return config


def _simple(cls_name, fn, default_name, doc):
    """A loss class with no arguments beyond reduction, name and dtype."""
    def __init__(self, reduction="sum_over_batch_size", name=default_name, dtype=None):
        _LossClass.__init__(self, fn, name=name, reduction=reduction, dtype=dtype)

    return type(cls_name, (_LossClass,), {"__init__": __init__, "__doc__": doc,
                                          "__module__": __name__})


MeanSquaredError = _simple("MeanSquaredError", F.mean_squared_error, "mean_squared_error",
                           "Mean of squares of errors between labels and predictions.")
MeanAbsoluteError = _simple("MeanAbsoluteError", F.mean_absolute_error, "mean_absolute_error",
                            "Mean of absolute differences between labels and predictions.")
MeanAbsolutePercentageError = _simple(
    "MeanAbsolutePercentageError", F.mean_absolute_percentage_error,
    "mean_absolute_percentage_error", "Mean absolute percentage error.")
MeanSquaredLogarithmicError = _simple(
    "MeanSquaredLogarithmicError", F.mean_squared_logarithmic_error,
    "mean_squared_logarithmic_error", "Mean squared logarithmic error.")
LogCosh = _simple("LogCosh", F.log_cosh, "log_cosh", "Logarithm of the hyperbolic cosine of "
                  "the prediction error.")
Hinge = _simple("Hinge", F.hinge, "hinge", "Hinge loss (labels -1/1, or 0/1 mapped).")
SquaredHinge = _simple("SquaredHinge", F.squared_hinge, "squared_hinge", "Squared hinge loss.")
CategoricalHinge = _simple("CategoricalHinge", F.categorical_hinge, "categorical_hinge",
                           "Categorical hinge loss.")
KLDivergence = _simple("KLDivergence", F.kl_divergence, "kl_divergence",
                       "Kullback-Leibler divergence between labels and predictions.")
Poisson = _simple("Poisson", F.poisson, "poisson", "Poisson loss.")


class CosineSimilarity(_LossClass):
    """Minus the cosine similarity between labels and predictions along `axis`."""

    def __init__(self, axis=-1, reduction="sum_over_batch_size", name="cosine_similarity",
                 dtype=None):
        super().__init__(F.cosine_similarity, name=name, reduction=reduction, dtype=dtype,
                         axis=axis)


class Huber(_LossClass):
    """Huber loss: quadratic for errors within `delta`, linear beyond.

    Example:
    >>> keras.losses.Huber(delta=1.0)([[0., 1.]], [[0.6, 0.4]])
    """

    def __init__(self, delta=1.0, reduction="sum_over_batch_size", name="huber_loss",
                 dtype=None):
        super().__init__(F.huber, name=name, reduction=reduction, dtype=dtype, delta=delta)


class BinaryCrossentropy(_LossClass):
    """Crossentropy for binary (0/1) labels.

    Args:
        from_logits: whether `y_pred` holds logits rather than probabilities.
        label_smoothing: in [0, 1]; labels become `y * (1 - s) + 0.5 * s`.
        axis: the axis the per-sample mean is taken over.

    Example:
    >>> keras.losses.BinaryCrossentropy(from_logits=True)([0., 1.], [-1.0, 2.0])
    """

    _config = ("from_logits", "label_smoothing", "axis")

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="binary_crossentropy", dtype=None):
        super().__init__(F.binary_crossentropy, name=name, reduction=reduction, dtype=dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)


class CategoricalCrossentropy(_LossClass):
    """Crossentropy for one-hot labels.

    Args:
        from_logits: whether `y_pred` holds logits rather than probabilities.
        label_smoothing: in [0, 1]; labels become `y * (1 - s) + s / num_classes`.
        axis: the class axis.

    Example:
    >>> keras.losses.CategoricalCrossentropy()([[0., 1.]], [[0.3, 0.7]])
    """

    _config = ("from_logits", "label_smoothing", "axis")

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="categorical_crossentropy", dtype=None):
        super().__init__(F.categorical_crossentropy, name=name, reduction=reduction,
                         dtype=dtype, from_logits=from_logits, label_smoothing=label_smoothing,
                         axis=axis)


class SparseCategoricalCrossentropy(_LossClass):
    """Crossentropy for integer class labels.

    Args:
        from_logits: whether `y_pred` holds logits rather than probabilities.
        ignore_class: a label value whose entries contribute no loss (and are left out of the
            mean).

    Example:
    >>> keras.losses.SparseCategoricalCrossentropy()([1, 2], [[0.05, 0.95, 0.], [0.1, 0.8,
    ...                                                                          0.1]])
    """

    _config = ("from_logits", "ignore_class")

    def __init__(self, from_logits=False, ignore_class=None, reduction="sum_over_batch_size",
                 axis=-1, name="sparse_categorical_crossentropy", dtype=None):
        super().__init__(F.sparse_categorical_crossentropy, name=name, reduction=reduction,
                         dtype=dtype, from_logits=from_logits, ignore_class=ignore_class,
                         axis=axis)

    def _call_with_mask(self, y_true, y_pred):
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        kw = self._fn_kwargs
        return F._sparse_with_mask(y_true, y_pred, kw["from_logits"], kw["ignore_class"],
                                   kw["axis"])


class BinaryFocalCrossentropy(_LossClass):
    """Focal loss for binary labels: crossentropy down-weighted on easy examples by
    `(1 - p_t) ** gamma`, optionally balanced by `alpha`."""

    _config = ("from_logits", "label_smoothing", "axis", "apply_class_balancing", "alpha",
               "gamma")

    def __init__(self, apply_class_balancing=False, alpha=0.25, gamma=2.0, from_logits=False,
                 label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size",
                 name="binary_focal_crossentropy", dtype=None):
        super().__init__(F.binary_focal_crossentropy, name=name, reduction=reduction,
                         dtype=dtype, apply_class_balancing=apply_class_balancing, alpha=alpha,
                         gamma=gamma, from_logits=from_logits, label_smoothing=label_smoothing,
                         axis=axis)


class CategoricalFocalCrossentropy(_LossClass):
    """Focal loss for one-hot labels: crossentropy scaled by `alpha * (1 - p) ** gamma`."""

    _config = ("from_logits", "label_smoothing", "axis", "alpha", "gamma")

    def __init__(self, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="categorical_focal_crossentropy",
                 dtype=None):
        super().__init__(F.categorical_focal_crossentropy, name=name, reduction=reduction,
                         dtype=dtype, alpha=alpha, gamma=gamma, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)
