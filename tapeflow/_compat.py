"""Run unmodified TensorFlow programs on tapeflow: an import hook that resolves `tensorflow`,
`tensorflow.*`, `keras` and `keras.*` to tapeflow's modules.

`tensorflow.keras.layers` -> `tapeflow.keras.layers`, `keras.ops` -> `tapeflow.keras.ops`,
`tensorflow.math` -> `tapeflow.math`. A name tapeflow does not provide fails with an ImportError
that says which tapeflow module was looked for, so users see what is missing.
"""
import importlib
import importlib.abc
import importlib.util
import sys

ALIASES = (("tensorflow", "tapeflow"), ("keras", "tapeflow.keras"))


def target_name(fullname):
    """The tapeflow module that stands in for `fullname`, or None if it is not aliased."""
    for prefix, target in ALIASES:
        if fullname == prefix or fullname.startswith(prefix + "."):
            return target + fullname[len(prefix):]
    return None


class _AliasLoader(importlib.abc.Loader):
    def __init__(self, target):
        self._target = target

    def create_module(self, spec):
        return importlib.import_module(self._target)

    def exec_module(self, module):
        pass  # the tapeflow module is already executed


class AliasFinder(importlib.abc.MetaPathFinder):
    """Meta-path finder placed first on sys.meta_path while the hook is installed."""

    def find_spec(self, fullname, path, target=None):
        name = target_name(fullname)
        if name is None:
            return None
        try:
            found = importlib.util.find_spec(name)
        except ModuleNotFoundError:
            found = None
        if found is None:
            raise ModuleNotFoundError(
                f"No module named {fullname!r}: tapeflow has no {name!r} yet (running under "
                f"`tapeflow run`, TensorFlow imports resolve to tapeflow).", name=fullname)
        return importlib.util.spec_from_loader(fullname, _AliasLoader(name),
                                               is_package=found.submodule_search_locations
                                               is not None)


_finder = AliasFinder()


def install():
    """Resolve TensorFlow/Keras imports to tapeflow from now on in this process."""
    if _finder not in sys.meta_path:
        sys.meta_path.insert(0, _finder)
        for name in list(sys.modules):
            if target_name(name) is not None:
                del sys.modules[name]  # a real TF imported earlier must not shadow the alias


def uninstall():
    if _finder in sys.meta_path:
        sys.meta_path.remove(_finder)
