"""What `model.compile(loss=..., loss_weights=...)` turns into: `CompileLoss`.

It is built on the first batch from the structure of the predictions, as Keras 3 builds it:
`loss` may be one loss for every output, a list (in the outputs' flattened order), a dict by
output name, or a nest shaped like the outputs; `loss_weights` has the shape of `loss`. Each
output's loss is computed on that output's targets (and sample weights, when they are given
per output), cast to float32, weighted, and summed. With more than one loss term, a `Mean`
tracker per term (`<output>_loss`, unweighted) joins the model's metrics.
"""
from tapeflow._core import nest
from tapeflow.keras.engine.compile_utils import (is_binary_or_sparse_categorical, object_name,
                                                 output_names_of)
from tapeflow._core.dispatch import executing_eagerly
from tapeflow.keras.losses.loss import unscale_loss_for_distribution
from tapeflow.ops.elementwise import cast


def _losses_module():
    from tapeflow.keras import losses
    return losses


def get_loss(identifier, y_true, y_pred):
    """A loss object for one compile identifier; 'crossentropy'/'ce' pick binary, sparse
    categorical or categorical crossentropy from the shapes, as Keras does."""
    losses = _losses_module()
    if identifier is None:
        return None
    if str(identifier).lower() in ("crossentropy", "ce"):
        is_binary, is_sparse = is_binary_or_sparse_categorical(y_true, y_pred)
        loss = losses.binary_crossentropy if is_binary else (
            losses.sparse_categorical_crossentropy if is_sparse
            else losses.categorical_crossentropy)
    else:
        loss = losses.get(identifier)
    if not isinstance(loss, losses.Loss):
        name = identifier if isinstance(identifier, str) else object_name(loss)
        loss = losses.LossFunctionWrapper(loss, name=name)
    return loss


class _Weighted:
    """A leaf of the loss structure: one loss identifier and its weight (None: 1)."""

    __slots__ = ("loss", "weight")

    def __init__(self, loss, weight):
        self.loss = loss
        self.weight = weight


def _weighted(loss, weight):
    return None if loss is None else _Weighted(loss, weight)


def _same_structure(a, b):
    try:
        nest.assert_same_structure(a, b)
        return True
    except (ValueError, TypeError):
        return False


def _resolve(path, structure):
    for key in path:
        structure = structure[key]
    return structure


class CompileLoss:
    """The compiled loss: `__call__(y_true, y_pred, sample_weight)` gives the total (or None
    when no output has a loss)."""

    name = "compile_loss"

    def __init__(self, loss, loss_weights=None, output_names=None):
        if loss_weights and not isinstance(loss_weights, (list, tuple, dict, float)):
            raise ValueError("Expected `loss_weights` argument to be a float (single output "
                             "case) or a list, tuple, or dict (multiple output case). Received "
                             f"instead: loss_weights={loss_weights} of type "
                             f"{type(loss_weights)}")
        self._user_loss = loss
        self._user_loss_weights = loss_weights
        self.output_names = list(output_names) if output_names is not None else None
        self.metrics = []
        self._entries = []     # (path into the outputs, loss object, weight, display name)
        self._y_pred_structure = self._y_true_structure = None
        self.built = False

    @property
    def variables(self):
        return [v for m in self.metrics for v in m.variables]

    # -- build -----------------------------------------------------------------------------
    def build(self, y_true, y_pred):
        loss, weights = self._user_loss, self._user_loss_weights
        names = self.output_names
        if names and isinstance(loss, dict) and not isinstance(y_pred, dict):
            if set(names) != set(loss):
                raise ValueError(f"Expected keys {names} in loss dict, but found "
                                 f"loss.keys()={list(loss.keys())}")
            loss = [loss[n] for n in names]
            if isinstance(weights, dict):
                weights = [weights[n] for n in names]
        if weights is None:
            loss = nest.map_structure(lambda l: _weighted(l, None), loss)
        else:
            if not _same_structure(loss, weights):
                flat_w = nest.flatten(weights)
                if len(nest.flatten(loss)) != len(flat_w):
                    raise ValueError(f"`loss_weights` must match the number of losses, got "
                                     f"{len(nest.flatten(loss))} losses and {len(weights)} "
                                     "weights.")
                weights = nest.pack_sequence_as(loss, flat_w)
            loss = nest.map_structure(_weighted, loss, weights)
        if (isinstance(loss, dict) and isinstance(y_pred, (list, tuple)) and names
                and set(loss) == set(names) and len(y_pred) == len(names)):
            y_pred = dict(zip(names, y_pred))
            y_true = y_true if isinstance(y_true, dict) else dict(zip(names, y_true))
        output_names = output_names_of(y_pred, names)
        if not nest.is_nested(loss):
            loss = nest.map_structure(lambda _: loss, y_pred)
        self._entries = []
        self._build_nested(y_true, y_pred, loss, output_names, ())
        if len(self._entries) > 1:
            from tapeflow.keras.metrics.metric import Mean
            self.metrics = [Mean(name=f"{name}_loss") for _, _, _, name in self._entries]
        self._y_pred_structure = nest.map_structure(lambda _: None, y_pred)
        self._y_true_structure = nest.map_structure(lambda _: None, y_true)
        self.built = True

    def _build_nested(self, y_true, y_pred, loss, names, path):
        if loss is None:
            return
        if isinstance(loss, _Weighted):
            self._add_entry(y_true, y_pred, loss, names, path)
            return
        if isinstance(loss, (list, tuple)):
            if all(not nest.is_nested(l) for l in loss) and \
                    len(loss) == len(nest.flatten(y_pred)):
                loss = nest.pack_sequence_as(y_pred, list(loss))
            elif not isinstance(y_pred, type(loss)):
                for each in loss:  # several losses for the same outputs
                    self._build_nested(y_true, y_pred, each, names, path)
                return
        if isinstance(loss, _Weighted) or loss is None:
            return self._build_nested(y_true, y_pred, loss, names, path)
        if not isinstance(loss, type(y_pred)) and not (
                isinstance(loss, (list, tuple)) and isinstance(y_pred, (list, tuple))):
            raise KeyError(f"The path: {path} in the `loss` argument, can't be found in the "
                           "model's output (`y_pred`).")
        items = loss.items() if isinstance(loss, dict) else enumerate(loss)
        for key, each in items:
            if each is None:
                continue
            found = all(key in s if isinstance(s, dict) else
                        isinstance(s, (list, tuple)) and isinstance(key, int) and key < len(s)
                        for s in (y_true, y_pred))
            if not found:
                raise KeyError(f"The path: {path + (key,)} in the `loss` argument, can't be "
                               "found in either the model's output (`y_pred`) or in the labels "
                               "(`y_true`).")
            self._build_nested(y_true[key], y_pred[key], each, names[key], path + (key,))

    def _add_entry(self, y_true, y_pred, leaf, names, path):
        fn = get_loss(leaf.loss, y_true, y_pred)
        name_path = path
        if not nest.is_nested(names):
            output_name = names if names is not None else fn.name
            if not name_path:
                name_path = (output_name,)
            elif isinstance(name_path[-1], int):
                name_path = name_path[:-1] + (output_name,)
        name = "/".join(str(p) for p in name_path)
        if name == "":
            name = "_".join(str(n) for n in nest.flatten(names))
        self._entries.append((path, fn, leaf.weight, name))

    # -- call ------------------------------------------------------------------------------
    def __call__(self, y_true, y_pred, sample_weight=None):
        if not nest.is_nested(y_true) and not nest.is_nested(y_pred):
            if not self.built:
                self.build(y_true, y_pred)
            # one output: Keras computes every term but returns the first
            values = [self._term(fn, w, y_true, y_pred, sample_weight)
                      for _, fn, w, _ in self._entries]
            return values[0] if values else None
        y_true = self._match_targets(y_true, y_pred)
        if not self.built:
            self.build(y_true, y_pred)
        if not _same_structure(self._y_pred_structure, y_pred):
            y_pred = nest.pack_sequence_as(self._y_pred_structure, nest.flatten(y_pred))
        if not _same_structure(self._y_true_structure, y_true):
            y_true = nest.pack_sequence_as(self._y_true_structure, nest.flatten(y_true))
        trackers = self.metrics or [None] * len(self._entries)
        total = None
        for (path, fn, weight, _), tracker in zip(self._entries, trackers):
            yt, yp = _resolve(path, y_true), _resolve(path, y_pred)
            sw = _resolve(path, sample_weight) if nest.is_nested(sample_weight) \
                else sample_weight
            value = cast(fn(yt, yp, sw), "float32")
            if tracker is not None:  # the unweighted term
                # Keras weighs it by the batch's static size, which TF's traces do not know
                # (batches have a None dimension there): traced, each batch counts once
                batch = nest.flatten(yp)[0].shape[0] if executing_eagerly() else None
                tracker.update_state(unscale_loss_for_distribution(value), sample_weight=batch)
            if weight is not None:
                value = value * weight
            total = value if total is None else total + value
        return total

    @staticmethod
    def _term(fn, weight, y_true, y_pred, sample_weight):
        value = cast(fn(y_true, y_pred, sample_weight), "float32")
        return value if weight is None else value * weight

    def _match_targets(self, y_true, y_pred):
        """`y_true` laid out like `y_pred` (Keras accepts a list for dict outputs, a dict by
        output name for list outputs, or targets for only the outputs that have a loss)."""
        if _same_structure(y_pred, y_true):
            return y_true
        if not nest.is_nested(y_true) and hasattr(y_pred, "__len__") and len(y_pred) == 1:
            y_true = [y_true]
        elif isinstance(y_pred, (list, tuple)) and isinstance(y_true, dict) and \
                self.output_names and set(self.output_names) == set(y_true):
            y_true = [y_true[n] for n in self.output_names]
        flat_true = nest.flatten(y_true)
        if len(flat_true) == len(nest.flatten(y_pred)):
            return nest.pack_sequence_as(y_pred, flat_true)
        flat_loss = nest.flatten(self._user_loss)
        have_loss = [i for i, l in enumerate(flat_loss) if l is not None]
        if len(flat_true) == len(have_loss) and nest.is_nested(self._user_loss):
            placed = [None] * len(flat_loss)
            for i, t in zip(have_loss, flat_true):
                placed[i] = t
            return nest.pack_sequence_as(self._user_loss, placed)
        raise ValueError("y_true and y_pred have different structures.\n"
                         f"y_true: {nest.map_structure(lambda _: '*', y_true)}\n"
                         f"y_pred: {nest.map_structure(lambda _: '*', y_pred)}\n")
