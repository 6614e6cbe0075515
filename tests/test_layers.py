"""Imports point one way (DESIGN.md): core -> ops -> autodiff -> function -> (io) -> data ->
(summary, the strategy API Keras reads) -> keras -> (train, distribute, export). Each package imports only packages at or below its layer; no module
below the public namespace imports `tapeflow` itself or a namespace package; the layers below
data import nothing inside functions (a lazy import would hide a cycle); and every module
imports on its own, starting from its own imports rather than from `tapeflow/__init__.py`."""
import ast
import pathlib
import subprocess
import sys
import textwrap

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "tapeflow"

# package -> layer; a package may import packages of its own layer or below
LAYERS = {"_version": 0, "_core": 0, "ops": 1, "autodiff": 2, "function": 3, "io": 3.5,
          "data": 4, "summary": 4.5, "distribute_lib": 4.5, "keras": 5, "train": 6,
          "distribute": 6, "export": 6}
# the public namespace: re-exports only, above everything (`tapeflow/__init__.py` is one too)
NAMESPACES = {"autograph", "bitwise", "config", "debugging", "dtypes", "errors", "image",
              "linalg", "math", "nn", "ragged", "random", "sparse", "strings", "test",
              "__main__", "_compat"}
STRICT = ("_core", "ops", "autodiff", "function")   # no imports inside functions


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        yield name, path


def _package(name):
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else None


def _imports(path):
    """(line, imported module, inside a function) for every tapeflow import of a file."""
    tree = ast.parse(path.read_text())
    in_functions = {id(n) for f in ast.walk(tree)
                    if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
                    for n in ast.walk(f)}
    for node in ast.walk(tree):
        lazy = id(node) in in_functions
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "tapeflow":
                    yield node.lineno, alias.name, lazy
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and \
                node.module.split(".")[0] == "tapeflow":
            if node.module == "tapeflow":   # `from tapeflow import ops`: the subpackage
                for alias in node.names:
                    yield node.lineno, "tapeflow." + alias.name, lazy
            else:
                yield node.lineno, node.module, lazy


def _layer_violations():
    found = []
    for name, path in _modules():
        package = _package(name)
        if package is None or package in NAMESPACES:
            continue
        if package not in LAYERS:
            found.append(f"{name}: package {package!r} has no layer in tests/test_layers.py")
            continue
        for line, target, lazy in _imports(path):
            where = f"{path.relative_to(ROOT)}:{line}"
            other = _package(target)
            if other is None or other in NAMESPACES:
                found.append(f"{where} imports the public namespace ({target})")
            elif other in LAYERS and LAYERS[other] > LAYERS[package]:
                found.append(f"{where}: {package} (layer {LAYERS[package]}) imports {target} "
                             f"(layer {LAYERS[other]})")
            elif lazy and package in STRICT:
                found.append(f"{where} imports {target} inside a function")
    return found


def test_imports_point_one_way():
    assert _layer_violations() == []


def test_the_checker_sees_an_upward_import(tmp_path, monkeypatch):
    fake = tmp_path / "tapeflow" / "ops"
    fake.mkdir(parents=True)
    (fake / "bad.py").write_text("from tapeflow.keras import layers\nimport tapeflow as tf\n"
                                 "def f():\n    from tapeflow.ops import math\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", tmp_path / "tapeflow")
    found = _layer_violations()
    assert len(found) == 3, found
    assert "layer 5" in found[0] and "public namespace" in found[1] and "inside a function" in \
        found[2]


_ALONE = textwrap.dedent("""
    import importlib, sys, traceback, types
    root, names = sys.argv[1], sys.argv[2:]
    failed = []
    for name in names:
        for m in [m for m in sys.modules if m == "tapeflow" or m.startswith("tapeflow.")]:
            del sys.modules[m]
        # an empty `tapeflow` package: the module's own imports decide what loads, in what
        # order, as they would if the facade imported it first
        stub = types.ModuleType("tapeflow")
        stub.__path__ = [root]
        sys.modules["tapeflow"] = stub
        try:
            importlib.import_module(name)
        except Exception:
            failed.append(name + ": " + traceback.format_exc(limit=-3))
    print("\\n".join(failed))
    sys.exit(1 if failed else 0)
""")


def test_every_module_imports_on_its_own():
    names = [name for name, _ in _modules() if name != "tapeflow" and
             _package(name) not in ("__main__",)]
    proc = subprocess.run([sys.executable, "-c", _ALONE, str(PACKAGE), *names],
                          capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]


def test_import_loads_no_compiler_machinery():
    """`import tapeflow` stays cheap: torch.compile's machinery (torch._dynamo, 1.2 s) and the
    symbolic-shape stack (sympy, 0.55 s) load on first use (jit_compile, a None dimension)."""
    code = ("import sys, tapeflow; heavy = [m for m in ('torch._dynamo', 'sympy', 'onnx', "
            "'tensorflow') if m in sys.modules]; print(heavy)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "[]"
