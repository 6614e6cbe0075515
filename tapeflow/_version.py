"""tapeflow's version (also in pyproject.toml); a module of its own so that any layer may
read it without importing the public namespace."""
__version__ = "0.1.0"
