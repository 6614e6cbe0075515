"""Converting a Python function: its source to an AST, the passes of lowering.py and
transformer.py, and back to a function object sharing the original's globals and closure.

The converted AST keeps the user's line numbers and is compiled under the user's file name,
so tracebacks and TF-style error messages (errors.py) show the user's lines. Conversions are
cached per code object and set of optional features. `converted_call` decides, as TF's does,
what converted code may convert in turn: user functions and methods yes; builtins (some
overloaded), constructors, generators, functions with no source, `do_not_convert` functions,
and the modules of tapeflow, NumPy, torch and the other libraries TF lists, no.
"""
import ast
import enum
import functools
import inspect
import linecache
import threading
import types

from tapeflow._core.logs import warn
from tapeflow.function.autograph import analysis, lowering, operators, py_builtins, transformer
from tapeflow.function.autograph.ranges import tf_range
from tapeflow.ops.creation import range as tf_range_op


class Feature(enum.Enum):
    """`tf.autograph.experimental.Feature`: optional conversions."""
    ALL = "ALL"
    AUTO_CONTROL_DEPS = "AUTO_CONTROL_DEPS"
    ASSERT_STATEMENTS = "ASSERT_STATEMENTS"
    BUILTIN_FUNCTIONS = "BUILTIN_FUNCTIONS"
    EQUALITY_OPERATORS = "EQUALITY_OPERATORS"
    LISTS = "LISTS"
    NAME_SCOPES = "NAME_SCOPES"

    @classmethod
    def all(cls):
        return tuple(cls.__members__.values())

    @classmethod
    def all_but(cls, exclude):
        exclude = set(exclude if isinstance(exclude, (list, tuple, set)) else (exclude,))
        return tuple(f for f in cls.all() if f not in exclude and f is not cls.ALL)


def features(optional):
    """A frozenset of Features from None, one Feature, or a sequence of them."""
    if optional is None:
        return frozenset()
    if isinstance(optional, Feature):
        optional = (optional,)
    out = frozenset(optional)
    return frozenset(Feature.all()) if Feature.ALL in out else out


class ConversionOptions:
    __slots__ = ("recursive", "features")

    def __init__(self, recursive=True, optional_features=None):
        self.recursive = recursive
        self.features = features(optional_features)

    def uses(self, feature):
        return feature in self.features


# -- whether AutoGraph is on here ------------------------------------------------------------

class _Status(threading.local):
    def __init__(self):
        self.stack = []   # (enabled, options)


_status = _Status()


class status:  # noqa: N801 - a context manager
    """Marks the code run inside as converted (`enabled`) or not (do_not_convert,
    `tf.function(autograph=False)`)."""

    def __init__(self, enabled, options=None):
        self.entry = (enabled, options)

    def __enter__(self):
        _status.stack.append(self.entry)

    def __exit__(self, *exc):
        _status.stack.pop()


def active_options():
    """The ConversionOptions of the enclosing conversion when AutoGraph is on, else None."""
    if _status.stack and _status.stack[-1][0]:
        return _status.stack[-1][1]
    return None


# -- the runtime namespace converted code sees as `ag__` ----------------------------------------

class _Runtime:
    """`ag__`: the operators, plus `converted_call` bound to the conversion's options."""

    def __init__(self, options):
        self.options = options
        for n in ("if_stmt", "while_stmt", "for_stmt", "if_exp", "and_", "or_", "not_", "eq",
                  "not_eq", "ld", "ldu", "retval", "Undefined", "UndefinedReturnValue",
                  "assert_stmt"):
            setattr(self, n, getattr(operators, n))

    def converted_call(self, f, args, kwargs):
        return converted_call(f, args, kwargs, self.options)


_RUNTIMES = {}


def _runtime(options):
    key = (options.recursive, options.features)
    rt = _RUNTIMES.get(key)
    if rt is None:
        rt = _RUNTIMES[key] = _Runtime(options)
    return rt


# -- which callables are converted -------------------------------------------------------------

_DO_NOT_CONVERT = ("tapeflow", "torch", "numpy", "scipy", "collections", "copy", "cProfile",
                   "inspect", "ipdb", "linecache", "mock", "unittest", "pathlib", "pdb",
                   "posixpath", "pstats", "re", "threading", "urllib", "matplotlib", "pandas",
                   "tensorflow", "PIL", "absl", "keras", "tf_keras", "functools", "contextlib",
                   "abc", "enum", "typing", "dataclasses", "logging", "pytest", "_pytest")

_CONVERTED = {}       # id(code object of converted code) -> original function's name
_CALL_FRAMES = set()  # code objects of the functions that call converted code
_CACHE = {}           # (original code, features) -> (converted code, source text)


def _module_excluded(module_name):
    if not module_name:
        return False
    top = module_name.split(".", 1)[0]
    return top in _DO_NOT_CONVERT


def is_artifact(f):
    return getattr(f, "__ag_artifact__", False) or (
        hasattr(f, "__code__") and id(f.__code__) in _CONVERTED)


def _unbound(f):
    """(function to convert, bound self or None) for a callable, or (None, None)."""
    if inspect.ismethod(f):
        return f.__func__, f.__self__
    if inspect.isfunction(f):
        return f, None
    return None, None


def convertible(fn):
    """Whether a plain function is user code AutoGraph converts."""
    if not inspect.isfunction(fn) or is_artifact(fn):
        return False
    code = fn.__code__
    if code.co_name == "<lambda>" or code.co_filename.startswith("<") or \
            code.co_flags & (inspect.CO_GENERATOR | inspect.CO_COROUTINE |
                             inspect.CO_ASYNC_GENERATOR):
        return False
    return not _module_excluded(getattr(fn, "__module__", None) or
                                fn.__globals__.get("__name__", ""))


def converted_call(f, args, kwargs, options):
    """Calls `f(*args, **kwargs)`, converting `f` first when it is user code."""
    kwargs = kwargs or {}
    if active_options() is None and _status.stack:
        return f(*args, **kwargs)
    if is_artifact(f):
        return f(*args, **kwargs)
    if isinstance(f, functools.partial):
        return converted_call(f.func, tuple(f.args) + tuple(args), {**f.keywords, **kwargs},
                              options)
    overload = py_builtins.OVERLOADS.get(f) if _hashable(f) else None
    if overload is not None:
        return overload(*args, **kwargs)
    if f is _tapeflow_range():
        return tf_range(*args, **kwargs)
    if not options.recursive or inspect.isbuiltin(f) or inspect.isclass(f):
        return f(*args, **kwargs)
    fn, bound = _unbound(f)
    if fn is None and callable(f) and not isinstance(f, type):
        call_fn = getattr(type(f), "__call__", None)
        if inspect.isfunction(call_fn):
            fn, bound = call_fn, f
    if fn is None or not convertible(fn):
        return f(*args, **kwargs)
    try:
        converted = convert(fn, options)
    except Exception as e:  # noqa: BLE001 - as TF: warn and run the function as it is
        warn("AutoGraph could not transform %s and will run it as-is.\nCause: %s\nTo silence "
             "this warning, decorate the function with "
             "@tf.autograph.experimental.do_not_convert", f, e)
        _mark_unconvertible(fn)
        return f(*args, **kwargs)
    return _call_converted(converted, bound, args, kwargs)


def _call_converted(converted, bound, args, kwargs):
    if bound is not None:
        return converted(bound, *args, **kwargs)
    return converted(*args, **kwargs)


_CALL_FRAMES.update((_call_converted.__code__, converted_call.__code__))


def _hashable(f):
    try:
        hash(f)
        return True
    except TypeError:
        return False


@functools.lru_cache(maxsize=None)
def _tapeflow_range():
    return tf_range_op


def _mark_unconvertible(fn):
    try:
        fn.__ag_artifact__ = True
    except (AttributeError, TypeError):
        pass


# -- conversion --------------------------------------------------------------------------------

class ConversionError(Exception):
    """`tf.autograph` could not convert a function."""


def _source(fn):
    """The function's own source lines (from its code object, so decorators' wrappers and
    `functools.wraps` do not mislead) and the line number of the first."""
    code = fn.__code__
    lines = linecache.getlines(code.co_filename, fn.__globals__)
    if not lines:
        raise ConversionError(f"could not get source code of {fn.__qualname__}")
    first = code.co_firstlineno
    block = inspect.getblock(lines[first - 1:])
    return block, first


def _parse(fn):
    block, first = _source(fn)
    text = "".join(block)
    indented = text[:1] in (" ", "\t")
    tree = ast.parse("if 1:\n" + text if indented else text)
    node = tree.body[0].body[0] if indented else tree.body[0]
    ast.increment_lineno(tree, first - (2 if indented else 1))
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) or \
            node.name != fn.__code__.co_name:
        raise ConversionError(f"the source of {fn.__qualname__} at line {first} is not its "
                              "definition")
    return node


def transform(node, options, self_name=None):
    """Runs every pass on a parsed FunctionDef (in place); returns the names it made up."""
    node.decorator_list = []
    namer = lowering.Namer(node)
    node.body = lowering.lower_breaks(node.body, namer)
    node.body = lowering.lower_continues(node.body, namer)
    for fn in [n for n in ast.walk(node) if isinstance(n, (ast.FunctionDef,
                                                            ast.AsyncFunctionDef))]:
        lowering.lower_returns(fn, namer)
    if options.uses(Feature.ASSERT_STATEMENTS):
        transformer.Asserts().visit(node)
    transformer.extract_loop_options(node)
    analysis.annotate(node)
    undefined = set()
    for n in ast.walk(node):
        if isinstance(n, (ast.If, ast.While, ast.For)) and hasattr(n, "ag_defined_in"):
            undefined |= {s for s in n.ag_modified if not analysis.is_composite(s) and
                          s not in n.ag_defined_in}
    transformer.Loads(undefined).visit(node)
    node.body = [s for b in node.body
                 for s in transformer._as_list(transformer.Calls(self_name).visit(b))]
    transformer.ControlFlow(namer, node).visit(node)
    transformer.Expressions(options.uses(Feature.EQUALITY_OPERATORS)).visit(node)
    ast.fix_missing_locations(node)
    return namer.generated


def convert(fn, options):
    """The converted form of the plain function `fn` (cached)."""
    key = (fn.__code__, options.features)
    entry = _CACHE.get(key)
    if entry is None:
        entry = _CACHE[key] = _compile(fn, options)
    code, _ = entry
    cells = dict(zip(fn.__code__.co_freevars, fn.__closure__ or ()))
    cells["ag__"] = types.CellType(_runtime(options))
    closure = tuple(cells[n] if n in cells else types.CellType() for n in code.co_freevars)
    new = types.FunctionType(code, fn.__globals__, fn.__name__, fn.__defaults__, closure)
    new.__kwdefaults__ = fn.__kwdefaults__
    new.__qualname__, new.__module__, new.__doc__ = fn.__qualname__, fn.__module__, fn.__doc__
    new.__dict__.update(fn.__dict__)
    new.__wrapped__ = fn
    return new


def _factory_module(node, freevars):
    """The converted def inside a factory whose parameters are the original's free variables,
    so the compiled code closes over the same names. The factory never runs: its def's name is
    declared global there, so a module-level function that calls itself (recursion, or from a
    generator expression) still finds itself as a global, not as a factory local."""
    factory = ast.parse(f"def __ag_factory({', '.join(['ag__'] + list(freevars))}):\n"
                        f"    return {node.name}\n").body[0]
    factory.body.insert(0, node)
    if node.name not in freevars:
        factory.body.insert(0, ast.Global(names=[node.name]))
    module = ast.Module(body=[factory], type_ignores=[])
    ast.fix_missing_locations(module)
    return module


def _compile(fn, options):
    node = _parse(fn)
    code = fn.__code__
    self_name = None
    if "__class__" in code.co_freevars and code.co_varnames[:code.co_argcount]:
        self_name = code.co_varnames[0]
    generated = transform(node, options, self_name)
    module = _factory_module(node, [v for v in code.co_freevars if v != "ag__"])
    compiled = compile(module, code.co_filename, "exec", dont_inherit=True)
    factory = next(c for c in compiled.co_consts if isinstance(c, types.CodeType))
    new_code = next(c for c in factory.co_consts if isinstance(c, types.CodeType) and
                    c.co_name == node.name)
    _register(new_code, fn.__name__, generated)
    return new_code, ast.unparse(node)


def _register(code, owner, generated):
    name = owner if code.co_name in generated or code.co_name.startswith("<") else code.co_name
    _CONVERTED[id(code)] = (name, code)
    for c in code.co_consts:
        if isinstance(c, types.CodeType):
            _register(c, name, generated)


def converted_name(code):
    """The user function a converted code object comes from, or None."""
    entry = _CONVERTED.get(id(code))
    return entry[0] if entry is not None and entry[1] is code else None


def source_of(fn, options):
    """The converted source of a plain function, as `tf.autograph.to_code` shows it."""
    convert(fn, options)
    _, text = _CACHE[(fn.__code__, options.features)]
    return text.replace(f"def {fn.__code__.co_name}(", f"def tf__{fn.__code__.co_name}(", 1)


def unwrap_function(entity):
    """A plain function (and its bound self) from a function, method or tf.function."""
    python_function = getattr(entity, "python_function", None)
    if python_function is not None:
        entity = python_function
    fn, bound = _unbound(entity)
    if fn is None:
        raise ConversionError(f"converting {entity}: unsupported type {type(entity).__name__}")
    return fn, bound

