"""tf.summary's ops against real TensorFlow: the same program writes event files under both,
and TensorBoard's reader must find the same tags, steps and values (images as pixels), eagerly
and inside tf.function; bad arguments raise TF's errors."""
import numpy as np
import pytest

import tapeflow
from tests.summary.events import assert_same_summaries, summaries

IMAGES = np.linspace(0.0, 1.0, 2 * 5 * 4 * 3, dtype="float32").reshape(2, 5, 4, 3)
AUDIO = np.sin(np.linspace(0.0, 40.0, 3 * 50 * 2, dtype="float32")).reshape(3, 50, 2)


def _program(tf, logdir):
    """Summaries of every kind, eagerly and in a tf.function with a variable step."""
    writer = tf.summary.create_file_writer(str(logdir))
    step = tf.Variable(0, dtype=tf.int64)
    v = tf.Variable(np.linspace(-1.0, 2.0, 12).reshape(3, 4).astype("float32"))

    @tf.function
    def train(x):
        v.assign_add(x * tf.ones_like(v))
        tf.summary.scalar("fn/loss", tf.reduce_sum(v * v), step=step)
        tf.summary.histogram("fn/v", v, step=step, buckets=7)
        with tf.summary.record_if(lambda: tf.equal(step % 2, 0)):
            tf.summary.scalar("fn/even", tf.reduce_mean(v), step=step)
            tf.summary.image("fn/img", tf.reshape(v, [1, 3, 4, 1]) / 3.0, step=step)
        step.assign_add(1)

    with writer.as_default():
        for _ in range(3):
            train(tf.constant(0.25))
        with writer.as_default(step=7):
            tf.summary.scalar("int", 3)
            tf.summary.scalar("numpy", np.float64(0.1))
            tf.summary.scalar("described", 2.5, description="a **scalar**")
            tf.summary.histogram("default_buckets", np.arange(100) ** 0.5)
            tf.summary.histogram("one_value", [2.0, 2.0, 2.0], buckets=4)
            tf.summary.histogram("empty", np.zeros([0], "float32"), buckets=3)
            tf.summary.histogram("no_buckets", [1.0, 2.0], buckets=0)
            tf.summary.histogram("nan", [1.0, float("nan"), 3.0], buckets=3)
            tf.summary.histogram("inf", [1.0, float("-inf"), 3.0], buckets=2)
            tf.summary.histogram("ints", tf.constant([1, 5, 3, 3]), buckets=2)
            tf.summary.image("rgb", IMAGES, max_outputs=1)
            tf.summary.image("rgb_all", IMAGES, max_outputs=5)
            tf.summary.image("none", IMAGES, max_outputs=0)
            tf.summary.image("uint8", (IMAGES * 255).astype("uint8"))
            tf.summary.image("gray_alpha", IMAGES[..., :2] * 2.0 - 0.5)
            tf.summary.image("rgba", np.concatenate([IMAGES, IMAGES[..., :1]], -1))
            tf.summary.image("uint16", (IMAGES * 65535).astype("uint16"))
            tf.summary.image("int8", (IMAGES * 200 - 60).astype("int8"))
            tf.summary.image("float64", IMAGES.astype("float64") * 1.2)
            tf.summary.text("text", "hello **world**")
            tf.summary.text("table", [["a", "b"], ["c", "d"]])
            tf.summary.audio("audio", AUDIO, 8000, max_outputs=2)
            tf.summary.write("generic", tf.constant([[1, 2], [3, 4]], tf.int64))
            tf.summary.write("lazy", lambda: tf.constant([True, False]))
            with tf.name_scope("outer"):
                tf.summary.scalar("a b!", 1.0)
            with tf.summary.record_if(False):
                tf.summary.scalar("never", 1.0)
        tf.summary.experimental.set_step(11)
        tf.summary.scalar("global_step", 4.0)
        tf.summary.experimental.set_step(None)
        tf.summary.scalar("explicit_step", 5.0, step=tf.constant(12, tf.int64))
    tf.summary.scalar("no_writer", 1.0, step=1)
    writer.close()


@pytest.fixture(scope="module")
def both(realtf, tmp_path_factory):
    ours, theirs = tmp_path_factory.mktemp("ours"), tmp_path_factory.mktemp("tf")
    _program(tapeflow, ours)
    _program(realtf, theirs)
    return summaries(str(ours)), summaries(str(theirs))


def test_tensorboard_reads_the_same_summaries_as_tf_writes(both):
    ours, theirs = both
    assert "fn/loss" in ours and "never" not in ours and "no_writer" not in ours
    assert_same_summaries(ours, theirs)


def test_tf_function_writes_at_every_call(both):
    ours, _ = both
    assert [s for s, _, _ in ours["fn/loss"]] == [0, 1, 2]
    assert [s for s, _, _ in ours["fn/even"]] == [0, 2]


def test_return_values_and_should_record(realtf, tmp_path):
    for tf in (tapeflow, realtf):
        assert not tf.summary.scalar("x", 1.0, step=1).numpy()
        assert not tf.summary.should_record_summaries().numpy()
        writer = tf.summary.create_file_writer(str(tmp_path / tf.__name__))
        with writer.as_default(step=1):
            assert tf.summary.scalar("x", 1.0).numpy()
            assert tf.summary.should_record_summaries().numpy()
            with tf.summary.record_if(lambda: tf.constant(False)):
                assert not tf.summary.should_record_summaries().numpy()
                assert not tf.summary.image("x", np.zeros([2, 2, 2])).numpy()  # not checked

            @tf.function
            def inside(x):
                return tf.summary.scalar("y", x)
            assert str(inside(tf.constant(2.0))) == "tf.Tensor(True, shape=(), dtype=bool)"
        writer.close()


def _error(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - compared with what TF raises
        return type(e).__name__, str(e)
    return None


BAD = {
    "no step": lambda tf: tf.summary.scalar("a", 1.0),
    "vector scalar": lambda tf: tf.summary.scalar("a", [1.0, 2.0], step=1),
    "vector step": lambda tf: tf.summary.scalar("a", 1.0, step=[1, 2]),
    "float step": lambda tf: tf.summary.scalar("a", 1.0, step=1.5),
    "int32 step": lambda tf: tf.summary.scalar("a", 1.0, step=tf.constant(12)),
    "string scalar": lambda tf: tf.summary.scalar("a", "x", step=1),
    "number text": lambda tf: tf.summary.text("a", 1.0, step=1),
    "rank 3 image": lambda tf: tf.summary.image("a", np.zeros([2, 2, 2]), step=1),
    "5 channels": lambda tf: tf.summary.image("a", np.zeros([1, 2, 2, 5]), step=1),
    "bool image": lambda tf: tf.summary.image("a", np.zeros([1, 2, 2, 1], bool), step=1),
    "negative max_outputs": lambda tf: tf.summary.image("a", np.zeros([1, 2, 2, 3]), step=1,
                                                        max_outputs=-1),
    "string histogram": lambda tf: tf.summary.histogram("a", ["x"], step=1),
    "float buckets": lambda tf: tf.summary.histogram("a", [1.0], step=1, buckets=2.5),
    "vector buckets": lambda tf: tf.summary.histogram("a", [1.0], step=1, buckets=[3]),
    "rank 2 audio": lambda tf: tf.summary.audio("a", np.zeros([1, 2], "float32"), 8000, step=1),
    "float64 audio": lambda tf: tf.summary.audio("a", np.zeros([1, 2, 1]), 8000, step=1),
    "mp3": lambda tf: tf.summary.audio("a", np.zeros([1, 2, 1]), 8000, encoding="mp3"),
    "float rate": lambda tf: tf.summary.audio("a", np.zeros([1, 2, 1], "float32"), 8000.5,
                                              step=1),
    "graph of an int": lambda tf: tf.summary.graph(3),
    "raw junk": lambda tf: tf.summary.experimental.write_raw_pb(b"junk", step=1),
}


# tf.cast's own error text lacks TF's "{{function_node ...}} " prefix (tapeflow/ops, not here)
CAST_ERRORS = {"string scalar", "string histogram"}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_arguments_raise_tf_errors(realtf, tmp_path, case):
    outcomes = []
    for tf in (tapeflow, realtf):
        writer = tf.summary.create_file_writer(str(tmp_path / tf.__name__))
        with writer.as_default():
            outcome = _error(lambda: BAD[case](tf))
        writer.close()
        if case in CAST_ERRORS:
            outcome = (outcome[0], outcome[1].split("}} ")[-1])
        outcomes.append(outcome)
    assert outcomes[0] is not None and outcomes[0] == outcomes[1]


def test_summary_scope_and_default_step(realtf, tmp_path):
    for tf in (tapeflow, realtf):
        seen = []
        assert tf.summary.experimental.get_step() is None
        writer = tf.summary.create_file_writer(str(tmp_path / tf.__name__))
        with writer.as_default(step=7):
            seen.append(tf.summary.experimental.get_step())
            for name in ("a b", None, "!!"):
                with tf.summary.experimental.summary_scope(name, "dflt") as scope:
                    seen.append(scope)
            with tf.name_scope("o"), tf.summary.experimental.summary_scope("x") as scope:
                seen.append(scope)
        seen.append(tf.summary.experimental.get_step())
        writer.close()
        if tf is tapeflow:
            ours = seen
    assert ours == seen == [7, ("a b", "ab/"), ("dflt", "dflt/"), ("!!", "dflt/"),
                            ("o/x", "o/x/"), None]


def test_inside_polymorphic_and_taped_functions(tmp_path):
    """The op runs at each call of a plain plan, of a trace serving every size of a None
    dimension, and of a trace replayed op by op for an outer tape. (Under jit_compile=True
    torch.compile leaves the host-side kernel uncompiled; not tested here: compiling costs
    half a minute.)"""
    writer = tapeflow.summary.create_file_writer(str(tmp_path))
    step = tapeflow.Variable(0, dtype=tapeflow.int64)
    v = tapeflow.Variable([1.0, 2.0])

    @tapeflow.function
    def compiled(x):
        tapeflow.summary.scalar("compiled", tapeflow.reduce_sum(x * v), step=step)
        step.assign_add(1)

    @tapeflow.function(input_signature=[tapeflow.TensorSpec([None, 2, 2, 1])])
    def any_batch(x):
        tapeflow.summary.image("images", x, step=step, max_outputs=2)

    @tapeflow.function
    def taped(x):
        y = tapeflow.reduce_sum(x * v)
        tapeflow.summary.scalar("taped", y, step=step)
        return y

    with writer.as_default():
        compiled(tapeflow.constant([1.0, 1.0]))
        compiled(tapeflow.constant([2.0, 1.0]))
        any_batch(tapeflow.ones([3, 2, 2, 1]))
        any_batch(tapeflow.zeros([1, 2, 2, 1]))
        with tapeflow.GradientTape() as tape:
            out = taped(tapeflow.constant([3.0, 4.0]))
    assert tape.gradient(out, v).numpy().tolist() == [3.0, 4.0]
    writer.close()
    got = summaries(str(tmp_path))
    assert [(s, float(x)) for s, _, x in got["compiled"]] == [(0, 3.0), (1, 4.0)]
    assert [(s, len(x) - 2) for s, _, x in got["images"]] == [(2, 2), (2, 1)]
    assert [(s, float(x)) for s, _, x in got["taped"]] == [(2, 11.0)]
