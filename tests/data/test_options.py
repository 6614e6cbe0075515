"""`tf.data.Options` as tf.distribute reads it: `experimental_distribute.auto_shard_policy`,
`with_options` (a pass-through dataset) and `options()` merging upstream settings, against
real TF."""
import pytest

import tapeflow as tf


def test_auto_shard_policy_values(realtf):
    ours, theirs = tf.data.experimental.AutoShardPolicy, realtf.data.experimental.AutoShardPolicy
    assert [(p.name, int(p)) for p in ours] == [(p.name, int(p)) for p in theirs]
    assert str(ours.DATA) == str(theirs.DATA)


@pytest.mark.parametrize("policy", ["OFF", "FILE", "DATA"])
def test_with_options_and_options(realtf, policy):
    for t in (tf, realtf):
        options = t.data.Options()
        assert options.experimental_distribute.auto_shard_policy == \
            t.data.experimental.AutoShardPolicy.AUTO
        options.experimental_distribute.auto_shard_policy = \
            getattr(t.data.experimental.AutoShardPolicy, policy)
        ds = t.data.Dataset.range(5).with_options(options)
        assert repr(ds) == ("<_OptionsDataset element_spec=TensorSpec(shape=(), "
                            "dtype=tf.int64, name=None)>")
        batched = ds.map(lambda x: x * 2).batch(2)
        assert batched.options().experimental_distribute.auto_shard_policy.name == policy
        assert [b.numpy().tolist() for b in batched] == [[0, 2], [4, 6], [8]]
        assert t.data.Dataset.range(3).options().experimental_distribute \
            .auto_shard_policy.name == "AUTO"


def test_the_nearest_setting_wins():
    policy = tf.data.experimental.AutoShardPolicy
    first, second = tf.data.Options(), tf.data.Options()
    first.experimental_distribute.auto_shard_policy = policy.FILE
    second.experimental_distribute.auto_shard_policy = policy.OFF
    ds = tf.data.Dataset.range(4).with_options(first).batch(2).with_options(second)
    assert ds.options().experimental_distribute.auto_shard_policy is policy.OFF
    assert tf.data.Dataset.range(4).with_options(first).with_options(tf.data.Options()) \
        .options().experimental_distribute.auto_shard_policy is policy.FILE
