"""What `model.compile(metrics=..., weighted_metrics=...)` turns into, and the identifier rules
compile's losses and metrics share.

`CompileMetrics` is built on the first batch, from the structure of the model's predictions
(one tensor, a list, a dict, or deeper nests), as Keras 3 builds it: one list of metrics for
every output, the strings 'accuracy'/'acc' resolved to binary, sparse categorical or
categorical accuracy from the shapes of y_true and y_pred. Its `result()` is a dict whose keys
carry the output's name when the model has several outputs (`out_accuracy`). The compiled loss
lives in compile_loss.py.
"""
from tapeflow._core import nest
from tapeflow.keras.engine.keras_tensor import KerasTensor
from tapeflow.keras.engine.naming import to_snake_case
from tapeflow.keras.metrics.metric import Metric


def _metrics_module():
    from tapeflow.keras import metrics
    return metrics


def object_name(obj):
    """Keras's `get_object_name`: an object's `name`, else its snake-cased function/class name."""
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
    """A metric object for one compile identifier ('accuracy', 'mae', a class, a function, an
    instance), named as Keras names it."""
    metrics = _metrics_module()
    if identifier is None:
        raise ValueError("Expected metric, received `None`")
    if str(identifier).lower() in ("accuracy", "acc"):
        is_binary, is_sparse = is_binary_or_sparse_categorical(y_true, y_pred)
        cls = metrics.BinaryAccuracy if is_binary else (
            metrics.SparseCategoricalAccuracy if is_sparse else metrics.CategoricalAccuracy)
        metric = cls(name=str(identifier))
    else:
        metric = metrics.get(identifier)
    name = identifier if isinstance(identifier, str) else object_name(metric)
    if not isinstance(metric, Metric):
        metric = metrics.MeanMetricWrapper(metric)
    metric.name = name
    return metric


def output_names_of(y_pred, model_names):
    """The model's output names laid out like `y_pred`: the functional model's names when they
    fit, else KerasTensors' layer names, else None for each output."""
    flat = nest.flatten(y_pred)
    if model_names is not None and len(model_names) == len(flat):
        return nest.pack_sequence_as(y_pred, list(model_names))
    names = [t._keras_history[0].name if isinstance(t, KerasTensor) and t._keras_history
             else None for t in flat]
    return nest.pack_sequence_as(y_pred, names)


def shape_sketch(structure):
    """`structure` with every leaf as 'X' (how Keras shows an output structure in errors)."""
    return nest.map_structure(lambda _: "X", structure)


class _OutputMetrics:
    """The metrics of one output, with the output's name when the model has several."""

    def __init__(self, metrics, output_name):
        self.metrics = metrics
        self.output_name = output_name


def _metrics_for_output(spec, y_true, y_pred, output_name):
    if spec is None:
        return None
    items = spec if isinstance(spec, (list, tuple)) else [spec]
    return _OutputMetrics([get_metric(m, y_true, y_pred) for m in items], output_name)


def _nested_metrics(spec, y_true, y_pred, names):
    """One `_OutputMetrics` per leaf of `y_pred`, walking `spec` alongside it (metrics given
    in the shape of a nested output structure)."""
    if not nest.is_nested(y_pred):
        return [_metrics_for_output(spec, y_true, y_pred, names)]
    if isinstance(y_pred, dict):
        if not isinstance(spec, dict) or set(spec) != set(y_pred):
            raise ValueError(f"The metrics structure {spec} does not match the output "
                             f"structure {shape_sketch(y_pred)}.")
        keys = sorted(y_pred)
    else:
        if not isinstance(spec, (list, tuple)) or len(spec) != len(y_pred):
            raise ValueError(f"The metrics structure {spec} does not match the output "
                             f"structure {shape_sketch(y_pred)}.")
        keys = range(len(y_pred))
    out = []
    for k in keys:
        out += _nested_metrics(spec[k], y_true[k], y_pred[k], names[k])
    return out


class CompileMetrics(Metric):
    """All compiled metrics: `update_state(y_true, y_pred, sample_weight)` updates each
    output's metrics (the weighted ones with the sample weights), `result()` is a dict."""

    def __init__(self, metrics, weighted_metrics, output_names=None):
        super().__init__(name="compile_metrics")
        for arg, value in (("metrics", metrics), ("weighted_metrics", weighted_metrics)):
            if value and not isinstance(value, (list, tuple, dict)):
                raise ValueError(f"Expected `{arg}` argument to be a list, tuple, or dict. "
                                 f"Received instead: {arg}={value} of type {type(value)}")
        self._user_metrics = metrics
        self._user_weighted_metrics = weighted_metrics
        self.output_names = list(output_names) if output_names is not None else None
        self._flat_metrics = self._flat_weighted_metrics = None
        self._resolved_names = None
        self.built = False

    @property
    def metrics(self):
        if not self.built:
            return []
        return [m for group in self._flat_metrics + self._flat_weighted_metrics if group
                for m in group.metrics]

    @property
    def variables(self):
        return [v for m in self.metrics for v in m.variables]

    def build(self, y_true, y_pred):
        num_outputs = len(nest.flatten(y_pred))
        flat_structure = nest.is_nested(y_pred) and len(y_pred) == num_outputs
        names = self.output_names
        if flat_structure and isinstance(y_pred, dict):
            # a dict of outputs names them by its keys, in the model's order when they agree
            if not (names and set(y_pred) == set(names)):
                names = sorted(y_pred)
        self._resolved_names = names if num_outputs > 1 and flat_structure else None
        self._flat_metrics = self._build_set(self._user_metrics, num_outputs, names, y_true,
                                             y_pred, flat_structure, "metrics")
        self._flat_weighted_metrics = self._build_set(self._user_weighted_metrics,
                                                      num_outputs, names, y_true, y_pred,
                                                      flat_structure, "weighted_metrics")
        self.built = True

    def _build_set(self, spec, num_outputs, names, y_true, y_pred, flat_structure, arg):
        if not spec:
            return [None] * num_outputs
        if num_outputs == 1:  # every metric applies to the one output; no name prefix
            return [_metrics_for_output(nest.flatten(spec), nest.flatten(y_true)[0],
                                        nest.flatten(y_pred)[0], None)]
        per_output = None
        if flat_structure:
            if isinstance(spec, (list, tuple)) and len(spec) == num_outputs:
                per_output = list(spec)
            elif names and isinstance(spec, dict) and set(spec) <= set(names):
                per_output = [spec.get(n) for n in names]
        if per_output is not None:
            labels = names if names else [None] * num_outputs
            return [_metrics_for_output(s, yt, yp, n) for s, yt, yp, n in
                    zip(per_output, self._flatten_y(y_true), self._flatten_y(y_pred), labels)]
        try:
            names_struct = output_names_of(y_pred, names)
            return _nested_metrics(spec, y_true, y_pred, names_struct)
        except (ValueError, TypeError, KeyError, IndexError) as e:
            where = (f"either be a dict or a list matching the output names of the functional "
                     f"model {self.output_names} or match") if self.output_names else "match"
            raise ValueError(f"{e}\nInvalid `{arg}`. `{arg}` should contain metrics objects "
                             f"and {where} the output structure of the model: "
                             f"{shape_sketch(y_pred)}.\nReceived: {arg}={spec}") from None

    def _flatten_y(self, y):
        if isinstance(y, dict) and self._resolved_names is not None:
            return [y[n] for n in self._resolved_names]
        return nest.flatten(y)

    def update_state(self, y_true, y_pred, sample_weight=None):
        if not self.built:
            self.build(y_true, y_pred)
        ys_true, ys_pred = self._flatten_y(y_true), self._flatten_y(y_pred)
        for group, yt, yp in zip(self._flat_metrics, ys_true, ys_pred):
            if group:
                for m in group.metrics:
                    m.update_state(yt, yp)
        if sample_weight is not None:
            sws = self._flatten_y(sample_weight)
            if len(sws) < len(ys_true):  # one weight array serves every output
                sws = [sws[0]] * len(ys_true)
        else:
            sws = [None] * len(ys_true)
        for group, yt, yp, sw in zip(self._flat_weighted_metrics, ys_true, ys_pred, sws):
            if group:
                for m in group.metrics:
                    m.update_state(yt, yp, sample_weight=sw)

    def reset_state(self):
        for m in self.metrics:
            m.reset_state()

    def result(self):
        if not self.built:
            raise ValueError("Cannot get result() since the metric has not yet been built.")
        results, seen = {}, {}

        def unique(name):
            if name not in seen:
                seen[name] = 1
                return name
            index = seen[name]
            seen[name] += 1
            return f"{name}_{index}"

        for group in self._flat_metrics:
            for m in group.metrics if group else ():
                name = f"{group.output_name}_{m.name}" if group.output_name else m.name
                results[unique(name)] = m.result()
        for group in self._flat_weighted_metrics:
            for m in group.metrics if group else ():
                prefix = f"{group.output_name}_" if group.output_name else ""
                name = prefix + m.name
                if name in seen:  # the same metric, weighted: Keras marks it so
                    name = unique(f"{prefix}weighted_{m.name}")
                else:
                    seen[name] = 1
                results[name] = m.result()
        return results

    def get_config(self):
        raise NotImplementedError
