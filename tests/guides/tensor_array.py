"""TensorArray as the tf.function guides use it (filled in a Python loop, stacked)."""
import tensorflow as tf
ta = tf.TensorArray(tf.float32, size=0, dynamic_size=True)
for i in range(3):
    ta = ta.write(i, float(i) * 2)
print(ta.stack(), ta.size(), ta.read(1), ta.dtype, ta.element_shape)
ta2 = tf.TensorArray(tf.int32, size=2)
ta2 = ta2.unstack([[1, 2], [3, 4]])
print(ta2.stack(), ta2.concat(), ta2.gather([1, 0]))
try:
    ta2.write(5, [1, 2])
except tf.errors.OpError as e:
    print(type(e).__name__, str(e).strip())
try:
    ta2.write(0, [1.0, 2.0])
except (tf.errors.InvalidArgumentError, TypeError, ValueError) as e:
    print(type(e).__name__)
ta3 = tf.TensorArray(tf.float32, size=3, element_shape=[2])
ta3 = ta3.write(1, [1.0, 2.0])
print(ta3.stack())
print(tf.TensorArray(tf.float32, size=0).stack())
x = tf.Variable(3.0)
with tf.GradientTape() as tape:
    ta = tf.TensorArray(tf.float32, size=3)
    for i in range(3):
        ta = ta.write(i, x ** (i + 1))
    y = tf.reduce_sum(ta.stack())
print(tape.gradient(y, x))


@tf.function
def squares(n):
    ta = tf.TensorArray(tf.float32, size=n)
    for i in range(n):
        ta = ta.write(i, tf.cast(i, tf.float32) ** 2)
    return ta.stack()


print(squares(4))
print(tf.TensorArray(tf.float32, size=2).split([1.0, 2.0, 3.0], [1, 2]).concat())
print(tf.executing_eagerly())


@tf.function
def inside():
    return tf.constant(tf.executing_eagerly())


print(inside())
tf.config.run_functions_eagerly(True)
print(inside())
tf.config.run_functions_eagerly(False)
