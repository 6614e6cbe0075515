"""`keras.utils.Progbar`: the progress line `fit`/`evaluate`/`predict` print.

The text is Keras 3's: `469/469 ━━━━━━━━━━━━━━━━━━━━ 2s 4ms/step - accuracy: 0.9245 - loss:
0.2690`, in bold/green/white ANSI colours, redrawn in place (backspaces then a carriage
return) at most every 0.05 s and on the last step. Keras redraws in place whenever it runs on
a POSIX system, terminal or not, and so do we. Values given for a step are averaged over the
steps seen (weighted by the number of steps since the last update) except on the final update,
which shows them as given. verbose=2 prints one line at the end only.
"""
import math
import sys
import time

BAR = "\u2501"  # ━


def print_msg(message, line_break=True):
    out = sys.stdout
    text = message + "\n" if line_break else message
    try:
        out.write(text)
    except UnicodeEncodeError:
        out.write(text.encode("ascii", "replace").decode("ascii"))
    out.flush()


def format_time(time_per_unit, unit_name):
    if time_per_unit >= 1 or time_per_unit == 0:
        return f" {time_per_unit:.0f}s/{unit_name}"
    if time_per_unit >= 1e-3:
        return f" {time_per_unit * 1000.0:.0f}ms/{unit_name}"
    return f" {time_per_unit * 1000000.0:.0f}us/{unit_name}"


def _on_accelerator(value):
    t = getattr(value, "_t", None)
    return t is not None and getattr(t, "is_cuda", False)


def _format_value(value):
    value = float(value)
    return f" {value:.4f}" if abs(value) > 1e-3 else f" {value:.4e}"


class Progbar:
    """Displays a progress bar.

    Args:
        target: total number of steps expected, None if unknown.
        width: the bar's width in characters.
        verbose: 0 (silent), 1 (the bar), 2 (one line when done).
        interval: minimum time between redraws, in seconds.
        stateful_metrics: names of values shown as given rather than averaged.
        unit_name: what a step is called (`step`, `sample`).
    """

    def __init__(self, target, width=20, verbose=1, interval=0.05, stateful_metrics=None,
                 unit_name="step"):
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.unit_name = unit_name
        self.stateful_metrics = set(stateful_metrics or ())
        self._seen_so_far = 0
        self._values = {}
        self._start = time.time()
        self._last_update = 0.0
        self._time_after_first_step = None
        self._prev_total_width = 0

    def update(self, current, values=None, finalize=None):
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        for k, v in values or ():
            if hasattr(v, "numpy") and not _on_accelerator(v):
                v = float(v)  # cheaper than two tensor ops per step; no sync on a CPU
            if k in self.stateful_metrics or finalize:
                self._values[k] = [v, 1]
            else:
                base = max(current - self._seen_so_far, 1)
                entry = self._values.get(k)
                if entry is None or len(entry) != 2:
                    self._values[k] = [v * base, base]
                else:
                    entry[0] = entry[0] + v * base
                    entry[1] += base
        self._seen_so_far = current
        now = time.time()
        per_unit = self._step_duration(current, now)
        if self.verbose == 1:
            if now - self._last_update < self.interval and not finalize:
                return
            self._draw(current, now, finalize, per_unit)
        elif self.verbose == 2 and finalize and self.target:
            digits = int(math.log10(self.target)) + 1
            info = f"{current:{digits}d}/{self.target} - {now - self._start:.0f}s -"
            info += format_time(per_unit, self.unit_name)
            for k, (total, count) in self._values.items():
                info += f" - {k}:" + _format_value(float(total) / max(1, count))
            print_msg(info)
        self._last_update = now

    def _draw(self, current, now, finalize, per_unit):
        message = "\b" * self._prev_total_width + "\r"
        special = 0
        if self.target:
            digits = int(math.log10(self.target)) + 1
            bar = f"\x1b[1m{current:{digits}d}/{self.target}\x1b[0m "
            special += 8
            filled = int(self.width * float(current) / self.target)
            if filled > 0:
                bar += f"\x1b[32m{BAR * filled}\x1b[0m"
                special += 9
            bar += f"\x1b[37m{BAR * (self.width - filled)}\x1b[0m"
            special += 9
        else:
            bar = "%7d/Unknown" % current
        if self.target and not finalize:
            eta = per_unit * (self.target - current)
            if eta > 3600:
                eta_text = "%d:%02d:%02d" % (eta // 3600, (eta % 3600) // 60, eta % 60)
            elif eta > 60:
                eta_text = "%d:%02d" % (eta // 60, eta % 60)
            else:
                eta_text = "%ds" % eta
        else:
            eta_text = f"{now - self._start:.0f}s"
        info = f" \x1b[1m{eta_text}\x1b[0m"
        special += 8
        info += format_time(per_unit, self.unit_name)
        for k, entry in self._values.items():
            total, count = entry
            info += f" - {k}:" + _format_value(float(total) / max(1, count))
        message += bar + info
        total_width = len(bar) + len(info) - special
        if self._prev_total_width > total_width:
            message += " " * (self._prev_total_width - total_width)
        if finalize:
            message += "\n"
        print_msg(message, line_break=False)
        self._prev_total_width = total_width

    def add(self, n, values=None):
        self.update(self._seen_so_far + n, values)

    def _step_duration(self, current, now):
        # The first step (tracing, warm-up) is left out of the estimate once there are more.
        if not current:
            return 0
        if self._time_after_first_step is not None and current > 1:
            per_unit = (now - self._time_after_first_step) / (current - 1)
        else:
            per_unit = (now - self._start) / current
        if current == 1:
            self._time_after_first_step = now
        return per_unit
