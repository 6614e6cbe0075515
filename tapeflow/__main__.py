"""The `tapeflow` command (also `python -m tapeflow`).

    tapeflow run script.py [args...]   run a TensorFlow script with its imports on tapeflow
    tapeflow version                   print the version
"""
import argparse
import os
import runpy
import sys


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="tapeflow", description="tapeflow: the TensorFlow 2 API on PyTorch kernels.")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run an unmodified TensorFlow script on tapeflow")
    run.add_argument("script", help="path to the Python script")
    run.add_argument("args", nargs=argparse.REMAINDER, help="arguments passed to the script")
    sub.add_parser("version", help="print tapeflow's version")
    ns = parser.parse_args(argv)
    if ns.command == "version":
        from tapeflow import __version__
        print(__version__)
        return 0
    if not os.path.isfile(ns.script):
        parser.error(f"script not found: {ns.script}")
    from tapeflow import _compat
    _compat.install()
    sys.argv = [ns.script] + ns.args
    sys.path.insert(0, os.path.dirname(os.path.abspath(ns.script)))
    runpy.run_path(ns.script, run_name="__main__")
    return 0


if __name__ == "__main__":
    sys.exit(main())
