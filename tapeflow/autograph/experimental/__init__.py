"""`tf.autograph.experimental`: conversion options and directives."""
from tapeflow.function.autograph import do_not_convert, set_loop_options  # noqa: F401
from tapeflow.function.autograph.conversion import Feature  # noqa: F401
