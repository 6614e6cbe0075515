"""`tf.Module` and `tf.name_scope` (tapeflow/_core/module.py) against real TensorFlow: the
order of `variables`/`submodules` (TF's attribute walk), variable names under name scopes,
`with_name_scope`, `_flatten` paths, names derived from class names, and errors."""
import pytest

import tapeflow as tf


def _build(lib):
    """The same small module tree, built with `lib` (tapeflow or TensorFlow)."""
    class Leaf(lib.Module):
        def __init__(self, n, name=None):
            super().__init__(name=name)
            self.w = lib.Variable(lib.ones([n]), name="w")
            with self.name_scope:
                self.b = lib.Variable(lib.zeros([n]), name="b")
            self.frozen = lib.Variable(1, trainable=False, name="frozen")

        @lib.Module.with_name_scope
        def __call__(self, x):
            if not hasattr(self, "late"):
                self.late = lib.Variable(2.0, name="late")
            return x * self.w + self.b

    class Tree(lib.Module):
        def __init__(self):
            super().__init__()
            self.z_first = Leaf(2, name="zed")
            self.blocks = [Leaf(1, name="one"), {"b": Leaf(3), "a": (Leaf(1, name="two"),)}]
            self.shared = self.z_first            # reached twice, listed once
            self.extra = {"v": lib.Variable(5.0), "none": None, "num": 3}
            self.self_ref = [self]                # a cycle stops the walk

    tree = Tree()
    tree.blocks[0](lib.constant([1.0]))
    return tree


def _names(vs):
    return [v.name for v in vs]


def test_module_tree_matches_tf(realtf):
    ours, theirs = _build(tf), _build(realtf)
    assert ours.name == theirs.name == "tree"
    assert ours.name_scope.name == theirs.name_scope.name
    assert _names(ours.variables) == _names(theirs.variables)
    assert _names(ours.trainable_variables) == _names(theirs.trainable_variables)
    assert _names(ours.non_trainable_variables) == _names(theirs.non_trainable_variables)
    assert [m.name for m in ours.submodules] == [m.name for m in theirs.submodules]
    is_var = lambda lib: lambda v: isinstance(v, lib.Variable)  # noqa: E731
    assert list(p for p, _ in ours._flatten(predicate=is_var(tf), with_path=True)) == \
        list(p for p, _ in theirs._flatten(predicate=is_var(realtf), with_path=True))
    assert [m.name for m in ours._flatten(recursive=False, predicate=lambda m: isinstance(
        m, tf.Module))] == [m.name for m in theirs._flatten(
            recursive=False, predicate=lambda m: isinstance(m, realtf.Module))]
    assert isinstance(ours.variables, tuple) and isinstance(ours.submodules, tuple)


@pytest.mark.parametrize("cls_name", ["MyModule", "HTTPServer", "Dense2D", "already_snake",
                                      "ABC"])
def test_default_names_from_class_names(realtf, cls_name):
    assert type(cls_name, (tf.Module,), {})().name == \
        type(cls_name, (realtf.Module,), {})().name


@pytest.mark.parametrize("name", ["a b", "1x", "x/y", ""])
def test_invalid_names(realtf, name):
    with pytest.raises(ValueError) as ours:
        tf.Module(name=name)
    with pytest.raises(ValueError) as theirs:
        realtf.Module(name=name)
    assert str(ours.value) == str(theirs.value)


def _scoped_names(lib):
    out = []
    with lib.name_scope("outer") as scope:
        out.append(scope)
        out.append(lib.Variable(1.0, name="w").name)
        with lib.name_scope("inner") as inner:
            out.append(inner)
            out.append(lib.Variable(1.0).name)
            m = lib.Module(name="m")
            out.append(m.name_scope.name)
            with m.name_scope:
                out.append(lib.Variable(1.0, name="v").name)
        with lib.name_scope("abs/"):
            out.append(lib.Variable(1.0, name="a").name)
        with lib.name_scope(""):
            out.append(lib.Variable(1.0, name="root").name)
    out.append(lib.Variable(1.0, name="after").name)
    out.append(lib.name_scope("x").name)
    return out


def test_name_scopes_name_variables_as_tf(realtf):
    assert _scoped_names(tf) == _scoped_names(realtf)


def test_name_scope_needs_a_string(realtf):
    with pytest.raises(ValueError) as ours:
        tf.name_scope(None)
    with pytest.raises(ValueError) as theirs:
        realtf.name_scope(None)
    assert str(ours.value) == str(theirs.value)


def test_name_scope_is_restored_after_an_error():
    with pytest.raises(RuntimeError):
        with tf.name_scope("boom"):
            raise RuntimeError
    assert tf.Variable(1.0, name="v").name == "v:0"


def test_keras_variables_keep_short_names(realtf):
    for lib in (tf, realtf):
        with lib.name_scope("outer"):
            layer = lib.keras.layers.Dense(1)
            layer.build((None, 2))
        assert layer.kernel.name == "kernel"


def test_module_gradients_and_tf_function():
    class Lin(tf.Module):
        def __init__(self):
            super().__init__()
            self.w = tf.Variable([[1.0], [2.0]])

        @tf.function
        def __call__(self, x):
            return x @ self.w

    m = Lin()
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(m(tf.constant([[1.0, 1.0]])))
    (g,) = tape.gradient(y, m.trainable_variables)
    assert g.numpy().tolist() == [[1.0], [1.0]]
    assert m(tf.constant([[3.0, 4.0]])).numpy().tolist() == [[11.0]]
