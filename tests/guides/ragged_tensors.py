"""In the style of the TF guide "Ragged tensors"."""
import tensorflow as tf

digits = tf.ragged.constant([[3, 1, 4, 1], [], [5, 9, 2], [6], []])
words = tf.ragged.constant([["So", "long"], ["thanks", "for", "all", "the", "fish"]])
print(digits)
print(words)
print(digits + 3)
print(digits * 2 - digits)
print(tf.ragged.map_flat_values(tf.math.square, digits))
print(tf.ragged.map_flat_values(tf.strings.length, words))
print(digits.to_list())
print(words.to_tensor())

print(digits[0])
print(digits[:, :2])
print(digits[:, -2:])
print(digits[2:])
print(words[1, 2])

times_two_plus_one = lambda x: x * 2 + 1
print(tf.ragged.map_flat_values(times_two_plus_one, digits))

sentences = tf.ragged.constant([
    ["Let's", "build", "some", "ragged", "tensors", "!"],
    ["We", "can", "use", "tf.ragged.constant", "."]])
print(sentences)

paragraphs = tf.ragged.constant([
    [['I', 'have', 'a', 'cat'], ['His', 'name', 'is', 'Mat']],
    [['Do', 'you', 'want', 'to', 'come', 'visit'], ["I'm", 'free', 'tomorrow']],
])
print(paragraphs)
print(paragraphs.shape, paragraphs.ragged_rank)

print(tf.RaggedTensor.from_value_rowids(
    values=[3, 1, 4, 1, 5, 9, 2],
    value_rowids=[0, 0, 0, 0, 2, 2, 3]))
print(tf.RaggedTensor.from_row_lengths(
    values=[3, 1, 4, 1, 5, 9, 2],
    row_lengths=[4, 0, 2, 1]))
print(tf.RaggedTensor.from_row_splits(
    values=[3, 1, 4, 1, 5, 9, 2],
    row_splits=[0, 4, 4, 6, 7]))
print(tf.ragged.constant([["Hi"], ["How", "are", "you"]]))
print(tf.ragged.constant([[[1, 2], [3]], [[4, 5]]]))
try:
    tf.ragged.constant([["one", "two"], [3, 4]])
except ValueError as exception:
    print(type(exception).__name__)
try:
    tf.ragged.constant(["A", ["B", "C"]])
except ValueError as exception:
    print(exception)

queries = tf.ragged.constant([['Who', 'is', 'Dan', 'Smith'],
                              ['Pause'],
                              ['Will', 'it', 'rain', 'later', 'today']])
print(queries.row_lengths())
print(queries.nrows(), queries.row_splits)
print(queries.to_tensor(default_value="#"))

x = [[1, 3, -1, -1], [2, -1, -1, -1], [4, 5, 8, 9]]
print(tf.RaggedTensor.from_tensor(x, padding=-1))
print(tf.RaggedTensor.from_tensor(x, lengths=[2, 1, 4]))
print(tf.strings.split(["Hello world", "What a day it has been"]))
rt = tf.ragged.constant([[1, 2], [3], [], [4, 5, 6]])
print(rt.values, rt.row_splits, rt.flat_values)
print(rt.bounding_shape())
print(rt.to_tensor(shape=[3, 2], default_value=9))
print(rt.numpy())
print(repr(rt.shape), rt.dtype)
print(rt > 2)
tf.print(rt, queries)
try:
    rt + tf.ragged.constant([[1], [2]])
except tf.errors.InvalidArgumentError:
    print("InvalidArgumentError")

values = tf.constant([1.0, 2.0, 3.0, 4.0])
with tf.GradientTape() as tape:
    tape.watch(values)
    ragged = tf.RaggedTensor.from_row_lengths(values, [3, 0, 1])
    padded = (ragged * ragged).to_tensor()
    loss = tf.reduce_sum(padded * tf.constant([[1.0], [2.0], [3.0]]))
print(padded)
print(tape.gradient(loss, values))
