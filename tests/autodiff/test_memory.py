"""A tape must not keep what it recorded once its gradient is taken: training loops with a fresh
tape each step run in steady memory."""
import gc
import tracemalloc
import weakref

import tapeflow as tf


def _step(x, lr):
    with tf.GradientTape() as tape:
        loss = (x - 4.0) * (x - 4.0)
    grad = tape.gradient(loss, x)
    x.assign_sub(lr * grad)
    return tape


def test_non_persistent_tape_drops_its_references():
    x = tf.Variable(1.0)
    with tf.GradientTape() as tape:
        h = x * 3.0
        loss = h * h
    ref = weakref.ref(h)
    del h
    assert ref() is not None  # the tape still holds it
    tape.gradient(loss, x)
    assert ref() is None
    assert tape._nodes == [] and tape._ids == {}
    assert [v is x for v in tape.watched_variables()] == [True]  # TF keeps the list


def test_persistent_tape_holds_until_deleted():
    x = tf.Variable(1.0)
    with tf.GradientTape(persistent=True) as tape:
        h = x * 3.0
        loss = h * h
    ref = weakref.ref(h)
    del h
    tape.gradient(loss, x)
    assert ref() is not None
    del tape
    gc.collect()
    assert ref() is None


def test_ten_thousand_steps_hold_steady_memory():
    x = tf.Variable(10.0)
    for _ in range(200):  # warm caches (scalar cache, logging, allocator)
        _step(x, 0.1)
    gc.collect()
    objects_before = len(gc.get_objects())
    last = None
    for _ in range(10_000):
        last = _step(x, 0.1)
    gc.collect()
    grown = len(gc.get_objects()) - objects_before
    assert last._nodes == [] and last._ids == {}
    # A leak of one tensor or node per step would add 10,000 objects.
    assert grown < 200, f"{grown} more live objects after 10,000 steps"
    assert abs(float(x) - 4.0) < 1e-3


def test_steady_bytes_over_two_thousand_steps():
    x = tf.Variable(10.0)
    for _ in range(200):
        _step(x, 0.1)
    gc.collect()
    tracemalloc.start()
    try:
        for _ in range(200):
            _step(x, 0.1)
        gc.collect()
        base, _ = tracemalloc.get_traced_memory()
        for _ in range(2000):
            _step(x, 0.1)
        gc.collect()
        end, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Leaking even one small tensor per step would add ~2000 * 100 bytes; allow far less.
    assert end - base < 32 * 1024, f"grew {end - base} bytes over 2000 steps"
