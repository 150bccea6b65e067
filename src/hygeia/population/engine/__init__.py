"""The module engine: loads Synthea-format modules and runs them for each person.

Example:
    >>> from hygeia.population.engine import default_modules_dir, load_modules
    >>> modules = load_modules([default_modules_dir()])
"""

from hygeia.population.engine._api import simulate
from hygeia.population.engine._loader import (
    Module,
    ModuleSet,
    default_modules_dir,
    load_modules,
    load_run_modules,
)
from hygeia.population.engine._logic import CONDITIONS
from hygeia.population.engine._person import Person
from hygeia.population.engine._runner import Simulation
from hygeia.population.engine._states import STATES
from hygeia.population.engine._transitions import TRANSITIONS

__all__ = [
    "CONDITIONS",
    "Module",
    "ModuleSet",
    "Person",
    "STATES",
    "Simulation",
    "TRANSITIONS",
    "default_modules_dir",
    "load_modules",
    "load_run_modules",
    "simulate",
]
