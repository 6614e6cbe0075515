"""tf.train.Checkpoint / CheckpointManager for custom training loops: round trips of
variables, Keras models and optimizer slots (restored later, when the optimizer builds them),
TF's file names and state file (real TF is the oracle for those), and all-or-nothing
restores."""
import os

import numpy as np
import pytest

import tapeflow as tf

X = np.linspace(-1, 1, 15, dtype="float32").reshape(5, 3)
Y = np.linspace(0, 1, 5, dtype="float32").reshape(5, 1)


def make(lib=tf):
    K = lib.keras
    model = K.Sequential([K.Input((3,)), K.layers.Dense(4, activation="tanh"),
                         K.layers.Dense(1)])
    model.set_weights([np.full(w.shape, 0.1 * (i + 1), w.dtype)
                       for i, w in enumerate(model.get_weights())])
    return model, K.optimizers.Adam(0.05), lib.Variable(0, dtype=lib.int64)


def train_step(model, opt, step):
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean((model(X) - Y) ** 2)
    grads = tape.gradient(loss, model.trainable_variables)
    opt.apply_gradients(zip(grads, model.trainable_variables))
    step.assign_add(1)


def test_manager_resume_matches_uninterrupted_training(tmp_path):
    model, opt, step = make()
    ckpt = tf.train.Checkpoint(step=step, optimizer=opt, model=model)
    manager = tf.train.CheckpointManager(ckpt, str(tmp_path), max_to_keep=2)
    assert manager.latest_checkpoint is None
    for _ in range(3):
        train_step(model, opt, step)
        path = manager.save()
    assert path == os.path.join(str(tmp_path), "ckpt-3")
    assert manager.checkpoints == [os.path.join(str(tmp_path), f"ckpt-{i}") for i in (2, 3)]
    assert tf.train.latest_checkpoint(str(tmp_path)) == path
    # Fresh objects: the model is built, the optimizer not (its slots come later).
    model2, opt2, step2 = make()
    ckpt2 = tf.train.Checkpoint(step=step2, optimizer=opt2, model=model2)
    manager2 = tf.train.CheckpointManager(ckpt2, str(tmp_path), max_to_keep=2)
    assert manager2.latest_checkpoint == path and manager2.checkpoints == manager.checkpoints
    status = ckpt2.restore(manager2.latest_checkpoint)
    assert int(step2.numpy()) == 3 and int(ckpt2.save_counter.numpy()) == 3
    assert int(opt2.iterations.numpy()) == 3
    np.testing.assert_array_equal(model2(X).numpy(), model(X).numpy())
    with pytest.raises(AssertionError, match="optimizer/vars/2"):
        status.assert_consumed()
    for _ in range(2):
        train_step(model, opt, step)
        train_step(model2, opt2, step2)
    status.assert_consumed()
    np.testing.assert_array_equal(model2(X).numpy(), model(X).numpy())
    for a, b in zip(opt.variables, opt2.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert manager2.save() == os.path.join(str(tmp_path), "ckpt-4")


def test_file_names_and_state_follow_tf(realtf, tmp_path):
    def run(lib, folder):
        model, opt, step = make(lib)
        ckpt = lib.train.Checkpoint(step=step, model=model)
        manager = lib.train.CheckpointManager(ckpt, folder, max_to_keep=2,
                                              checkpoint_name="run")
        saved = [manager.save() for _ in range(3)]
        saved.append(manager.save(checkpoint_number=10))
        plain = ckpt.save(os.path.join(folder, "extra"))
        written = ckpt.write(os.path.join(folder, "w", "exact"))
        latest = lib.train.latest_checkpoint(folder)
        return ([os.path.relpath(p, folder) for p in saved + [plain, written]],
                os.path.relpath(latest, folder), sorted(os.listdir(folder)),
                sorted(os.listdir(os.path.join(folder, "w"))), int(ckpt.save_counter.numpy()))

    ours = run(tf, str(tmp_path / "ours"))
    theirs = run(realtf, str(tmp_path / "tf"))
    assert ours == theirs
    assert tf.train.latest_checkpoint(str(tmp_path / "empty")) is None
    assert realtf.train.latest_checkpoint(str(tmp_path / "empty")) is None


def test_variables_created_later_are_restored_when_built(tmp_path):
    model, opt, step = make()
    path = tf.train.Checkpoint(model=model, step=step).write(str(tmp_path / "c"))
    later = tf.keras.Sequential([tf.keras.layers.Dense(4, activation="tanh"),
                                 tf.keras.layers.Dense(1)])
    status = tf.train.Checkpoint(model=later, step=step).read(path)
    with pytest.raises(AssertionError):
        status.assert_consumed()
    np.testing.assert_array_equal(later(X).numpy(), model(X).numpy())
    status.assert_consumed()


def test_restore_checks_everything_first(tmp_path):
    model, opt, step = make()
    step.assign(7)
    path = tf.train.Checkpoint(model=model, step=step).write(str(tmp_path / "c"))
    other = tf.keras.Sequential([tf.keras.Input((3,)), tf.keras.layers.Dense(4),
                                 tf.keras.layers.Dense(2)])
    step2 = tf.Variable(0, dtype=tf.int64)
    before = other.get_weights()
    with pytest.raises(ValueError, match=r"c'.*model/layers/dense_1/vars/0.*\(4, 2\).*"
                                         r"\(4, 1\).*Nothing was restored"):
        tf.train.Checkpoint(model=other, step=step2).restore(path)
    assert int(step2.numpy()) == 0
    for a, b in zip(other.get_weights(), before):
        np.testing.assert_array_equal(a, b)


def test_corrupt_and_missing_files(tmp_path):
    model, opt, step = make()
    ckpt = tf.train.Checkpoint(model=model, step=step)
    path = ckpt.write(str(tmp_path / "c"))
    data = path + ".data-00000-of-00001"
    raw = open(data, "rb").read()
    with open(data, "wb") as f:
        f.write(raw[: len(raw) // 2])
    with pytest.raises(ValueError, match="c.data-00000-of-00001.*truncated or corrupt"):
        ckpt.restore(path)
    with open(data, "wb") as f:  # same length, flipped bytes in the values
        f.write(raw[:-200] + bytes(b ^ 0xFF for b in raw[-200:-150]) + raw[-150:])
    with pytest.raises(ValueError, match="c.data-00000-of-00001"):
        ckpt.restore(path)
    with pytest.raises(ValueError, match="Failed to find any matching files"):
        ckpt.restore(str(tmp_path / "nothing"))


def test_nested_structures_and_list_variables(tmp_path):
    a, b = tf.Variable([1.0, 2.0]), tf.Variable(3)
    inner = tf.train.Checkpoint(v=a)
    path = tf.train.Checkpoint(inner=inner, items=[b], d={"k": a}).write(str(tmp_path / "n"))
    names = dict(tf.train.list_variables(path))
    assert names == {"inner/v": [2], "items/0": [], "d/k": [2], "save_counter": []}
    np.testing.assert_array_equal(tf.train.load_variable(path, "inner/v"), [1.0, 2.0])
    a.assign([0.0, 0.0])
    b.assign(0)
    tf.train.Checkpoint(inner=tf.train.Checkpoint(v=a), items=[b], d={"k": a}).read(path)
    assert a.numpy().tolist() == [1.0, 2.0] and int(b.numpy()) == 3


def test_index_and_data_from_different_writes_are_detected(tmp_path):
    v = tf.Variable([1.0, 2.0, 3.0])
    ckpt = tf.train.Checkpoint(v=v)
    path = ckpt.write(str(tmp_path / "c"))
    old_index = open(path + ".index").read()
    v.assign([4.0, 5.0, 6.0])
    ckpt.write(path)
    assert sorted(os.listdir(tmp_path)) == ["c.data-00000-of-00001", "c.index"]
    with open(path + ".index", "w") as f:  # as if a crash came between the two renames
        f.write(old_index)
    v.assign([0.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="'v' does not match its checksum"):
        ckpt.restore(path)
    assert v.numpy().tolist() == [0.0, 0.0, 0.0]
