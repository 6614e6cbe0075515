"""Accuracy metrics (functions and `MeanMetricWrapper` classes), and the regression,
probabilistic and hinge metrics that average a loss function over the samples seen."""
from tapeflow._core import dtypes
from tapeflow._core.tensor import constant, convert_to_tensor
from tapeflow.ops import (array as array_ops, comparison as comparison_ops,
                          creation as creation_ops, elementwise as elementwise_ops,
                          gather as gather_ops, reduction as reduction_ops)
from tapeflow.keras.losses import functions as L
from tapeflow.keras.losses.loss import squeeze_or_expand_to_same_rank
from tapeflow.keras.metrics.metric import Mean, MeanMetricWrapper


def _floatx():
    return dtypes.float32


def _to(x, dtype):
    x = convert_to_tensor(x)
    return x if x.dtype is dtype else elementwise_ops.cast(x, dtype)


# -- functions -----------------------------------------------------------------------------------

def accuracy(y_true, y_pred):
    """1.0 where `y_true == y_pred`, else 0.0."""
    y_pred = convert_to_tensor(y_pred)
    y_true = _to(y_true, y_pred.dtype)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    return elementwise_ops.cast(comparison_ops.equal(y_true, y_pred), _floatx())


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """1.0 where `y_pred > threshold` agrees with the 0/1 label, else 0.0."""
    y_pred = convert_to_tensor(y_pred)
    y_true = convert_to_tensor(y_true)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    y_pred = elementwise_ops.cast(y_pred > elementwise_ops.cast(threshold, y_pred.dtype),
                                  y_true.dtype)
    return elementwise_ops.cast(comparison_ops.equal(y_true, y_pred), _floatx())


def categorical_accuracy(y_true, y_pred):
    """1.0 where the argmax of `y_pred` is the argmax of the one-hot `y_true`."""
    y_true = reduction_ops.argmax(convert_to_tensor(y_true), axis=-1)
    y_pred = convert_to_tensor(y_pred)
    y_true = elementwise_ops.cast(y_true, y_pred.dtype)
    reshape = len(y_true.shape) == len(y_pred.shape)
    if reshape:
        shape = array_ops.shape(y_true)
        y_true = array_ops.squeeze(y_true, -1)
    y_pred = elementwise_ops.cast(reduction_ops.argmax(y_pred, axis=-1), y_true.dtype)
    matches = elementwise_ops.cast(comparison_ops.equal(y_true, y_pred), _floatx())
    return array_ops.reshape(matches, shape) if reshape else matches


def sparse_categorical_accuracy(y_true, y_pred):
    """1.0 where the argmax of `y_pred` equals the integer label."""
    y_pred = convert_to_tensor(y_pred)
    y_true = _to(y_true, y_pred.dtype)
    reshape = len(y_true.shape) == len(y_pred.shape) and y_true.shape[-1] == 1
    if reshape:
        shape = array_ops.shape(y_true)
        y_true = array_ops.squeeze(y_true, -1)
    y_pred = elementwise_ops.cast(reduction_ops.argmax(y_pred, axis=-1), y_true.dtype)
    matches = elementwise_ops.cast(comparison_ops.equal(y_true, y_pred), _floatx())
    if reshape:
        matches = array_ops.reshape(matches, shape)
    if len(matches.shape) > 1 and matches.shape[-1] == 1:
        matches = array_ops.squeeze(matches, -1)
    return matches


def in_top_k(targets, predictions, k):
    """Whether each target's prediction is among the `k` largest of its row (ties count as
    in, as TensorFlow's `in_top_k` does)."""
    predictions = convert_to_tensor(predictions)
    targets = elementwise_ops.cast(targets, dtypes.int32)
    depth = predictions.shape[-1]
    hot = gather_ops.one_hot(targets, depth, on_value=True, off_value=False, dtype=dtypes.bool)
    lowest = creation_ops.fill(array_ops.shape(predictions),
                               constant(-float("inf"), predictions.dtype))
    target_pred = reduction_ops.reduce_max(comparison_ops.where(hot, predictions, lowest),
                                           axis=-1,
                                           keepdims=True)
    above = reduction_ops.reduce_sum(elementwise_ops.cast(predictions > target_pred, dtypes.int32),
                                     axis=-1)
    return comparison_ops.logical_and(
        above < k, elementwise_ops.is_finite(array_ops.squeeze(target_pred, -1)))


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1.0 where the one-hot label's class is among the `k` highest predictions."""
    y_pred = convert_to_tensor(y_pred)
    y_true = reduction_ops.argmax(_to(y_true, y_pred.dtype), axis=-1)
    return sparse_top_k_categorical_accuracy(y_true, y_pred, k)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5, from_sorted_ids=False):
    """1.0 where the integer label is among the `k` highest predictions (or, with
    `from_sorted_ids`, among the first `k` ids of `y_pred`)."""
    y_pred = convert_to_tensor(y_pred)
    y_true = _to(y_true, y_pred.dtype if from_sorted_ids else dtypes.int32)
    if len(y_pred.shape) > 2:
        y_pred = array_ops.reshape(y_pred, [-1, y_pred.shape[-1]])
    reshape = len(y_true.shape) > 1
    if reshape:
        shape = array_ops.shape(y_true)
        y_true = array_ops.reshape(y_true, [-1])
    if from_sorted_ids:
        hits = comparison_ops.equal(array_ops.expand_dims(y_true, 1), y_pred[:, :k])
        matches = reduction_ops.reduce_any(hits, axis=1)
    else:
        matches = in_top_k(y_true, y_pred, k)
    matches = elementwise_ops.cast(matches, _floatx())
    return array_ops.reshape(matches, shape) if reshape else matches


def cosine_similarity(y_true, y_pred, axis=-1):
    """The cosine similarity of the L2-normalised vectors along `axis`."""
    return -L.cosine_similarity(y_true, y_pred, axis=axis)


# -- classes -----------------------------------------------------------------------------------

def _wrapper(cls_name, fn, default_name, doc, params=()):
    """A MeanMetricWrapper subclass averaging `fn`, with keyword parameters `params`
    ((name, default) pairs) passed to `fn` and kept in the config."""
    def __init__(self, name=default_name, dtype=None, **kwargs):
        extra = {}
        for key, default in params:
            extra[key] = kwargs.pop(key, default)
        if kwargs:
            raise TypeError(f"{cls_name}.__init__() got unexpected keyword arguments "
                            f"{sorted(kwargs)}")
        MeanMetricWrapper.__init__(self, fn, name=name, dtype=dtype, **extra)
        for key, value in extra.items():
            setattr(self, key, value)

    def get_config(self):
        config = {"name": self.name, "dtype": self.dtype}
        config.update({key: getattr(self, key) for key, _ in params})
        return config

    return type(cls_name, (MeanMetricWrapper,), {
        "__init__": __init__, "get_config": get_config, "__doc__": doc,
        "__module__": __name__})


Accuracy = _wrapper("Accuracy", accuracy, "accuracy",
                    "How often predictions equal labels.")
BinaryAccuracy = _wrapper("BinaryAccuracy", binary_accuracy, "binary_accuracy",
                          "How often `y_pred > threshold` matches the binary labels.",
                          (("threshold", 0.5),))
CategoricalAccuracy = _wrapper("CategoricalAccuracy", categorical_accuracy,
                               "categorical_accuracy",
                               "How often the predicted class matches the one-hot label.")
SparseCategoricalAccuracy = _wrapper("SparseCategoricalAccuracy", sparse_categorical_accuracy,
                                     "sparse_categorical_accuracy",
                                     "How often the predicted class matches the integer label.")
TopKCategoricalAccuracy = _wrapper("TopKCategoricalAccuracy", top_k_categorical_accuracy,
                                   "top_k_categorical_accuracy",
                                   "How often the one-hot label is in the top `k` predictions.",
                                   (("k", 5),))
MeanSquaredError = _wrapper("MeanSquaredError", L.mean_squared_error, "mean_squared_error",
                            "Mean squared error between labels and predictions.")
MeanAbsoluteError = _wrapper("MeanAbsoluteError", L.mean_absolute_error,
                             "mean_absolute_error",
                             "Mean absolute error between labels and predictions.")
MeanAbsolutePercentageError = _wrapper(
    "MeanAbsolutePercentageError", L.mean_absolute_percentage_error,
    "mean_absolute_percentage_error", "Mean absolute percentage error.")
MeanSquaredLogarithmicError = _wrapper(
    "MeanSquaredLogarithmicError", L.mean_squared_logarithmic_error,
    "mean_squared_logarithmic_error", "Mean squared logarithmic error.")
LogCoshError = _wrapper("LogCoshError", L.log_cosh, "logcosh",
                        "Logarithm of the hyperbolic cosine of the prediction error.")
KLDivergence = _wrapper("KLDivergence", L.kl_divergence, "kl_divergence",
                        "Kullback-Leibler divergence between labels and predictions.")
Poisson = _wrapper("Poisson", L.poisson, "poisson", "Poisson loss as a metric.")
Hinge = _wrapper("Hinge", L.hinge, "hinge", "Hinge loss as a metric.")
SquaredHinge = _wrapper("SquaredHinge", L.squared_hinge, "squared_hinge",
                        "Squared hinge loss as a metric.")
CategoricalHinge = _wrapper("CategoricalHinge", L.categorical_hinge, "categorical_hinge",
                            "Categorical hinge loss as a metric.")
BinaryCrossentropy = _wrapper("BinaryCrossentropy", L.binary_crossentropy,
                              "binary_crossentropy", "Binary crossentropy as a metric.",
                              (("from_logits", False), ("label_smoothing", 0)))
CategoricalCrossentropy = _wrapper("CategoricalCrossentropy", L.categorical_crossentropy,
                                   "categorical_crossentropy",
                                   "Categorical crossentropy as a metric.",
                                   (("from_logits", False), ("label_smoothing", 0),
                                    ("axis", -1)))
SparseCategoricalCrossentropy = _wrapper(
    "SparseCategoricalCrossentropy", L.sparse_categorical_crossentropy,
    "sparse_categorical_crossentropy", "Sparse categorical crossentropy as a metric.",
    (("from_logits", False), ("ignore_class", None), ("axis", -1)))


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the integer label is in the top `k` predictions."""

    def __init__(self, k=5, name="sparse_top_k_categorical_accuracy", dtype=None,
                 from_sorted_ids=False):
        super().__init__(sparse_top_k_categorical_accuracy, name=name, dtype=dtype, k=k,
                         from_sorted_ids=from_sorted_ids)
        self.k = k
        self.from_sorted_ids = from_sorted_ids

    def get_config(self):
        config = {"name": self.name, "dtype": self.dtype, "k": self.k}
        if self.from_sorted_ids:
            config["from_sorted_ids"] = True
        return config


class CosineSimilarity(MeanMetricWrapper):
    """The mean cosine similarity between labels and predictions."""

    def __init__(self, name="cosine_similarity", dtype=None, axis=-1):
        super().__init__(cosine_similarity, name=name, dtype=dtype, axis=axis)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class RootMeanSquaredError(Mean):
    """The square root of the mean squared error seen."""

    def __init__(self, name="root_mean_squared_error", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = _to(y_true, self._dtype)
        y_pred = _to(y_pred, self._dtype)
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        return super().update_state(elementwise_ops.square(y_pred - y_true),
                                    sample_weight=sample_weight)

    def result(self):
        return elementwise_ops.sqrt(super().result())
