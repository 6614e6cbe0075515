"""In the style of the TF guide "tf.data: Build TensorFlow input pipelines"."""
import numpy as np
import tensorflow as tf

dataset = tf.data.Dataset.from_tensor_slices([8, 3, 0, 8, 2, 1])
print(dataset)
for elem in dataset:
    print(elem.numpy())
it = iter(dataset)
print(next(it).numpy())
print(dataset.reduce(0, lambda state, value: state + value).numpy())

dataset1 = tf.data.Dataset.from_tensor_slices(
    tf.constant(np.arange(40, dtype="float32").reshape(4, 10) / 40))
print(dataset1.element_spec)
dataset2 = tf.data.Dataset.from_tensor_slices(
    (tf.constant(np.arange(4, dtype="float32") / 4), tf.constant(np.arange(400).reshape(4, 100))))
print(dataset2.element_spec)
dataset3 = tf.data.Dataset.zip((dataset1, dataset2))
print(dataset3.element_spec)
for a, (b, c) in dataset3.take(1):
    print('shapes: {a.shape}, {b.shape}, {c.shape}'.format(a=a, b=b, c=c))

features = np.arange(60, dtype="float32").reshape(6, 10)
labels = np.arange(6)
ds = tf.data.Dataset.from_tensor_slices((features, labels))
print(ds)
print(ds.cardinality().numpy())


def count(stop):
    i = 0
    while i < stop:
        yield i
        i += 1


ds_counter = tf.data.Dataset.from_generator(count, args=[25], output_types=tf.int32,
                                            output_shapes=())
for count_batch in ds_counter.repeat().batch(10).take(5):
    print(count_batch.numpy())


def gen_series():
    i = 0
    while True:
        size = (i * 7) % 10
        yield i, np.arange(size, dtype="float32")
        i += 1
        if i > 20:
            return


ds_series = tf.data.Dataset.from_generator(
    gen_series, output_types=(tf.int32, tf.float32), output_shapes=((), (None,)))
print(ds_series)
ds_series_batch = ds_series.shuffle(20, seed=3).padded_batch(10)
ids, sequence_batch = next(iter(ds_series_batch))
print(ids.shape, sequence_batch.shape[0])

inc_dataset = tf.data.Dataset.range(100)
dec_dataset = tf.data.Dataset.range(0, -100, -1)
dataset = tf.data.Dataset.zip((inc_dataset, dec_dataset))
batched_dataset = dataset.batch(4)
for batch in batched_dataset.take(4):
    print([arr.numpy() for arr in batch])
print(batched_dataset)
batched_dataset = dataset.batch(7, drop_remainder=True)
print(batched_dataset)

dataset = tf.data.Dataset.range(100)
dataset = dataset.map(lambda x: tf.fill([tf.cast(x, tf.int32)], x))
dataset = dataset.padded_batch(4, padded_shapes=(None,))
for batch in dataset.take(2):
    print(batch.numpy())
    print()

titanic_lines = tf.data.Dataset.from_tensor_slices(tf.range(10))
for n, b in enumerate(titanic_lines.repeat(3).batch(8)):
    print(n, b.shape)
for n, b in enumerate(titanic_lines.batch(8).repeat(3)):
    print(n, b.shape)

lines = tf.data.Dataset.range(10).filter(lambda x: x % 3 == 0)
print(list(lines.as_numpy_iterator()))
print(list(tf.data.Dataset.range(5).enumerate(start=10).as_numpy_iterator()))
print(list(tf.data.Dataset.range(6).batch(2).unbatch().as_numpy_iterator()))
print(list(tf.data.Dataset.range(5).skip(2).as_numpy_iterator()))
print(list(tf.data.Dataset.range(8).shard(3, 1).as_numpy_iterator()))
print(list(tf.data.Dataset.range(3).concatenate(tf.data.Dataset.range(2)).as_numpy_iterator()))
print(list(tf.data.Dataset.range(4).map(lambda x: {"a": x, "b": x * 2}).as_numpy_iterator()))
print(list(tf.data.Dataset.range(4).cache().prefetch(tf.data.AUTOTUNE).as_numpy_iterator()))
print(list(tf.data.Dataset.range(3).flat_map(lambda x: tf.data.Dataset.range(x))
           .as_numpy_iterator()))
print(sorted(tf.data.Dataset.range(10).shuffle(10, seed=1).as_numpy_iterator()))
print(tf.data.Dataset.range(10).batch(3).cardinality().numpy(),
      tf.data.Dataset.range(10).repeat().cardinality().numpy() == tf.data.INFINITE_CARDINALITY)
print(tf.data.Dataset.range(3).map(lambda x: tf.cast(x, tf.float32) / 2).element_spec)
print(list(tf.data.Dataset.range(8).shard(3, 1).as_numpy_iterator()))
print(list(tf.data.Dataset.from_tensor_slices(([1, 2, 3, 4], [5, 6, 7, 8])).shard(2, 0).as_numpy_iterator()))
print(tf.data.Dataset.from_tensor_slices(([1, 2, 3, 4], [5, 6, 7, 8])).shard(2, 0).element_spec)
for a in [(0, 0), (3, 3)]:
    try:
        tf.data.Dataset.range(8).shard(*a)
    except tf.errors.InvalidArgumentError as e:
        print("InvalidArgumentError")
