"""Files: the `tf.io.read_file` / `tf.io.write_file` ops and `tf.io.gfile` on the local file
system (`GFile`, `exists`, `glob`, `listdir`, `makedirs`, `remove`, `rename`, `copy`, `stat`,
`walk`...), with TF's error classes and texts (`NotFoundError: <path>; No such file or
directory`), and the atomic write helper the rest of tapeflow writes files with.

Only local paths (and `file://` URLs) are served: TF's other file systems (gs://, s3://, ram://)
raise UnimplementedError naming the scheme.
"""
import contextlib
import errno
import os
import re
import shutil
import tempfile

import numpy as np

from tapeflow._core import errors
from tapeflow._core.tensor import wrap_strings
from tapeflow.ops._op import define, execute
from tapeflow.ops.strings import host_strings

READ_FILE = define("ReadFile", differentiable=False)
WRITE_FILE = define("WriteFile", differentiable=False, stateful=True)
_CPU_NAME = "/job:localhost/replica:0/task:0/device:CPU:0"


# -- paths and OS errors ----------------------------------------------------------------------

def local_path(path):
    """`path` (str, bytes, PathLike or a scalar string tensor) as a local str path."""
    if hasattr(path, "numpy"):
        path = path.numpy()
    path = os.fsdecode(path)
    if path.startswith("file://"):
        return path[len("file://"):]
    scheme = re.match(r"([a-zA-Z][a-zA-Z0-9+.-]*)://", path)
    if scheme:
        raise errors.UnimplementedError(
            None, None, f"File system scheme '{scheme.group(1)}' not implemented (file: "
            f"'{path}')")
    return path


_ERROR_CLASSES = {errno.ENOENT: errors.NotFoundError, errno.EISDIR: errors.FailedPreconditionError,
                  errno.ENOTDIR: errors.FailedPreconditionError,
                  errno.EEXIST: errors.AlreadyExistsError,
                  errno.EACCES: errors.PermissionDeniedError,
                  errno.EPERM: errors.PermissionDeniedError,
                  errno.ENOTEMPTY: errors.FailedPreconditionError,
                  errno.EINVAL: errors.InvalidArgumentError}


def os_error(e, path, op=None):
    """TF's error for an OSError on `path`: `<path>; No such file or directory`, of the class
    TF maps the errno to; with `op`, worded as the op's kernel error."""
    cls = _ERROR_CLASSES.get(e.errno, errors.UnknownError)
    text = f"{path}; {os.strerror(e.errno) if e.errno else e}"
    if op is not None:
        text = f"{{{{function_node __wrapped__{op.name}_device_{_CPU_NAME}}}}} {text} " \
               f"[Op:{op.name}]"
    return cls(None, None, text)


@contextlib.contextmanager
def atomic_write(path, mode="wb"):
    """`with atomic_write(path) as f:` writes `f` to `path` all at once on success: the data
    goes to a temporary file beside it, is flushed to disk and then replaces `path`, so a
    failure leaves the old file (or none), never a half-written one."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp",
                               dir=folder)
    try:
        with os.fdopen(fd, mode) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise


# -- the ops ----------------------------------------------------------------------------------

def _read_file_kernel(names):
    path = local_path(names.item())
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise os_error(e, path, READ_FILE) from None
    return np.array(data, dtype=object)


def read_file(filename, name=None):
    """The whole contents of the file `filename` as a scalar string tensor."""
    x = host_strings(filename, READ_FILE)
    _check_scalar(x, READ_FILE, "filename")
    return execute(READ_FILE, _read_file_kernel, (x,))


def _write_file_kernel(names, contents):
    path = local_path(names.item())
    try:
        # TF creates the missing parent folders; the write itself is atomic here
        with atomic_write(path) as f:
            f.write(contents.item())
    except OSError as e:
        raise os_error(e, path, WRITE_FILE) from None
    return ()


def write_file(filename, contents, name=None):
    """Writes the scalar string `contents` to the file `filename` (creating its folders)."""
    names = host_strings(filename, WRITE_FILE)
    data = host_strings(contents, WRITE_FILE, 1)
    _check_scalar(names, WRITE_FILE, "filename")
    _check_scalar(data, WRITE_FILE, "contents")
    execute(WRITE_FILE, _write_file_kernel, (names, data))


def _check_scalar(x, op, what):
    if x._t.ndim:
        shape = "[" + ",".join(str(d) for d in x._t.shape) + "]"
        raise errors.InvalidArgumentError(
            None, None, f"{{{{function_node __wrapped__{op.name}_device_{_CPU_NAME}}}}} Input "
            f"{what} tensor must be scalar, but had shape: {shape} [Op:{op.name}] name: ")


# -- tf.io.gfile ------------------------------------------------------------------------------

class GFile:
    """A file I/O wrapper with TF's modes (`r`, `w`, `a`, `r+`, `w+`, `a+`, each with an
    optional `b` for bytes); text modes read and write `str` (UTF-8).

    As in TF, a file opened for writing is created (or truncated) at the first `write`.

    Example:
    >>> with tf.io.gfile.GFile("/tmp/x.txt", "w") as f:
    ...     f.write("hello\\n")
    """

    def __init__(self, name, mode="r", encoding="utf-8"):
        self._name = name
        self._mode = mode
        self._encoding = encoding
        self._binary = "b" in mode
        bare = mode.replace("b", "")
        if bare not in ("r", "w", "a", "r+", "w+", "a+"):
            raise errors.InvalidArgumentError(
                None, None, "mode is not 'r' or 'w' or 'a' or 'r+' or 'w+' or 'a+'")
        self._bare = bare
        self._readable = bare in ("r", "r+", "a+", "w+")
        self._writable = bare in ("a", "w", "r+", "a+", "w+")
        self._reader = None
        self._writer = None

    @property
    def name(self):
        return self._name

    @property
    def mode(self):
        return self._mode

    def _path(self):
        return local_path(self._name)

    def _read_handle(self):
        if self._reader is None:
            if not self._readable:
                raise errors.PermissionDeniedError(None, None, "File isn't open for reading")
            path = self._path()
            try:
                if os.path.isdir(path):
                    raise IsADirectoryError(errno.EISDIR, "Is a directory")
                self._reader = open(path, "rb")
            except OSError as e:
                raise os_error(e, path) from None
        return self._reader

    def _write_handle(self):
        if self._writer is None:
            if not self._writable:
                raise errors.PermissionDeniedError(None, None, "File isn't open for writing")
            path = self._path()
            kind = {"r+": "r+b", "w": "wb", "w+": "wb"}.get(self._bare, "ab")
            try:
                self._writer = open(path, kind)
            except OSError as e:
                raise os_error(e, path) from None
        return self._writer

    def _value(self, data):
        return data if self._binary else data.decode(self._encoding)

    def size(self):
        return stat(self._name).length

    def write(self, file_content):
        """Writes `file_content` (str or bytes) at the end of the file."""
        if isinstance(file_content, str):
            file_content = file_content.encode(self._encoding)
        self._write_handle().write(bytes(file_content))

    def read(self, n=-1):
        """`n` bytes (all the rest when n is -1) from the current position."""
        return self._value(self._read_handle().read(None if n == -1 else n))

    def readline(self):
        """The next line, with its '\\n'; '' (or b'') at the end of the file."""
        return self._value(self._read_handle().readline())

    def readlines(self):
        return [self._value(line) for line in self._read_handle().readlines()]

    def seek(self, offset=None, whence=0, position=None):
        """Moves the read position: whence 0 from the start, 1 from here, 2 from the end."""
        handle = self._read_handle()
        if offset is None and position is None:
            raise TypeError("seek(): offset argument required")
        if offset is not None and position is not None:
            raise TypeError("seek(): offset and position may not be set simultaneously.")
        if whence not in (0, 1, 2):
            raise errors.InvalidArgumentError(
                None, None, f"Invalid whence argument: {whence}. Valid values are 0, 1, or 2.")
        handle.seek(offset if offset is not None else position, whence)

    def tell(self):
        if self._readable:
            return self._read_handle().tell()
        return self._write_handle().tell()

    def seekable(self):
        return True

    def flush(self):
        if self._writer is not None:
            self._writer.flush()

    def close(self):
        for handle in (self._reader, self._writer):
            if handle is not None:
                handle.close()
        self._reader = self._writer = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __iter__(self):
        return self

    def __next__(self):
        line = self.readline()
        if not line:
            raise StopIteration()
        return line

    next = __next__


class FileStatistics:
    """What `tf.io.gfile.stat` returns: `length` (bytes), `mtime_nsec`, `is_directory`."""

    def __init__(self, length, mtime_nsec, is_directory):
        self.length = length
        self.mtime_nsec = mtime_nsec
        self.is_directory = is_directory


def exists(path):
    """Whether a file or folder exists at `path`."""
    return os.path.exists(local_path(path))


def isdir(path):
    return os.path.isdir(local_path(path))


def stat(path):
    p = local_path(path)
    try:
        s = os.stat(p)
    except OSError as e:
        raise os_error(e, p) from None
    import stat as _stat
    return FileStatistics(s.st_size if not _stat.S_ISDIR(s.st_mode) else 0,
                          s.st_mtime_ns, _stat.S_ISDIR(s.st_mode))


def listdir(path):
    """The names in the folder `path` (not `.` and `..`), in the file system's order."""
    p = local_path(path)
    if not os.path.isdir(p):
        raise errors.NotFoundError(None, None, f"Could not find directory {path}")
    return os.listdir(p)


def mkdir(path):
    p = local_path(path)
    try:
        os.mkdir(p)
    except FileExistsError:
        pass  # TF's wrapper accepts an existing folder
    except OSError as e:
        raise os_error(e, p) from None


def makedirs(path):
    """Creates `path` and any missing parent folders (an existing folder is fine)."""
    p = local_path(path)
    try:
        os.makedirs(p, exist_ok=True)
    except OSError as e:
        raise os_error(e, p) from None


def remove(path):
    """Deletes the file `path` (a folder raises FailedPreconditionError: use rmtree)."""
    p = local_path(path)
    try:
        if os.path.isdir(p):
            raise IsADirectoryError(errno.EISDIR, "Is a directory")
        os.remove(p)
    except OSError as e:
        raise os_error(e, p) from None


def rmtree(path):
    """Deletes the folder `path` with everything in it (or the file `path`)."""
    p = local_path(path)
    if not os.path.lexists(p):
        raise errors.NotFoundError(None, None, f"{path} not found")
    try:
        if os.path.isdir(p) and not os.path.islink(p):
            shutil.rmtree(p)
        else:
            os.remove(p)
    except OSError as e:
        raise os_error(e, getattr(e, "filename", None) or p) from None


def rename(src, dst, overwrite=False):
    """Moves `src` to `dst`; an existing `dst` is an AlreadyExistsError unless `overwrite`."""
    s, d = local_path(src), local_path(dst)
    if not os.path.exists(s):
        raise errors.NotFoundError(None, None, f"{s}; No such file or directory")
    if not overwrite and os.path.exists(d):
        raise errors.AlreadyExistsError(None, None, "file already exists")
    try:
        os.replace(s, d)
    except OSError as e:
        raise os_error(e, d) from None


def copy(src, dst, overwrite=False):
    """Copies the file `src` to `dst` (folders cannot be copied)."""
    s, d = local_path(src), local_path(dst)
    if not overwrite and os.path.exists(d):
        raise errors.AlreadyExistsError(None, None, "file already exists")
    if os.path.isdir(s):
        raise errors.InvalidArgumentError(None, None, f"{d}; Invalid argument")
    try:
        with open(s, "rb") as f:
            data = f.read()
    except OSError as e:
        raise os_error(e, s) from None
    if not os.path.isdir(os.path.dirname(os.path.abspath(d))):
        raise errors.NotFoundError(None, None, f"{d}; No such file or directory")
    try:
        with atomic_write(d) as f:
            f.write(data)
    except OSError as e:
        raise os_error(e, d) from None


def join(path, *paths):
    """Joins path components (URL-style for `scheme://` paths, as TF does)."""
    first = os.fsdecode(path)
    if "://" in first[1:]:
        return "/".join([first.rstrip("/")] + [os.fsdecode(p).strip("/") for p in paths])
    return os.path.join(path, *paths)


def walk(top, topdown=True, onerror=None):
    """Yields `(folder, subfolder names, file names)` for `top` and every folder under it."""
    top = os.fsdecode(top)
    try:
        names = listdir(top)
    except errors.NotFoundError as e:
        if onerror:
            onerror(e)
        return
    subdirs, files = [], []
    for name in names:
        (subdirs if isdir(os.path.join(top, name)) else files).append(name)
    if topdown:
        yield top, subdirs, files
    for sub in subdirs:
        yield from walk(os.path.join(top, sub), topdown, onerror)
    if not topdown:
        yield top, subdirs, files


def get_registered_schemes():
    return ["file", ""]


# -- glob -------------------------------------------------------------------------------------

def _component_regex(part):
    """A regex for one path component of a TF glob: `*`, `?`, `[...]` (`[^...]` negates),
    `\\c`; unlike Python's glob, names starting with '.' match too."""
    out, i = [], 0
    while i < len(part):
        c = part[i]
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "\\" and i + 1 < len(part):
            i += 1
            out.append(re.escape(part[i]))
        elif c == "[":
            j = part.find("]", i + 2 if part[i + 1:i + 2] in ("^", "!") else i + 1)
            if j < 0:
                out.append(re.escape(c))
            else:
                body = part[i + 1:j]
                negate = body[:1] in ("^", "!")
                body = body[1:] if negate else body
                out.append("[" + ("^" if negate else "") + body.replace("\\", "\\\\") + "]")
                i = j
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("".join(out) + r"\Z", re.DOTALL)


def _has_magic(part):
    return any(c in part for c in "*?[\\")


def _matches(pattern):
    absolute = pattern.startswith("/")
    parts = [p for p in pattern.split("/") if p]
    if not absolute and not _has_magic(parts[0] if parts else "") and parts:
        roots = [parts.pop(0)]
    else:
        roots = ["/" if absolute else "."]
    for part in parts:
        found = []
        if not _has_magic(part):
            for root in roots:
                candidate = os.path.join(root, part)
                if os.path.lexists(candidate):
                    found.append(candidate)
        else:
            regex = _component_regex(part)
            for root in roots:
                try:
                    entries = [e.name for e in os.scandir(root)]
                except OSError:
                    continue
                found.extend(os.path.join(root, n) for n in entries if regex.match(n))
        roots = found
    if not parts:
        return [r for r in roots if os.path.lexists(r)] if pattern else []
    return roots


def glob(pattern):
    """The paths matching `pattern` (a string or an iterable of strings): `*` and `?` match
    within one path component, `[...]` a character of a set; `\\c` matches `c`."""
    patterns = [pattern] if isinstance(pattern, (str, bytes, os.PathLike)) else list(pattern)
    return [m for p in patterns for m in _matches(local_path(p))]
