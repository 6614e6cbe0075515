"""The `checkpoint` state file (TF's text format: `model_checkpoint_path: "ckpt-3"`,
`all_model_checkpoint_paths: ...`), `tf.train.latest_checkpoint`, `get_checkpoint_state`
and `tf.train.CheckpointManager` (numbered saves, `max_to_keep`, hourly keeps)."""
import glob
import os
import re
import time

from tapeflow.keras.saving import atomic

_STATE = "checkpoint"


class CheckpointState:
    """The parsed `checkpoint` file: the latest path and all kept paths (absolute)."""

    def __init__(self, model_checkpoint_path, all_model_checkpoint_paths=(),
                 all_model_checkpoint_timestamps=(), last_preserved_timestamp=0.0):
        self.model_checkpoint_path = model_checkpoint_path
        self.all_model_checkpoint_paths = list(all_model_checkpoint_paths)
        self.all_model_checkpoint_timestamps = list(all_model_checkpoint_timestamps)
        self.last_preserved_timestamp = last_preserved_timestamp

    def __repr__(self):
        lines = [f'model_checkpoint_path: "{self.model_checkpoint_path}"']
        lines += [f'all_model_checkpoint_paths: "{p}"' for p in self.all_model_checkpoint_paths]
        return "\n".join(lines) + "\n"


def _relative(directory, path):
    if os.path.dirname(os.path.abspath(path)) == os.path.abspath(directory):
        return os.path.basename(path)
    return path


def _absolute(directory, path):
    return path if os.path.isabs(path) else os.path.join(directory, path)


def get_checkpoint_state(checkpoint_dir, latest_filename=None):
    """The `CheckpointState` of a folder, or None when it has no state file."""
    checkpoint_dir = os.fspath(checkpoint_dir)
    path = os.path.join(checkpoint_dir, latest_filename or _STATE)
    if not os.path.isfile(path):
        return None
    latest, paths, stamps, preserved = None, [], [], 0.0
    with open(path) as f:
        for line in f:
            m = re.match(r'\s*(\w+)\s*:\s*(.*?)\s*$', line)
            if not m:
                continue
            key, value = m.groups()
            if value.startswith('"'):
                value = value[1:-1].encode().decode("unicode_escape")
            if key == "model_checkpoint_path":
                latest = _absolute(checkpoint_dir, value)
            elif key == "all_model_checkpoint_paths":
                paths.append(_absolute(checkpoint_dir, value))
            elif key == "all_model_checkpoint_timestamps":
                stamps.append(float(value))
            elif key == "last_preserved_timestamp":
                preserved = float(value)
    if latest is None:
        return None
    return CheckpointState(latest, paths, stamps, preserved)


def update_checkpoint_state(save_dir, model_checkpoint_path, all_model_checkpoint_paths=None,
                            latest_filename=None, all_model_checkpoint_timestamps=None,
                            last_preserved_timestamp=None):
    """Writes the `checkpoint` state file (atomically)."""
    save_dir = os.fspath(save_dir)
    paths = list(all_model_checkpoint_paths or [])
    if not paths or paths[-1] != model_checkpoint_path:
        paths.append(model_checkpoint_path)
    lines = [f'model_checkpoint_path: "{_relative(save_dir, model_checkpoint_path)}"']
    lines += [f'all_model_checkpoint_paths: "{_relative(save_dir, p)}"' for p in paths]
    lines += [f"all_model_checkpoint_timestamps: {t}" for t in
              (all_model_checkpoint_timestamps or [])]
    if last_preserved_timestamp is not None:
        lines.append(f"last_preserved_timestamp: {last_preserved_timestamp}")
    with atomic.atomic_write(os.path.join(save_dir, latest_filename or _STATE), "w") as f:
        f.write("\n".join(lines) + "\n")


def latest_checkpoint(checkpoint_dir, latest_filename=None):
    """The prefix of the newest checkpoint in `checkpoint_dir`, or None."""
    state = get_checkpoint_state(checkpoint_dir, latest_filename)
    if state is None:
        return None
    path = state.model_checkpoint_path
    if os.path.exists(path + ".index"):
        return path
    return None


def checkpoint_exists(prefix):
    return os.path.exists(os.fspath(prefix) + ".index")


def _delete(prefix):
    for path in glob.glob(glob.escape(prefix) + ".index") + \
            glob.glob(glob.escape(prefix) + ".data-*"):
        try:
            os.remove(path)
        except FileNotFoundError:
            pass


class CheckpointManager:
    """Saves numbered checkpoints (`<directory>/<checkpoint_name>-<n>`) and deletes the oldest
    beyond `max_to_keep` (None keeps all), except one every `keep_checkpoint_every_n_hours`.

    Example:
    >>> manager = tf.train.CheckpointManager(ckpt, "/tmp/ckpts", max_to_keep=3)
    >>> ckpt.restore(manager.latest_checkpoint)
    >>> manager.save()
    """

    def __init__(self, checkpoint, directory, max_to_keep, keep_checkpoint_every_n_hours=None,
                 checkpoint_name="ckpt", step_counter=None, checkpoint_interval=None,
                 init_fn=None):
        if not checkpoint.__class__.__name__ == "Checkpoint":
            raise TypeError("Expected checkpoint to be a tf.train.Checkpoint, got "
                            f"{type(checkpoint)}.")
        if checkpoint_interval is not None and step_counter is None:
            raise ValueError("`step_counter` should be passed if `checkpoint_interval` is not "
                             "None.")
        self._checkpoint = checkpoint
        self._directory = os.fspath(directory)
        self._max_to_keep = max_to_keep
        self._keep_every = keep_checkpoint_every_n_hours
        self._prefix = os.path.join(self._directory, checkpoint_name)
        self._step_counter = step_counter
        self._checkpoint_interval = checkpoint_interval
        self._last_checkpoint_step = None
        self._init_fn = init_fn
        if max_to_keep is not None and max_to_keep <= 0:
            raise ValueError(f"Expected a positive integer or `None` for `max_to_keep`, got "
                             f"{max_to_keep}.")
        state = get_checkpoint_state(self._directory)
        self._maybe_delete = {}
        self._last_preserved_timestamp = time.time()
        self._latest_checkpoint = None
        if state is not None:
            stamps = state.all_model_checkpoint_timestamps
            for i, path in enumerate(state.all_model_checkpoint_paths):
                if checkpoint_exists(path):
                    self._maybe_delete[path] = stamps[i] if i < len(stamps) else time.time()
            self._latest_checkpoint = state.model_checkpoint_path \
                if checkpoint_exists(state.model_checkpoint_path) else None
            self._last_preserved_timestamp = state.last_preserved_timestamp or \
                self._last_preserved_timestamp

    @property
    def directory(self):
        return self._directory

    @property
    def latest_checkpoint(self):
        return self._latest_checkpoint

    @property
    def checkpoints(self):
        """The kept checkpoints, oldest first."""
        return list(self._maybe_delete)

    @property
    def checkpoint_interval(self):
        return self._checkpoint_interval

    def _record_state(self):
        if self._latest_checkpoint is None:
            return
        os.makedirs(self._directory, exist_ok=True)
        update_checkpoint_state(self._directory, self._latest_checkpoint, self.checkpoints,
                                all_model_checkpoint_timestamps=list(
                                    self._maybe_delete.values()),
                                last_preserved_timestamp=self._last_preserved_timestamp)

    def _sweep(self):
        if self._max_to_keep is None:
            return
        while len(self._maybe_delete) > self._max_to_keep:
            path = next(iter(self._maybe_delete))
            stamp = self._maybe_delete.pop(path)
            if self._keep_every is not None and \
                    stamp - self._keep_every * 3600 >= self._last_preserved_timestamp:
                self._last_preserved_timestamp = stamp
                continue
            _delete(path)

    def save(self, checkpoint_number=None, check_interval=True, options=None):
        """Saves a numbered checkpoint; returns its prefix (None when the interval skips)."""
        if self._checkpoint_interval is not None and check_interval:
            step = int(self._step_counter.numpy() if hasattr(self._step_counter, "numpy")
                       else self._step_counter)
            if self._last_checkpoint_step is not None and \
                    step - self._last_checkpoint_step < self._checkpoint_interval:
                return None
            self._last_checkpoint_step = step
        counter = self._checkpoint.save_counter
        counter.assign_add(1)
        if checkpoint_number is None:
            checkpoint_number = int(counter.numpy())
        elif hasattr(checkpoint_number, "numpy"):
            checkpoint_number = int(checkpoint_number.numpy())
        path = self._checkpoint.write(f"{self._prefix}-{int(checkpoint_number)}")
        self._maybe_delete.pop(path, None)
        self._maybe_delete[path] = time.time()
        self._latest_checkpoint = path
        self._sweep()
        self._record_state()
        return path

    def restore_or_initialize(self):
        """Restores the latest checkpoint, or runs `init_fn`; returns the path or None."""
        if self._latest_checkpoint is not None:
            self._checkpoint.restore(self._latest_checkpoint)
            return self._latest_checkpoint
        if self._init_fn is not None:
            self._init_fn()
        return None
