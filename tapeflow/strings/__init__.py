"""`tf.strings`: re-exports of the string ops (tapeflow/ops/strings.py, string_*.py)."""
from tapeflow.ops.string_format import format  # noqa: F401,A004
from tapeflow.ops.string_hash import to_hash_bucket_fast, to_hash_bucket_strong  # noqa: F401
from tapeflow.ops.string_unicode import (bytes_split, split, unicode_decode,  # noqa: F401
                                         unicode_encode, unicode_split)
from tapeflow.ops.strings import (as_string, join, length, lower, reduce_join,  # noqa: F401
                                  regex_full_match, regex_replace, strip, substr,
                                  to_number, upper)
