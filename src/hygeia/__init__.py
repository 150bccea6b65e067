"""Hygeia: an open-source generative-AI workbench for healthcare.

The population simulator runs Synthea-compatible disease modules to make whole
synthetic populations with lifetime records::

    from hygeia.population import generate
    generate(n=100, seed=1, out="output")
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
