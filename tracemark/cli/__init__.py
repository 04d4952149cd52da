"""The ``tracemark`` command: one module per command group, all on the root group ``main``."""

from tracemark.cli import catalog, codes, keys, ops, people, verify  # noqa: F401  (register commands)
from tracemark.cli.base import main

__all__ = ["main"]
