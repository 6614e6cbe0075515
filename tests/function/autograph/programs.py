"""Functions for the AutoGraph parity tests, written against a `tf` this file does not import:
test_parity.py runs it once with real TensorFlow and once with tapeflow as `tf`, and
compares what each case returns or raises. `CASES` maps a name to (function, arguments)."""
import numpy as np

tf = globals()["tf"]  # noqa: F821 - injected by the test (real TensorFlow or tapeflow)

CASES = {}


def case(*args):
    def register(fn):
        CASES[fn.__name__] = (fn, args)
        return fn
    return register


def c(value, dtype=None):
    return lambda: tf.constant(value, dtype) if dtype else tf.constant(value)


# -- if ----------------------------------------------------------------------------------------

@case(c(3.0))
@case(c(-3.0))
@tf.function
def abs_square(x):
    if x > 0:
        y = x * x
    else:
        y = -x
    return y


@tf.function
def relu_no_else(x):
    if x < 0:
        x = tf.zeros_like(x)
    return x


case(c([1.0]))(relu_no_else)


@tf.function
def elif_chain(x):
    if x > 10:
        r = 3
    elif x > 5:
        r = 2
    elif x > 0:
        r = 1
    else:
        r = 0
    return r


case(c(7))(elif_chain)


@tf.function
def python_condition(x, flag):
    if flag:
        x = x + 1
    return x


case(c(1), lambda: True)(python_condition)


@tf.function
def if_defines_in_both(x):
    if x > 0:
        a, b = x, x * 2
    else:
        a, b = -x, x * 3
    return a + b


case(c(-4))(if_defines_in_both)


@tf.function
def nested_structure_state(x):
    pair = (x, [x + 1, x + 2])
    if x > 0:
        pair = (x * 2, [x, x])
    return pair


case(c(2.0))(nested_structure_state)


@tf.function
def condition_known_while_tracing(x):
    flag = tf.constant(True)
    if flag:
        x = x + 1
    else:
        x = x - 1
    return x


case(c(1))(condition_known_while_tracing)


# -- while -------------------------------------------------------------------------------------

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


case(c(27))(collatz)


@tf.function
def while_with_break(n):
    i = tf.constant(0)
    total = tf.constant(0)
    while i < n:
        i += 1
        if i % 7 == 0:
            break
        total += i
    return i, total


case(c(100))(while_with_break)


@tf.function
def while_never_runs(x):
    while x > 100:
        x = x - 1
    return x


case(c(3))(while_never_runs)


@tf.function
def python_while(x):
    n = 0
    while n < 4:
        x = x * 2
        n += 1
    return x, n


case(c(1.5))(python_while)


@tf.function
def maximum_iterations(n):
    i = tf.constant(0)
    while i < n:
        tf.autograph.experimental.set_loop_options(maximum_iterations=5)
        i += 1
    return i


case(c(50))(maximum_iterations)


# -- for ---------------------------------------------------------------------------------------

@tf.function
def range_loop(n):
    total = tf.constant(0)
    for i in tf.range(n):
        total += i * i
    return total


case(c(6))(range_loop)


@tf.function
def range_with_start_and_step(n):
    out = tf.constant(0)
    for i in tf.range(2, n, 3):
        out = out * 10 + i
    return out


case(c(12))(range_with_start_and_step)


@tf.function
def builtin_range_of_tensor(n):
    s = 0
    for i in range(n):
        s += i
    return s


case(c(5))(builtin_range_of_tensor)


@tf.function
def iterate_tensor(x):
    s = tf.constant(0.0)
    for row in x:
        s += tf.reduce_sum(row * row)
    return s


case(c([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]))(iterate_tensor)


@tf.function
def break_and_continue(n):
    s = tf.constant(0)
    for i in tf.range(n):
        if i % 2 == 0:
            continue
        if i > 7:
            break
        s += i
    return s


case(c(20))(break_and_continue)


@tf.function
def loop_variable_after_loop(n):
    last = tf.constant(-1)
    for i in tf.range(n):
        last = i
    return last, i


case(c(4))(loop_variable_after_loop)


@tf.function
def python_list_loop(x):
    for scale in [1.0, 2.0, 3.0]:
        x = x * scale
    return x


case(c(1.5))(python_list_loop)


@tf.function
def nested_loops(n):
    acc = tf.constant(0)
    for i in tf.range(n):
        for j in tf.range(i):
            if (i + j) % 3 == 0:
                continue
            acc += i * j
    return acc


case(c(6))(nested_loops)


@tf.function
def python_loop_in_tensor_loop(n):
    acc = tf.constant(0.0)
    for i in tf.range(n):
        for k in range(3):
            acc += tf.cast(i, tf.float32) * k
    return acc


case(c(4))(python_loop_in_tensor_loop)


@tf.function
def enumerate_python_list(x):
    for i, w in enumerate([0.5, 2.0]):
        x = x * w + i
    return x


case(c(3.0))(enumerate_python_list)


# -- datasets ----------------------------------------------------------------------------------

def _range_dataset():
    return tf.data.Dataset.range(10)


@tf.function
def dataset_sum(ds):
    s = tf.constant(0, tf.int64)
    for x in ds:
        s += x
    return s


case(_range_dataset)(dataset_sum)


@tf.function
def dataset_break(ds):
    s = tf.constant(0, tf.int64)
    for x in ds:
        s += x
        if s > 10:
            break
    return s


case(_range_dataset)(dataset_break)


@tf.function
def dataset_of_pairs(ds):
    total = tf.constant(0.0)
    for x, y in ds:
        total += tf.reduce_sum(x) * y
    return total


case(lambda: tf.data.Dataset.from_tensor_slices(
    (np.arange(8, dtype=np.float32).reshape(4, 2), np.array([1, -1, 2, 0.5], np.float32))))(
    dataset_of_pairs)


@tf.function
def dataset_batches(ds):
    count = 0
    total = tf.constant(0, tf.int64)
    for batch in ds:
        total += tf.reduce_sum(batch)
        count += 1
    return count, total


case(lambda: tf.data.Dataset.range(12).batch(4))(dataset_batches)


# -- TensorArray -------------------------------------------------------------------------------

@tf.function
def fixed_size_array(x):
    ta = tf.TensorArray(tf.float32, size=4)
    for i in tf.range(4):
        ta = ta.write(i, x * tf.cast(i, tf.float32))
    return ta.stack()


case(c([1.0, 2.0]))(fixed_size_array)


@tf.function
def growing_array_known_length(x):
    ta = tf.TensorArray(tf.float32, size=0, dynamic_size=True)
    for i in tf.range(3):
        ta = ta.write(i, x + tf.cast(i, tf.float32))
    return ta.stack(), ta.size()


case(c(10.0))(growing_array_known_length)


@tf.function
def growing_array(n):
    ta = tf.TensorArray(tf.int32, size=0, dynamic_size=True)
    for i in tf.range(n):
        ta = ta.write(i, i * i)
    return ta.stack()


case(c(5))(growing_array)


@tf.function
def array_over_tensor_rows(x):
    ta = tf.TensorArray(tf.float32, size=0, dynamic_size=True)
    for i, row in enumerate(tf.unstack(x)):
        ta = ta.write(i, tf.reduce_max(row))
    return ta.stack()


case(c([[1.0, 5.0], [7.0, 2.0]]))(array_over_tensor_rows)


@tf.function
def array_read_in_loop(x):
    ta = tf.TensorArray(tf.float32, size=3).unstack(x)
    acc = tf.zeros([2])
    for i in tf.range(3):
        acc += ta.read(i)
    return acc


case(c([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]))(array_read_in_loop)


@tf.function
def array_read_while_filled(n):
    ta = tf.TensorArray(tf.float32, size=5)
    ta = ta.write(0, 1.0)
    for i in tf.range(1, n):
        ta = ta.write(i, ta.read(i - 1) * 2.0)
    return ta.stack()


case(c(5))(array_read_while_filled)


@tf.function
def array_written_under_a_cond(x):
    ta = tf.TensorArray(tf.float32, size=4)
    for i in tf.range(4):
        if i % 2 == 0:
            ta = ta.write(i, x * tf.cast(i, tf.float32))
        else:
            ta = ta.write(i, -x)
    return ta.stack()


case(c(3.0))(array_written_under_a_cond)


@tf.function
def array_filled_by_nested_loops(x):
    ta = tf.TensorArray(tf.float32, size=6)
    for i in tf.range(2):
        for j in tf.range(3):
            ta = ta.write(i * 3 + j, x + tf.cast(i * 10 + j, tf.float32))
    return ta.stack()


case(c(0.5))(array_filled_by_nested_loops)


@tf.function
def array_partly_written_before(x):
    ta = tf.TensorArray(tf.float32, size=4)
    ta = ta.write(0, x)
    ta = ta.write(3, x * 9)
    for i in tf.range(1, 3):
        ta = ta.write(i, x * tf.cast(i, tf.float32))
    return ta.stack()


case(c([1.0, 2.0]))(array_partly_written_before)


@tf.function
def two_arrays_gradient(x):
    with tf.GradientTape() as tape:
        tape.watch(x)
        a = tf.TensorArray(tf.float32, size=3)
        b = tf.TensorArray(tf.float32, size=3)
        h = x
        for i in tf.range(3):
            h = tf.sin(h) * 2.0
            a = a.write(i, h)
            b = b.write(2 - i, h * h)
        y = tf.reduce_sum(a.stack() * tf.constant([[1.0], [2.0], [3.0]])) + \
            tf.reduce_sum(b.stack())
    return y, tape.gradient(y, x)


case(c([0.3, -0.2]))(two_arrays_gradient)


# -- expressions -------------------------------------------------------------------------------

@tf.function
def conditional_expression(x):
    return x * 2 if x > 0 else -x


case(c(-5))(conditional_expression)


@tf.function
def logical_operators(x, y):
    return (x > 0 and y > 0), (x > 0 or y > 0), (not x > 0)


case(c(1), c(-1))(logical_operators)


@tf.function
def python_logical_operators(x):
    items = []
    return (items and x) or x + 1


case(c(1))(python_logical_operators)


@tf.function
def builtins_on_tensors(x):
    return len(x), int(x[0] * 2.7), float(x[1]), abs(x[2]), range(len(x))[-1]


case(c([3.5, -1.25, -2.0]))(builtins_on_tensors)


# -- functions and methods ---------------------------------------------------------------------

def helper(a):
    while a < 100:
        a = a * 3
    return a


@tf.function
def calls_helper(a):
    return helper(a) - 1


case(c(2))(calls_helper)


@tf.function
def nested_function(x):
    def clip(v):
        if v > 3:
            v = tf.constant(3.0)
        return v
    return clip(x) + clip(x - 10.0)


case(c(5.0))(nested_function)


class Accumulator(tf.Module):
    def __init__(self):
        super().__init__()
        self.total = tf.Variable(0.0)

    def _scaled(self, v):
        if v > 1.0:
            return v * 10.0
        return v

    @tf.function
    def add(self, xs):
        for v in xs:
            self.total.assign_add(self._scaled(v))
        return self.total.read_value()


_ACCUMULATOR = Accumulator()  # tf.function holds its instance weakly, as TF's does
case(c([0.5, 2.0, 3.0]))(_ACCUMULATOR.add)


# -- gradients ---------------------------------------------------------------------------------

@tf.function
def gradient_through_loop(x, n):
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = x
        for _ in tf.range(n):
            y = tf.sin(y) * x
    return y, tape.gradient(y, x)


case(c(0.7), c(4))(gradient_through_loop)


@tf.function
def gradient_through_if(x):
    with tf.GradientTape() as tape:
        tape.watch(x)
        if tf.reduce_sum(x) > 0:
            y = tf.reduce_sum(x * x)
        else:
            y = tf.reduce_sum(tf.exp(x))
    return tape.gradient(y, x)


case(c([1.0, -0.5]))(gradient_through_if)
case(c([-1.0, -0.5]))(gradient_through_if)


@tf.function
def gradient_of_variables_in_a_while(v, n):
    with tf.GradientTape() as tape:
        i = tf.constant(0)
        acc = tf.constant(1.0)
        while i < n:
            acc = acc * v + 1.0
            i += 1
    return acc, tape.gradient(acc, v)


_VARIABLE = {}


def _variable():
    if "v" not in _VARIABLE:
        _VARIABLE["v"] = tf.Variable(0.5)
    return _VARIABLE["v"]


case(_variable, c(3))(gradient_of_variables_in_a_while)


@tf.function
def gradient_through_array(x):
    with tf.GradientTape() as tape:
        tape.watch(x)
        ta = tf.TensorArray(tf.float32, size=3)
        h = x
        for i in tf.range(3):
            h = tf.tanh(h * 1.5)
            ta = ta.write(i, h)
        total = tf.reduce_sum(ta.stack())
    return total, tape.gradient(total, x)


case(c([0.2, -0.4]))(gradient_through_array)


# -- errors ------------------------------------------------------------------------------------

@tf.function
def undefined_in_else(x):
    if x > 0:
        y = 1
    return y


case(c(1))(undefined_in_else)


@tf.function
def missing_return_in_branch(x):
    if x > 0:
        return 1.0
    elif x < 0:
        return -1.0
    return 0.0


case(c(1.0))(missing_return_in_branch)


@tf.function
def branch_dtypes_differ(x):
    if x > 0:
        y = 1
    else:
        y = 2.0
    return y


case(c(1))(branch_dtypes_differ)


@tf.function
def loop_dtype_changes(n):
    i = tf.constant(0)
    while i < n:
        i = tf.cast(i, tf.float32) + 1.0
    return i


case(c(3))(loop_dtype_changes)


@tf.function
def loop_shape_changes(n):
    v = tf.zeros([1])
    for _ in tf.range(n):
        v = tf.concat([v, [1.0]], 0)
    return v


case(c(3))(loop_shape_changes)


@tf.function
def loop_structure_changes(n):
    v = (tf.constant(0), tf.constant(1))
    for i in tf.range(n):
        v = (i,)
    return v


case(c(3))(loop_structure_changes)


@tf.function
def none_before_loop(n):  # TF defines `v` by staging one iteration, as for undefined ones
    v = None
    for i in tf.range(n):
        v = i
    return v


case(c(3))(none_before_loop)


@tf.function
def return_in_tensor_loop(n):
    for i in tf.range(n):
        if i > 2:
            return i
    return -1


case(c(5))(return_in_tensor_loop)


@tf.function
def tensor_break_in_python_loop(x):
    for v in [1, 2, 3]:
        if x > v:
            break
        x += 1
    return x


case(c(0))(tensor_break_in_python_loop)


@tf.function
def non_bool_condition(x):
    if x:
        x = x + 1
    return x


case(c(2))(non_bool_condition)


@tf.function
def defined_only_in_loop(n):
    for i in tf.range(n):
        z = i * 2
    return z


case(c(3))(defined_only_in_loop)


def _inner_undefined(x):
    if x > 0:
        z = 1
    return z


@tf.function
def error_in_called_function(x):
    return _inner_undefined(x) * 2


case(c(1))(error_in_called_function)
