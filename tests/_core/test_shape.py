"""tf.TensorShape against TensorFlow's."""
import pytest

import tapeflow as tf


@pytest.mark.parametrize("dims", [[2, None, 3], [], [5], None, [None], [0, 4]])
def test_shape_behaviour_matches_tf(realtf, dims):
    ours, theirs = tf.TensorShape(dims), realtf.TensorShape(dims)
    assert str(ours) == str(theirs) and repr(ours) == repr(theirs)
    assert ours.rank == theirs.rank and ours.is_fully_defined() == theirs.is_fully_defined()
    assert ours.num_elements() == theirs.num_elements()
    if dims is not None:
        assert ours.as_list() == theirs.as_list() and len(ours) == len(theirs)
        assert list(ours) == list(theirs)
        assert repr(ours[0:1]) == repr(theirs[0:1])


def test_compatibility_and_merge(realtf):
    a = tf.TensorShape([2, None, 3])
    assert a.is_compatible_with([2, 5, 3]) and not a.is_compatible_with([2, 5])
    assert a.merge_with([2, 4, 3]) == [2, 4, 3]
    assert a.concatenate([5]).as_list() == [2, None, 3, 5]
    with pytest.raises(ValueError):
        a.merge_with([3, 4, 3])
    with pytest.raises(ValueError, match="as_list"):
        tf.TensorShape(None).as_list()
    assert tf.TensorShape([1, 2]) == (1, 2) and tf.TensorShape([2]) + [3] == [2, 3]
    assert str(realtf.TensorShape([2]) + [3]) == str(tf.TensorShape([2]) + [3])


def test_dims_and_dimension():
    d = tf.TensorShape([2, None]).dims
    assert [x.value for x in d] == [2, None] and repr(d[0]) == "Dimension(2)"


def test_negative_dimension_rejected():
    with pytest.raises(ValueError):
        tf.TensorShape([-2])
