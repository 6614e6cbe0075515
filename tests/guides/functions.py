"""In the style of the TF guide "Introduction to graphs and tf.function"."""
import numpy as np
import tensorflow as tf


def a_regular_function(x, y, b):
    x = tf.matmul(x, y)
    x = x + b
    return x


a_function_that_uses_a_graph = tf.function(a_regular_function)
x1 = tf.constant([[1.0, 2.0]])
y1 = tf.constant([[2.0], [3.0]])
b1 = tf.constant(4.0)
orig_value = a_regular_function(x1, y1, b1).numpy()
tf_function_value = a_function_that_uses_a_graph(x1, y1, b1).numpy()
print(orig_value, tf_function_value, orig_value == tf_function_value)


def inner_function(x, y, b):
    x = tf.matmul(x, y)
    x = x + b
    return x


@tf.function
def outer_function(x):
    y = tf.constant([[2.0], [3.0]])
    b = tf.constant(4.0)
    return inner_function(x, y, b)


print(outer_function(tf.constant([[1.0, 2.0]])).numpy())


@tf.function
def my_relu(x):
    return tf.maximum(0., x)


print(my_relu(tf.constant(5.5)))
print(my_relu([1, -1]))
print(my_relu(tf.constant([3., -3.])))
print(my_relu(tf.constant(-2.5)))
print(my_relu(tf.constant([-1., 1.])))


@tf.function
def get_MSE(y_true, y_pred):
    print("Calculating MSE!")
    sq_diff = tf.pow(y_true - y_pred, 2)
    return tf.reduce_mean(sq_diff)


y_true = tf.constant([[5, 0, 6], [1, 4, 9], [2, 7, 3]])
y_pred = tf.constant([[1, 2, 3], [4, 5, 6], [7, 8, 9]])
error = get_MSE(y_true, y_pred)
error = get_MSE(y_true, y_pred)
error = get_MSE(y_true, y_pred)
print(error)
tf.config.run_functions_eagerly(True)
error = get_MSE(y_true, y_pred)
error = get_MSE(y_true, y_pred)
tf.config.run_functions_eagerly(False)


@tf.function
def get_MSE2(y_true, y_pred):
    tf.print("Calculating MSE!")
    sq_diff = tf.pow(y_true - y_pred, 2)
    return tf.reduce_mean(sq_diff)


error = get_MSE2(y_true, y_pred)
error = get_MSE2(y_true, y_pred)


def unused_return_eager(x):
    tf.gather(x, [1])
    return x


try:
    print(unused_return_eager(tf.constant([0.0])))
except tf.errors.InvalidArgumentError as e:
    print(f'{type(e).__name__}')


@tf.function
def power(x, y):
    result = tf.eye(10, dtype=tf.dtypes.int32)
    for _ in range(y):
        result = tf.matmul(x, result)
    return result


x = tf.random.uniform(shape=[10, 10], minval=-1, maxval=2, dtype=tf.dtypes.int32, seed=1)
print(power(x, 10).shape)


@tf.function
def f(x):
    print("Tracing with", x)
    return x * 2


f(tf.constant(1))
f(tf.constant(2))
f(tf.constant(1.5))
f(tf.constant([1, 2]))
f(2)
f(3)
f(2)
print(f.experimental_get_tracing_count() if hasattr(f, "experimental_get_tracing_count") else "")


@tf.function
def train_one_step(x):
    return x + 1


v = tf.Variable(1.0)


@tf.function
def add_to_v(x):
    v.assign_add(x)
    return v.read_value()


print(add_to_v(tf.constant(2.0)))
print(add_to_v(tf.constant(3.0)))
print(v.numpy())


class Counter(tf.Module):
    def __init__(self):
        super().__init__()
        self.count = None

    @tf.function
    def __call__(self):
        if self.count is None:
            self.count = tf.Variable(0)
        return self.count.assign_add(1)


c = Counter()
print(c(), c())


x = tf.Variable(2.0)


@tf.function
def grad_fn():
    with tf.GradientTape() as tape:
        y = x * x * x
    return tape.gradient(y, x)


print(grad_fn())
print(np.round(tf.function(lambda t: tf.reduce_sum(tf.sin(t)))(tf.range(4.0)).numpy(), 5))
conc = my_relu.get_concrete_function(tf.TensorSpec(shape=[None], dtype=tf.float32))
print(conc(tf.constant([-1.0, 2.0])))


@tf.function
def show(x, *rest, scale=None):
    print("Tracing", x, rest, repr(scale))
    return x


show(tf.constant(1.0), tf.constant([2, 3]), tf.constant(4), scale=tf.constant(2.0))
show([tf.constant(1), tf.constant(2)])


@tf.function(input_signature=(tf.TensorSpec(shape=[None], dtype=tf.int32),))
def next_collatz(x):
    print("Tracing with", x)
    return tf.where(x % 2 == 0, x // 2, 3 * x + 1)


print(next_collatz(tf.constant([1, 2])))
print(next_collatz(tf.constant([1, 2, 3, 4])))
try:
    next_collatz(tf.constant([[1, 2], [3, 4]]))
except (TypeError, ValueError) as e:
    print(type(e).__name__)
print(next_collatz.experimental_get_tracing_count())


@tf.function(input_signature=[tf.TensorSpec([None, None], tf.float32)])
def centered(x):
    print("Tracing centered", x.shape)
    n = tf.cast(tf.shape(x)[0], tf.float32)
    flat = tf.reshape(x - tf.reduce_mean(x, axis=0), [-1])
    return flat, tf.reduce_sum(x * x) / (n - 1.0), tf.zeros(tf.shape(x)[1:]) + n


for rows, cols in ((3, 2), (2, 4), (5, 1)):
    print(centered(tf.reshape(tf.range(rows * cols, dtype=tf.float32), (rows, cols))))
print(centered.experimental_get_tracing_count())
