"""Errors raised while tracing converted code, re-raised with TF's "in user code:" message.

The message lists the user's frames from the outermost converted function inwards (marked
`*`), the lines being the user's own (converted code keeps them), then the original error:

    in user code:

        File "model.py", line 16, in f  *
            if x > 0:

        ValueError: 'y' must also be initialized in the else branch

The exception keeps its class where that class takes a message (TF's rule), else it becomes
a `StagingError`.
"""
import os

from tapeflow._core.errors import OpError, OperatorNotAllowedInGraphError
from tapeflow.function.autograph import conversion
from tapeflow.function.autograph.operators import StagingNotImplemented
from tapeflow.function.graph import Untraceable

_PACKAGE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_KNOWN = (AssertionError, AttributeError, NameError, NotImplementedError, RuntimeError,
          StopIteration, TypeError, UnboundLocalError, ValueError)


class AutoGraphError(Exception):
    """Base class of the errors AutoGraph itself raises."""


class StagingError(AutoGraphError):
    """An error of a class that cannot carry a new message, raised by converted code."""


class _MultilineKeyError(KeyError):
    def __init__(self, message, key):
        super().__init__(key)
        self._message = message

    def __str__(self):
        return self._message


_MultilineKeyError.__name__ = "KeyError"


def _internal(filename):
    return filename.startswith(_PACKAGE + os.sep)


def _frames(tb):
    """(file, line, function, mark) for the frames TF shows, outermost first: `*` for
    converted code, `**` for a user function converted code called as it is."""
    frames = []
    while tb is not None:
        frames.append((tb.tb_frame.f_code, tb.tb_lineno))
        tb = tb.tb_next
    out, new_call, seen = [], True, False
    for code, line in reversed(frames):  # innermost first
        if code in conversion._CALL_FRAMES:
            if out and not seen and out[-1][3] == "":
                out[-1] = out[-1][:3] + ("**",)
            new_call = True
            continue
        owner = conversion.converted_name(code)
        if owner is not None:
            if new_call:
                out.append((code.co_filename, line, owner, "*"))
                new_call, seen = False, True
            continue
        if not seen and not _internal(code.co_filename):
            out.append((code.co_filename, line, code.co_name, ""))
    return list(reversed(out))


def message(e, frames):
    import linecache
    lines = ["in user code:", ""]
    for filename, line, fn, mark in frames:
        lines.append(f'    File "{filename}", line {line}, in {fn}' + (f"  {mark}" if mark else ""))
        code = linecache.getline(filename, line).strip()
        lines.append("        " + (code or "<source unavailable>"))
    lines.append("")
    lines.extend("    " + t for t in f"{type(e).__name__}: {e}".split("\n"))
    lines.append("")
    return "\n".join(lines)


def rewrite(e):
    """The exception to raise instead of `e` (or `e` itself when there is nothing to add)."""
    if isinstance(e, Untraceable) or getattr(e, "ag_error_metadata", None) is not None:
        return e
    frames = _frames(e.__traceback__)
    if not any(f[3] == "*" for f in frames):
        return e
    text = message(e, frames)
    cls = NotImplementedError if isinstance(e, StagingNotImplemented) else type(e)
    if isinstance(e, OpError):
        try:
            new = cls(e.node_def, e.op, text)
        except TypeError:
            new = None
    elif cls in _KNOWN or cls is OperatorNotAllowedInGraphError or \
            cls.__init__ is Exception.__init__ or cls.__init__ is BaseException.__init__:
        new = cls(text)
    elif cls is KeyError:
        new = _MultilineKeyError(text, e.args[0] if e.args else None)
    else:
        new = StagingError(text)
    if new is None:
        return e
    new.ag_error_metadata = text
    new.ag_no_fallback = isinstance(e, StagingNotImplemented) or \
        getattr(e, "ag_no_fallback", False)
    new.__suppress_context__ = True
    return new.with_traceback(e.__traceback__)
