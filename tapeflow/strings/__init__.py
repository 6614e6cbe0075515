"""`tf.strings`: re-exports of the string ops (tapeflow/ops/strings.py)."""
from tapeflow.ops.strings import (as_string, format, join, length, lower,  # noqa: F401,A004
                                  reduce_join, regex_full_match, regex_replace, split, strip,
                                  substr, to_number, upper)
