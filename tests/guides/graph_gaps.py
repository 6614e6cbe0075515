"""In the style of the TF guides on tf.function: the programs that once showed what tapeflow
lacked (Python control flow on tensors needs AutoGraph; a tf.TensorArray filled in a loop
over a tensor), now run as TF runs them."""
import tensorflow as tf


@tf.function
def sum_squares(n):
    total = tf.constant(0)
    for i in tf.range(n):
        total += i * i
    return total


print(sum_squares(tf.constant(5)))


@tf.function
def collatz_steps(a):
    steps = tf.constant(0)
    while a > 1:
        a = tf.where(a % 2 == 0, a // 2, 3 * a + 1)
        steps += 1
    return steps


print(collatz_steps(tf.constant(27)))


@tf.function
def sign(x):
    if x > 0:
        return 1.0
    elif x < 0:
        return -1.0
    else:
        return 0.0


print(sign(tf.constant(3.0)), sign(tf.constant(-2.0)), sign(tf.constant(0.0)))


@tf.function
def with_ta(n):
    ta = tf.TensorArray(tf.float32, size=0, dynamic_size=True)
    for i in tf.range(n):
        ta = ta.write(i, tf.cast(i, tf.float32) * 2.0)
    return ta.stack()


print(with_ta(tf.constant(4)))


def simple_relu(x):
    if tf.greater(x, 0):
        return x
    else:
        return 0


tf_simple_relu = tf.function(simple_relu)
print("First branch, with graph:", tf_simple_relu(tf.constant(1)).numpy())
print("Second branch, with graph:", tf_simple_relu(tf.constant(-1)).numpy())
