"""tf.train.Example / SequenceExample messages and tf.io.parse_*example against real TF: the
same wire bytes and text, the same parsed dicts (key order, dtypes, shapes, sparse parts) and
TF's error classes and texts."""
import numpy as np
import pytest

import tapeflow as tf
from tests.io._compare import check

GRAD_CASES = []


def feature(m, v):
    if isinstance(v[0], bytes):
        return m.train.Feature(bytes_list=m.train.BytesList(value=v))
    if isinstance(v[0], float):
        return m.train.Feature(float_list=m.train.FloatList(value=v))
    return m.train.Feature(int64_list=m.train.Int64List(value=v))


def example(m, **values):
    return m.train.Example(features=m.train.Features(
        feature={k: feature(m, v) for k, v in values.items()})).SerializeToString()


def batch(m):
    return [example(m, a=[1, 2], b=[1.5], c=[b"x", b"yy"], d=[1.0, 2.0, 3.0, 4.0]),
            example(m, a=[3, 4], b=[2.5], c=[b"z"], d=[5.0, 6.0]),
            m.train.Example(features=m.train.Features(
                feature={"a": feature(m, [5, 6]), "b": feature(m, [0.0]),
                         "c": m.train.Feature()})).SerializeToString()]


def specs(m):
    return {"b": m.io.FixedLenFeature([], m.float32), "a": m.io.FixedLenFeature([2], m.int64),
            "c": m.io.VarLenFeature(m.string)}


CASES = {
    "single": lambda m: m.io.parse_single_example(batch(m)[0], specs(m)),
    "batch": lambda m: m.io.parse_example(batch(m), specs(m)),
    "batch_tensor": lambda m: m.io.parse_example(m.constant(batch(m)), specs(m)),
    "scalar_to_parse_example": lambda m: m.io.parse_example(batch(m)[1], specs(m)),
    "varlen_float": lambda m: m.io.parse_example(batch(m), {"d": m.io.VarLenFeature(m.float32)}),
    "varlen_int_absent": lambda m: m.io.parse_example(batch(m),
                                                      {"zz": m.io.VarLenFeature(m.int64)}),
    "fixed_2d": lambda m: m.io.parse_example(batch(m)[:1], {"a": m.io.FixedLenFeature(
        [1, 2], m.int64)}),
    "default": lambda m: m.io.parse_example(batch(m), {"zz": m.io.FixedLenFeature(
        [2], m.float32, default_value=[1.0, 2.0])}),
    "default_string": lambda m: m.io.parse_single_example(batch(m)[0], {
        "zz": m.io.FixedLenFeature([], m.string, default_value="none")}),
    "sequence_feature": lambda m: m.io.parse_example(batch(m), {
        "d": m.io.FixedLenSequenceFeature([2], m.float32, allow_missing=True),
        "c": m.io.FixedLenSequenceFeature([], m.string, allow_missing=True)}),
    "sequence_feature_default": lambda m: m.io.parse_example(batch(m), {
        "d": m.io.FixedLenSequenceFeature([], m.float32, allow_missing=True,
                                          default_value=-1.0)}),
    "wrong_count": lambda m: m.io.parse_example(batch(m), {"a": m.io.FixedLenFeature([3],
                                                                                   m.int64)}),
    "wrong_count_float": lambda m: m.io.parse_example(batch(m), {
        "d": m.io.FixedLenFeature([3], m.float32)}),
    "wrong_type": lambda m: m.io.parse_example(batch(m), {"a": m.io.FixedLenFeature([2],
                                                                                  m.float32)}),
    "wrong_type_bytes": lambda m: m.io.parse_example(batch(m), {"c": m.io.VarLenFeature(
        m.int64)}),
    "missing": lambda m: m.io.parse_example(batch(m), {"zz": m.io.FixedLenFeature([2],
                                                                                m.float32)}),
    "named_missing": lambda m: m.io.parse_example(batch(m)[:2], {
        "zz": m.io.FixedLenFeature([], m.int64)}, example_names=["first", "second"]),
    "bad_default_size": lambda m: m.io.parse_example(batch(m), {
        "zz": m.io.FixedLenFeature([2], m.float32, default_value=[1.0, 2.0, 3.0])}),
    "sequence_without_allow_missing": lambda m: m.io.parse_example(batch(m), {
        "a": m.io.FixedLenSequenceFeature([], m.int64)}),
    "single_not_scalar": lambda m: m.io.parse_single_example(batch(m)[:1], specs(m)),
    "garbage": lambda m: m.io.parse_single_example(b"garbage", specs(m)),
    "no_shape": lambda m: m.io.parse_example(batch(m), {"a": m.io.FixedLenFeature(None,
                                                                                m.int64)}),
    "no_features": lambda m: m.io.parse_example(batch(m), {}),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_parse_example_matches_tensorflow(name, realtf):
    check(CASES[name], tf, realtf)


def sequence(m):
    return m.train.SequenceExample(
        context=m.train.Features(feature={"len": feature(m, [3]), "id": feature(m, [b"s1"])}),
        feature_lists=m.train.FeatureLists(feature_list={
            "tok": m.train.FeatureList(feature=[feature(m, [1, 2]), feature(m, [3, 4]),
                                                feature(m, [5, 6])]),
            "w": m.train.FeatureList(feature=[feature(m, [b"a"]), feature(m, [b"b", b"c"])])}),
    ).SerializeToString()


def short_sequence(m):
    return m.train.SequenceExample(
        context=m.train.Features(feature={"len": feature(m, [1])}),
        feature_lists=m.train.FeatureLists(feature_list={
            "tok": m.train.FeatureList(feature=[feature(m, [7, 8])])})).SerializeToString()


def seq_specs(m):
    return dict(context_features={"len": m.io.FixedLenFeature([], m.int64),
                                  "id": m.io.VarLenFeature(m.string)},
                sequence_features={"tok": m.io.FixedLenSequenceFeature([2], m.int64),
                                   "w": m.io.VarLenFeature(m.string)})


SEQUENCE_CASES = {
    "single": lambda m: m.io.parse_single_sequence_example(sequence(m), **seq_specs(m)),
    "batch_padded": lambda m: m.io.parse_sequence_example(
        [sequence(m), short_sequence(m)],
        context_features={"len": m.io.FixedLenFeature([], m.int64)},
        sequence_features={"tok": m.io.FixedLenSequenceFeature([2], m.int64),
                           "w": m.io.VarLenFeature(m.string)}),
    "wrong_step_size": lambda m: m.io.parse_single_sequence_example(
        sequence(m), sequence_features={"tok": m.io.FixedLenSequenceFeature([3], m.int64)}),
    "missing_list": lambda m: m.io.parse_single_sequence_example(
        sequence(m), sequence_features={"zz": m.io.FixedLenSequenceFeature([3], m.int64)}),
    "missing_allowed": lambda m: m.io.parse_single_sequence_example(
        sequence(m), sequence_features={"zz": m.io.FixedLenSequenceFeature(
            [3], m.int64, allow_missing=True)}),
    "fixed_len_in_lists": lambda m: m.io.parse_single_sequence_example(
        sequence(m), sequence_features={"tok": m.io.FixedLenFeature([3], m.int64)}),
}


@pytest.mark.parametrize("name", sorted(SEQUENCE_CASES))
def test_parse_sequence_example_matches_tensorflow(name, realtf):
    check(SEQUENCE_CASES[name], tf, realtf)


def test_messages_are_wire_and_text_compatible(realtf):
    ours = tf.train.Example.FromString(batch(realtf)[0])
    theirs = realtf.train.Example.FromString(batch(tf)[0])
    # (a map's order on the wire changes from process to process: deterministic sorts it)
    assert ours.SerializeToString(deterministic=True) == \
        realtf.train.Example.FromString(batch(realtf)[0]).SerializeToString(deterministic=True)
    assert str(ours) == str(theirs) and repr(ours) == repr(theirs)
    seq = tf.train.SequenceExample.FromString(sequence(realtf))
    assert str(seq) == str(realtf.train.SequenceExample.FromString(sequence(tf)))
    assert seq.feature_lists.feature_list["tok"].feature[1].int64_list.value == [3, 4]
    assert ours.features.feature["c"].WhichOneof("kind") == "bytes_list"


def test_feature_configs_print_as_tensorflow(realtf):
    for make in (lambda m: m.io.FixedLenFeature([2], m.int64),
                 lambda m: m.io.FixedLenFeature([], m.string, default_value=""),
                 lambda m: m.io.VarLenFeature(m.float32),
                 lambda m: m.io.FixedLenSequenceFeature([], m.int64, allow_missing=True)):
        assert repr(make(tf)) == repr(make(realtf))


def test_parsing_inside_tf_function_and_dataset_map_runs_eagerly():
    data = batch(tf)

    @tf.function
    def parse(record):
        return tf.io.parse_single_example(record, specs(tf))["a"] * 2

    np.testing.assert_array_equal(parse(tf.constant(data[1])).numpy(), [6, 8])
    ds = tf.data.Dataset.from_tensor_slices(data).map(
        lambda r: tf.io.parse_single_example(r, specs(tf))["b"])
    np.testing.assert_allclose([x.numpy() for x in ds], [1.5, 2.5, 0.0])
