"""What `model.compile(loss=..., metrics=...)` turns into: one loss per output (weighted and
summed, with a `<output>_loss` tracker per output when there are several) and one list of
metrics per output, resolved by name the way Keras 3 does ('accuracy' becomes binary, sparse
categorical or categorical accuracy from the shapes of y_true and y_pred)."""
import tapeflow as tf
from tapeflow._core import nest
from tapeflow.keras.losses.loss import unscale_loss_for_distribution


def _losses_module():
    from tapeflow.keras import losses
    return losses


def _metrics_module():
    from tapeflow.keras import metrics
    return metrics


def object_name(obj):
    from tapeflow.keras.engine.naming import to_snake_case
    if hasattr(obj, "name") and isinstance(obj.name, str):
        return obj.name
    if hasattr(obj, "__name__"):
        return to_snake_case(obj.__name__)
    return to_snake_case(type(obj).__name__)


def is_binary_or_sparse_categorical(y_true, y_pred):
    t_rank, p_rank = len(y_true.shape), len(y_pred.shape)
    t_last = y_true.shape[-1] if t_rank else None
    p_last = y_pred.shape[-1] if p_rank else None
    is_binary = p_last == 1
    is_sparse = t_rank < p_rank or (t_last == 1 and p_last is not None and p_last > 1)
    return is_binary, is_sparse


def get_metric(identifier, y_true, y_pred):
    metrics = _metrics_module()
    if identifier is None:
        raise ValueError("Expected metric, received `None`")
    lowered = str(identifier).lower() if isinstance(identifier, str) else None
    if lowered in ("accuracy", "acc"):
        is_binary, is_sparse = is_binary_or_sparse_categorical(y_true, y_pred)
        cls = metrics.BinaryAccuracy if is_binary else (
            metrics.SparseCategoricalAccuracy if is_sparse else metrics.CategoricalAccuracy)
        metric = cls(name=identifier)
    elif lowered in ("crossentropy", "ce"):
        is_binary, is_sparse = is_binary_or_sparse_categorical(y_true, y_pred)
        cls = metrics.BinaryCrossentropy if is_binary else (
            metrics.SparseCategoricalCrossentropy if is_sparse
            else metrics.CategoricalCrossentropy)
        metric = cls(name=identifier)
    else:
        metric = metrics.get(identifier)
    name = identifier if isinstance(identifier, str) else object_name(metric)
    if not isinstance(metric, metrics.Metric):
        metric = metrics.MeanMetricWrapper(metric, name=name)
    try:
        metric.name = name
    except AttributeError:
        metric._name = name
    return metric


class _Mean:
    """Fallback loss-function wrapper: mean over the batch of a per-sample loss function."""

    def __init__(self, fn):
        self.fn = fn
        self.name = object_name(fn)

    def __call__(self, y_true, y_pred, sample_weight=None):
        values = self.fn(y_true, y_pred)
        if sample_weight is not None:
            sw = tf.cast(sample_weight, values.dtype)
            while sw.ndim < values.ndim:
                sw = tf.expand_dims(sw, -1)
            values = values * sw
            return tf.reduce_sum(values) / tf.cast(tf.size(values), values.dtype)
        return tf.reduce_mean(values)


def get_loss(identifier):
    losses = _losses_module()
    loss = losses.get(identifier)
    if isinstance(loss, losses.Loss):
        return loss
    wrapper = getattr(losses, "LossFunctionWrapper", None)
    if wrapper is not None:
        return wrapper(loss, name=object_name(loss))
    return _Mean(loss)


def flatten_by_output(value, output_names):
    """A per-output structure (a dict by output name, a list, or one tensor) as a list in
    the model's output order."""
    if len(output_names) == 1:
        if isinstance(value, dict) and len(value) == 1:
            return list(value.values())
        return [value]
    if isinstance(value, dict):
        return [value.get(name) for name in output_names]
    return nest.flatten(value)


def _per_output(value, output_names, what):
    """`value` (one for all, a list, or a dict by output name) as a list per output."""
    n = len(output_names)
    if isinstance(value, dict):
        unknown = [k for k in value if k not in output_names]
        if unknown:
            raise ValueError(f"In the dict argument `{what}`, key '{unknown[0]}' does not "
                             f"correspond to any model output. Received:\n{what}={value}")
        return [value.get(name) for name in output_names]
    if isinstance(value, (list, tuple)) and n > 1:
        if len(value) != n:
            raise ValueError(f"For a model with multiple outputs, when providing the `{what}` "
                             f"argument as a list, it should have as many entries as the "
                             f"model has outputs. Received:\n{what}={value}\nof length "
                             f"{len(value)} whereas the model has {n} outputs.")
        return list(value)
    if isinstance(value, (list, tuple)) and n == 1 and what == "loss" and len(value) == 1:
        return [value[0]]
    return [value] * n


class CompileLoss:
    """The compiled loss: `__call__(y_true, y_pred, sample_weight)` gives the total."""

    def __init__(self, loss, loss_weights, output_names):
        self.output_names = list(output_names)
        self.losses = [None if l is None else get_loss(l)
                       for l in _per_output(loss, self.output_names, "loss")]
        weights = _per_output(loss_weights, self.output_names, "loss_weights") \
            if loss_weights is not None else [None] * len(self.output_names)
        self.weights = [1.0 if w is None else float(w) for w in weights]
        self.metrics = []
        if len(self.output_names) > 1:
            Mean = _metrics_module().Mean
            self.metrics = [Mean(name=f"{name}_loss") for name, l in
                            zip(self.output_names, self.losses) if l is not None]

    def __call__(self, y_true, y_pred, sample_weight=None):
        ys_true = flatten_by_output(y_true, self.output_names)
        ys_pred = flatten_by_output(y_pred, self.output_names)
        sws = flatten_by_output(sample_weight, self.output_names) if (
            len(self.losses) > 1 and sample_weight is not None) else \
            [sample_weight] * len(self.losses)
        if len(sws) == 1 and len(self.losses) > 1:
            sws = sws * len(self.losses)
        total, trackers = None, iter(self.metrics)
        for fn, w, yt, yp, sw in zip(self.losses, self.weights, ys_true, ys_pred, sws):
            if fn is None:
                continue
            value = fn(yt, yp, sample_weight=sw)
            if self.metrics:
                next(trackers).update_state(unscale_loss_for_distribution(value),
                                            sample_weight=int(yp.shape[0]))
            if w != 1.0:
                value = value * w
            total = value if total is None else total + value
        return total


class CompileMetrics:
    """All compiled metrics, one list per output; built on the first batch (the shapes of
    y_true and y_pred choose what 'accuracy' means). Its result is a dict by metric name."""

    name = "compile_metrics"

    def __init__(self, metrics, weighted_metrics, output_names):
        self.output_names = list(output_names)
        self._spec = metrics
        self._weighted_spec = weighted_metrics
        self.metrics = []
        self._per_output = None
        self.built = False

    def _specs(self, spec):
        if spec is None:
            return [[] for _ in self.output_names]
        if len(self.output_names) == 1:
            if isinstance(spec, dict):
                spec = list(spec.values())[0]
            return [list(spec) if isinstance(spec, (list, tuple)) else [spec]]
        if isinstance(spec, dict):
            return [nest.flatten(spec.get(n, [])) if isinstance(spec.get(n), (list, tuple))
                    else ([] if spec.get(n) is None else [spec.get(n)])
                    for n in self.output_names]
        if isinstance(spec, (list, tuple)) and len(spec) == len(self.output_names) and all(
                isinstance(s, (list, tuple)) or s is None for s in spec):
            return [[] if s is None else list(s) for s in spec]
        return [list(spec) if isinstance(spec, (list, tuple)) else [spec]
                for _ in self.output_names]

    def build(self, y_true, y_pred):
        ys_true = flatten_by_output(y_true, self.output_names)
        ys_pred = flatten_by_output(y_pred, self.output_names)
        multi = len(self.output_names) > 1
        self._per_output = []
        for specs, weighted in ((self._specs(self._spec), False),
                                (self._specs(self._weighted_spec), True)):
            for i, (name, items) in enumerate(zip(self.output_names, specs)):
                for ident in items:
                    m = get_metric(ident, ys_true[i], ys_pred[i])
                    if multi:
                        m.name = f"{name}_{m.name}"
                    self.metrics.append(m)
                    self._per_output.append((m, i, weighted))
        self.built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        if not self.built:
            self.build(y_true, y_pred)
        if not self._per_output:
            return
        multi = len(self.output_names) > 1
        ys_true = flatten_by_output(y_true, self.output_names)
        ys_pred = flatten_by_output(y_pred, self.output_names)
        sws = flatten_by_output(sample_weight, self.output_names) \
            if multi and sample_weight is not None else None
        for m, i, weighted in self._per_output:
            sw = None
            if weighted and sample_weight is not None:
                sw = sws[i] if sws is not None and len(sws) > 1 else sample_weight
            m.update_state(ys_true[i], ys_pred[i], sample_weight=sw)

    def result(self):
        return {m.name: m.result() for m in self.metrics}

    def reset_state(self):
        for m in self.metrics:
            m.reset_state()

    @property
    def variables(self):
        return [v for m in self.metrics for v in m.variables]
