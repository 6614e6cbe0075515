"""Unique default names for layers, models and other Keras objects (`dense`, `dense_1`, ...),
and the one piece of global state they need, reset by `keras.backend.clear_session()`."""
import collections
import re

_uids = collections.defaultdict(int)


def to_snake_case(name):
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def uniquify(prefix):
    """`prefix` the first time, then `prefix_1`, `prefix_2`... (Keras's rule)."""
    n = _uids[prefix]
    _uids[prefix] = n + 1
    return prefix if n == 0 else f"{prefix}_{n}"


def auto_name(cls_or_obj):
    cls = cls_or_obj if isinstance(cls_or_obj, type) else type(cls_or_obj)
    return uniquify(to_snake_case(cls.__name__))


def clear_session():
    _uids.clear()
