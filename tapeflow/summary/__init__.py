"""`tf.summary`: event files for TensorBoard, written without TensorFlow or TensorBoard.

Re-exports only: writers and the summary state live in `writer.py`, the summary ops in
`summary_ops.py`, the graph trace in `trace.py`, the file format in `_records.py` and
`_protos.py`. The package sits above the function layer (its ops run inside tf.functions)
and below keras (the TensorBoard callback writes through it).
"""
from tapeflow.summary import experimental  # noqa: F401
from tapeflow.summary.summary_ops import (audio, graph, histogram, image, scalar,  # noqa: F401
                                          should_record_summaries, text, write)
from tapeflow.summary.trace import trace_export, trace_off, trace_on  # noqa: F401
from tapeflow.summary.writer import (SummaryWriter, create_file_writer,  # noqa: F401
                                     create_noop_writer, flush, record_if)
