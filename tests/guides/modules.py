"""In the style of the TF guide "Introduction to modules, layers, and models"."""
import tensorflow as tf


class SimpleModule(tf.Module):
    def __init__(self, name=None):
        super().__init__(name=name)
        self.a_variable = tf.Variable(5.0, name="train_me")
        self.non_trainable_variable = tf.Variable(5.0, trainable=False, name="do_not_train_me")

    def __call__(self, x):
        return self.a_variable * x + self.non_trainable_variable


simple_module = SimpleModule(name="simple")
print(simple_module(tf.constant(5.0)))
print("trainable variables:", simple_module.trainable_variables)
print("all variables:", simple_module.variables)
print(simple_module.non_trainable_variables)
print(simple_module.name, simple_module.name_scope.name)


class Dense(tf.Module):
    def __init__(self, in_features, out_features, name=None):
        super().__init__(name=name)
        self.w = tf.Variable(tf.ones([in_features, out_features]) * 0.5, name='w')
        self.b = tf.Variable(tf.zeros([out_features]), name='b')

    def __call__(self, x):
        y = tf.matmul(x, self.w) + self.b
        return tf.nn.relu(y)


class SequentialModule(tf.Module):
    def __init__(self, name=None):
        super().__init__(name=name)
        self.dense_1 = Dense(in_features=3, out_features=3)
        self.dense_2 = Dense(in_features=3, out_features=2)

    def __call__(self, x):
        x = self.dense_1(x)
        return self.dense_2(x)


my_model = SequentialModule(name="the_model")
print("Model results:", my_model(tf.constant([[2.0, 2.0, 2.0]])))
print("Submodules:", [m.name for m in my_model.submodules])
for var in my_model.variables:
    print(var, "\n")
print(len(my_model.trainable_variables))


class FlexibleDenseModule(tf.Module):
    def __init__(self, out_features, name=None):
        super().__init__(name=name)
        self.is_built = False
        self.out_features = out_features

    def __call__(self, x):
        if not self.is_built:
            self.w = tf.Variable(tf.fill([x.shape[-1], self.out_features], 0.25), name='w')
            self.b = tf.Variable(tf.zeros([self.out_features]), name='b')
            self.is_built = True
        y = tf.matmul(x, self.w) + self.b
        return tf.nn.relu(y)


class MySequentialModule(tf.Module):
    def __init__(self, name=None):
        super().__init__(name=name)
        self.dense_1 = FlexibleDenseModule(out_features=3)
        self.dense_2 = FlexibleDenseModule(out_features=2)

    def __call__(self, x):
        x = self.dense_1(x)
        return self.dense_2(x)


my_model = MySequentialModule(name="the_model")
print("Model results:", my_model(tf.constant([[2.0, 2.0, 2.0]])))
print([v.name for v in my_model.variables])


class MyModule(tf.Module):
    def __init__(self, name=None):
        super().__init__(name=name)
        with self.name_scope:
            self.v = tf.Variable(1.0, name="v")
        self.layers = [Dense(2, 2, name="first"), {"second": Dense(2, 1, name="second")}]
        self.extra = (tf.Variable(3, trainable=False, name="counter"),)

    @tf.Module.with_name_scope
    def __call__(self, x):
        if not hasattr(self, "late"):
            self.late = tf.Variable(2.0, name="late")
        return x * self.v * self.late

    @tf.function
    def traced(self, x):
        return self.layers[0](x)


m = MyModule()
print(m.name, m.name_scope.name)
print(m(tf.constant(2.0)))
print([v.name for v in m.variables])
print([v.name for v in m.trainable_variables])
print([v.name for v in m.non_trainable_variables])
print([s.name for s in m.submodules])
print(m.traced(tf.constant([[1.0, 2.0]])))
print(list(path for path, _ in m._flatten(predicate=lambda v: isinstance(v, tf.Variable),
                                          with_path=True)))
print(tf.Module().name, tf.Module(name="x").name)
try:
    tf.Module(name="not valid")
except ValueError as e:
    print(e)


class CamelCaseHTTPModule(tf.Module):
    pass


print(CamelCaseHTTPModule().name)

with tf.name_scope("outer") as scope:
    print(scope)
    v = tf.Variable(1.0, name="w")
    with tf.name_scope("inner"):
        u = tf.Variable(1.0)
        inner = Dense(1, 1)
    d = tf.keras.layers.Dense(1)
    d.build((None, 1))
print(v.name, u.name, inner.name, inner.name_scope.name, d.kernel.name)
with tf.name_scope("abs/"):
    print(tf.Variable(1.0, name="q").name)

with tf.GradientTape() as tape:
    out = my_model(tf.constant([[1.0, 2.0, 3.0]]))
    loss = tf.reduce_sum(out)
grads = tape.gradient(loss, my_model.trainable_variables)
print([g.shape for g in grads])
print(isinstance(tf.keras.layers.Dense(1), tf.Module))


class MyDense(tf.keras.layers.Layer):
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="ones",
                                 name="w")

    def call(self, x):
        return x @ self.w


layer = MyDense(2)
print(layer(tf.ones([1, 3])))
print([v.name for v in layer.variables], [v.name for v in layer.trainable_variables])
