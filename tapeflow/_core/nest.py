"""`tf.nest`: flatten and rebuild nested structures of lists, tuples, namedtuples and dicts.

Dicts flatten in sorted-key order, as TensorFlow does, so structures round-trip identically.
Everything else (tensors, numbers, None, strings) is a leaf; composite tensors (SparseTensor,
RaggedTensor: `_tf_composite`) are leaves too unless `expand_composites=True`, which opens them
into their component tensors (`_tf_components()`, rebuilt by `_tf_rebuild(components)`).
"""
import collections.abc


def _is_namedtuple(x):
    return isinstance(x, tuple) and hasattr(type(x), "_fields")


def is_nested(x):
    return isinstance(x, (list, tuple, dict, collections.abc.Mapping)) and not isinstance(x, str)


is_sequence = is_nested


def _children(x):
    if isinstance(x, collections.abc.Mapping):
        return [x[k] for k in _sorted(x)]
    return list(x)


def _sorted(mapping):
    try:
        return sorted(mapping)
    except TypeError:
        return list(mapping)


def _composite(x):
    return getattr(type(x), "_tf_composite", False)


def flatten(structure, expand_composites=False):
    if not is_nested(structure) and not (expand_composites and _composite(structure)):
        return [structure]
    out = []
    _flatten_into(structure, out, expand_composites)
    return out


def _flatten_into(x, out, expand=False):
    if is_nested(x):
        for c in _children(x):
            _flatten_into(c, out, expand)
    elif expand and _composite(x):
        for c in x._tf_components():
            _flatten_into(c, out, expand)
    else:
        out.append(x)


def _rebuild(template, children):
    if isinstance(template, collections.abc.Mapping):
        keys = _sorted(template)
        d = dict(zip(keys, children))
        if type(template) is dict:
            return {k: d[k] for k in template}
        try:
            return type(template)((k, d[k]) for k in template)
        except TypeError:
            return {k: d[k] for k in template}
    if _is_namedtuple(template):
        return type(template)(*children)
    if isinstance(template, tuple):
        return tuple(children)
    if isinstance(template, list):
        return list(children)
    return type(template)(children)


def pack_sequence_as(structure, flat_sequence, expand_composites=False):
    flat = list(flat_sequence)
    pos = [0]

    def build(t):
        if is_nested(t):
            return _rebuild(t, [build(c) for c in _children(t)])
        if expand_composites and _composite(t):
            return t._tf_rebuild([build(c) for c in t._tf_components()])
        v = flat[pos[0]]
        pos[0] += 1
        return v

    n = len(flatten(structure, expand_composites))
    if n != len(flat):
        raise ValueError(f"Could not pack sequence. Structure had {n} atoms, but flat_sequence "
                         f"had {len(flat)} items. Structure: {structure}, flat_sequence: "
                         f"{flat}.")
    return build(structure)


def assert_same_structure(nest1, nest2, check_types=True, expand_composites=False):
    def check(a, b):
        if is_nested(a) != is_nested(b):
            raise ValueError(f"The two structures don't have the same nested structure.\n\n"
                             f"First structure: {nest1}\n\nSecond structure: {nest2}")
        if is_nested(a):
            if check_types and type(a) is not type(b) and not (
                    isinstance(a, collections.abc.Mapping) and
                    isinstance(b, collections.abc.Mapping)):
                raise TypeError(f"The two structures don't have the same sequence type. Input "
                                f"structure has type {type(a)}, while shallow structure has "
                                f"type {type(b)}.")
            ca, cb = _children(a), _children(b)
            if len(ca) != len(cb) or (isinstance(a, collections.abc.Mapping) and
                                      _sorted(a) != _sorted(b)):
                raise ValueError(f"The two structures don't have the same nested structure.\n\n"
                                 f"First structure: {nest1}\n\nSecond structure: {nest2}")
            for x, y in zip(ca, cb):
                check(x, y)
    check(nest1, nest2)


def map_structure(func, *structure, **kwargs):
    check_types = kwargs.pop("check_types", True)
    expand = kwargs.pop("expand_composites", False)
    if not structure:
        raise ValueError("Must provide at least one structure")
    for other in structure[1:]:
        assert_same_structure(structure[0], other, check_types=check_types)
    flats = [flatten(s, expand) for s in structure]
    return pack_sequence_as(structure[0], [func(*xs) for xs in zip(*flats)], expand)


def map_structure_up_to(shallow, func, *inputs):
    return map_structure(func, *inputs)
