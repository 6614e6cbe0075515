"""`tf.strings`: re-exports of the string ops (tapeflow/ops/strings.py, string_format.py)."""
from tapeflow.ops.string_format import format  # noqa: F401,A004
from tapeflow.ops.strings import (as_string, join, length, lower,  # noqa: F401
                                  reduce_join, regex_full_match, regex_replace, split, strip,
                                  substr, to_number, upper)
