"""`tf.train.Checkpoint`: saves and restores the variables of a tree of objects (variables,
Keras layers and models, optimizers with their slots, nested checkpoints, lists and dicts).

Each variable is keyed by its place in the tree (`model/layers/dense/vars/0`,
`optimizer/vars/2`, `step`), using Keras's saving walk for layers, so a checkpoint restores
into a freshly built copy of the same program. Files follow TF's names: `<prefix>.index` (a
JSON index: keys, shapes, dtypes, CRC32s) and `<prefix>.data-00000-of-00001` (the arrays); both
are written atomically, and a restore checks every value before assigning any. Values for
variables that do not exist yet (an optimizer before its first step, a layer before it is
built) are kept and assigned when the object builds them (deferred restoration)."""
import json
import os
import zipfile
import zlib

import numpy as np

from tapeflow._core.dtypes import as_dtype
from tapeflow._core.variable import Variable
from tapeflow.keras.engine.layer import Layer
from tapeflow.keras.optimizers.optimizer import Optimizer
from tapeflow.keras.saving import atomic, h5_weights
from tapeflow.train import checkpoint_management

_FORMAT = "tapeflow-checkpoint-v1"
_DATA_SUFFIX = ".data-00000-of-00001"


# -- the object tree -----------------------------------------------------------------------------
def _owners(name, obj, out):
    """Appends (prefix, owner, [variables]) for every object holding variables under `obj`."""
    if isinstance(obj, Variable):
        out.append((name, None, [obj]))
    elif isinstance(obj, Checkpoint):
        for key, child in obj._children.items():
            _owners(f"{name}/{key}" if name else key, child, out)
    elif isinstance(obj, Layer):
        for path, owner in h5_weights.saveables(obj):
            prefix = "/".join(p for p in (name, path, "vars") if p)
            out.append((prefix, owner, h5_weights.own_variables(owner)))
    elif isinstance(obj, Optimizer):
        out.append((f"{name}/vars", obj, list(obj.variables)))
    elif isinstance(obj, (list, tuple)):
        for i, child in enumerate(obj):
            _owners(f"{name}/{i}", child, out)
    elif isinstance(obj, dict):
        for key, child in obj.items():
            _owners(f"{name}/{key}", child, out)
    elif hasattr(obj, "variables"):
        out.append((f"{name}/variables", obj, list(obj.variables)))
    else:
        raise ValueError(f"`Checkpoint` was expecting a trackable object (an object derived "
                         f"from `Trackable`), got {obj}. If you believe this object should be "
                         "trackable (i.e. it is part of the TensorFlow Python API and manages "
                         "state), please open an issue.")


def _flat(owners):
    """{key: variable} for the owners' variables (a lone Variable is keyed by its name)."""
    out = {}
    for prefix, owner, variables in owners:
        if owner is None:
            out[prefix] = variables[0]
        else:
            for i, v in enumerate(variables):
                out[f"{prefix}/{i}"] = v
    return out


# -- files ---------------------------------------------------------------------------------------
def _to_storable(a):
    if a.dtype.kind in "biufc":
        return a
    return a.view(f"u{a.dtype.itemsize}")


def write_checkpoint(prefix, values):
    """Writes {key: array} as `<prefix>.data-00000-of-00001` and `<prefix>.index`."""
    prefix = os.fspath(prefix)
    keys = sorted(values)
    index = {"format": _FORMAT, "data": os.path.basename(prefix) + _DATA_SUFFIX, "entries": {}}
    arrays = {}
    for i, key in enumerate(keys):
        a = np.array(values[key], order="C")
        arrays[f"a{i}"] = _to_storable(a)
        index["entries"][key] = {"array": f"a{i}", "shape": list(a.shape),
                                 "dtype": as_dtype(a.dtype).name,
                                 "crc32": zlib.crc32(a.tobytes())}
    # Both files are written in full before either replaces an old one; the index (renamed
    # last) carries CRCs, so even a crash between the two renames is detected on restore.
    with atomic.atomic_write(prefix + ".index", "w") as index_file:
        with atomic.atomic_write(prefix + _DATA_SUFFIX) as data_file:
            np.savez(data_file, **arrays)
            json.dump(index, index_file)
    return prefix


def read_checkpoint(prefix):
    """{key: array} from a checkpoint, every array checked against the index."""
    prefix = os.fspath(prefix)
    index_path = prefix + ".index"
    if not os.path.exists(index_path):
        raise ValueError(f"Unsuccessful TensorSliceReader constructor: Failed to find any "
                         f"matching files for {prefix}")
    try:
        with open(index_path) as f:
            index = json.load(f)
        if index.get("format") != _FORMAT:
            raise ValueError("unknown format")
    except (ValueError, OSError) as e:
        raise ValueError(f"The checkpoint index '{index_path}' is truncated or corrupt "
                         f"({e}).") from None
    data_path = os.path.join(os.path.dirname(prefix), index["data"])
    out = {}
    try:
        with np.load(data_path) as data:
            for key, entry in index["entries"].items():
                a = data[entry["array"]]
                dtype = np.dtype(as_dtype(entry["dtype"]).as_numpy_dtype)
                if a.dtype != dtype:
                    a = a.view(dtype)
                if list(a.shape) != entry["shape"] or zlib.crc32(a.tobytes()) != entry["crc32"]:
                    raise ValueError(f"the value of '{key}' does not match its checksum")
                out[key] = a
    except FileNotFoundError:
        raise ValueError(f"The checkpoint data file '{data_path}' is missing.") from None
    except (ValueError, OSError, KeyError, EOFError, zipfile.BadZipFile) as e:
        raise ValueError(f"The checkpoint data file '{data_path}' is truncated or corrupt "
                         f"({e}).") from None
    return out


# -- Checkpoint ----------------------------------------------------------------------------------
class CheckpointLoadStatus:
    """What a restore matched: `assert_consumed()` fails while a checkpoint value or a
    variable of the tree is unmatched (deferred values count until their variables exist)."""

    def __init__(self, checkpoint, path, unused_keys, missing_keys):
        self._checkpoint = checkpoint
        self._path = path
        self._unused = set(unused_keys)
        self._missing = set(missing_keys)

    def _pending(self):
        return {k for k in self._checkpoint._deferred if k in self._unused}

    def assert_consumed(self):
        unused = self._unused & (set(self._checkpoint._deferred) | self._never_matched())
        if unused:
            raise AssertionError(f"Unresolved object in checkpoint '{self._path}': "
                                 f"{sorted(unused)}")
        self.assert_existing_objects_matched()
        return self

    def _never_matched(self):
        return {k for k in self._unused if k not in self._checkpoint._restored_later}

    def assert_existing_objects_matched(self):
        missing = {k for k in self._missing if k not in self._checkpoint._restored_later}
        if missing:
            raise AssertionError(f"Some objects had attributes which were not restored from "
                                 f"'{self._path}': {sorted(missing)}")
        return self

    def assert_nontrivial_match(self):
        return self

    def expect_partial(self):
        return self

    def run_restore_ops(self, session=None):
        return None

    def initialize_or_restore(self, session=None):
        return None


class Checkpoint:
    """Groups trackable objects (variables, models, optimizers...) for saving and restoring.

    Example:
    >>> ckpt = tf.train.Checkpoint(step=tf.Variable(1), optimizer=opt, model=model)
    >>> path = ckpt.save("/tmp/ckpts/ckpt")          # '/tmp/ckpts/ckpt-1'
    >>> ckpt.restore(tf.train.latest_checkpoint("/tmp/ckpts"))
    """

    def __init__(self, root=None, **kwargs):
        for key, value in kwargs.items():
            if value is None:
                raise ValueError(f"Checkpoint object {key} cannot be None.")
        children = {}
        if root is not None:
            children["root"] = root
        children.update(kwargs)
        object.__setattr__(self, "_children", children)
        object.__setattr__(self, "_save_counter", None)
        object.__setattr__(self, "_deferred", {})
        object.__setattr__(self, "_restored_later", set())

    def __getattr__(self, name):
        children = self.__dict__.get("_children", {})
        if name in children:
            return children[name]
        raise AttributeError(f"'Checkpoint' object has no attribute '{name}'")

    def __setattr__(self, name, value):
        if name.startswith("_"):
            object.__setattr__(self, name, value)
        else:
            self._children[name] = value

    @property
    def save_counter(self):
        """How many times `save()` ran (a `tf.Variable`, saved with the checkpoint)."""
        if self._save_counter is None:
            object.__setattr__(self, "_save_counter",
                               Variable(np.int64(0), trainable=False, name="save_counter"))
        return self._save_counter

    def _variables(self):
        owners = []
        for key, child in self._children.items():
            _owners(key, child, owners)
        flat = _flat(owners)
        flat["save_counter"] = self.save_counter
        return owners, flat

    # -- writing ---------------------------------------------------------------------------------
    def write(self, file_prefix, options=None):
        """Writes the checkpoint at exactly `file_prefix` (no counter, no state file)."""
        _, flat = self._variables()
        return write_checkpoint(file_prefix, {k: v.numpy() for k, v in flat.items()})

    def save(self, file_prefix, options=None):
        """Writes `<file_prefix>-<save_counter>` and records it in the `checkpoint` file."""
        self.save_counter.assign_add(1)
        path = self.write(f"{os.fspath(file_prefix)}-{int(self.save_counter.numpy())}")
        directory = os.path.dirname(path) or "."
        state = checkpoint_management.get_checkpoint_state(directory)
        previous = list(state.all_model_checkpoint_paths) if state else []
        if path in previous:
            previous.remove(path)
        checkpoint_management.update_checkpoint_state(directory, path, previous + [path])
        return path

    # -- reading ---------------------------------------------------------------------------------
    def read(self, save_path, options=None):
        return self.restore(save_path, options)

    def restore(self, save_path, options=None):
        """Restores from `save_path` (checked in full before any assignment); values for
        variables not created yet are assigned when they are created."""
        if save_path is None:
            return CheckpointLoadStatus(self, None, (), ())
        save_path = os.fspath(save_path)
        values = read_checkpoint(save_path)
        owners, flat = self._variables()
        problems = []
        for key, v in flat.items():
            if key in values and tuple(v.shape) != values[key].shape:
                problems.append(f"'{key}' has shape {tuple(v.shape)} in the program but "
                                f"{values[key].shape} in the checkpoint")
        if problems:
            raise ValueError(f"Cannot restore the checkpoint '{save_path}': "
                             + "; ".join(problems) + ". Nothing was restored.")
        for key, v in flat.items():
            if key in values:
                v.assign(values[key].astype(v.dtype.as_numpy_dtype, copy=False))
        unused = [k for k in values if k not in flat]
        missing = [k for k in flat if k not in values and k != "save_counter"]
        self._defer(owners, {k: values[k] for k in unused})
        return CheckpointLoadStatus(self, save_path, unused, missing)

    def _defer(self, owners, pending):
        """Keeps values whose variables do not exist yet; assigns them after the owning layer
        or optimizer builds."""
        self._deferred.update(pending)
        for prefix, owner, _ in owners:
            if owner is None or not any(k.startswith(prefix + "/") for k in pending):
                continue
            if "build" in owner.__dict__:
                continue
            original = owner.build
            ckpt = self

            def build(*args, _owner=owner, _prefix=prefix, _original=original, **kwargs):
                result = _original(*args, **kwargs)
                ckpt._apply_deferred(_owner, _prefix)
                return result
            owner.__dict__["build"] = build

    def _apply_deferred(self, owner, prefix):
        owner.__dict__.pop("build", None)
        for i, v in enumerate(h5_weights.own_variables(owner)):
            key = f"{prefix}/{i}"
            value = self._deferred.get(key)
            if value is not None and tuple(v.shape) == value.shape:
                v.assign(value.astype(v.dtype.as_numpy_dtype, copy=False))
                del self._deferred[key]
                self._restored_later.add(key)
