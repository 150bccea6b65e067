"""The state types that write the health record: onsets, ends, orders, procedures, observations...

Registered in :data:`~hygeia.population.engine._states.STATES` on import (``_states``
imports this module at its end). Each class names the Synthea ``State`` subclass whose
behaviour it follows.
"""

from __future__ import annotations

from hygeia.population.engine._logic import SYMPTOMS, VITALS, record_key
from hygeia.population.engine._person import END, Undiagnosed, row_key
from hygeia.population.engine._states import ADVANCE, State, _code, _codes, _needs_transition, _register
from hygeia.population.engine._units import compile_duration, number_sampler

__all__ = ["ConditionOnset", "ImagingStudy", "Observation", "Procedure"]

class _Coded(State):
    """A state that records one coded fact in the module's current encounter."""

    __slots__ = ("codes", "code", "assign", "key_changed", "row_key")
    kind = ""

    def __init__(self, spec, ctx, where, problems, key="codes"):
        super().__init__(spec, ctx, where, problems)
        _needs_transition(self, where, problems)
        self.codes = _codes(spec, where, problems, key) if key != "code" else (
            (_code(spec.get("code"), where + ".code", problems),) if spec.get("code") else ())
        if key == "code" and not self.codes:
            problems.append(f"{where}: needs a 'code'")
        self.code = self.codes[0] if self.codes and self.codes[0] else (None, None, None)
        self.assign = spec.get("assign_to_attribute")
        self.key_changed = record_key(self.kind)
        self.row_key = None  # the rows' row_key, made on the first row (the loader names the state last)

    def start(self, run, person, t, text=None, end=None) -> list:
        code = self.code
        enc = run.encounter
        if enc is not None:
            enc_id = enc[9]
            if enc[1] < t:
                enc[1] = t
        else:
            enc_id = None
        key = self.row_key
        if key is None:
            key = self.row_key = row_key(self.kind, self.code, self.module, self.name)
        row = [t, end, self.kind, code[0], code[1], code[2], None, None, text, enc_id, self.module, self.name, key]
        person.rows.append(row)
        person.dirty.add(self.key_changed)
        run.entries[self.name] = row
        if self.assign:
            person.attrs[self.assign] = row
            person.dirty.add(self.assign)
        return row


@_register("ConditionOnset")
class ConditionOnset(_Coded):
    """Onset now; recorded now, or at the ``target_encounter`` when not in it yet.

    As Synthea's ``State.OnsetState.process``: an onset waiting for its target
    encounter still sets its ``assign_to_attribute`` at once, to an
    :class:`~hygeia.population.engine._person.Undiagnosed` entry (in no record),
    so that other modules see the attribute before diagnosis.
    """

    __slots__ = ("target",)
    kind = "condition"

    def __init__(self, spec, ctx, where, problems):
        super().__init__(spec, ctx, where, problems)
        self.target = spec.get("target_encounter")
        if self.target is not None:
            ctx.state_refs.append((where, "target_encounter", self.target))

    def process(self, run, person, t):
        if self.target and run.encounter_state != self.target:
            run.pending.append((self.target, self))
            if self.assign:
                c = self.code
                person.attrs[self.assign] = Undiagnosed(
                    [t, None, self.kind, c[0], c[1], c[2], None, None, None, None, self.module, self.name])
                person.dirty.add(self.assign)
        else:
            self.diagnose(run, person, t)
        return ADVANCE

    def diagnose(self, run, person, t):
        if self.code is None:
            return
        active = person.conditions if self.kind == "condition" else person.allergies
        row = active.get(self.code[1])
        if row is None:
            row = self.start(run, person, t)
            person.activate(row)
        else:  # already active: refer to the same entry (as Synthea does)
            run.entries[self.name] = row
            if self.assign:
                person.attrs[self.assign] = row
                person.dirty.add(self.assign)


@_register("AllergyOnset")
class AllergyOnset(ConditionOnset):
    __slots__ = ()
    kind = "allergy"


class _End(State):
    """Ends an entry named by the state that started it, by an attribute, or by codes."""

    __slots__ = ("ref_state", "ref_attr", "codes")
    kind = ""
    ref_key = ""

    def __init__(self, spec, ctx, where, problems):
        super().__init__(spec, ctx, where, problems)
        _needs_transition(self, where, problems)
        self.ref_state = spec.get(self.ref_key)
        self.ref_attr = spec.get("referenced_by_attribute")
        self.codes = tuple(c[1] for c in _codes(spec, where, problems, required=False) if c) if spec.get(
            "codes") else ()
        if not (self.ref_state or self.ref_attr or self.codes):
            problems.append(f"{where}: needs {self.ref_key!r}, 'referenced_by_attribute' or 'codes'")
        if self.ref_state:
            ctx.state_refs.append((where, self.ref_key, self.ref_state))

    def process(self, run, person, t):
        if self.ref_state:
            person.end_entry(run.entries.get(self.ref_state), t)
        elif self.ref_attr:
            person.end_entry(person.attrs.get(self.ref_attr), t)
        else:
            for c in self.codes:
                person.end_code(self.kind, c, t)
        return ADVANCE


@_register("ConditionEnd")
class ConditionEnd(_End):
    __slots__ = ()
    kind, ref_key = "condition", "condition_onset"


@_register("AllergyEnd")
class AllergyEnd(_End):
    __slots__ = ()
    kind, ref_key = "allergy", "allergy_onset"


@_register("MedicationEnd")
class MedicationEnd(_End):
    __slots__ = ()
    kind, ref_key = "medication", "medication_order"


@_register("CarePlanEnd")
class CarePlanEnd(_End):
    __slots__ = ()
    kind, ref_key = "careplan", "careplan"


@_register("DeviceEnd")
class DeviceEnd(_End):
    __slots__ = ()
    kind, ref_key = "device", "device"


@_register("MedicationOrder")
class MedicationOrder(_Coded):
    __slots__ = ("chronic",)
    kind = "medication"

    def __init__(self, spec, ctx, where, problems):
        super().__init__(spec, ctx, where, problems)
        self.chronic = bool(spec.get("chronic"))

    def process(self, run, person, t):
        if self.code is not None:
            old = person.medications.get(self.code[1])
            if old is not None:  # a renewed order replaces the active one
                person.end_entry(old, t)
            person.activate(self.start(run, person, t, text="chronic" if self.chronic else None))
        return ADVANCE


@_register("CarePlanStart")
class CarePlanStart(_Coded):
    __slots__ = ("activities",)
    kind = "careplan"

    def __init__(self, spec, ctx, where, problems):
        super().__init__(spec, ctx, where, problems)
        acts = [_code(a, where + ".activities", problems) for a in spec.get("activities", [])]
        self.activities = "; ".join(a[2] or a[1] for a in acts if a) or None

    def process(self, run, person, t):
        if self.code is not None:
            old = person.careplans.get(self.code[1])
            if old is not None:
                person.end_entry(old, t)
            person.activate(self.start(run, person, t, text=self.activities))
        return ADVANCE


@_register("Device")
class Device(_Coded):
    __slots__ = ()
    kind = "device"

    def __init__(self, spec, ctx, where, problems):
        super().__init__(spec, ctx, where, problems, key="code")

    def process(self, run, person, t):
        if self.code is not None:
            person.activate(self.start(run, person, t))
        return ADVANCE


@_register("Procedure")
class Procedure(_Coded):
    __slots__ = ("duration",)
    kind = "procedure"

    def __init__(self, spec, ctx, where, problems):
        super().__init__(spec, ctx, where, problems)
        d = dict(spec)
        if "duration" in spec and isinstance(spec["duration"], dict):
            d = {"range": spec["duration"], "unit": spec["duration"].get("unit", spec.get("unit"))}
        # State.Procedure.processOnce: a double drawn from the range (or the distribution)
        # through convertTime's double overload.
        self.duration = compile_duration(d, where, problems, default_unit="minutes")

    def process(self, run, person, t):
        end = t + self.duration(person.rng) if self.duration else None
        self.start(run, person, t, end=end)
        enc = run.encounter
        if end is not None and enc is not None and enc[END] < end:
            enc[END] = end
        return ADVANCE


@_register("Vaccine", "Immunization")
class Vaccine(_Coded):
    __slots__ = ()
    kind = "immunization"

    def process(self, run, person, t):
        self.start(run, person, t)
        return ADVANCE


@_register("SupplyList")
class SupplyList(State):
    __slots__ = ("supplies",)

    def __init__(self, spec, ctx, where, problems):
        super().__init__(spec, ctx, where, problems)
        _needs_transition(self, where, problems)
        self.supplies = []
        for i, s in enumerate(spec.get("supplies") or []):
            code = _code(s.get("code") if isinstance(s, dict) else None, f"{where}.supplies[{i}]", problems)
            if code:
                self.supplies.append((code, float(s.get("quantity", 1))))

    def process(self, run, person, t):
        for code, q in self.supplies:
            person.record(t, "supply", code, self.module, self.name, run.encounter, value=q)
        return ADVANCE


@_register("ImagingStudy")
class ImagingStudy(State):
    """An imaging study, and the Procedure it amounts to.

    As Synthea's ``State.ImagingStudy.process``: the study is recorded, and so is a
    Procedure coded with its ``procedure_code``, lasting 30 minutes (here, as for a
    Procedure state, the encounter then lasts at least that long).

    Hygeia extension: an optional ``duration`` (as on a Procedure state) sets how long
    that Procedure lasts, drawn exactly as a Procedure state draws it; so a Procedure
    state turned into an ImagingStudy keeps its records and the person's random draws,
    and only adds the ``imaging`` event.
    """

    __slots__ = ("code", "series", "duration")
    #: How long the Procedure recorded with a study lasts (Synthea: 30 minutes).
    PROCEDURE_MS = 30 * 60_000

    def __init__(self, spec, ctx, where, problems):
        super().__init__(spec, ctx, where, problems)
        _needs_transition(self, where, problems)
        self.code = _code(spec.get("procedure_code"), where + ".procedure_code", problems)
        self.duration = None
        if isinstance(spec.get("duration"), dict):
            d = {"range": spec["duration"], "unit": spec["duration"].get("unit", spec.get("unit"))}
            self.duration = compile_duration(d, where, problems, default_unit="minutes")
        parts = []
        for s in spec.get("series") or []:
            bs, mod = s.get("body_site") or {}, s.get("modality") or {}
            parts.append(f"{mod.get('code')}:{bs.get('display') or bs.get('code')}")
        self.series = "; ".join(parts) or None

    def process(self, run, person, t):
        enc = run.encounter
        person.record(t, "imaging", self.code, self.module, self.name, enc, text=self.series)
        end = t + (self.duration(person.rng) if self.duration else self.PROCEDURE_MS)
        person.record(t, "procedure", self.code, self.module, self.name, enc, end=end)
        if enc is not None and enc[END] < end:
            enc[END] = end
        return ADVANCE


class _ObservationValue:
    """How one observation gets its value."""

    __slots__ = ("code", "unit", "sampler", "vital", "attribute", "value_code", "code_text", "text")

    def __init__(self, spec, where, problems):
        codes = _codes(spec, where, problems)
        self.code = codes[0] if codes else None
        self.unit = spec.get("unit") or None
        exact = spec.get("exact")
        if isinstance(exact, dict) and isinstance(exact.get("quantity", exact.get("value")), str):
            # Some modules record a text answer as an "exact" quantity; keep it as text.
            spec = {k: v for k, v in spec.items() if k != "exact"}
            spec["sampled_text"] = exact.get("quantity", exact.get("value"))
        self.sampler = number_sampler(spec, where, problems)
        self.vital = spec.get("vital_sign")
        self.attribute = spec.get("attribute")
        vc = spec.get("value_code")
        self.value_code = _code(vc, where + ".value_code", problems) if vc is not None else None
        self.code_text = "|".join(str(x) for x in self.value_code) if self.value_code else None
        self.text = spec.get("sampled_text")
        if "sampled_data" in spec:
            self.text = "sampled data of " + ", ".join(spec["sampled_data"].get("attributes", []))
        elif "attachment" in spec:
            self.text = "attachment"
        if (self.sampler is None and self.vital is None and self.attribute is None and self.value_code is None
                and self.text is None):
            problems.append(f"{where}: an observation needs a value: exact, range, distribution, vital_sign, "
                            "attribute, value_code, sampled_data or attachment")

    def recorder(self, module: str, state: str):
        """``(person, t, encounter) -> None``: :meth:`record` for one state, a vital sign's or a
        sampled number's inlined (a panel's observations are recorded this way)."""
        if self.sampler is None and self.vital is None:
            return lambda person, t, encounter: self.record(person, t, module, state, encounter)
        sampler, vital, unit = self.sampler, self.vital, self.unit
        has_code = self.code is not None
        system, code_value, display = self.code if has_code else (None, None, None)
        value_code = self.value_code[1] if self.value_code is not None else None

        def record(person, t, encounter):
            if sampler is not None:
                value = sampler(person.rng)
            else:
                value = person.vitals.get(vital)
                if value is None:  # person.vital(vital, t), its reader looked up here
                    readers = person.vital_readers
                    read = readers.get(vital) if readers is not None else None
                    value = read(person, t) if read is not None else person.vital(vital, t)
            if has_code:
                person.obs[code_value] = value if value is not None else value_code
            if encounter is not None:
                enc_id = encounter[9]
                if encounter[1] < t:
                    encounter[1] = t
            else:
                enc_id = None
            person.rows.append([t, None, "observation", system, code_value, display, value, unit, None, enc_id,
                                module, state, key])
            person.dirty.add("@observation")
        key = row_key("observation", self.code, module, state, unit)
        return record

    def record(self, person, t, module, state, encounter):
        """Append the observation's row (built inline: this is the engine's hottest write)."""
        value = text = None
        if self.sampler is not None:
            value = self.sampler(person.rng)
        elif self.vital is not None:
            value = person.vitals.get(self.vital)  # person.vital(self.vital, t), inlined
            if value is None and person.vital_fn is not None:
                value = person.vital_fn(person, self.vital, t)
        elif self.attribute is not None:
            v = person.attrs.get(self.attribute)
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                value = float(v)
            elif isinstance(v, tuple) and len(v) == 3:  # a code set by SetAttribute value_code
                text = f"{v[0]}|{v[1]}|{v[2]}"
                person.obs[self.code[1] if self.code else None] = v[1]
                code = self.code or (None, None, None)
                person.rows.append([t, None, "observation", code[0], code[1], code[2], None, self.unit, text,
                                    encounter[9] if encounter is not None else None, module, state,
                                    row_key("observation", self.code, module, state, self.unit)])
                if encounter is not None and encounter[1] < t:
                    encounter[1] = t
                person.dirty.add("@observation")
                return
            elif v is not None:
                text = str(v[5] if isinstance(v, list) else v)
        elif self.value_code is not None:
            text = self.code_text
        else:
            text = self.text
        code = self.code
        if code is not None:
            person.obs[code[1]] = value if value is not None else (
                self.value_code[1] if self.value_code is not None else text)
        else:
            code = (None, None, None)
        if encounter is not None:
            enc_id = encounter[9]
            if encounter[1] < t:
                encounter[1] = t
        else:
            enc_id = None
        person.rows.append([t, None, "observation", code[0], code[1], code[2], value, self.unit, text, enc_id,
                            module, state, row_key("observation", self.code, module, state, self.unit)])
        person.dirty.add("@observation")


@_register("Observation")
class Observation(State):
    __slots__ = ("obs",)

    def __init__(self, spec, ctx, where, problems):
        super().__init__(spec, ctx, where, problems)
        _needs_transition(self, where, problems)
        self.obs = _ObservationValue(spec, where, problems)

    def process(self, run, person, t):
        self.obs.record(person, t, self.module, self.name, run.encounter)
        return ADVANCE

    def runner(self):
        """:meth:`process` in one call for the common observations: a vital sign, or a sampled number."""
        obs = self.obs
        if obs.sampler is None and obs.vital is None:
            if obs.value_code is not None and obs.attribute is None and obs.code is not None:
                return self._coded_runner()
            return self.process
        sampler, vital, unit, module, name = obs.sampler, obs.vital, obs.unit, self.module, self.name
        has_code = obs.code is not None
        system, code_value, display = obs.code if has_code else (None, None, None)
        value_code = obs.value_code[1] if obs.value_code is not None else None

        def process(run, person, t):  # _ObservationValue.record for these two cases, inlined
            if sampler is not None:
                value = sampler(person.rng)
            else:
                value = person.vitals.get(vital)
                if value is None:  # person.vital(vital, t), its reader looked up here
                    readers = person.vital_readers
                    read = readers.get(vital) if readers is not None else None
                    value = read(person, t) if read is not None else person.vital(vital, t)
            if has_code:
                person.obs[code_value] = value if value is not None else value_code
            encounter = run.encounter
            if encounter is not None:
                enc_id = encounter[9]
                if encounter[1] < t:
                    encounter[1] = t
            else:
                enc_id = None
            person.rows.append([t, None, "observation", system, code_value, display, value, unit, None, enc_id,
                                module, name, key])
            person.dirty.add("@observation")
            return ADVANCE
        key = row_key("observation", obs.code, module, name, unit)
        return process


    def _coded_runner(self):
        """:meth:`process` for an observation whose answer is a fixed code (a smoking status)."""
        obs = self.obs
        system, code_value, display = obs.code
        answer, text, unit, module, name = obs.value_code[1], obs.code_text, obs.unit, self.module, self.name
        key = row_key("observation", obs.code, module, name, unit)

        def process(run, person, t):  # _ObservationValue.record's value_code case, inlined
            person.obs[code_value] = answer
            encounter = run.encounter
            if encounter is not None:
                enc_id = encounter[9]
                if encounter[1] < t:
                    encounter[1] = t
            else:
                enc_id = None
            person.rows.append([t, None, "observation", system, code_value, display, None, unit, text, enc_id,
                                module, name, key])
            person.dirty.add("@observation")
            return ADVANCE
        return process


@_register("MultiObservation", "DiagnosticReport")
class MultiObservation(State):
    """A panel (MultiObservation) or report (DiagnosticReport) and its observations."""

    __slots__ = ("code", "kind", "children")

    def __init__(self, spec, ctx, where, problems):
        super().__init__(spec, ctx, where, problems)
        _needs_transition(self, where, problems)
        codes = _codes(spec, where, problems)
        self.code = codes[0] if codes else None
        self.kind = "diagnostic_report" if spec.get("type") == "DiagnosticReport" else "observation"
        obs = spec.get("observations")
        if not isinstance(obs, list):
            problems.append(f"{where}: needs a list of 'observations'")
            obs = []
        self.children = [_ObservationValue(o, f"{where}.observations[{i}]", problems) for i, o in enumerate(obs)]

    def process(self, run, person, t):
        enc = run.encounter
        person.record(t, self.kind, self.code, self.module, self.name, enc)
        for child in self.children:
            child.record(person, t, self.module, self.name, enc)
        return ADVANCE

    def runner(self):
        """:meth:`process` with each observation's recorder made once."""
        kind, code, module, name = self.kind, self.code, self.module, self.name
        children = tuple(child.recorder(module, name) for child in self.children)

        key = row_key(kind, code, module, name)

        def process(run, person, t):
            enc = run.encounter
            person.record(t, kind, code, module, name, enc, key=key)
            for record in children:
                record(person, t, enc)
            return ADVANCE
        return process


@_register("Symptom")
class Symptom(State):
    __slots__ = ("symptom", "cause", "probability", "sampler")

    def __init__(self, spec, ctx, where, problems):
        super().__init__(spec, ctx, where, problems)
        _needs_transition(self, where, problems)
        self.symptom = spec.get("symptom")
        if not isinstance(self.symptom, str):
            problems.append(f"{where}: Symptom needs a 'symptom' name")
        self.cause = spec.get("cause") or ctx.key
        self.probability = float(spec.get("probability", 1.0))
        self.sampler = number_sampler(spec, where, problems)
        if self.sampler is None:
            problems.append(f"{where}: Symptom needs a severity: exact, range or distribution")

    def process(self, run, person, t):
        if self.probability >= 1.0 or person.rng.random() < self.probability:
            causes = person.symptoms.get(self.symptom)
            if causes is None:
                causes = person.symptoms[self.symptom] = {}
            causes[self.cause] = self.sampler(person.rng)
            person.dirty.add(SYMPTOMS)
        return ADVANCE


@_register("VitalSign")
class VitalSignState(State):
    __slots__ = ("vital", "sampler")

    def __init__(self, spec, ctx, where, problems):
        super().__init__(spec, ctx, where, problems)
        _needs_transition(self, where, problems)
        self.vital = spec.get("vital_sign")
        self.sampler = number_sampler(spec, where, problems)
        if not isinstance(self.vital, str) or self.sampler is None:
            problems.append(f"{where}: VitalSign needs 'vital_sign' and a value (exact, range or distribution)")

    def process(self, run, person, t):
        person.vitals[self.vital] = self.sampler(person.rng)
        person.dirty.add(VITALS)
        return ADVANCE
