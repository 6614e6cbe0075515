"""tf.io.read_file / write_file and tf.io.gfile against real TensorFlow on the same folders:
results, listing orders, and the error classes and texts for missing files and folders."""
import os

import pytest

import tapeflow as tf
from tests.io._compare import check

GRAD_CASES = []


@pytest.fixture
def tree(tmp_path):
    """A small folder tree, rebuilt for each case (cases may change it)."""
    def build():
        root = tmp_path / "tree"
        if root.exists():
            import shutil
            shutil.rmtree(root)
        (root / "sub" / "deep").mkdir(parents=True)
        (root / "a.txt").write_bytes(b"alpha\nbeta\n")
        (root / "b.bin").write_bytes(bytes(range(256)) + b"\0\0")
        (root / ".hidden").write_text("h")
        (root / "sub" / "c.txt").write_text("gamma")
        return str(root)
    return build


CASES = {
    "read": lambda m, r: m.io.read_file(f"{r}/b.bin"),
    "read_tensor_name": lambda m, r: m.io.read_file(m.constant(f"{r}/a.txt")),
    "read_missing": lambda m, r: m.io.read_file(f"{r}/nope"),
    "read_folder": lambda m, r: m.io.read_file(r),
    "read_not_string": lambda m, r: m.io.read_file(3),
    "read_vector": lambda m, r: m.io.read_file([f"{r}/a.txt"]),
    "write_then_read": lambda m, r: (m.io.write_file(f"{r}/new/dir/x", b"\0data\0"),
                                     m.io.read_file(f"{r}/new/dir/x"))[1],
    "exists": lambda m, r: [m.io.gfile.exists(p) for p in (r, f"{r}/a.txt", f"{r}/zz", "")],
    "isdir": lambda m, r: [m.io.gfile.isdir(p) for p in (r, f"{r}/a.txt", f"{r}/zz")],
    "listdir": lambda m, r: sorted(m.io.gfile.listdir(r)),
    "listdir_missing": lambda m, r: m.io.gfile.listdir(f"{r}/zz"),
    "listdir_file": lambda m, r: m.io.gfile.listdir(f"{r}/a.txt"),
    "glob_star": lambda m, r: sorted(m.io.gfile.glob(f"{r}/*")),
    "glob_nested": lambda m, r: m.io.gfile.glob(f"{r}/*/*.txt"),
    "glob_negated_set": lambda m, r: sorted(m.io.gfile.glob(f"{r}/[^a]*")),
    "glob_question": lambda m, r: m.io.gfile.glob(f"{r}/?.txt"),
    "glob_list": lambda m, r: m.io.gfile.glob([f"{r}/a*", f"{r}/sub/*"]),
    "glob_missing_folder": lambda m, r: m.io.gfile.glob(f"{r}/zz/*"),
    "glob_plain": lambda m, r: m.io.gfile.glob(f"{r}/a.txt"),
    "walk": lambda m, r: [(d, sorted(s), sorted(f)) for d, s, f in m.io.gfile.walk(r)],
    "walk_bottom_up": lambda m, r: [d for d, _, _ in m.io.gfile.walk(r, topdown=False)],
    "stat": lambda m, r: (m.io.gfile.stat(f"{r}/b.bin").length,
                          m.io.gfile.stat(f"{r}/b.bin").is_directory,
                          m.io.gfile.stat(r).is_directory),
    "stat_missing": lambda m, r: m.io.gfile.stat(f"{r}/zz"),
    "makedirs": lambda m, r: (m.io.gfile.makedirs(f"{r}/x/y/z"), m.io.gfile.makedirs(r),
                              m.io.gfile.isdir(f"{r}/x/y/z")),
    "mkdir_existing": lambda m, r: m.io.gfile.mkdir(r),
    "mkdir_no_parent": lambda m, r: m.io.gfile.mkdir(f"{r}/x/y"),
    "remove": lambda m, r: (m.io.gfile.remove(f"{r}/a.txt"), m.io.gfile.exists(f"{r}/a.txt")),
    "remove_missing": lambda m, r: m.io.gfile.remove(f"{r}/zz"),
    "remove_folder": lambda m, r: m.io.gfile.remove(f"{r}/sub"),
    "rmtree": lambda m, r: (m.io.gfile.rmtree(f"{r}/sub"), m.io.gfile.exists(f"{r}/sub")),
    "rmtree_missing": lambda m, r: m.io.gfile.rmtree(f"{r}/zz"),
    "rename": lambda m, r: (m.io.gfile.rename(f"{r}/a.txt", f"{r}/z.txt"),
                            sorted(m.io.gfile.listdir(r))),
    "rename_onto_existing": lambda m, r: m.io.gfile.rename(f"{r}/a.txt", f"{r}/b.bin"),
    "rename_overwrite": lambda m, r: (m.io.gfile.rename(f"{r}/a.txt", f"{r}/b.bin", True),
                                      m.io.read_file(f"{r}/b.bin")),
    "rename_missing": lambda m, r: m.io.gfile.rename(f"{r}/zz", f"{r}/y"),
    "copy": lambda m, r: (m.io.gfile.copy(f"{r}/b.bin", f"{r}/sub/b2"),
                          m.io.read_file(f"{r}/sub/b2")),
    "copy_onto_existing": lambda m, r: m.io.gfile.copy(f"{r}/a.txt", f"{r}/b.bin"),
    "copy_overwrite": lambda m, r: (m.io.gfile.copy(f"{r}/a.txt", f"{r}/b.bin", overwrite=True),
                                    m.io.read_file(f"{r}/b.bin")),
    "copy_missing": lambda m, r: m.io.gfile.copy(f"{r}/zz", f"{r}/y"),
    "copy_no_parent": lambda m, r: m.io.gfile.copy(f"{r}/a.txt", f"{r}/zz/y"),
    "join": lambda m, r: (m.io.gfile.join("a", "b", "c"), m.io.gfile.join("gs://bucket", "x")),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_file_functions_match_tensorflow(name, tree, realtf):
    case = CASES[name]

    def run(module):
        return case(module, tree())

    check(run, tf, realtf)


GFILE_CASES = {
    "read_text": lambda m, p: m.io.gfile.GFile(p).read(),
    "read_bytes": lambda m, p: m.io.gfile.GFile(p, "rb").read(),
    "read_n_tell_line": lambda m, p: _read_steps(m.io.gfile.GFile(p)),
    "iterate": lambda m, p: list(m.io.gfile.GFile(p, "rb")),
    "readlines": lambda m, p: m.io.gfile.GFile(p).readlines(),
    "seek": lambda m, p: _seek_steps(m.io.gfile.GFile(p)),
    "seek_bad_whence": lambda m, p: m.io.gfile.GFile(p).seek(0, 3),
    "size": lambda m, p: m.io.gfile.GFile(p).size(),
    "write_then_read": lambda m, p: _write_read(m, p + ".w", "w"),
    "append": lambda m, p: _write_read(m, p, "a"),
    "write_to_reader": lambda m, p: m.io.gfile.GFile(p, "r").write("x"),
    "read_from_writer": lambda m, p: m.io.gfile.GFile(p, "w").read(),
    "bad_mode": lambda m, p: m.io.gfile.GFile(p, "x"),
    "open_missing": lambda m, p: m.io.gfile.GFile(p + ".zz").read(),
    "open_without_write_creates_nothing": lambda m, p: (
        m.io.gfile.GFile(p + ".n", "w").close(), os.path.exists(p + ".n"))[1],
    "write_no_folder": lambda m, p: m.io.gfile.GFile(p + "/x/y", "w").write("a"),
}


def _read_steps(f):
    with f:
        return f.read(3), f.tell(), f.readline(), f.readline(), f.readline(), f.tell()


def _seek_steps(f):
    out = []
    f.seek(2)
    out.append(f.read(2))
    f.seek(-3, 2)
    out.append(f.read())
    f.seek(1, 0)
    f.seek(1, 1)
    out.append(f.read(1))
    return out


def _write_read(m, path, mode):
    with m.io.gfile.GFile(path, mode) as f:
        f.write("one\n")
        f.write(b"two")
        position = f.tell()
    with m.io.gfile.GFile(path) as f:
        return position, f.read()


@pytest.mark.parametrize("name", sorted(GFILE_CASES))
def test_gfile_matches_tensorflow(name, tree, realtf):
    check(lambda m: GFILE_CASES[name](m, os.path.join(tree(), "a.txt")), tf, realtf)


def test_write_file_is_atomic_and_leaves_nothing_on_failure(tmp_path):
    path = tmp_path / "out.bin"
    tf.io.write_file(str(path), b"first")
    with pytest.raises(TypeError):
        tf.io.write_file(str(path), 5)
    assert path.read_bytes() == b"first"
    assert sorted(os.listdir(tmp_path)) == ["out.bin"]


def test_other_file_systems_say_they_are_not_there():
    with pytest.raises(tf.errors.UnimplementedError, match="'gs' not implemented"):
        tf.io.read_file("gs://bucket/x")
