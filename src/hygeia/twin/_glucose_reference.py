"""simglucose as a reference: import its patient model without its gym registration.

simglucose 0.2.11 (MIT) is the reference the glucose back-end is checked against (tests and
``benchmarks/twin_glucose.py``); Hygeia never needs it to run. Its package ``__init__``
registers a gym environment (gym 0.9.4, which no longer installs beside gymnasium 1.x) and
its patient module finds its parameter file with ``pkg_resources`` (gone from setuptools 81).
Only its pure-Python patient core is needed, so it is installed ``--no-deps`` (see the
Makefile) and loaded here: the package is entered without running its ``__init__``, and a
stand-in for ``pkg_resources`` that only locates package files is present while the patient
module is imported, then removed (the real one is missing or warns on import).

Example:
    >>> T1DPatient = simglucose_patient_class()  # doctest: +SKIP
    >>> T1DPatient.withName("adolescent#001").observation.Gsub  # doctest: +SKIP
    149.02
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import types
from typing import Any

from hygeia.errors import MissingExtraError

__all__ = ["simglucose_patient_class", "simglucose_version"]


def simglucose_version() -> str | None:
    """The installed simglucose version, or ``None``."""
    from importlib import metadata

    try:
        return metadata.version("simglucose")
    except metadata.PackageNotFoundError:
        return None


def simglucose_patient_class() -> Any:
    """simglucose's ``T1DPatient`` class (and its ``Action`` as ``T1DPatient.Action``).

    Raises:
        MissingExtraError: when simglucose is not installed.
    """
    if "simglucose.patient.t1dpatient" in sys.modules:
        module = sys.modules["simglucose.patient.t1dpatient"]
    else:
        spec = importlib.util.find_spec("simglucose")
        if spec is None or not spec.submodule_search_locations:
            raise MissingExtraError("simglucose is not installed; it is only a reference: "
                                    "pip install --no-deps simglucose==0.2.11")
        if "simglucose" not in sys.modules:
            package = types.ModuleType("simglucose")
            package.__path__ = list(spec.submodule_search_locations)
            package.__file__ = spec.origin
            sys.modules["simglucose"] = package
        root = next(iter(spec.submodule_search_locations))
        # the stand-in is used even where pkg_resources exists: importing it warns (setuptools 67.5-80)
        shim = types.ModuleType("pkg_resources")

        def resource_filename(package: str, name: str) -> str:
            return os.path.join(root, *name.split("/"))

        shim.resource_filename = resource_filename  # type: ignore[attr-defined]
        before = sys.modules.get("pkg_resources")
        sys.modules["pkg_resources"] = shim
        try:
            module = importlib.import_module("simglucose.patient.t1dpatient")
        finally:
            if before is None:
                sys.modules.pop("pkg_resources", None)
            else:
                sys.modules["pkg_resources"] = before
    cls = module.T1DPatient
    cls.Action = module.Action
    return cls
