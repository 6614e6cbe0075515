"""TF's warnings, through the logger TF uses: printed as `WARNING:tensorflow:...`."""
import logging

_logger = logging.getLogger("tensorflow")
_warned = {}


def warn(message, *args):
    """`tf.get_logger().warning(...)`, with a handler when the program configured none."""
    if not _logger.handlers and not logging.getLogger().handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter(logging.BASIC_FORMAT))
        _logger.addHandler(handler)
    _logger.warning(message, *args)


def warn_first_n(key, n, message, *args):
    """`logging.log_first_n(WARN, ...)` as TF uses it: each warning at most `n` times."""
    count = _warned.get(key, 0)
    if count >= n:
        return
    _warned[key] = count + 1
    warn(message, *args)


def debug(message, *args):
    _logger.debug(message, *args)
