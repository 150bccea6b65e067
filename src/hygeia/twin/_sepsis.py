"""Sepsis fluids and vasopressors: the ICU-Sepsis MDP (Choudhary, Gupta & Thomas 2024).

ICU-Sepsis is a tabular Markov decision process estimated from MIMIC-III: 713 clusters of
ICU patient states, 4-hour steps, and 25 actions (five IV fluid levels x five vasopressor
levels, following Komorowski et al. 2018); an episode ends in death (state 713) or
discharge alive (state 714, reward 1), with no discount. Its tables ship with Hygeia
(``twin/resources/icu_sepsis.npz``; source, licence and attribution in
``twin/resources/icu_sepsis.md``), so nothing here needs the ``icu-sepsis`` package.

:class:`SepsisMDP` evaluates policies exactly (a sparse linear solve over the ICU states)
and finds the optimal policy by value iteration; the paper's policy values follow from the
tables: random 0.780, clinicians 0.782, optimal 0.875.

:class:`SepsisSimulator` (registered as ``"sepsis"``) runs a plan as Monte Carlo episodes:
the plan's ``settings`` choose the policy (``policy = "clinician" | "random" | "optimal"``,
a 5 x 5 table ``actions`` of weights over fluid x vasopressor levels, or ``rules`` choosing
levels by the state's SOFA score), and doses of ``iv_fluids`` / ``vasopressor`` (unit
``level``, 0-4) fix a level from their time on. Outputs per 4-hour step: discharged alive,
died, still in the ICU, the risk of death from the current state under the plan, and the
levels given. Personalization: the MDP's states carry a mean SOFA score and nothing else a
record holds in the same form, so a patient's SOFA score (``sofa=``) re-weights the
population's initial-state distribution towards states of similar SOFA; without it the
episodes start from the population's initial distribution. :meth:`SepsisSimulator.from_record`
reads that score from a record's sepsis episode (:func:`sofa_from_events`). The MDP has no
patient parameters to fit to observations, so this back-end does not calibrate.

Example:
    >>> from hygeia.twin import Plan
    >>> mdp = SepsisMDP.load()
    >>> round(mdp.value(mdp.policy("clinician")), 3), round(mdp.value(mdp.policy("optimal")), 3)
    (0.782, 0.875)
    >>> run = SepsisSimulator().simulate(Plan("clinicians", settings={"policy": "clinician"}), n=400, seed=1)
    >>> bool(0.7 < run.final("discharged_alive").mean() < 0.86)
    True
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from hygeia.errors import ConfigError, Problem
from hygeia.twin._plan import Plan, check_plan
from hygeia.twin._simulator import Output, Params, Simulator, Trajectories, register

__all__ = ["SEPSIS_POLICIES", "SepsisMDP", "SepsisSimulator", "sofa_from_events"]

N_STATES, N_ACTIONS, LEVELS = 716, 25, 5
DEATH, SURVIVAL, ABSORBING = 713, 714, 715
N_ICU = 713  # states 0..712 are ICU states
#: Hours per MDP step (the 4-hour windows of Komorowski et al. 2018).
STEP_H = 4.0
#: Named policies a plan may ask for.
SEPSIS_POLICIES = ("clinician", "random", "optimal")
#: IV fluid and vasopressor bins (Komorowski et al. 2018, supplementary): level 0 is none,
#: levels 1-4 the quartiles of the non-zero doses given in MIMIC-III (approximate bounds).
LEVEL_MEANING = {
    "iv_fluids": ("none", "<= 50 mL/4 h", "50-180 mL/4 h", "180-530 mL/4 h", "> 530 mL/4 h"),
    "vasopressor": ("none", "<= 0.08 ug/kg/min", "0.08-0.22 ug/kg/min", "0.22-0.45 ug/kg/min", "> 0.45 ug/kg/min"),
}


@dataclass(frozen=True, eq=False)
class SepsisMDP:
    """The ICU-Sepsis tables and exact policy evaluation.

    Attributes:
        transitions: CSR matrix ``(716 * 25, 716)``; row ``state * 25 + action`` is the next-state distribution.
        rewards: CSR matrix of the same shape: the reward of each transition (1 on reaching survival).
        initial: ``(716,)`` the initial-state distribution.
        clinician: ``(716, 25)`` the clinicians' policy estimated from MIMIC-III.
        admissible: ``(716, 25)`` whether an action was taken often enough in a state to be estimated
            (inadmissible actions carry the mean of the admissible ones' transitions, the package's default).
        sofa: ``(716,)`` each state's mean SOFA score.
        centers: ``(716, 47)`` each state's cluster centre (standardized features).
        gamma: the discount (1.0, as in the paper).
    """

    transitions: sp.csr_matrix
    rewards: sp.csr_matrix
    initial: np.ndarray
    clinician: np.ndarray
    admissible: np.ndarray
    sofa: np.ndarray
    centers: np.ndarray
    metadata: Mapping[str, Any]
    gamma: float = 1.0

    @classmethod
    @functools.cache
    def load(cls) -> SepsisMDP:
        """The tables shipped with Hygeia (read once per process)."""
        with resources.files("hygeia.twin").joinpath("resources/icu_sepsis.npz").open("rb") as fh:
            z = np.load(fh)
            tx = sp.csr_matrix((z["tx_data"], z["tx_indices"].astype(np.int32), z["tx_indptr"]),
                               shape=(N_STATES * N_ACTIONS, N_STATES))
            rw = sp.csr_matrix((z["r_data"], (z["r_row"], z["r_col"].astype(np.int32))),
                               shape=(N_STATES * N_ACTIONS, N_STATES))
            return cls(tx, rw, z["d_0"].copy(), z["expert_policy"].copy(), z["admissible"].copy(),
                       z["sofa_scores"].copy(), z["state_cluster_centers"].copy(), json.loads(str(z["metadata"])))

    @functools.cached_property
    def expected_reward(self) -> np.ndarray:
        """``(716, 25)``: the expected immediate reward of each action in each state."""
        return np.asarray(self.transitions.multiply(self.rewards).sum(axis=1)).reshape(N_STATES, N_ACTIONS)

    @functools.cached_property
    def sampling_table(self) -> np.ndarray:
        """The transitions' cumulative probabilities row by row, offset by the row index.

        Row ``r`` (``state * 25 + action``) holds values in ``(r, r + 1]``, so one
        ``searchsorted(table, r + u)`` with ``u`` uniform in ``[0, 1)`` samples a next state of
        every row at once (its column is ``transitions.indices`` at the position found).
        """
        tx = self.transitions
        row_of = np.repeat(np.arange(tx.shape[0]), np.diff(tx.indptr))
        cum = np.cumsum(tx.data)
        before = np.concatenate([[0.0], cum])[tx.indptr[:-1]]
        mass = np.asarray(tx.sum(axis=1)).ravel()
        return (cum - before[row_of]) / mass[row_of] + row_of

    def policy(self, name: str) -> np.ndarray:
        """A named policy as a ``(716, 25)`` table of action probabilities.

        Args:
            name: ``clinician`` (estimated from MIMIC-III), ``random`` (uniform over the 25
                actions) or ``optimal`` (greedy in the optimal values, found by value iteration).
        """
        if name == "clinician":
            pi = self.clinician.copy()
            pi[N_ICU:] = 1.0 / N_ACTIONS  # terminal rows are empty in the table; any action is the same there
            return pi
        if name == "random":
            return np.full((N_STATES, N_ACTIONS), 1.0 / N_ACTIONS)
        if name == "optimal":
            return self.optimal_policy()
        raise ConfigError(f"no sepsis policy {name!r}; choose one of: {', '.join(SEPSIS_POLICIES)}")

    def _step_matrix(self, pi: np.ndarray) -> sp.csr_matrix:
        """``P_pi``: the state-to-state transition matrix under the policy ``pi``."""
        mix = sp.csr_matrix((pi.reshape(-1), (np.repeat(np.arange(N_STATES), N_ACTIONS), np.arange(N_STATES * N_ACTIONS))),
                            shape=(N_STATES, N_STATES * N_ACTIONS))
        return (mix @ self.transitions).tocsr()

    def values(self, pi: np.ndarray) -> np.ndarray:
        """``(716,)``: the exact expected return from each state under ``pi`` (0 in the terminal states).

        Solves ``(I - gamma P_pi) V = r_pi`` over the ICU states; the terminal states hold no
        further reward.
        """
        pi = np.asarray(pi, dtype=float)
        p = self._step_matrix(pi)[:N_ICU, :N_ICU]
        r = (pi * self.expected_reward).sum(axis=1)[:N_ICU]
        v = np.zeros(N_STATES)
        v[:N_ICU] = spla.spsolve((sp.identity(N_ICU, format="csc") - self.gamma * p).tocsc(), r)
        return v

    def value(self, pi: np.ndarray) -> float:
        """The policy's value: the expected return from the initial-state distribution."""
        return float(self.initial @ self.values(pi))

    @functools.cached_property
    def optimal_values(self) -> np.ndarray:
        """``(716,)``: the optimal values, by value iteration until no value moves by 1e-12."""
        v = np.zeros(N_STATES)
        r = self.expected_reward
        for _ in range(100_000):
            new = (r + self.gamma * (self.transitions @ v).reshape(N_STATES, N_ACTIONS)).max(axis=1)
            new[N_ICU:] = 0.0
            if np.max(np.abs(new - v)) < 1e-12:
                return new
            v = new
        raise ConfigError("value iteration did not converge in 100000 iterations")  # pragma: no cover

    def optimal_policy(self) -> np.ndarray:
        """``(716, 25)``: the deterministic policy greedy in :meth:`optimal_values` (ties: lowest action)."""
        q = self.expected_reward + self.gamma * (self.transitions @ self.optimal_values).reshape(N_STATES, N_ACTIONS)
        return np.eye(N_ACTIONS)[np.argmax(q, axis=1)]

    def backup(self, pi: np.ndarray, v_next: np.ndarray) -> np.ndarray:
        """One Bellman backup: ``r_pi + gamma P_pi v_next`` (0 in the terminal states)."""
        q = self.expected_reward + self.gamma * (self.transitions @ v_next).reshape(N_STATES, N_ACTIONS)
        v = (pi * q).sum(axis=1)
        v[N_ICU:] = 0.0
        return v

    def start_distribution(self, sofa: float | None = None, bandwidth: float = 1.0) -> np.ndarray:
        """The initial-state distribution, re-weighted towards states of SOFA near ``sofa`` when given.

        The weight of state ``s`` is ``d_0(s) * exp(-((sofa_s - sofa) / bandwidth)^2 / 2)``.
        """
        if sofa is None:
            return self.initial.copy()
        w = self.initial * np.exp(-0.5 * ((self.sofa - float(sofa)) / float(bandwidth)) ** 2)
        w[N_ICU:] = 0.0
        if not w.sum() > 0:
            lo, hi = self.sofa[:N_ICU][self.initial[:N_ICU] > 0].min(), self.sofa[:N_ICU][self.initial[:N_ICU] > 0].max()
            raise ConfigError(f"no initial state has a SOFA score near {sofa} (bandwidth {bandwidth}); the MDP's "
                              f"initial states range over SOFA {lo:.1f}-{hi:.1f}: give a SOFA score in that range "
                              f"or a wider sofa_bandwidth")
        return w / w.sum()


def _levels(plan: Plan, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Per step ``0..steps`` (the last one stands for every later step), the fluid and vasopressor
    levels the plan's doses fix (-1: left to the policy)."""
    fixed = {"iv_fluids": np.full(steps + 1, -1), "vasopressor": np.full(steps + 1, -1)}
    for dose in sorted(plan.administrations(), key=lambda d: d.at_h):
        start = math.floor(dose.at_h / STEP_H + 1e-9)
        stop = steps + 1 if dose.duration_h <= 0 else math.ceil((dose.at_h + dose.duration_h) / STEP_H - 1e-9)
        fixed[dose.drug][start:stop] = int(dose.amount)
    return fixed["iv_fluids"], fixed["vasopressor"]


def _override(pi: np.ndarray, fluid: int, vaso: int) -> np.ndarray:
    """The policy ``pi`` with its fluid and/or vasopressor level replaced (-1: kept)."""
    table = pi.reshape(N_STATES, LEVELS, LEVELS)
    if fluid >= 0:
        table = _set(table, 1, fluid)
    if vaso >= 0:
        table = _set(table, 2, vaso)
    return table.reshape(N_STATES, N_ACTIONS)


def _set(table: np.ndarray, axis: int, level: int) -> np.ndarray:
    """Move all of ``table``'s mass along ``axis`` (1: fluid, 2: vasopressor) to ``level``."""
    out = np.zeros_like(table)
    if axis == 1:
        out[:, level, :] = table.sum(axis=1)
    else:
        out[:, :, level] = table.sum(axis=2)
    return out


@register
class SepsisSimulator(Simulator):
    """Sepsis treatment as Monte Carlo episodes of the ICU-Sepsis MDP.

    Args:
        sofa: the patient's SOFA score; the start states are then weighted towards states of
            similar mean SOFA (``None``: the population's initial distribution).
        sofa_bandwidth: the width (SOFA points) of that weighting.

    Plans (``settings``): ``policy`` (``clinician``, ``random``, ``optimal``); or ``actions``,
    a 5 x 5 table of non-negative weights (rows: IV fluid level 0-4, columns: vasopressor
    level 0-4) used in every state; or ``rules``, a list of tables ``{fluid, vasopressor,
    sofa_min, sofa_max}`` where the first rule whose SOFA range holds the state's mean SOFA
    chooses the levels (the last rule must have no range). Doses of ``iv_fluids`` or
    ``vasopressor`` (unit ``level``, a whole number 0-4) fix that level from ``at_h`` for
    ``duration_h`` hours (0: to the next dose or the horizon), overriding the policy.

    Example:
        >>> from hygeia.twin import Dose, Plan, compare
        >>> plans = [Plan("clinicians", settings={"policy": "clinician"}),
        ...          Plan("no vasopressor", doses=(Dose("vasopressor", 0, "level", route="iv_infusion", duration_h=24),),
        ...               settings={"policy": "clinician"})]
        >>> c = compare(SepsisSimulator(sofa=8), plans, n=200, seed=3)
        >>> [r.plan.name for r in c.runs], c.runs[0].times_h[:3].tolist()
        (['clinicians', 'no vasopressor'], [0.0, 4.0, 8.0])
    """

    name: ClassVar[str] = "sepsis"
    outputs: ClassVar[tuple[Output, ...]] = (
        # 0/1 per episode (their mean over episodes is a probability); no bounds to leave
        Output("discharged_alive", "0/1"),
        Output("died", "0/1"),
        Output("in_icu", "0/1"),
        # the exact probability of death from the episode's current state under the plan (1 once dead)
        Output("mortality_risk", "probability", safe_high=0.5, high_event="risk of death above 50% under this plan"),
        Output("iv_fluids", "level"),  # the level given in the 4-hour step (0 once the episode has ended)
        Output("vasopressor", "level"),
    )
    drugs: ClassVar[Mapping[str, Sequence[str]]] = {"iv_fluids": ["level"], "vasopressor": ["level"]}
    default_horizon_h: ClassVar[float] = 168.0  # one week, 42 steps
    default_step_h: ClassVar[float] = STEP_H

    def __init__(self, *, sofa: float | None = None, sofa_bandwidth: float = 1.0) -> None:
        self.sofa = sofa
        self.sofa_bandwidth = sofa_bandwidth

    # -- plans ------------------------------------------------------------------------------------
    def check(self, plan: Plan) -> None:
        """Check a plan for this back-end (the common checks, then levels and settings), gathering every problem.

        Raises:
            ConfigError: naming each problem, its value and the fix.
        """
        check_plan(plan, self.drugs, backend=self.name)
        problems: list[Problem] = []
        for i, dose in enumerate(plan.doses):
            if dose.amount != int(dose.amount) or not 0 <= dose.amount <= LEVELS - 1:
                problems.append(Problem(f"dose {i + 1} ({dose.drug})", f"level {dose.amount:g} is not one of 0, 1, 2, 3, 4 "
                                        f"(the MDP's dose bins: {', '.join(LEVEL_MEANING[dose.drug])})"))
        s = dict(plan.settings)
        known = {"policy", "actions", "rules"}
        for key in s:
            if key not in known:
                problems.append(Problem(f"settings.{key}", f"unknown setting; the sepsis back-end reads: {', '.join(sorted(known))}"))
        chosen = [k for k in known if k in s]
        if len(chosen) > 1:
            problems.append(Problem("settings", f"give one of policy, actions or rules, not {' and '.join(sorted(chosen))}"))
        if "policy" in s and s["policy"] not in SEPSIS_POLICIES:
            problems.append(Problem("settings.policy", f"{s['policy']!r} is not a policy; choose one of: "
                                                       f"{', '.join(SEPSIS_POLICIES)} (or give actions or rules)"))
        if "actions" in s:
            table = np.asarray(s["actions"], dtype=object)
            try:
                table = np.asarray(s["actions"], dtype=float)
                ok = table.shape == (LEVELS, LEVELS) and np.all(np.isfinite(table)) and np.all(table >= 0) and table.sum() > 0
            except (TypeError, ValueError):
                ok = False
            if not ok:
                problems.append(Problem("settings.actions", f"expected a 5 x 5 table of non-negative weights, not all zero "
                                                            f"(rows: IV fluid level 0-4, columns: vasopressor level 0-4); "
                                                            f"got {s['actions']!r}"))
        if "rules" in s:
            problems.extend(_check_rules(s["rules"]))
        if not chosen and not problems:
            steps = math.floor((plan.horizon_h or self.default_horizon_h) / STEP_H + 1e-9)
            fluid, vaso = _levels(plan, steps)
            if (fluid < 0).any() or (vaso < 0).any():
                open_h = STEP_H * int(np.flatnonzero((fluid < 0) | (vaso < 0))[0])
                problems.append(Problem("settings", f"no policy, and the doses leave a level open from {open_h:g} h: "
                                                    f"give settings.policy (clinician, random, optimal), actions or "
                                                    f"rules, or fix both iv_fluids and vasopressor levels by doses "
                                                    f"(duration_h 0 holds a level to the end)"))
        if problems:
            raise ConfigError(f"plan {plan.name!r} cannot be simulated by 'sepsis':\n  " + "\n  ".join(problems))

    def plan_policy(self, plan: Plan) -> np.ndarray:
        """The plan's base policy as a ``(716, 25)`` table (before its doses override levels)."""
        mdp = SepsisMDP.load()
        s = plan.settings
        if "policy" in s:
            return mdp.policy(str(s["policy"]))
        if "actions" in s:
            w = np.asarray(s["actions"], dtype=float).reshape(-1)
            return np.tile(w / w.sum(), (N_STATES, 1))
        if "rules" in s:
            pi = np.zeros((N_STATES, N_ACTIONS))
            for state in range(N_STATES):
                rule = next(r for r in s["rules"] if _matches(r, mdp.sofa[state]))
                pi[state, int(rule.get("fluid", 0)) * LEVELS + int(rule.get("vasopressor", 0))] = 1.0
            return pi
        return mdp.policy("random")  # doses fix both levels at every step (the check refuses the plan otherwise)

    # -- from a Hygeia record --------------------------------------------------------------------------
    @classmethod
    def from_record(cls, person: Mapping[str, Any], events: pd.DataFrame, *, window_h: float = 24.0):
        """The patient's sepsis twin: start states weighted by a SOFA score read from the record.

        The latest sepsis or septic shock onset (SNOMED 91302008, 76571007) is the episode;
        a SOFA score is summed from what the record holds within ``window_h`` hours of it
        (see :func:`sofa_from_events`); components the record lacks count 0, so the score
        is a lower bound.

        Raises:
            ConfigError: when the record has no sepsis onset.
        """
        from hygeia.twin._twin import Twin

        ev = events.copy()
        ev["time"] = pd.to_datetime(ev["time"])
        onsets = ev[(ev["kind"] == "condition") & ev["code"].astype(str).isin(list(SEPSIS_CODES))]
        if onsets.empty:
            raise ConfigError("the record holds no sepsis (SNOMED 91302008) or septic shock (76571007) onset; the "
                              "sepsis twin starts from an ICU sepsis episode: pick a patient with one, or build "
                              "SepsisSimulator(sofa=...) from Python")
        onset = onsets["time"].max()
        near = ev[(ev["time"] >= onset - pd.Timedelta(hours=window_h)) & (ev["time"] <= onset + pd.Timedelta(hours=window_h))]
        score, parts = sofa_from_events(near)
        taken = {"episode": f"{SEPSIS_CODES[str(onsets.loc[onsets['time'].idxmax(), 'code'])]} at {onset:%Y-%m-%d %H:%M}",
                 "sofa": score, "sofa_components": parts,
                 "start_states": f"the MDP's initial distribution weighted towards mean SOFA {score}"}
        return Twin(cls(sofa=float(score)), None, None, int(person["subject_id"]) if "subject_id" in person else None,
                    taken)

    # -- the Simulator interface --------------------------------------------------------------------
    def prior(self, n: int, *, seed: int | None = None) -> Params:
        """``n`` start states drawn from the (SOFA-weighted) initial distribution."""
        p = SepsisMDP.load().start_distribution(self.sofa, self.sofa_bandwidth)
        return {"start_state": np.random.default_rng(seed).choice(N_STATES, size=n, p=p).astype(np.int64)}

    def simulate(self, plan: Plan, *, params: Params | None = None, n: int = 200, seed: int | None = None,
                 step_h: float | None = None) -> Trajectories:
        """Check the plan for this back-end, then simulate it (see :meth:`Simulator.simulate`)."""
        self.check(plan)
        return super().simulate(plan, params=params, n=n, seed=seed, step_h=step_h)

    def _simulate(self, plan: Plan, params: Params, times_h: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        mdp = SepsisMDP.load()
        if "start_state" not in params:
            raise ConfigError("sepsis parameters need 'start_state' (draw them with SepsisSimulator.prior)")
        state = np.asarray(params["start_state"], dtype=np.int64).copy()
        n = len(state)
        steps = math.floor(times_h[-1] / STEP_H + 1e-9) if len(times_h) else 0
        fluid_fixed, vaso_fixed = _levels(plan, steps)
        base = self.plan_policy(plan)
        policies = [_override(base, int(f), int(v)) for f, v in zip(fluid_fixed, vaso_fixed)]
        # exact death risk from each state at each step under the plan (what is in force at the last
        # step continues after it): a linear solve for the last step, then Bellman backups backwards
        values = [mdp.values(policies[-1])]
        for k in range(steps - 1, -1, -1):
            values.append(mdp.backup(policies[k], values[-1]))
        values = values[::-1]
        tx, cum = mdp.transitions, mdp.sampling_table
        # common random numbers: one uniform per episode and step for the action, one for the transition
        u_action = rng.random((n, max(steps, 1)))
        u_next = np.minimum(rng.random((n, max(steps, 1))), 1.0 - 1e-12)
        # columns: discharged alive, died, in ICU, mortality risk, fluid level, vasopressor level
        out = np.zeros((n, steps + 1, 6))
        outcome = np.full(n, -1)  # -1 in the ICU, 0 discharged alive, 1 died
        for k in range(steps + 1):
            icu = outcome == -1
            out[:, k, 0], out[:, k, 1], out[:, k, 2] = outcome == 0, outcome == 1, icu
            out[:, k, 3] = np.where(icu, 1.0 - values[k][np.where(icu, state, 0)], outcome == 1)
            if k == steps or not icu.any():
                continue
            idx = np.flatnonzero(icu)
            s = state[idx]
            cdf = np.cumsum(policies[k][s], axis=1)
            cdf[:, -1] = np.inf
            a = np.argmax(cdf > u_action[idx, k, None], axis=1)
            out[idx, k, 4], out[idx, k, 5] = a // LEVELS, a % LEVELS
            rows = s * N_ACTIONS + a
            pos = np.searchsorted(cum, rows + u_next[idx, k], side="right")
            pos = np.clip(pos, tx.indptr[rows], tx.indptr[rows + 1] - 1)
            nxt = tx.indices[pos].astype(np.int64)
            state[idx] = nxt
            outcome[idx] = np.where(nxt == SURVIVAL, 0, np.where(nxt == DEATH, 1, -1))
        index = np.minimum(np.floor(times_h / STEP_H + 1e-9).astype(int), steps)
        return out[:, index, :]


SEPSIS_CODES = {"91302008": "sepsis", "76571007": "septic shock"}
VASOPRESSORS = ("norepinephrine", "epinephrine", "dopamine", "vasopressin", "phenylephrine")


def _grade(value: float, cuts: Sequence[float], *, descending: bool = False) -> int:
    """The SOFA points of ``value`` given the thresholds of points 1-4 (ascending, or descending for low-is-bad)."""
    if descending:
        return sum(value < c for c in cuts)
    return sum(value >= c for c in cuts)


def sofa_from_events(events: pd.DataFrame) -> tuple[int, dict[str, str]]:
    """A SOFA score (Vincent et al. 1996) from the events around a sepsis onset, with each component's source.

    Cardiovascular: a vasopressor (norepinephrine, epinephrine, dopamine...) 3 (the dose is
    not in the record, so the lowest vasopressor grade), else septic shock 3, else the lowest
    mean arterial pressure (LOINC 8478-0, or from SBP/DBP) < 70 mmHg 1. Respiratory: ARDS or
    mechanical ventilation 3, else the lowest SpO2 (2708-6, 59408-5) < 90% 2. Renal:
    creatinine (2160-0) 1.2 / 2.0 / 3.5 / 5.0 mg/dL. Liver: bilirubin (1975-2) 1.2 / 2 / 6 /
    12 mg/dL. Coagulation: platelets (777-3) < 150 / 100 / 50 / 20 x10^3/uL. CNS: Glasgow
    coma scale (9269-2) < 15 / 13 / 10 / 6. A component with no data scores 0.

    Example:
        >>> ev = pd.DataFrame({"kind": ["observation", "observation"], "code": ["8478-0", "777-3"],
        ...                    "display": ["Mean blood pressure", "Platelets"], "numeric_value": [62.0, 90.0]})
        >>> sofa_from_events(ev)[0]
        3
    """
    ev = events
    code = ev["code"].astype(str)
    display = ev["display"].fillna("").astype(str).str.lower()
    value = pd.to_numeric(ev["numeric_value"], errors="coerce")

    def lowest(*codes: str) -> float:
        v = value[code.isin(codes)].dropna()
        return float(v.min()) if len(v) else math.nan

    def highest(*codes: str) -> float:
        v = value[code.isin(codes)].dropna()
        return float(v.max()) if len(v) else math.nan

    parts: dict[str, str] = {}
    points: dict[str, int] = {}
    pressor = [d for d in display[ev["kind"] == "medication"] if any(p in d for p in VASOPRESSORS)]
    map_ = lowest("8478-0")
    if math.isnan(map_) and code.isin(["8480-6"]).any() and code.isin(["8462-4"]).any():
        map_ = (lowest("8480-6") + 2 * lowest("8462-4")) / 3
    if pressor:
        points["cardiovascular"], parts["cardiovascular"] = 3, f"vasopressor ({pressor[0]}), dose not recorded"
    elif code.isin(["76571007"]).any():
        points["cardiovascular"], parts["cardiovascular"] = 3, "septic shock (vasopressors implied)"
    elif not math.isnan(map_):
        points["cardiovascular"], parts["cardiovascular"] = int(map_ < 70), f"lowest MAP {map_:.0f} mmHg"
    if code.isin(["67782005", "40617009"]).any():
        points["respiratory"], parts["respiratory"] = 3, "ARDS or mechanical ventilation"
    elif not math.isnan(spo2 := lowest("2708-6", "59408-5")):
        points["respiratory"], parts["respiratory"] = 2 * int(spo2 < 90), f"lowest SpO2 {spo2:.0f}%"
    for name, codes, cuts, low_is_bad, unit in (
            ("renal", ("2160-0", "38483-4"), (1.2, 2.0, 3.5, 5.0), False, "creatinine {:.1f} mg/dL"),
            ("liver", ("1975-2",), (1.2, 2.0, 6.0, 12.0), False, "bilirubin {:.1f} mg/dL"),
            ("coagulation", ("777-3", "26515-7"), (150, 100, 50, 20), True, "platelets {:.0f} x10^3/uL"),
            ("cns", ("9269-2",), (15, 13, 10, 6), True, "Glasgow coma scale {:.0f}")):
        v = lowest(*codes) if low_is_bad else highest(*codes)
        if not math.isnan(v):
            points[name], parts[name] = _grade(v, cuts, descending=low_is_bad), unit.format(v)
    for name in ("cardiovascular", "respiratory", "renal", "liver", "coagulation", "cns"):
        parts.setdefault(name, "not in the record (0)")
        parts[name] = f"{points.get(name, 0)}: {parts[name]}"
    return sum(points.values()), parts


def _matches(rule: Mapping[str, Any], sofa: float) -> bool:
    return float(rule.get("sofa_min", -np.inf)) <= sofa < float(rule.get("sofa_max", np.inf))


def _check_rules(rules: Any) -> list[Problem]:
    problems: list[Problem] = []
    example = "[{sofa_min = 10, fluid = 2, vasopressor = 2}, {fluid = 1, vasopressor = 0}]"
    if not isinstance(rules, Sequence) or isinstance(rules, str) or not rules:
        return [Problem("settings.rules", f"expected a list of tables like {example}; got {rules!r}")]
    for i, rule in enumerate(rules):
        at = f"settings.rules[{i}]"
        if not isinstance(rule, Mapping):
            problems.append(Problem(at, f"expected a table like {{sofa_min = 10, fluid = 2, vasopressor = 2}}; got {rule!r}"))
            continue
        extra = set(rule) - {"fluid", "vasopressor", "sofa_min", "sofa_max"}
        if extra:
            problems.append(Problem(at, f"unknown key(s) {', '.join(sorted(extra))}; allowed: fluid, vasopressor, sofa_min, sofa_max"))
        for key in ("fluid", "vasopressor"):
            v = rule.get(key, 0)
            if not isinstance(v, (int, float)) or v != int(v) or not 0 <= v <= LEVELS - 1:
                problems.append(Problem(at, f"{key} {v!r} is not a level 0, 1, 2, 3 or 4"))
        for key in ("sofa_min", "sofa_max"):
            if key in rule and not isinstance(rule[key], (int, float)):
                problems.append(Problem(at, f"{key} {rule[key]!r} is not a number"))
    if not problems and any(k in rules[-1] for k in ("sofa_min", "sofa_max")):
        problems.append(Problem("settings.rules", "the last rule must have no sofa_min/sofa_max, so that every state "
                                                  "has a rule; add a final {fluid = ..., vasopressor = ...}"))
    return problems
