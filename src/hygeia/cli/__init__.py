"""The ``hygeia`` command line: one file per command group, thin over the Python API."""

from hygeia.cli.main import main

__all__ = ["main"]
