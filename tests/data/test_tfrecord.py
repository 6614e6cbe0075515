"""tf.data.TFRecordDataset against real tf.data on the same files: records, order with
num_parallel_reads, file names as a dataset, compression, corrupted and truncated files
(TF's DataLossError texts), and Dataset.list_files."""
import numpy as np
import pytest

import tapeflow as tf

GRAD_CASES = []


@pytest.fixture(scope="module")
def files(tmp_path_factory, realtf):
    """Three TFRecord files written by real TF (plain, GZIP, ZLIB) of different lengths."""
    d = tmp_path_factory.mktemp("records")
    paths = {}
    for i, kind in enumerate(["", "GZIP", "ZLIB"]):
        for j in range(3):
            path = str(d / f"f{kind or 'plain'}{j}.tfrecord")
            with realtf.io.TFRecordWriter(path, kind) as w:
                for k in range(2 + 2 * j):
                    w.write(f"{kind}{j}-{k}".encode())
            paths.setdefault(kind, []).append(path)
    return d, paths


def _records(ds):
    return [t.numpy() for t in ds]


@pytest.mark.parametrize("kind", ["", "GZIP", "ZLIB"])
@pytest.mark.parametrize("parallel", [None, 2, 3])
def test_records_and_order_match_tensorflow(files, kind, parallel, realtf):
    paths = files[1][kind]
    ours = tf.data.TFRecordDataset(paths, compression_type=kind, num_parallel_reads=parallel)
    theirs = realtf.data.TFRecordDataset(paths, compression_type=kind,
                                         num_parallel_reads=parallel)
    assert _records(ours) == _records(theirs)


def test_spec_repr_and_element_dtype(files, realtf):
    path = files[1][""][0]
    ours, theirs = tf.data.TFRecordDataset(path), realtf.data.TFRecordDataset(path)
    assert repr(ours) == repr(theirs)
    assert str(ours.element_spec) == str(theirs.element_spec)
    first = next(iter(ours))
    assert first.dtype == tf.string and first.shape == ()


@pytest.mark.parametrize("form", ["tensor", "dataset", "list_files"])
def test_file_names_as_tensor_or_dataset(files, form, realtf):
    paths = files[1][""]

    def names(m):
        if form == "tensor":
            return m.constant(paths)
        if form == "dataset":
            return m.data.Dataset.from_tensor_slices(paths)
        return m.data.Dataset.list_files(str(files[0] / "fplain*.tfrecord"), shuffle=False)
    assert _records(tf.data.TFRecordDataset(names(tf))) == \
        _records(realtf.data.TFRecordDataset(names(realtf)))


def test_map_parse_pipeline(tmp_path, realtf):
    """The tutorial pipeline: records -> map(parse_single_example) -> batch."""
    path = str(tmp_path / "ex.tfrecord")
    with realtf.io.TFRecordWriter(path) as w:
        for i in range(5):
            feature = {"x": realtf.train.Feature(int64_list=realtf.train.Int64List(value=[i])),
                       "y": realtf.train.Feature(float_list=realtf.train.FloatList(
                           value=[i / 2, i / 4]))}
            w.write(realtf.train.Example(features=realtf.train.Features(
                feature=feature)).SerializeToString())

    def pipeline(m):
        spec = {"x": m.io.FixedLenFeature([], m.int64), "y": m.io.FixedLenFeature([2], m.float32)}
        ds = m.data.TFRecordDataset(path).map(lambda r: m.io.parse_single_example(r, spec))
        return [{k: v.numpy() for k, v in b.items()} for b in ds.batch(2)]
    ours, theirs = pipeline(tf), pipeline(realtf)
    assert len(ours) == len(theirs) == 3
    for a, b in zip(ours, theirs):
        assert list(a) == list(b)
        for k in b:
            np.testing.assert_array_equal(a[k], b[k])
            assert a[k].dtype == b[k].dtype


def _damage(data, how):
    if how == "truncated_data":
        return data[:-3]
    if how == "cut_header":
        return data[:5]
    b = bytearray(data)
    b[{"bad_data": 13, "bad_length": 2, "bad_second_header": 22}[how]] ^= 1
    return bytes(b)


@pytest.mark.parametrize("how", ["truncated_data", "cut_header", "bad_data", "bad_length",
                                 "bad_second_header"])
def test_damaged_files_fail_as_in_tensorflow(tmp_path, how, realtf):
    good = str(tmp_path / "good")
    with realtf.io.TFRecordWriter(good) as w:
        for r in (b"hello", b"world!", b"again"):
            w.write(r)
    path = tmp_path / "bad"
    path.write_bytes(_damage(open(good, "rb").read(), how))

    def run(m):
        try:
            return "ok", _records(m.data.TFRecordDataset(str(path)))
        except m.errors.OpError as e:
            return type(e).__name__, e.message.split("}} ")[-1].split(" [Op:")[0]
    assert run(tf) == run(realtf)


def test_missing_file_and_bad_compression(tmp_path, realtf):
    with pytest.raises(tf.errors.NotFoundError, match="No such file or directory"):
        list(tf.data.TFRecordDataset(str(tmp_path / "zz")))
    with pytest.raises(ValueError, match='Not a valid compression_type: "FOO"'):
        tf.data.TFRecordDataset(str(tmp_path / "zz"), compression_type="FOO")
    good = str(tmp_path / "plain")
    with tf.io.TFRecordWriter(good) as w:
        w.write(b"x")
    with pytest.raises(tf.errors.DataLossError, match="incorrect header check"):
        list(tf.data.TFRecordDataset(good, compression_type="ZLIB"))


def test_list_files(tmp_path, realtf):
    for name in ("b.txt", "a.txt", "c.dat"):
        (tmp_path / name).write_text(name)
    pattern = str(tmp_path / "*.txt")
    ours = tf.data.Dataset.list_files(pattern, shuffle=False)
    theirs = realtf.data.Dataset.list_files(pattern, shuffle=False)
    assert _records(ours) == _records(theirs)
    assert int(ours.cardinality()) == int(theirs.cardinality())
    shuffled = sorted(_records(tf.data.Dataset.list_files(pattern, seed=3)))
    assert shuffled == _records(theirs)
    with pytest.raises(tf.errors.InvalidArgumentError, match="No files matched pattern"):
        tf.data.Dataset.list_files(str(tmp_path / "*.zz"))
