"""Runs the named guide programs one after another in this process (under real TensorFlow, or
under `tapeflow run`), each in fresh globals, printing a header line before each and the class
of any exception it ends with, so one process start serves every program."""
import contextlib
import os
import runpy
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

for name in sys.argv[1:]:
    print(f"=== {name}", flush=True)
    try:
        runpy.run_path(os.path.join(HERE, f"{name}.py"), run_name="__main__")
    except BaseException as e:  # noqa: BLE001 - reported, then the next program runs
        print(f"!!! {type(e).__name__}: {e}", flush=True)
        print(f"!!! {name} failed: {type(e).__name__}: {e}", file=sys.stderr, flush=True)
    with contextlib.suppress(Exception):
        sys.stdout.flush()
