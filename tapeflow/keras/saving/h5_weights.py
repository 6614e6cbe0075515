"""Weights in Keras 3's h5 layout: each saveable object (the model, its layers, their
sub-layers, the optimizer) has a group `<path>/vars` holding its own variables as datasets
`0`, `1`, ... in the order the object lists them, with the object's name as the group's
`name` attribute. Paths follow Keras's walk: `layers/<snake_case class name>[_n]` for the
layers of a Sequential/Functional model (numbered per class within one container), the
attribute name for a sub-layer held by an attribute (`layers/lstm/cell`), `optimizer`.

Loading reads and checks everything first (every group present, the same number of variables,
the same shapes) and only then assigns, so a mismatching file changes nothing."""
import io
import re
import warnings

import numpy as np

from tapeflow.keras.engine.layer import Layer, _UNTRACKED
from tapeflow.keras.engine.functional import Functional
from tapeflow.keras.engine.sequential import Sequential

_SKIP_ATTRS = _UNTRACKED | {"_layers_list", "_functional"}


_SKIP_CACHE = {}


def _skip_attrs(cls):
    """What the walk ignores: the engine's own attributes (as Keras skips those of a bare
    Layer), so only a subclass's attributes and properties are searched for sub-layers."""
    found = _SKIP_CACHE.get(cls)
    if found is None:
        from tapeflow.keras.engine.model import Model
        found = set(_SKIP_ATTRS) | set(dir(Layer))
        if issubclass(cls, Model):
            found |= set(dir(Model)) | set(dir(Functional)) | set(dir(Sequential))
        _SKIP_CACHE[cls] = found
    return found


def _snake(name):
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    name = re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()
    return name


def _name_key(name):
    return f"~{name}" if name.startswith("_") else name


def _join(path, name):
    return f"{path}/{name}" if path else name


def own_variables(obj):
    """The variables an object saves itself, in Keras's order (trainable, then not)."""
    if isinstance(obj, Layer):
        own = list(obj._own_weights)
        extra = obj._tracked()[1] if not isinstance(obj, (Sequential, Functional)) else []

        def created_trainable(v):
            return getattr(v, "_created_trainable", v.trainable)
        return [v for v in own + extra if created_trainable(v)] + \
            [v for v in own + extra if not created_trainable(v)]
    return list(getattr(obj, "variables", ()))


def saveables(model, include_optimizer=True):
    """[(path, object)] in Keras's walk order, each object once."""
    from tapeflow.keras.saving.model_config import saving_layers
    out, visited = [], set()

    def container(items, path):
        used = {}
        for item in items:
            if isinstance(item, Layer):
                name = _snake(type(item).__name__)
                if name in used:
                    used[name] += 1
                    name = f"{name}_{used[name]}"
                else:
                    used[name] = 0
                walk(item, _join(path, name))

    def walk(obj, path):
        if id(obj) in visited:
            return
        visited.add(id(obj))
        out.append((path, obj))
        if isinstance(obj, (Sequential, Functional)):
            container(saving_layers(obj), _join(path, "layers"))
        skip = _skip_attrs(type(obj))
        for attr in sorted(dir(obj), key=_name_key):
            if attr in skip or attr.startswith("__"):
                continue
            try:
                value = getattr(obj, attr)
            except Exception:  # noqa: BLE001 (Keras's walk skips what cannot be read)
                continue
            if isinstance(value, Layer):
                walk(value, _join(path, attr))
            elif isinstance(value, (list, tuple)):
                container(value, _join(path, attr))
            elif isinstance(value, dict):
                container(list(value.values()), _join(path, attr))

    walk(model, "")
    optimizer = getattr(model, "optimizer", None)
    if include_optimizer and optimizer is not None and id(optimizer) not in visited:
        out.append(("optimizer", optimizer))
        inner = getattr(optimizer, "inner_optimizer", None)  # LossScaleOptimizer's, as Keras
        if inner is not None:
            out.append(("optimizer/inner_optimizer", inner))
    return out


def write_h5(model, target, include_optimizer=True):
    """Writes the weights of `model` as Keras h5 into `target` (a path or a binary file)."""
    import h5py
    with h5py.File(target, "w") as f:
        for path, obj in saveables(model, include_optimizer):
            group = f.require_group(_join(path, "vars"))
            name = getattr(obj, "name", None)
            if isinstance(name, str):
                group.attrs["name"] = name
            for i, v in enumerate(own_variables(obj)):
                group.create_dataset(str(i), data=v.numpy())


def read_h5(source, filename):
    """{group path (without `/vars`): [arrays]} from an h5 weights file."""
    import h5py
    groups = {}
    try:
        with h5py.File(source, "r") as f:
            def visit(name, item):
                if isinstance(item, h5py.Group) and (name == "vars" or name.endswith("/vars")):
                    keys = sorted(item.keys(), key=lambda k: int(k) if k.isdigit() else -1)
                    groups[name[:-len("vars")].rstrip("/")] = [np.array(item[k]) for k in keys]
            f.visititems(visit)
    except (OSError, ValueError, KeyError, RuntimeError) as e:
        raise ValueError(f"Cannot read the weights file '{filename}': it is truncated, "
                         f"corrupt or not an h5 file ({e}).") from None
    return groups


def plan_assignments(model, groups, filename, skip_optimizer=False):
    """Checks `groups` against `model`; returns [(variable, array)] to assign."""
    plan, problems = [], []
    entries = saveables(model, include_optimizer=not skip_optimizer)
    expected = set()
    for path, obj in entries:
        expected.add(path)
        variables = own_variables(obj)
        is_optimizer = path == "optimizer" or path.startswith("optimizer/")
        if is_optimizer:
            if path not in groups:
                continue
            if not obj.built and getattr(model, "trainable_variables", None) is not None:
                obj.build(model.trainable_variables)
                variables = own_variables(obj)
            if len(groups[path]) != len(variables):
                warnings.warn(f"Skipping variable loading for optimizer '{obj.name}', because "
                              f"it has {len(variables)} variables whereas the saved optimizer "
                              f"has {len(groups[path])} variables.", stacklevel=3)
                continue
        if path not in groups:
            if variables:
                problems.append(f"no weights for layer '{obj.name}' (group "
                                f"'{_join(path, 'vars')}')")
            continue
        values = groups[path]
        label = f"layer '{obj.name}'" if not is_optimizer else f"optimizer '{obj.name}'"
        if len(values) != len(variables):
            problems.append(f"{label} expects {len(variables)} variables, but the file has "
                            f"{len(values)} at '{_join(path, 'vars')}'")
            continue
        for v, a in zip(variables, values):
            if tuple(v.shape) != a.shape:
                problems.append(f"{label}: variable '{getattr(v, 'path', v.name)}' has shape "
                                f"{tuple(v.shape)}, but the file has shape {a.shape}")
            else:
                plan.append((v, a))
    for path, values in groups.items():
        if values and path not in expected and not (path == "optimizer" or
                                                    path.startswith("optimizer/")):
            problems.append(f"the file has {len(values)} variables at '{_join(path, 'vars')}' "
                            "that no layer of the model takes")
    if problems:
        raise ValueError(f"The weights in '{filename}' do not match the model "
                         f"'{model.name}': " + "; ".join(problems) + ". Nothing was loaded.")
    return plan


def assign(plan):
    for v, a in plan:
        v.assign(a.astype(v.dtype.as_numpy_dtype, copy=False))


def load_h5_into(model, source, filename, skip_optimizer=False):
    assign(plan_assignments(model, read_h5(source, filename), filename, skip_optimizer))


def h5_bytes(model, include_optimizer=True):
    buf = io.BytesIO()
    write_h5(model, buf, include_optimizer)
    return buf.getvalue()

