"""In the style of TF's guides "Better performance with tf.function" (its AutoGraph sections)
and the AutoGraph reference: Python control flow on tensors in tf.function, what happens at
trace time and what at run time, loops over tensors, ranges and datasets, TensorArrays, and
the errors AutoGraph gives."""
import sys

import numpy as np
import tensorflow as tf


def last_line(e):
    return f"{type(e).__name__}: {str(e).strip().splitlines()[-1].strip()}"


# -- AutoGraph transformations: a simple loop --------------------------------------------------
@tf.function
def shrink(x):
    while tf.reduce_sum(x) > 1:
        tf.print(x, output_stream=sys.stdout)
        x = x / 2
    return x


print(shrink(tf.constant([0.9, 0.8, 0.7, 0.6, 0.5])))


# -- Conditionals: only the tracing prints once per branch -----------------------------------------
@tf.function
def fizzbuzz(n):
    for i in tf.range(1, n + 1):
        print("Tracing for loop")
        if i % 15 == 0:
            print("Tracing fizzbuzz branch")
            tf.print("fizzbuzz", output_stream=sys.stdout)
        elif i % 3 == 0:
            print("Tracing fizz branch")
            tf.print("fizz", output_stream=sys.stdout)
        elif i % 5 == 0:
            print("Tracing buzz branch")
            tf.print("buzz", output_stream=sys.stdout)
        else:
            print("Tracing default branch")
            tf.print(i, output_stream=sys.stdout)


fizzbuzz(tf.constant(5))
fizzbuzz(tf.constant(20))


# -- A Python condition stays Python --------------------------------------------------------------
@tf.function
def scaled(x, training):
    if training:
        print("Tracing the training branch only")
        x = x * 2.0
    return x


print(scaled(tf.constant(3.0), True), scaled(tf.constant(3.0), False))


# -- Loops: Python loops unroll, tensor loops become tf.while_loop -----------------------------
@tf.function
def python_loop(x):
    for i in range(3):
        print("Tracing python loop iteration", i)
        x = x + i
    return x


@tf.function
def tensor_loop(x, n):
    for i in tf.range(n):
        print("Tracing tensor loop body")
        x = x + tf.cast(i, tf.float32)
    return x


print(python_loop(tf.constant(1.0)))
print(tensor_loop(tf.constant(1.0), tf.constant(3)))
print(tensor_loop(tf.constant(1.0), tf.constant(10)))


@tf.function
def collatz(a):
    steps = 0
    while a > 1:
        if a % 2 == 0:
            a = a // 2
        else:
            a = 3 * a + 1
        steps += 1
    return steps


print("collatz(27) takes", collatz(tf.constant(27)).numpy(), "steps")


# -- break, continue and return inside loops ------------------------------------------------------
@tf.function
def odd_sum_until(n, limit):
    total = tf.constant(0)
    for i in tf.range(n):
        if i % 2 == 0:
            continue
        if total + i > limit:
            break
        total += i
    return total


@tf.function
def first_multiple(xs, k):
    found = tf.constant(-1)
    for x in xs:
        if x % k == 0:
            found = x
            break
    return found


@tf.function
def returns_in_a_python_loop(x):
    for threshold in [1, 10, 100]:
        if x < threshold:
            return threshold
    return 1000


print(odd_sum_until(tf.constant(100), tf.constant(50)))
print(first_multiple(tf.constant([5, 7, 9, 12, 15]), tf.constant(3)),
      first_multiple(tf.constant([5, 7]), tf.constant(3)))


# -- nested loops --------------------------------------------------------------------------------
@tf.function
def triangle(n):
    acc = tf.constant(0)
    for i in tf.range(n):
        j = tf.constant(0)
        while j <= i:
            acc += j
            j += 1
    return acc


print(triangle(tf.constant(6)))


# -- conditional expressions and logical operators on tensors -----------------------------------
@tf.function
def clip_and_flags(x, lo, hi):
    y = lo if x < lo else x
    y = hi if y > hi else y
    inside = x >= lo and x <= hi
    outside = not inside
    return y, inside, outside


print(clip_and_flags(tf.constant(5.0), tf.constant(0.0), tf.constant(3.0)))
print(clip_and_flags(tf.constant(2.0), tf.constant(0.0), tf.constant(3.0)))


# -- Accumulating values in a loop: tf.TensorArray -------------------------------------------------
batch_size, seq_len, feature_size = 2, 3, 4


def rnn_step(inp, state):
    return inp + state


@tf.function
def dynamic_rnn(rnn_step, input_data, initial_state):
    input_data = tf.transpose(input_data, [1, 0, 2])  # [batch, time, features] -> [time, ...]
    max_seq_len = input_data.shape[0]
    states = tf.TensorArray(tf.float32, size=max_seq_len)
    state = initial_state
    for i in tf.range(max_seq_len):
        state = rnn_step(input_data[i], state)
        states = states.write(i, state)
    return tf.transpose(states.stack(), [1, 0, 2])


data = tf.reshape(tf.range(batch_size * seq_len * feature_size, dtype=tf.float32),
                  [batch_size, seq_len, feature_size])
print(dynamic_rnn(rnn_step, data, tf.zeros([batch_size, feature_size])))


@tf.function
def squares(n):
    ta = tf.TensorArray(tf.int32, size=0, dynamic_size=True)
    for i in tf.range(n):
        ta = ta.write(i, i * i)
    return ta.stack()


print(squares(tf.constant(5)))


# -- Looping over a dataset -------------------------------------------------------------------------
@tf.function
def dataset_stats(ds):
    total = tf.constant(0.0)
    count = 0
    for x, y in ds:
        total += tf.reduce_sum(x * y)
        count += 1
    return total, count


ds = tf.data.Dataset.from_tensor_slices((np.arange(6, dtype=np.float32).reshape(3, 2),
                                         np.array([1.0, -1.0, 0.5], np.float32)))
print(dataset_stats(ds))


# -- A training loop with a tf.range loop inside the tape ---------------------------------------------
w = tf.Variable([[0.5], [-0.25]])
features = tf.constant([[1.0, 2.0], [3.0, -1.0], [0.5, 0.5]])
labels = tf.constant([[1.0], [0.0], [2.0]])


def unrolled_loss(n):
    loss = tf.constant(0.0)
    for i in tf.range(n):
        pred = tf.matmul(features, w)
        loss += tf.reduce_mean((pred - labels) ** 2) / tf.cast(i + 1, tf.float32)
    return loss


def train_step(n):
    with tf.GradientTape() as tape:
        loss = unrolled_loss(n)
    w.assign_sub(0.05 * tape.gradient(loss, w))
    return loss


graph_step = tf.function(train_step)
eager_losses = [round(float(train_step(tf.constant(3))), 4) for _ in range(3)]
w.assign([[0.5], [-0.25]])
graph_losses = [round(float(graph_step(tf.constant(3))), 4) for _ in range(3)]
print("eager:", eager_losses)
print("graph:", graph_losses)


# -- The errors AutoGraph gives ----------------------------------------------------------------------
@tf.function
def defined_in_one_branch(x):
    if x > 0:
        y = x * 2
    return y


@tf.function
def dtype_changes(n):
    i = tf.constant(0)
    while i < n:
        i = tf.cast(i, tf.float32) + 1.0
    return i


@tf.function
def shape_changes(n):
    v = tf.zeros([1])
    for _ in tf.range(n):
        v = tf.concat([v, [1.0]], 0)
    return v


@tf.function
def one_branch_returns(x):
    if x > 0:
        return 1.0
    elif x < 0:
        return -1.0
    return 0.0


@tf.function
def returns_in_a_tensor_loop(xs):
    for x in xs:
        if x > 2:
            return x
    return -1


for fn, arg in ((defined_in_one_branch, 1), (dtype_changes, 3), (shape_changes, 3),
                (one_branch_returns, 1.0), (returns_in_a_tensor_loop, [1, 2, 3]),
                (returns_in_a_python_loop, 5)):
    try:
        fn(tf.constant(arg))
    except (ValueError, TypeError, NotImplementedError) as e:
        print(fn.__name__, "->", last_line(e))


@tf.function(autograph=False)
def without_autograph(x):
    if x > 0:
        return x
    return -x


try:
    without_autograph(tf.constant(1))
except tf.errors.OperatorNotAllowedInGraphError as e:
    print("autograph=False ->", type(e).__name__)


@tf.autograph.experimental.do_not_convert
def not_converted(x):
    return x * 2 if isinstance(x, int) else x + 1


@tf.function
def calls_not_converted(x):
    return not_converted(x)


print(calls_not_converted(tf.constant(1)))


# -- tf.autograph.to_graph: the converted function works eagerly too -------------------------------
def abs_square(x):
    if x > 0:
        y = x * x
    else:
        y = -x
    return y


converted = tf.autograph.to_graph(abs_square)
print(converted(tf.constant(3)), converted(tf.constant(-3)))
print("def tf__abs_square" in tf.autograph.to_code(abs_square))
