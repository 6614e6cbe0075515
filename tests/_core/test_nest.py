"""tf.nest against TensorFlow's."""
import collections

import pytest

import tapeflow as tf

Point = collections.namedtuple("Point", "x y")
STRUCTURES = [1, [1, 2], (1, [2, 3]), {"b": 1, "a": [2, 3]}, Point(1, (2, 3)), [], None,
              {"x": {"z": 1, "y": 2}}, [None, "s"]]


@pytest.mark.parametrize("s", STRUCTURES, ids=repr)
def test_flatten_and_pack_match_tf(realtf, s):
    assert tf.nest.flatten(s) == realtf.nest.flatten(s)
    flat = tf.nest.flatten(s)
    assert tf.nest.pack_sequence_as(s, flat) == realtf.nest.pack_sequence_as(s, flat)


def test_map_structure():
    assert tf.nest.map_structure(lambda a, b: a + b, {"a": 1, "b": (2,)}, {"a": 10, "b": (20,)}) \
        == {"a": 11, "b": (22,)}
    with pytest.raises(ValueError):
        tf.nest.map_structure(lambda a, b: a, [1, 2], [1])


def test_assert_same_structure():
    tf.nest.assert_same_structure([1, (2, 3)], [4, (5, 6)])
    with pytest.raises(ValueError):
        tf.nest.assert_same_structure([1, (2, 3)], [4, 5])
    with pytest.raises(ValueError):
        tf.nest.pack_sequence_as([1, 2], [1])
