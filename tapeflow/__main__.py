"""The `tapeflow` command (also `python -m tapeflow`).

    tapeflow run script.py [args...]   run a TensorFlow script with its imports on tapeflow
    tapeflow export model.keras model.onnx [--opset N]   a saved Keras model as ONNX
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
    export = sub.add_parser("export", help="convert a saved .keras model to ONNX")
    export.add_argument("model", help="the .keras file (tapeflow's or Keras 3's)")
    export.add_argument("output", help="the .onnx file to write")
    export.add_argument("--opset", type=int, default=None, help="ONNX opset (default 17)")
    sub.add_parser("version", help="print tapeflow's version")
    ns = parser.parse_args(argv)
    if ns.command == "version":
        from tapeflow._version import __version__
        print(__version__)
        return 0
    if ns.command == "export":
        return _export(parser, ns)
    if not os.path.isfile(ns.script):
        parser.error(f"script not found: {ns.script}")
    from tapeflow import _compat
    _compat.install()
    sys.argv = [ns.script] + ns.args
    sys.path.insert(0, os.path.dirname(os.path.abspath(ns.script)))
    runpy.run_path(ns.script, run_name="__main__")
    return 0


def _export(parser, ns):
    if not os.path.isfile(ns.model):
        parser.error(f"model not found: {ns.model}")
    from tapeflow import keras
    model = keras.models.load_model(ns.model, compile=False)
    model.export(ns.output, format="onnx", opset_version=ns.opset)
    return 0


if __name__ == "__main__":
    sys.exit(main())
