"""Vocabulary shared by the FHIR exporter and importer: URIs, code tables, ids, times.

Everything here is a plain table or a small pure function so that the export
and the import read the same mapping (and a round trip gives back what went in).
"""

from __future__ import annotations

import datetime as _dt
import functools
import hashlib
import math
import re
import uuid
from urllib.parse import quote, unquote

__all__ = [
    "CANONICAL", "EXT_PERSON", "EXT_RECORD", "HTEST_TAG", "HYGEIA", "LEGACY_EXTENSIONS", "RESOURCE_ID_SYSTEM",
    "format_time", "hygeia_system", "parse_time", "resource_id", "system_uri", "ucum_code",
]

#: Hygeia's own namespace for identifier systems, code systems and meta.source (a URN: it claims
#: no web domain and nothing resolves it).
HYGEIA = "urn:hygeia:fhir"
#: The canonical base of Hygeia's conformance resources: each extension's URL is the canonical URL
#: of the StructureDefinition shipped in ``hygeia/export/fhir/definitions/``.
CANONICAL = "https://hygeia.dev/fhir"
EXT_RECORD = f"{CANONICAL}/StructureDefinition/record"  # complex: module, state, fields without a FHIR home
EXT_PERSON = f"{CANONICAL}/StructureDefinition/person"  # complex: locale, income, education, seed
#: The extension URLs of exports made before the StructureDefinitions (still read by the import).
LEGACY_EXTENSIONS = {f"{HYGEIA}:record": EXT_RECORD, f"{HYGEIA}:person": EXT_PERSON}
#: Every resource carries ``{"system": RESOURCE_ID_SYSTEM, "value": "urn:uuid:<its id>"}`` (RFC 3986: the
#: identifier is a URI): unique across runs, so conditional creates (``ifNoneExist``) and conditional
#: references can find it on a server that assigned its own id.
RESOURCE_ID_SYSTEM = "urn:ietf:rfc:3986"
SUBJECT_ID_SYSTEM = f"{HYGEIA}:subject-id"
ENCOUNTER_ID_SYSTEM = f"{HYGEIA}:encounter-id"
ORG_SYSTEM = f"{HYGEIA}:organization"
PRACTITIONER_SYSTEM = f"{HYGEIA}:practitioner"

#: The synthetic-data tag carried by every resource (as Synthea-made test data is tagged).
HTEST_TAG = {"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "HTEST",
             "display": "test health data"}

_NS = uuid.UUID("6f1f4a53-38c5-5d1e-9b8a-0d8c2f6a9e11")  # fixed: the same records give the same ids
_NS_BYTES = _NS.bytes


def resource_id(*parts: object) -> str:
    """A deterministic UUID (version 5) from ``parts``: the same run exports identically.

    Equal to ``str(uuid.uuid5(NS, "|".join(map(str, parts))))``, computed directly (it is
    called once per resource).
    """
    h = bytearray(hashlib.sha1(_NS_BYTES + "|".join(map(str, parts)).encode()).digest()[:16])
    h[6] = (h[6] & 0x0F) | 0x50
    h[8] = (h[8] & 0x3F) | 0x80
    x = h.hex()
    return f"{x[:8]}-{x[8:12]}-{x[12:16]}-{x[16:20]}-{x[20:]}"


# -- code systems --------------------------------------------------------------
_SYSTEMS = {
    "SNOMED-CT": "http://snomed.info/sct",
    "LOINC": "http://loinc.org",
    "RxNorm": "http://www.nlm.nih.gov/research/umls/rxnorm",
    "CVX": "http://hl7.org/fhir/sid/cvx",
    "DICOM-DCM": "http://dicom.nema.org/resources/ontology/DCM",
    "DICOM-SOP": "urn:ietf:rfc:3986",
    "NUBC": "https://www.nubc.org/CodeSystem/PatDischargeStatus",
    "ICD-10-CM": "http://hl7.org/fhir/sid/icd-10-cm",
    "ICD-10": "http://hl7.org/fhir/sid/icd-10",
    "ICD-9-CM": "http://hl7.org/fhir/sid/icd-9-cm",
    "CPT": "http://www.ama-assn.org/go/cpt",
    "NDC": "http://hl7.org/fhir/sid/ndc",
    "UCUM": "http://unitsofmeasure.org",
}
_NAMES = {v: k for k, v in _SYSTEMS.items()}
_OTHER_SYSTEM = f"{HYGEIA}:code-system:"
_URI = re.compile(r"^(https?|urn|oid):\S+$")


def system_uri(name: str | None) -> str | None:
    """The canonical URI of a Hygeia code-system name (``"LOINC"`` -> ``http://loinc.org``).

    A name Hygeia has no URI for is kept, percent-encoded, under Hygeia's namespace so that
    the import gives it back unchanged; a name that already is a URI is kept as it is.
    """
    if name is None:
        return None
    if name in _SYSTEMS:
        return _SYSTEMS[name]
    if _URI.match(name):
        return name
    return _OTHER_SYSTEM + quote(name, safe="")


def hygeia_system(uri: str | None) -> str | None:
    """The inverse of :func:`system_uri`: a Hygeia code-system name for a FHIR system URI."""
    if uri is None:
        return None
    if uri in _NAMES:
        return _NAMES[uri]
    if uri.startswith(_OTHER_SYSTEM):
        return unquote(uri[len(_OTHER_SYSTEM):])
    return uri


# -- times ---------------------------------------------------------------------
_EPOCH = _dt.datetime(1970, 1, 1)


@functools.lru_cache(maxsize=1 << 16)
def _day(days: int) -> str:
    d = _EPOCH + _dt.timedelta(days=days)
    return f"{d.year:04d}-{d.month:02d}-{d.day:02d}T"


def format_time(us: int) -> str:
    """A FHIR ``dateTime``/``instant`` in UTC from epoch microseconds, keeping every digit."""
    days, rest = divmod(us, 86_400_000_000)
    secs, frac = divmod(rest, 1_000_000)
    hh, secs = divmod(secs, 3600)
    mm, ss = divmod(secs, 60)
    if frac == 0:
        return f"{_day(days)}{hh:02d}:{mm:02d}:{ss:02d}Z"
    if frac % 1000 == 0:
        return f"{_day(days)}{hh:02d}:{mm:02d}:{ss:02d}.{frac // 1000:03d}Z"
    return f"{_day(days)}{hh:02d}:{mm:02d}:{ss:02d}.{frac:06d}Z"


def format_date(us: int) -> str:
    """A FHIR ``date`` (the UTC day) from epoch microseconds."""
    return _day(us // 86_400_000_000)[:-1]


_TIME = re.compile(
    r"^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$"
)


def parse_time(text: str) -> int:
    """Epoch microseconds (UTC) of a FHIR ``date``, ``dateTime`` or ``instant``.

    A partial date (``2020``, ``2020-03``) means its first instant; a time without a zone
    is read as UTC.

    Raises:
        ValueError: ``text`` is not a FHIR date or time.
    """
    m = _TIME.match(text) if isinstance(text, str) else None
    if m is None:
        raise ValueError(f"{text!r} is not a FHIR date or dateTime (e.g. 2020-03-01T08:30:00Z)")
    year, month, day, hh, mm, ss, frac, zone = m.groups()
    micro = int((frac or "0")[:6].ljust(6, "0"))
    t = _dt.datetime(int(year), int(month or 1), int(day or 1), int(hh or 0), int(mm or 0), int(ss or 0), micro)
    if zone and zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        t -= sign * _dt.timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))
    delta = t - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def finite(x: float | None) -> bool:
    """Whether ``x`` is a number FHIR can carry (not null, NaN or infinite)."""
    return x is not None and math.isfinite(x)


# -- UCUM ----------------------------------------------------------------------
# The atoms (with their metric flag) that clinical records use; a unit built from them with
# the UCUM operators is sent as a UCUM code, any other unit as display text only.
_METRIC = {"g", "L", "l", "m", "s", "mol", "eq", "U", "[iU]", "[IU]", "Pa", "bar", "cal", "kat", "osm", "Cel",
           "K", "Hz", "J", "W", "V", "A", "N", "Ohm", "S", "dB", "[CCID_50]"}
_PLAIN = {"min", "h", "d", "wk", "mo", "a", "%", "[pH]", "[degF]", "[in_i]", "[ft_i]", "[lb_av]", "[oz_av]",
          "[ppm]", "[ppb]", "[drp]", "[HPF]", "[LPF]", "mm[Hg]", "cm[H2O]", "[mi_i]", "deg", "[ppth]", "[pptr]"}
_PREFIXES = ("da", "Y", "Z", "E", "P", "T", "G", "M", "k", "h", "d", "c", "m", "u", "n", "p", "f", "a", "z", "y")
_ANNOT = re.compile(r"\{[^{}\s]*\}")
_TERM = re.compile(r"^([^\d{}./+\-]+|10\*|10\^)?([+-]?\d+)?$")
_ucum_cache: dict[str, str | None] = {}


def _atom_ok(atom: str) -> bool:
    if atom in _PLAIN or atom in _METRIC:
        return True
    return any(atom.startswith(p) and atom[len(p):] in _METRIC for p in _PREFIXES)


def _is_ucum(unit: str) -> bool:
    if not unit or unit != unit.strip():
        return False
    body = _ANNOT.sub("{}", unit)
    if " " in body:
        return False
    body = body[1:] if body.startswith("/") else body
    for part in re.split(r"[./]", body.replace("(", "").replace(")", "")):
        stripped = part.replace("{}", "")
        if (part and not stripped) or stripped.isdigit():  # a bare annotation ({score}) or a number
            continue
        m = _TERM.match(stripped)
        if m is None:
            return False
        atom, _exp = m.groups()
        if atom in ("10*", "10^") or (atom and _atom_ok(atom)):
            continue
        return False
    return True


#: Units that modules write loosely, with the UCUM code they mean (the text is kept as ``unit``).
_UCUM_FIXES = {"K/uL": "10*3/uL", "pH": "[pH]", "ratio": "{ratio}", "mmHg": "mm[Hg]", "degF": "[degF]",
               "beats/min": "/min", "breaths/min": "/min", "mL/min/1.73 m2": "mL/min/{1.73_m2}",
               "lbs": "[lb_av]", "lb": "[lb_av]", "in": "[in_i]", "ng/dl": "ng/dL"}


def ucum_code(unit: str | None) -> str | None:
    """The UCUM code for ``unit``: itself when Hygeia recognizes it as UCUM, the code a known
    loose spelling means (``K/uL`` -> ``10*3/uL``), else None (the unit is then sent as text)."""
    if unit is None:
        return None
    if unit in _UCUM_FIXES:
        return _UCUM_FIXES[unit]
    code = _ucum_cache.get(unit, "")
    if code == "":
        code = _ucum_cache[unit] = unit if _is_ucum(unit) else None
    return code
