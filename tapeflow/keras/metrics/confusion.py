"""Confusion-matrix metrics: true/false positive/negative counts at thresholds, `Precision`,
`Recall` and `AUC` (ROC or PR, Riemann sums over `num_thresholds` thresholds), as Keras 3.

Counts at every threshold are computed at once by broadcasting the predictions against the
thresholds (`[thresholds, values]`), then summed into the state variables.
"""
import numpy as np

from tapeflow._core import dtypes
from tapeflow._core.tensor import constant, convert_to_tensor
from tapeflow.ops import (array as array_ops, comparison as comparison_ops,
                          creation as creation_ops, elementwise as elementwise_ops,
                          gather as gather_ops, math as math_ops, reduction as reduction_ops,
                          sorting as sorting_ops)
from tapeflow.keras.losses.loss import squeeze_or_expand_to_same_rank
from tapeflow.keras.metrics.metric import Metric

NEG_INF = -1e10
EPSILON = 1e-7
TP, FP, TN, FN = "tp", "fp", "tn", "fn"


def _to_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


def parse_init_thresholds(thresholds, default_threshold=0.5):
    if thresholds is not None:
        bad = [t for t in _to_list(thresholds) if t is None or t < 0 or t > 1]
        if bad:
            raise ValueError(f"Threshold values must be in [0, 1]. Received: {bad}")
    return _to_list(default_threshold if thresholds is None else thresholds)


def is_evenly_distributed_thresholds(thresholds):
    n = len(thresholds)
    if n < 3:
        return False
    even = np.arange(n, dtype=np.float32) / (n - 1)
    return bool(np.allclose(thresholds, even, atol=EPSILON))


def _filter_top_k(x, k):
    _, idx = sorting_ops.top_k(x, k)
    mask = reduction_ops.reduce_sum(gather_ops.one_hot(idx, x.shape[-1], dtype=x.dtype), axis=-2)
    return x * mask + NEG_INF * (1 - mask)


def update_confusion_matrix_variables(variables, y_true, y_pred, thresholds, top_k=None,
                                      class_id=None, sample_weight=None, multi_label=False,
                                      label_weights=None, thresholds_distributed_evenly=False):
    """Adds the (weighted) counts of each kind in `variables` ({TP: var, ...}) at each
    threshold: a prediction is positive when it is strictly above the threshold."""
    dtype = next(iter(variables.values())).dtype
    y_true = elementwise_ops.cast(convert_to_tensor(y_true), dtype)
    y_pred = elementwise_ops.cast(convert_to_tensor(y_pred), dtype)
    y_pred, y_true = squeeze_or_expand_to_same_rank(y_pred, y_true)
    if sample_weight is not None:
        sample_weight = array_ops.expand_dims(
            elementwise_ops.cast(convert_to_tensor(sample_weight), dtype), -1)
        _, sample_weight = squeeze_or_expand_to_same_rank(y_true, sample_weight,
                                                          expand_rank_1=False)
    if top_k is not None:
        y_pred = _filter_top_k(y_pred, top_k)
    if class_id is not None:
        if len(y_pred.shape) == 1:
            raise ValueError("When class_id is provided, y_pred must be a 2D array with shape "
                             f"(num_samples, num_classes), found shape: {y_pred.shape}")
        y_true = y_true[..., class_id:class_id + 1]
        y_pred = y_pred[..., class_id:class_id + 1]
    if thresholds_distributed_evenly:
        # Keras buckets clipped predictions for evenly spaced thresholds; clipping first
        # gives the same counts with a plain comparison.
        y_pred = elementwise_ops.clip_by_value(y_pred, 0.0, 1.0)
    weights = None
    if sample_weight is not None:
        weights = array_ops.broadcast_to(sample_weight, array_ops.shape(y_pred))
    if label_weights is not None and not multi_label:
        lw = array_ops.broadcast_to(
            array_ops.expand_dims(elementwise_ops.cast(label_weights, dtype), 0),
            array_ops.shape(y_pred))
        weights = lw if weights is None else weights * lw
    thresholds = constant(np.asarray(thresholds, dtype=np.float64), dtype=dtype)
    if multi_label:
        preds, labels = array_ops.expand_dims(y_pred, 0), array_ops.expand_dims(y_true, 0)
        thresholds = array_ops.reshape(thresholds, [-1, 1, 1])
        if weights is not None:
            weights = array_ops.expand_dims(weights, 0)
    else:
        preds, labels = array_ops.reshape(y_pred, [1, -1]), array_ops.reshape(y_true, [1, -1])
        thresholds = array_ops.reshape(thresholds, [-1, 1])
        if weights is not None:
            weights = array_ops.reshape(weights, [1, -1])
    pred_pos = preds > thresholds
    label_pos = elementwise_ops.cast(labels, dtypes.bool)
    conditions = {TP: (label_pos, pred_pos)}
    if FN in variables or TN in variables:
        conditions[FN] = (label_pos, comparison_ops.logical_not(pred_pos))
    if FP in variables or TN in variables:
        conditions[FP] = (comparison_ops.logical_not(label_pos), pred_pos)
        if TN in variables:
            conditions[TN] = (comparison_ops.logical_not(label_pos),
                              comparison_ops.logical_not(pred_pos))
    for kind, var in variables.items():
        label, pred = conditions[kind]
        hits = elementwise_ops.cast(comparison_ops.logical_and(label, pred), dtype)
        if weights is not None:
            hits = hits * weights
        var.assign(var.value() + reduction_ops.reduce_sum(hits, axis=1))


class _ConfusionMatrixConditionCount(Metric):
    _kind = None

    def __init__(self, thresholds=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds = thresholds
        self.thresholds = parse_init_thresholds(thresholds, default_threshold=0.5)
        self._evenly = is_evenly_distributed_thresholds(self.thresholds)
        self.accumulator = self.add_variable(shape=(len(self.thresholds),), initializer="zeros",
                                             name="accumulator")

    def update_state(self, y_true, y_pred, sample_weight=None):
        update_confusion_matrix_variables({self._kind: self.accumulator}, y_true, y_pred,
                                          self.thresholds, sample_weight=sample_weight,
                                          thresholds_distributed_evenly=self._evenly)

    def result(self):
        value = self.accumulator.value()
        return value[0] if len(self.thresholds) == 1 else value

    def get_config(self):
        return {**super().get_config(), "thresholds": self.init_thresholds}


class TruePositives(_ConfusionMatrixConditionCount):
    """The (weighted) number of true positives at each threshold."""
    _kind = TP


class FalsePositives(_ConfusionMatrixConditionCount):
    """The (weighted) number of false positives at each threshold."""
    _kind = FP


class TrueNegatives(_ConfusionMatrixConditionCount):
    """The (weighted) number of true negatives at each threshold."""
    _kind = TN


class FalseNegatives(_ConfusionMatrixConditionCount):
    """The (weighted) number of false negatives at each threshold."""
    _kind = FN


class _PrecisionRecall(Metric):
    _other = None  # FP for precision, FN for recall

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds = thresholds
        self.top_k = top_k
        self.class_id = class_id
        default = 0.5 if top_k is None else NEG_INF
        self.thresholds = parse_init_thresholds(thresholds, default_threshold=default)
        self._evenly = is_evenly_distributed_thresholds(self.thresholds)
        n = len(self.thresholds)
        self.true_positives = self.add_variable(shape=(n,), initializer="zeros",
                                                name="true_positives")
        other_name = "false_positives" if self._other == FP else "false_negatives"
        self._other_var = self.add_variable(shape=(n,), initializer="zeros", name=other_name)
        setattr(self, other_name, self._other_var)

    def update_state(self, y_true, y_pred, sample_weight=None):
        update_confusion_matrix_variables(
            {TP: self.true_positives, self._other: self._other_var}, y_true, y_pred,
            self.thresholds, top_k=self.top_k, class_id=self.class_id,
            sample_weight=sample_weight, thresholds_distributed_evenly=self._evenly)

    def result(self):
        tp = self.true_positives.value()
        value = math_ops.divide_no_nan(tp, tp + self._other_var.value())
        return value[0] if len(self.thresholds) == 1 else value

    def get_config(self):
        return {**super().get_config(), "thresholds": self.init_thresholds,
                "top_k": self.top_k, "class_id": self.class_id}


class Precision(_PrecisionRecall):
    """`true_positives / (true_positives + false_positives)` of predictions above
    `thresholds` (default 0.5), optionally for the `top_k` classes or one `class_id`.

    Example:
    >>> m = keras.metrics.Precision()
    >>> m.update_state([0, 1, 1, 1], [1, 0, 1, 1])
    """
    _other = FP


class Recall(_PrecisionRecall):
    """`true_positives / (true_positives + false_negatives)` of predictions above
    `thresholds` (default 0.5), optionally for the `top_k` classes or one `class_id`.

    Example:
    >>> m = keras.metrics.Recall()
    >>> m.update_state([0, 1, 1, 1], [1, 0, 1, 1])
    """
    _other = FN


class AUC(Metric):
    """Area under the ROC or precision-recall curve, by a Riemann sum over `num_thresholds`
    evenly spaced thresholds (or the given `thresholds`).

    Args:
        num_thresholds: number of thresholds (> 1).
        curve: 'ROC' or 'PR'.
        summation_method: 'interpolation' (trapezoids; for PR, Davis & Goadrich's
            interpolation), 'minoring' or 'majoring'.
        thresholds: explicit thresholds in [0, 1] (then `num_thresholds` is ignored).
        multi_label: compute one curve per label and average them.
        label_weights: per-label weights of that average (or of the counts).
        from_logits: apply a sigmoid to the predictions first.

    Example:
    >>> m = keras.metrics.AUC(num_thresholds=3)
    >>> m.update_state([0, 0, 1, 1], [0, 0.5, 0.3, 0.9])
    """

    def __init__(self, num_thresholds=200, curve="ROC", summation_method="interpolation",
                 name=None, dtype=None, thresholds=None, multi_label=False, num_labels=None,
                 label_weights=None, from_logits=False):
        self._init_from_thresholds = thresholds is not None
        if thresholds is not None:
            self.num_thresholds = len(thresholds) + 2
            thresholds = sorted(thresholds)
            self._evenly = is_evenly_distributed_thresholds(
                np.array([0.0] + thresholds + [1.0]))
        else:
            if num_thresholds <= 1:
                raise ValueError("Argument `num_thresholds` must be an integer > 1. "
                                 f"Received: num_thresholds={num_thresholds}")
            self.num_thresholds = num_thresholds
            thresholds = [(i + 1) * 1.0 / (num_thresholds - 1)
                          for i in range(num_thresholds - 2)]
            self._evenly = True
        self._thresholds = np.array([0.0 - EPSILON] + thresholds + [1.0 + EPSILON])
        curves = {"roc": "ROC", "pr": "PR", "prgain": "PRGAIN"}
        if str(curve).lower() not in curves:
            raise ValueError(f'Invalid AUC curve value: "{curve}". Expected values are '
                             '["PR", "ROC", "PRGAIN"]')
        self.curve = curves[str(curve).lower()]
        methods = ("interpolation", "majoring", "minoring")
        if str(summation_method).lower() not in methods:
            raise ValueError(f'Invalid AUC summation method value: "{summation_method}". '
                             'Expected values are ["interpolation", "majoring", "minoring"]')
        self.summation_method = str(summation_method).lower()
        super().__init__(name=name, dtype=dtype)
        self.multi_label = multi_label
        self.num_labels = num_labels
        self.label_weights = None if label_weights is None else \
            constant(np.asarray(label_weights), dtype=self._dtype)
        self._from_logits = from_logits
        self._built = False
        if multi_label:
            if num_labels:
                self._build([None, num_labels])
        else:
            if num_labels:
                raise ValueError("`num_labels` is needed only when `multi_label` is True.")
            self._build(None)

    @property
    def thresholds(self):
        return list(self._thresholds)

    def _build(self, shape):
        if self.multi_label:
            if len(shape) != 2:
                raise ValueError("`y_pred` must have rank 2 when `multi_label=True`. Found "
                                 f"rank {len(shape)}. Full shape received for `y_pred`: "
                                 f"{shape}")
            self._num_labels = shape[1]
            var_shape = (self.num_thresholds, self._num_labels)
        else:
            var_shape = (self.num_thresholds,)
        for name in ("true_positives", "false_positives", "true_negatives", "false_negatives"):
            setattr(self, name, self.add_variable(shape=var_shape, initializer="zeros",
                                                  name=name))
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = convert_to_tensor(y_pred)
        if not self._built:
            self._build(tuple(y_pred.shape))
        if self._from_logits:
            y_pred = elementwise_ops.sigmoid(y_pred)
        update_confusion_matrix_variables(
            {TP: self.true_positives, TN: self.true_negatives, FP: self.false_positives,
             FN: self.false_negatives}, y_true, y_pred, self._thresholds,
            thresholds_distributed_evenly=self._evenly, sample_weight=sample_weight,
            multi_label=self.multi_label,
            label_weights=None if self.multi_label else self.label_weights)

    def _average(self, per_label):
        if not self.multi_label:
            return reduction_ops.reduce_sum(per_label)
        by_label = reduction_ops.reduce_sum(per_label, axis=0)
        if self.label_weights is None:
            return reduction_ops.reduce_mean(by_label)
        return math_ops.divide_no_nan(reduction_ops.reduce_sum(by_label * self.label_weights),
                                      reduction_ops.reduce_sum(self.label_weights))

    def interpolate_pr_auc(self):
        """Davis & Goadrich's interpolation of the precision-recall curve."""
        n = self.num_thresholds
        tp, fp = self.true_positives.value(), self.false_positives.value()
        fn = self.false_negatives.value()
        dtp = tp[:n - 1] - tp[1:]
        p = tp + fp
        dp = p[:n - 1] - p[1:]
        prec_slope = math_ops.divide_no_nan(dtp, math_ops.maximum(dp, 0))
        intercept = tp[1:] - prec_slope * p[1:]
        safe_p_ratio = comparison_ops.where(
            comparison_ops.logical_and(p[:n - 1] > 0, p[1:] > 0),
            math_ops.divide_no_nan(p[:n - 1], math_ops.maximum(p[1:], 0)),
            creation_ops.ones_like(p[1:]))
        increment = math_ops.divide_no_nan(
            prec_slope * (dtp + intercept * elementwise_ops.log(safe_p_ratio)),
            math_ops.maximum(tp[1:] + fn[1:], 0))
        return self._average(increment)

    def result(self):
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self.interpolate_pr_auc()
        n = self.num_thresholds
        tp, fp = self.true_positives.value(), self.false_positives.value()
        tn, fn = self.true_negatives.value(), self.false_negatives.value()
        recall = math_ops.divide_no_nan(tp, tp + fn)
        if self.curve == "ROC":
            x, y = math_ops.divide_no_nan(fp, fp + tn), recall
        elif self.curve == "PR":
            x, y = recall, math_ops.divide_no_nan(tp, tp + fp)
        else:
            scale = math_ops.divide_no_nan(tp + fn, tn + fp)
            recall_gain = 1.0 - scale * math_ops.divide_no_nan(fn, tp)
            precision_gain = 1.0 - scale * math_ops.divide_no_nan(fp, tp)
            no_tp = comparison_ops.equal(tp, 0.0)
            recall_gain = comparison_ops.where(no_tp, creation_ops.zeros_like(tp), recall_gain)
            precision_gain = comparison_ops.where(no_tp, creation_ops.ones_like(tp),
                                                  precision_gain)
            x, y = math_ops.maximum(recall_gain, 0.0), precision_gain
        if self.summation_method == "interpolation":
            heights = (y[:n - 1] + y[1:]) / 2.0
        elif self.summation_method == "minoring":
            heights = math_ops.minimum(y[:n - 1], y[1:])
        else:
            heights = math_ops.maximum(y[:n - 1], y[1:])
        return self._average((x[:n - 1] - x[1:]) * heights)

    def reset_state(self):
        if self._built:
            super().reset_state()

    def get_config(self):
        label_weights = None if self.label_weights is None else \
            self.label_weights.numpy().tolist()
        config = {"num_thresholds": self.num_thresholds, "curve": self.curve,
                  "summation_method": self.summation_method, "multi_label": self.multi_label,
                  "num_labels": self.num_labels, "label_weights": label_weights,
                  "from_logits": self._from_logits}
        if self._init_from_thresholds:
            config["thresholds"] = self.thresholds[1:-1]
        return {**super().get_config(), **config}
