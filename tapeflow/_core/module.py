"""`tf.name_scope` and `tf.Module`.

A name scope is a prefix ("outer/inner/") kept per thread in `context.state.name_scope`; in
eager TensorFlow its only visible effect is the name of variables created inside it, which
`Variable.__init__` reads. `tf.Module` is the base of TF's model-building guides: a named
container whose `variables`, `trainable_variables` and `submodules` are found by walking its
attributes (and the lists, tuples and dicts in them), in TF's order: the module's own leaves
first, attributes sorted by name, then each submodule's, depth-first, each object once.
"""
import functools
import re

from tapeflow._core import nest
from tapeflow._core.context import state
from tapeflow._core.variable import Variable


class name_scope:  # noqa: N801 - TF's public name
    """A context manager that prefixes the names of variables created inside it.

    `with tf.name_scope("outer"):` gives `outer/`; nested scopes append; a name ending in
    "/" is taken as the whole (absolute) scope; the empty name resets to the root scope.
    `__enter__` returns the full scope name.
    """

    def __init__(self, name):
        if not isinstance(name, str):
            raise ValueError("name for name_scope must be a string.")
        self._name = name
        self._saved = []

    @property
    def name(self):
        return self._name

    def __enter__(self):
        old = state.name_scope
        name = self._name
        if not name:
            scope = ""
        elif name[-1] == "/":
            scope = name
        else:
            scope = old + name + "/"
        self._saved.append(old)
        state.name_scope = scope
        return scope

    def __exit__(self, *exc):
        state.name_scope = self._saved.pop()
        return False


_VALID_NAME = re.compile(r"^[a-zA-Z_]([a-zA-Z0-9_])*$")
_CAMEL_TO_SNAKE = re.compile(r"((?<=[a-z0-9])[A-Z]|(?!^)[A-Z](?=[a-z]))")


def _camel_to_snake(value):
    return _CAMEL_TO_SNAKE.sub(r"_\1", value).lower()


def _is_variable(obj):
    return isinstance(obj, Variable)


def _is_trainable_variable(obj):
    return isinstance(obj, Variable) and getattr(obj, "trainable", False)


def _is_non_trainable_variable(obj):
    return isinstance(obj, Variable) and not getattr(obj, "trainable", False)


def _is_module(obj):
    return isinstance(obj, Module)


class Module:
    """Base class for named containers of variables and other modules.

    Args:
        name: the module's name (a Python identifier); defaults to the class name in
            snake_case. Variables created under `with self.name_scope:` (or in a method
            decorated with `tf.Module.with_name_scope`) are named `name/...`.

    Example:
    >>> class Dense(tf.Module):
    ...     def __init__(self, n_in, n_out, name=None):
    ...         super().__init__(name=name)
    ...         self.w = tf.Variable(tf.ones([n_in, n_out]), name="w")
    ...     def __call__(self, x):
    ...         return x @ self.w
    >>> len(Dense(3, 2).trainable_variables)
    1
    """

    _TF_MODULE_IGNORED_PROPERTIES = frozenset((
        "_self_unconditional_checkpoint_dependencies",
        "_self_unconditional_dependency_names"))

    def __init__(self, name=None):
        if name is None:
            name = _camel_to_snake(type(self).__name__)
        elif not _VALID_NAME.match(name):
            raise ValueError(f"'{name}' is not a valid module name. Module names must be valid "
                             f"Python identifiers (e.g. a valid class name).")
        self._name = name
        with name_scope(name) as scope_name:
            self._name_scope = name_scope(scope_name)

    @property
    def name(self):
        """The name given at construction (or derived from the class name)."""
        return self._name

    @property
    def name_scope(self):
        """A `tf.name_scope` for this module (enter it to name variables `name/...`)."""
        return self._name_scope

    @property
    def variables(self):
        """All `tf.Variable`s of this module and its submodules, each once."""
        return tuple(self._flatten(predicate=_is_variable, expand_composites=True))

    @property
    def trainable_variables(self):
        """The trainable variables of this module and its submodules."""
        return tuple(self._flatten(predicate=_is_trainable_variable, expand_composites=True))

    @property
    def non_trainable_variables(self):
        """The non-trainable variables of this module and its submodules."""
        return tuple(self._flatten(predicate=_is_non_trainable_variable,
                                   expand_composites=True))

    @property
    def submodules(self):
        """Every module reachable from this one's attributes (not itself), each once."""
        return tuple(self._flatten(predicate=_is_module))

    def _flatten(self, recursive=True, predicate=None, attribute_traversal_key=None,
                 with_path=False, expand_composites=False):
        """Yields the objects reachable from this module's attributes that satisfy
        `predicate` (with their attribute paths when `with_path`)."""
        if predicate is None:
            predicate = lambda _: True  # noqa: E731
        return _flatten_module(self, recursive=recursive, predicate=predicate,
                               attribute_traversal_key=attribute_traversal_key,
                               attributes_to_ignore=self._TF_MODULE_IGNORED_PROPERTIES,
                               with_path=with_path)

    @classmethod
    def with_name_scope(cls, method):
        """Decorates a method so that it runs inside the module's name scope."""
        @functools.wraps(method)
        def method_with_name_scope(self, *args, **kwargs):
            with self.name_scope:
                return method(self, *args, **kwargs)
        return method_with_name_scope


def _leaves_with_paths(structure, path=()):
    """(path, leaf) pairs of a nested structure, dicts in sorted-key order as `tf.nest`."""
    if not nest.is_nested(structure):
        return [(path, structure)]
    if hasattr(structure, "keys"):
        items = [(k, structure[k]) for k in nest._sorted(structure)]
    else:
        items = list(enumerate(structure))
    out = []
    for key, child in items:
        out.extend(_leaves_with_paths(child, path + (key,)))
    return out


def _flatten_module(module, recursive, predicate, attribute_traversal_key,
                    attributes_to_ignore, with_path, module_path=(), seen=None,
                    recursion_stack=None):
    module_id = id(module)
    if seen is None:
        seen = {module_id}
    if recursion_stack is None:
        recursion_stack = []
    # With paths an object may be reached twice; the stack stops cycles through modules.
    if module_id in recursion_stack:
        recursive = False
    module_dict = vars(module)
    submodules = []
    for key in sorted(module_dict, key=attribute_traversal_key):
        if key in attributes_to_ignore:
            continue
        prop = module_dict[key]
        try:
            leaves = _leaves_with_paths(prop)
        except Exception as cause:
            raise ValueError(f"Error processing property {key!r} of {prop!r}") from cause
        for leaf_path, leaf in leaves:
            leaf_path = (key,) + leaf_path
            if not with_path:
                if id(leaf) in seen:
                    continue
                seen.add(id(leaf))
            if predicate(leaf):
                yield (module_path + leaf_path, leaf) if with_path else leaf
            if recursive and _is_module(leaf):
                submodules.append((module_path + leaf_path, leaf))
    recursion_stack.append(module_id)
    for submodule_path, submodule in submodules:
        yield from _flatten_module(
            submodule, recursive=recursive, predicate=predicate,
            attribute_traversal_key=attribute_traversal_key,
            attributes_to_ignore=submodule._TF_MODULE_IGNORED_PROPERTIES, with_path=with_path,
            module_path=submodule_path, seen=seen, recursion_stack=recursion_stack)
    recursion_stack.pop()
