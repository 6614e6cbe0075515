"""In the style of the TF guide "Working with sparse tensors"."""
import tensorflow as tf

st1 = tf.sparse.SparseTensor(indices=[[0, 3], [2, 4]], values=[10, 20], dense_shape=[3, 10])
print(st1)


def pprint_sparse_tensor(st):
    s = "<SparseTensor shape=%s \n values={" % (st.dense_shape.numpy().tolist(),)
    for (index, value) in zip(st.indices, st.values):
        s += "\n  %s: %s" % (index.numpy().tolist(), value.numpy().tolist())
    return s + "}>"


print(pprint_sparse_tensor(st1))
st2 = tf.sparse.from_dense([[1, 0, 0, 8], [0, 0, 0, 0], [0, 0, 3, 0]])
print(pprint_sparse_tensor(st2))
st3 = tf.sparse.to_dense(st2)
print(st3)
print(st2.shape, st2.dtype, repr(st2.dense_shape))

st_a = tf.sparse.SparseTensor(indices=[[0, 2], [3, 4]], values=[31, 2], dense_shape=[4, 10])
st_b = tf.sparse.SparseTensor(indices=[[0, 2], [3, 0]], values=[56, 38], dense_shape=[4, 10])
st_sum = tf.sparse.add(st_a, st_b)
print(pprint_sparse_tensor(st_sum))

st_c = tf.sparse.SparseTensor(indices=([0, 1], [1, 0], [1, 1]), values=[13, 15, 17],
                              dense_shape=(2, 2))
mb = tf.constant([[4], [6]])
product = tf.sparse.sparse_dense_matmul(st_c, mb)
print(product)

sparse_pattern_A = tf.sparse.SparseTensor(indices=[[2, 4], [3, 3], [3, 4], [4, 3], [4, 4],
                                                   [5, 4]],
                                          values=[1, 1, 1, 1, 1, 1], dense_shape=[8, 5])
sparse_pattern_B = tf.sparse.SparseTensor(indices=[[0, 2], [1, 1], [1, 3], [2, 0], [2, 4],
                                                   [2, 5], [3, 5], [4, 5], [5, 0], [5, 4],
                                                   [5, 5], [6, 1], [6, 3], [7, 2]],
                                          values=[1] * 14, dense_shape=[8, 6])
sparse_pattern_C = tf.sparse.SparseTensor(indices=[[3, 0], [4, 0]], values=[1, 1],
                                          dense_shape=[8, 6])
sparse_patterns_list = [sparse_pattern_A, sparse_pattern_B, sparse_pattern_C]
print(tf.sparse.to_dense(sparse_pattern_B))

st = tf.sparse.SparseTensor(indices=[[2, 0], [0, 1], [1, 3]], values=[1.5, 2.5, 3.5],
                            dense_shape=[3, 4])
ordered = tf.sparse.reorder(st)
print(ordered.indices.numpy().tolist(), ordered.values.numpy().tolist())
print(tf.sparse.to_dense(ordered))
print(tf.sparse.reshape(ordered, [2, 6]))
print(tf.sparse.reduce_sum(ordered))
print(tf.sparse.reduce_sum(ordered, axis=1))
print(tf.sparse.retain(ordered, [True, False, True]))
print(tf.sparse.map_values(tf.math.multiply, ordered, 10.0))
print(ordered * tf.constant([[1.0], [2.0], [3.0]]))
print(tf.sparse.to_dense(tf.sparse.transpose(ordered)))
print(tf.sparse.to_indicator(tf.sparse.SparseTensor([[0, 0], [0, 1], [1, 0]], [2, 0, 3],
                                                    [2, 2]), 4))

try:
    tf.sparse.to_dense(st)
except tf.errors.InvalidArgumentError as e:
    print("InvalidArgumentError:", e.message.split("}} ")[1].splitlines()[0])

x = tf.constant([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0]])
values = tf.Variable([0.5, -1.0, 2.0])
with tf.GradientTape() as tape:
    w = tf.sparse.SparseTensor(indices=[[0, 1], [1, 2], [1, 3]], values=values,
                               dense_shape=[2, 4])
    y = tf.reduce_sum(tf.sparse.sparse_dense_matmul(w, x) ** 2)
print(y)
print(tape.gradient(y, values))

tf.print(st_c)
print(tf.sparse.add(st_c, tf.ones([2, 2], tf.int32)))
