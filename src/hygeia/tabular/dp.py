"""Differentially private tables: select, measure, generate on a spanning tree (MST-style).

:class:`DPSynthesizer` follows the recipe of McKenna, Miklau & Sheldon (2021,
"Winning the NIST Contest: A scalable and general approach to differentially
private synthetic data"), written here from the paper:

1. **Domain.** Every modelled column becomes a small set of cells. Categorical
   columns keep the metadata's categories; numeric and datetime columns are
   cut on a grid whose range comes either from public bounds (``bounds=``) or
   from a differentially private estimate: a noisy histogram of each value's
   sign and power of two (the ``"bounds"`` share of the budget) locates the
   data, and each power of two gets grid cells in proportion to its noisy
   mass. Missing values get a cell of their own in every column the metadata
   marks as nullable (``missing > 0``).
2. **Measure one-way marginals** of every column with Gaussian noise. Numeric
   columns are measured on the fine grid, whose empty tails are then cut
   where the noisy counts stop clearing the noise; equal-mass groups of fine
   cells (at most ``n_bins``; fewer when the noise is large) become the
   column's coarse bins. Categories whose noisy count is within the noise
   of zero are pooled into one bin.
3. **Select** ``d - 1`` pairs of columns forming a maximum spanning tree, each
   edge chosen by the exponential mechanism among the pairs that join two
   components. An edge's score is the L1 distance between the pair's true
   two-way table and the product of the noisy one-ways (sensitivity 1).
4. **Measure** the selected two-way marginals with Gaussian noise.
5. **Generate.** The noisy marginals are combined by inverse-variance
   weighting, made non-negative (projection onto the simplex) and mutually
   consistent (iterative proportional fitting to the shared one-ways), which
   defines a tree-structured graphical model; rows are drawn root first, then
   each child given its parent, exactly. Bins become values: a fine cell by its
   noisy share, then a uniform value in it (on the column's decimal lattice).

Privacy: ``(epsilon, delta)``-DP for adding or removing one row, accounted in
zCDP (:mod:`hygeia.tabular._privacy_accounting`). ``model.privacy_report_``
(saved with the model) lists the budget, each measurement's ``rho`` and
``sigma``, the selected pairs, the ``epsilon`` guaranteed and the columns whose
range the noise hid (``range_not_found``: pass public bounds for those). With few
rows or a small ``epsilon``, public bounds also give far better numeric columns.

What is treated as public (not protected): the metadata's column names and
types, categories, nullability, ``integer``/``decimals`` and dtypes, and the
bounds you pass. Detected metadata reads these from the data; for a formal
guarantee pass metadata written from public knowledge (a codebook). The
metadata's observed ``low``/``high`` and ``missing`` share are *not* used as
public: they are replaced in the saved model by the DP grid's range and the DP
estimate of the missing share. The noise seed is never saved (whoever knows it
could subtract the noise). Noise is drawn with numpy's floating-point
generators, which are not hardened against floating-point side channels.

Example:
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"age": rng.integers(20, 90, 2000).astype(float),
    ...                    "sex": rng.choice(["F", "M"], 2000)})
    >>> model = DPSynthesizer(epsilon=1.0).fit(df, seed=0)
    >>> round(model.privacy_report_["epsilon_spent"], 6) <= 1.0
    True
    >>> synth = model.sample(5, seed=1)
    >>> list(synth.columns), bool(synth["sex"].isin(["F", "M"]).all())
    (['age', 'sex'], True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from hygeia.core.generator import register_generator
from hygeia.core.seeding import resolve_seed
from hygeia.errors import ConfigError, DataValidationError
from hygeia.tabular._base import TabularGenerator
from hygeia.tabular._privacy_accounting import (
    ZCDPAccountant,
    epsilon_from_rho,
    gaussian_sigma,
    rho_from_epsilon,
)
from hygeia.tabular.metadata import Metadata

__all__ = ["DEFAULT_BUDGET", "DPSynthesizer"]

#: Default split of the zCDP budget between the four steps (shares of unused steps are redistributed).
DEFAULT_BUDGET = {"bounds": 0.05, "one_way": 0.25, "select": 0.1, "two_way": 0.6}
_STEPS = tuple(DEFAULT_BUDGET)
#: Powers of two covered by the DP range histogram; magnitudes below 2**_E_MIN count as zero.
_E_MIN, _E_MAX = -20, 70
#: Penalty per bucket (in noise standard deviations) when locating the data in the range histogram.
_RANGE_PENALTY = 2.0
#: Data are located in a noisy histogram only when its heaviest three cells exceed this many noise SDs.
_FOUND_SD = 4.0
#: Buckets taken around the heaviest ones when nothing in the range histogram clears the noise.
_WINDOW = 8
#: A sign is kept when its noisy mass in the range exceeds this many noise standard deviations.
_SIGN_SD = 3.0
#: A category (or the missing cell) gets its own coarse bin when its noisy count reaches this many sigmas.
_RARE_SD = 3.0
#: Numeric coarse bins: about sqrt(N / (_CELL_SD * sigma)), so two-way cells stay above the noise.
_CELL_SD = 3.0
_IPF_ITERATIONS = 500
#: Cells of the linear region around zero, below the magnitudes' range.
_ZERO_CELLS = 8
#: Penalty per cell (in noise standard deviations) when cutting the fine grid's empty tails.
_TRIM_PENALTY = 0.75


@dataclass
class _Attr:
    """One modelled column as the model sees it: cells, coarse bins and their public description."""

    name: str
    kind: str  # numeric | datetime | categorical
    nullable: bool
    categories: list[Any] | None = None
    edges: np.ndarray | None = None  # numeric/datetime: fine cell edges
    step: float | None = None  # lattice step of the values (10**-decimals), None for continuous
    dp_bounds: bool = False
    groups: np.ndarray | None = None  # cell -> coarse bin
    within: np.ndarray | None = None  # share of each cell inside its coarse bin

    @property
    def n_cells(self) -> int:
        base = len(self.categories) if self.kind == "categorical" else len(self.edges) - 1
        return base + int(self.nullable)

    @property
    def n_groups(self) -> int:
        return int(self.groups.max()) + 1


@register_generator("tabular.dp")
class DPSynthesizer(TabularGenerator):
    """Differentially private table generator (MST-style; see the module documentation).

    Args:
        epsilon: privacy budget ε (> 0, finite); smaller is more private and noisier.
        delta: δ of the (ε, δ) guarantee (0 < δ < 1); keep it well below 1/rows
            (the default 1e-9 is below 1/n² for tables up to 31,000 rows).
        n_bins: most coarse bins per numeric/datetime column in the two-way marginals.
        fine_bins: most cells of the fine grid on which numeric one-ways are measured
            (DP-estimated ranges use fewer when the noise is large).
        bounds: public value ranges: ``None`` (estimate every range with DP),
            ``"metadata"`` (the metadata's ``low``/``high`` are public knowledge)
            or ``{column: [low, high]}`` (the other numeric columns estimated with DP).
            Datetime bounds may be strings or timestamps.
        budget: shares of the budget for ``bounds``, ``one_way``, ``select`` and
            ``two_way`` (see :data:`DEFAULT_BUDGET`); normalized to sum to 1.
        max_categories: a categorical column with more categories is refused.

    Example:
        >>> import pandas as pd
        >>> df = pd.DataFrame({"x": [1.0, 2.5, 3.0, 4.5] * 50, "y": ["a", "b"] * 100})
        >>> m = DPSynthesizer(epsilon=5, bounds={"x": [0, 10]}).fit(df, seed=0)
        >>> m.privacy_report_["selected_pairs"]
        [['x', 'y']]
    """

    spec_version = 1

    def __init__(
        self,
        epsilon: float = 1.0,
        delta: float = 1e-9,
        n_bins: int = 16,
        fine_bins: int = 64,
        bounds: dict[str, Any] | str | None = None,
        budget: dict[str, float] | None = None,
        max_categories: int = 1000,
    ) -> None:
        self.epsilon = epsilon
        self.delta = delta
        self.n_bins = n_bins
        self.fine_bins = fine_bins
        self.bounds = bounds
        self.budget = budget
        self.max_categories = max_categories

    # -- fit ------------------------------------------------------------------------------------
    def fit(self, data: pd.DataFrame, metadata: Metadata | None = None, *, seed: int | None = None) -> "DPSynthesizer":
        """Learn a DP model of ``data``.

        Args:
            data: the real table.
            metadata: column types and schema (detected when ``None``; see the module notes on what is public).
            seed: seed of the privacy noise (``None``: OS entropy). It is not saved with the model.

        Raises:
            ConfigError: invalid parameters, bounds or constraints.
            DataValidationError: the data does not fit the declared schema.
        """
        self._check_params()
        for c in (metadata.constraints if metadata is not None else []):
            if c.get("type") == "allowed" and c.get("combinations") == "observed":
                raise ConfigError(
                    f"constraint on {c.get('columns')!r} uses combinations='observed', which copies combinations "
                    "from the data and would break the DP guarantee; list the allowed combinations explicitly"
                )
        self._noise_rng = np.random.default_rng(resolve_seed(seed))
        try:
            super().fit(data, metadata)
        finally:
            del self._noise_rng
        self.metadata_ = self._public_metadata(self.metadata_)
        return self

    def _check_params(self) -> None:
        eps, delta = self.epsilon, self.delta
        if isinstance(eps, bool) or not isinstance(eps, (int, float)) or not (math.isfinite(eps) and eps > 0):
            raise ConfigError(
                f"epsilon must be a finite number > 0 (smaller is more private); got epsilon={eps!r}. "
                "Pass e.g. epsilon=1.0 (or a large value such as 1e6 for almost no noise)."
            )
        if isinstance(delta, bool) or not isinstance(delta, (int, float)) or not 0 < delta < 1:
            raise ConfigError(
                f"delta must be a number with 0 < delta < 1, far below 1/rows; got delta={delta!r}. "
                "Pass e.g. delta=1e-9."
            )
        for name, low in (("n_bins", 2), ("fine_bins", 2), ("max_categories", 2)):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < low:
                raise ConfigError(f"{name} must be an integer >= {low}; got {name}={v!r}")
        if self.fine_bins < self.n_bins:
            raise ConfigError(
                f"fine_bins ({self.fine_bins}) must be at least n_bins ({self.n_bins}); raise fine_bins or lower n_bins"
            )
        if self.budget is not None:
            bad = sorted(set(self.budget) - set(_STEPS)) if isinstance(self.budget, dict) else None
            if bad is None or bad or any(
                isinstance(v, bool) or not isinstance(v, (int, float)) or not v >= 0 for v in self.budget.values()
            ) or not self.budget.get("one_way", DEFAULT_BUDGET["one_way"]) > 0:
                raise ConfigError(
                    f"budget must map some of {list(_STEPS)} to shares >= 0 (one_way > 0); got budget={self.budget!r}. "
                    f"Pass e.g. budget={DEFAULT_BUDGET}."
                )
        if not (self.bounds is None or self.bounds == "metadata" or isinstance(self.bounds, dict)):
            raise ConfigError(
                f"bounds must be None, 'metadata' or a dict {{column: [low, high]}}; got bounds={self.bounds!r}"
            )

    def _fit(self, df: pd.DataFrame, meta: Metadata) -> None:
        rng = self._noise_rng
        attrs, raw = self._build_attrs(df, meta)
        d = len(attrs)
        needs_range = [a for a in attrs if a.dp_bounds]
        shares = _shares(self.budget, needs_range=bool(needs_range), d=d)
        rho_total = rho_from_epsilon(float(self.epsilon), float(self.delta))
        acct = ZCDPAccountant(rho_total)
        step_rho = {k: v * rho_total for k, v in shares.items()}

        # 1. ranges of the numeric columns without public bounds
        noisy_range, lost = {}, []
        sigma_cells = gaussian_sigma(step_rho["one_way"] / d)  # noise of the one-way measured next
        for a in needs_range:
            m = acct.spend_gaussian(step_rho["bounds"] / len(needs_range), f"range of {a.name!r}", step="bounds")
            counts = np.bincount(_octave_index(raw[a.name][np.isfinite(raw[a.name])]), minlength=_N_OCTAVE_CELLS)
            noisy_range[a.name] = counts + rng.normal(0.0, m["sigma"], counts.shape)
            a.edges, found = _octave_grid(noisy_range[a.name], m["sigma"], sigma_cells, self.fine_bins)
            if not found:
                lost.append(a.name)
        codes = {}
        for a in attrs:
            if a.kind != "categorical":
                a.edges = _snap(a.edges, a.step)
            codes[a.name] = _encode(a, raw[a.name])

        # 2. one-way marginals on the cells
        rho_one = step_rho["one_way"] / d
        one_way, sigma_one = {}, {}
        for a in attrs:
            m = acct.spend_gaussian(rho_one, f"one-way {a.name!r}", step="one_way")
            counts = np.bincount(codes[a.name], minlength=a.n_cells).astype(float)
            one_way[a.name] = counts + rng.normal(0.0, m["sigma"], counts.shape)
            sigma_one[a.name] = m["sigma"]
            if a.kind != "categorical":
                one_way[a.name] = _trim(a, one_way[a.name], m["sigma"])
                codes[a.name] = _encode(a, raw[a.name])
        n_hat = _weighted_total([(one_way[a.name], sigma_one[a.name]) for a in attrs])
        sigma_two = gaussian_sigma(step_rho["two_way"] / (d - 1)) if d > 1 else max(sigma_one.values())
        for a in attrs:
            cells = _project_simplex(one_way[a.name], n_hat)
            a.groups = _coarse_groups(a, cells, sigma_two, self.n_bins)
            a.within = _within_shares(cells, a.groups)
        gcodes = {a.name: a.groups[codes[a.name]] for a in attrs}

        # 3. select a spanning tree with the exponential mechanism; 4. measure its pairs
        edges = self._select(attrs, gcodes, one_way, n_hat, acct, step_rho.get("select", 0.0), rng)
        two_way = []
        for i, j in edges:
            ai, aj = attrs[i], attrs[j]
            label = f"two-way {ai.name!r} x {aj.name!r}"
            m = acct.spend_gaussian(step_rho["two_way"] / len(edges), label, step="two_way")
            table = _contingency(gcodes[ai.name], gcodes[aj.name], ai.n_groups, aj.n_groups)
            two_way.append((table + rng.normal(0.0, m["sigma"], table.shape), m["sigma"]))

        # 5. consistent tree model
        self._estimate(attrs, one_way, sigma_one, edges, two_way)
        self.attrs_ = attrs
        self.edges_ = [(int(i), int(j)) for i, j in edges]
        self._noisy = {"range": noisy_range, "one_way": one_way, "two_way": [t for t, _ in two_way]}
        self.privacy_report_ = self._report(acct, shares, step_rho, attrs, edges, lost)

    def _build_attrs(self, df: pd.DataFrame, meta: Metadata) -> tuple[list[_Attr], dict[str, np.ndarray]]:
        public = _public_bounds(self.bounds, meta)
        problems, attrs, raw = [], [], {}
        for c in meta.modelled:
            values = df[c.name]
            nullable = bool(c.missing and c.missing > 0)
            if not nullable and values.isna().any():
                problems.append(
                    f"column {c.name!r} has missing values but the metadata says it has none (missing=0); "
                    "set its 'missing' above 0 in the metadata so missing values get a cell"
                )
                continue
            if c.type == "categorical":
                cats = list(c.categories or [])
                if len(cats) > self.max_categories:
                    raise ConfigError(
                        f"column {c.name!r} has {len(cats)} categories, more than "
                        f"max_categories={self.max_categories}: "
                        "a DP marginal over so many cells is mostly noise. Group rare values into an 'other' "
                        "category before fitting, declare the column 'text' or 'id' so it is not modelled, "
                        "or raise max_categories"
                    )
                index = {_key(v): k for k, v in enumerate(cats)}
                keys = [None if v is None or (isinstance(v, float) and math.isnan(v)) else _key(v) for v in values]
                unknown = sorted({str(k) for k in keys if k is not None and k not in index})
                if unknown:
                    problems.append(
                        f"column {c.name!r} holds values outside its metadata categories: {unknown[:5]}; "
                        "add them to the column's categories (the categories are the public domain)"
                    )
                    continue
                miss = len(cats)
                raw[c.name] = np.array([miss if k is None else index[k] for k in keys], dtype=np.int64)
                attrs.append(_Attr(c.name, "categorical", nullable, categories=cats))
                continue
            step = None
            if c.type == "numeric" and c.decimals is not None:
                step = 10.0 ** (-int(c.decimals))
            a = _Attr(c.name, c.type, nullable, step=step)
            raw[c.name] = values.to_numpy(dtype=float)
            if c.name in public:
                low, high = public[c.name]
                a.edges = np.linspace(low, high, self.fine_bins + 1) if high > low else np.array([low, high])
                if step is not None:  # half a step above high, so high is inside the last cell
                    a.edges[-1] = (math.floor(high / step + 1e-9) + 0.5) * step
            else:
                a.dp_bounds = True
            attrs.append(a)
        if problems:
            raise DataValidationError(problems, header="the table does not fit the DP model's public schema")
        return attrs, raw

    def _select(self, attrs, gcodes, one_way, n_hat, acct, rho_select, rng) -> list[tuple[int, int]]:
        d = len(attrs)
        if d < 2:
            return []
        product = {}
        for a in attrs:
            p = np.bincount(a.groups, weights=_project_simplex(one_way[a.name], n_hat), minlength=a.n_groups)
            product[a.name] = p / max(p.sum(), 1e-12)
        scores = {}
        for i in range(d):
            for j in range(i + 1, d):
                ai, aj = attrs[i], attrs[j]
                table = _contingency(gcodes[ai.name], gcodes[aj.name], ai.n_groups, aj.n_groups)
                scores[(i, j)] = float(np.abs(table - n_hat * np.outer(product[ai.name], product[aj.name])).sum())
        component = list(range(d))
        chosen = []
        for r in range(d - 1):
            candidates = [e for e in scores if component[e[0]] != component[e[1]]]
            if len(candidates) == 1:
                pick = candidates[0]  # no choice to make: costs nothing
            else:
                m = acct.spend_exponential(rho_select / (d - 1), f"select edge {r + 1} of {d - 1}", step="select")
                q = np.array([scores[e] for e in candidates])
                # exponential mechanism via the Gumbel-max trick: P(e) proportional to exp(eps * q / 2)
                pick = candidates[int(np.argmax(m["epsilon"] / 2.0 * q + rng.gumbel(size=len(q))))]
                m["selected"] = [attrs[pick[0]].name, attrs[pick[1]].name]
            old, new = component[pick[1]], component[pick[0]]
            component = [new if c == old else c for c in component]
            chosen.append(pick)
        return chosen

    def _estimate(self, attrs, one_way, sigma_one, edges, two_way) -> None:
        """Combine the noisy marginals into consistent non-negative ones and orient the tree."""
        totals = [(one_way[a.name], sigma_one[a.name]) for a in attrs] + [(t, s) for t, s in two_way]
        n_hat = _weighted_total(totals)
        marginals = []
        for i, a in enumerate(attrs):
            size = np.bincount(a.groups, minlength=a.n_groups)
            estimates = [(np.bincount(a.groups, weights=one_way[a.name], minlength=a.n_groups),
                          sigma_one[a.name] ** 2 * size)]
            for (u, v), (table, s) in zip(edges, two_way):
                if u == i:
                    estimates.append((table.sum(axis=1), np.full(a.n_groups, s**2 * table.shape[1])))
                elif v == i:
                    estimates.append((table.sum(axis=0), np.full(a.n_groups, s**2 * table.shape[0])))
            w = sum(1.0 / var for _, var in estimates)
            combined = sum(est / var for est, var in estimates) / w
            marginals.append(_project_simplex(combined, n_hat))
        tables = {}
        for (u, v), (table, _) in zip(edges, two_way):
            tables[(u, v)] = _fit_table(table, marginals[u], marginals[v])
        order, parent = _orient(len(attrs), edges)
        self.order_ = order
        self.parent_ = parent
        self.root_marginal_ = marginals[order[0]] / max(marginals[order[0]].sum(), 1e-12)
        self.conditionals_ = {}
        for child in order[1:]:
            p = parent[child]
            joint = tables[(p, child)] if (p, child) in tables else tables[(child, p)].T
            rows = joint.sum(axis=1, keepdims=True)
            fallback = marginals[child] / max(marginals[child].sum(), 1e-12)
            with np.errstate(invalid="ignore", divide="ignore"):
                cond = np.where(rows > 0, joint / rows, fallback[None, :])
            self.conditionals_[child] = cond

    def _report(self, acct, shares, step_rho, attrs, edges, lost) -> dict[str, Any]:
        spent = acct.spent
        public = {
            "schema": "column names, types, categories, nullability, integer/decimals and dtypes of the metadata",
            "bounds": sorted(a.name for a in attrs if a.kind != "categorical" and not a.dp_bounds),
        }
        return {
            "guarantee": "(epsilon, delta)-differential privacy for adding or removing one row, via rho-zCDP",
            "epsilon": float(self.epsilon),
            "delta": float(self.delta),
            "rho": acct.rho,
            "rho_spent": spent,
            "epsilon_spent": epsilon_from_rho(spent, float(self.delta)),
            "conversion": "Canonne, Kamath & Steinke (2020), Prop. 12",
            "steps": {k: {"share": shares[k], "rho": step_rho[k]} for k in shares},
            "measurements": acct.entries,
            "selected_pairs": [[attrs[i].name, attrs[j].name] for i, j in edges],
            "dp_bounds": sorted(a.name for a in attrs if a.dp_bounds),
            # columns whose DP range the noise hid: their grid is a guess; pass public bounds for them
            "range_not_found": sorted(lost),
            "public_inputs": public,
            "noise_seed": "not recorded: whoever knows it could subtract the noise",
        }

    def _public_metadata(self, meta: Metadata) -> Metadata:
        """A copy of the metadata with data-derived ranges and missing shares replaced by DP ones."""
        out = Metadata.from_dict(meta.to_dict())
        by_name = {a.name: a for a in self.attrs_}
        for c in out.columns:
            a = by_name.get(c.name)
            if a is None:
                continue
            if a.kind != "categorical":
                c.low, c.high = float(a.edges[0]), float(a.edges[-1])
                if a.step is not None:  # the lattice values inside the grid
                    c.low = round(math.ceil(c.low / a.step - 1e-9) * a.step, 12)
                    c.high = round(math.floor(c.high / a.step + 1e-9) * a.step, 12)
            if a.nullable:
                share = self._missing_share(a)
                c.missing = round(max(share, 1e-6), 6)
        return out

    def _missing_share(self, a: _Attr) -> float:
        i = self.attrs_.index(a)
        marg = self._group_marginal(i)
        g = a.groups[-1]
        return float(marg[g] * a.within[-1])

    def _group_marginal(self, i: int) -> np.ndarray:
        """Marginal distribution of attribute ``i``'s coarse bins under the tree model."""
        probs = {self.order_[0]: self.root_marginal_}
        for child in self.order_[1:]:
            probs[child] = probs[self.parent_[child]] @ self.conditionals_[child]
            if child == i:
                break
        return probs[i]

    # -- sample ---------------------------------------------------------------------------------
    def _sample(self, n: int, rng: np.random.Generator) -> pd.DataFrame:
        groups = {}
        root = self.order_[0]
        groups[root] = _draw(np.broadcast_to(self.root_marginal_, (1, len(self.root_marginal_))), np.zeros(n, int), rng)
        for child in self.order_[1:]:
            groups[child] = _draw(self.conditionals_[child], groups[self.parent_[child]], rng)
        out = {}
        for i, a in enumerate(self.attrs_):
            cells = _draw_cells(a, groups[i], rng)
            out[a.name] = _decode(a, cells, rng)
        return pd.DataFrame(out)

    # -- state ----------------------------------------------------------------------------------
    def _get_model_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        attrs = [
            {"name": a.name, "kind": a.kind, "nullable": a.nullable, "categories": a.categories,
             "step": a.step, "dp_bounds": a.dp_bounds}
            for a in self.attrs_
        ]
        arrays: dict[str, np.ndarray] = {"root_marginal": self.root_marginal_}
        for i, a in enumerate(self.attrs_):
            arrays[f"groups_{i}"] = a.groups
            arrays[f"within_{i}"] = a.within
            if a.edges is not None:
                arrays[f"edges_{i}"] = a.edges
            arrays[f"noisy_one_way_{i}"] = self._noisy["one_way"][a.name]
            if a.name in self._noisy["range"]:
                arrays[f"noisy_range_{i}"] = self._noisy["range"][a.name]
        for child, cond in self.conditionals_.items():
            arrays[f"conditional_{child}"] = cond
        for k, table in enumerate(self._noisy["two_way"]):
            arrays[f"noisy_two_way_{k}"] = table
        state = {
            "attributes": attrs, "edges": [list(e) for e in self.edges_], "order": self.order_,
            "parent": {str(k): v for k, v in self.parent_.items()}, "privacy": self.privacy_report_,
        }
        return state, arrays

    def _set_model_state(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        attrs = []
        for i, s in enumerate(state["attributes"]):
            a = _Attr(s["name"], s["kind"], bool(s["nullable"]), categories=s.get("categories"),
                      step=s.get("step"), dp_bounds=bool(s.get("dp_bounds")))
            a.edges = arrays.get(f"edges_{i}")
            a.groups = arrays[f"groups_{i}"].astype(np.int64)
            a.within = arrays[f"within_{i}"]
            attrs.append(a)
        self.attrs_ = attrs
        self.edges_ = [tuple(e) for e in state["edges"]]
        self.order_ = [int(v) for v in state["order"]]
        self.parent_ = {int(k): int(v) for k, v in state["parent"].items()}
        self.root_marginal_ = arrays["root_marginal"]
        self.conditionals_ = {c: arrays[f"conditional_{c}"] for c in self.order_[1:]}
        one = {a.name: arrays[f"noisy_one_way_{i}"] for i, a in enumerate(attrs)}
        rng_ = {a.name: arrays[f"noisy_range_{i}"] for i, a in enumerate(attrs) if f"noisy_range_{i}" in arrays}
        two = [arrays[f"noisy_two_way_{k}"] for k in range(len(self.edges_))]
        self._noisy = {"range": rng_, "one_way": one, "two_way": two}
        self.privacy_report_ = state["privacy"]


# -- budget and bounds ------------------------------------------------------------------------------
def _shares(budget: dict[str, float] | None, *, needs_range: bool, d: int) -> dict[str, float]:
    given = {**DEFAULT_BUDGET, **(budget or {})}
    active = {"one_way": given["one_way"]}
    if needs_range:
        active["bounds"] = given["bounds"]
    if d >= 2:
        active["two_way"] = given["two_way"]
    if d >= 3:
        active["select"] = given["select"]
    active = {k: v for k, v in active.items() if v > 0 or k == "one_way"}
    if d >= 2 and "two_way" not in active:
        raise ConfigError(f"budget gives two_way no share; a table of {d} columns needs two-way marginals: {budget!r}")
    if d >= 3 and "select" not in active:
        raise ConfigError(f"budget gives select no share; choosing pairs among {d} columns needs some: {budget!r}")
    if needs_range and "bounds" not in active:
        raise ConfigError(
            f"budget gives bounds no share, but some numeric columns have no public bounds: {budget!r}; "
            "pass bounds={column: [low, high]} for them or give bounds a share"
        )
    total = sum(active.values())
    return {k: active[k] / total for k in _STEPS if k in active}


def _public_bounds(bounds: Any, meta: Metadata) -> dict[str, tuple[float, float]]:
    numeric = {c.name: c for c in meta.modelled if c.type in ("numeric", "datetime")}
    if bounds is None:
        return {}
    if bounds == "metadata":
        known = {n: c for n, c in numeric.items() if c.low is not None and c.high is not None}
        return {n: (float(c.low), float(c.high)) for n, c in known.items()}
    out, problems = {}, []
    for name, pair in bounds.items():
        if name not in numeric:
            problems.append(f"bounds for {name!r}: not a numeric or datetime column (those are {sorted(numeric)})")
            continue
        try:
            low, high = pair
            if numeric[name].type == "datetime":
                low, high = (float(pd.Timestamp(v).value) for v in (low, high))
            low, high = float(low), float(high)
        except (TypeError, ValueError):
            problems.append(f"bounds for {name!r}: expected [low, high]; got {pair!r}")
            continue
        if not (math.isfinite(low) and math.isfinite(high) and low <= high):
            problems.append(f"bounds for {name!r}: need finite low <= high; got {pair!r}")
            continue
        out[name] = (low, high)
    if problems:
        raise ConfigError("invalid bounds:\n" + "\n".join(f"  - {p}" for p in problems))
    return out


# -- grids and encodings ----------------------------------------------------------------------------
_N_OCTAVES = _E_MAX - _E_MIN + 1
_N_OCTAVE_CELLS = 2 * _N_OCTAVES + 1


def _octave_index(x: np.ndarray) -> np.ndarray:
    """Bucket of each value by sign and power of two, most negative first; tiny magnitudes in the middle."""
    ax = np.abs(x)
    small = ax < 2.0**_E_MIN
    e = np.clip(np.floor(np.log2(np.where(small, 1.0, ax))), _E_MIN, _E_MAX).astype(np.int64)
    idx = np.where(x < 0, _E_MAX - e, _N_OCTAVES + 1 + (e - _E_MIN))
    return np.where(small, _N_OCTAVES, idx).astype(np.int64)


def _octave_grid(noisy: np.ndarray, sigma: float, sigma_one: float, fine_bins: int) -> tuple[np.ndarray, bool]:
    """Fine cell edges from the noisy sign/power-of-two histogram (post-processing only).

    The magnitudes' range comes from the histogram folded over the sign (see
    :func:`_support`; when that finds nothing, the ``_WINDOW`` adjacent octaves with
    the largest noisy mass); each sign is kept when its noisy mass in that range
    clears the noise (non-negative values are assumed when neither does).
    Magnitudes below the range form one linear region around zero (``_ZERO_CELLS``
    cells). The number of cells grows with the noisy row count relative to the
    one-way noise ``sigma_one`` (at most ``fine_bins``); each octave gets cells in
    proportion to its noisy mass (at least one). Returns the edges and whether
    the data were found above the noise.
    """
    neg, pos = noisy[:_N_OCTAVES][::-1], noisy[_N_OCTAVES + 1 :]  # both by magnitude, smallest first
    folded = neg + pos
    found = _support(folded, sigma * math.sqrt(2.0), _RANGE_PENALTY)
    if found is None:
        lo = int(np.argmax(np.convolve(folded, np.ones(_WINDOW), mode="valid")))
        hi = lo + _WINDOW - 1
    else:
        lo, hi = found
    octaves = np.arange(lo, hi + 1)
    noise = sigma * math.sqrt(len(octaves))
    has_neg, has_pos = neg[octaves].sum() > _SIGN_SD * noise, pos[octaves].sum() > _SIGN_SD * noise
    has_pos = has_pos or not has_neg  # when the noise hides the sign, assume non-negative values
    sides = [(side, mass) for side, mass, keep in ((-1, neg, has_neg), (1, pos, has_pos)) if keep]
    mass = np.concatenate([np.maximum(m[octaves], 0.0) for _, m in sides])
    total = max(float(mass.sum()), 1.0)
    n_cells = int(np.clip(round(2.0 * (total / sigma_one) ** (2.0 / 3.0)), 8, fine_bins))
    share = mass / mass.sum() if mass.sum() > 0 else np.full(len(mass), 1.0 / len(mass))
    inner = 2.0 ** (lo + _E_MIN)
    parts = [np.linspace(-inner if has_neg else 0.0, inner if has_pos else 0.0, _ZERO_CELLS + 1)]
    for (side, _), shares in zip(sides, np.split(share, len(sides))):
        for e, s in zip(octaves + _E_MIN, shares):
            k = max(1, int(round(n_cells * s)))
            parts.append(side * np.linspace(2.0**e, 2.0 ** (e + 1), k + 1))
    return np.unique(np.concatenate(parts)), found is not None


def _trim(a: _Attr, noisy: np.ndarray, sigma: float) -> np.ndarray:
    """Cut the grid's empty tails, judged from the noisy one-way (post-processing only).

    Returns the one-way restricted to the kept cells (plus the missing cell);
    ``a.edges`` shrinks to them. See :func:`_support`.
    """
    k = len(a.edges) - 1
    found = _support(noisy[:k], sigma, _TRIM_PENALTY)
    if found is None:
        return noisy
    lo, hi = found
    a.edges = a.edges[lo : hi + 2]
    return np.concatenate([noisy[lo:hi + 1], noisy[k:]])


def _support(cells: np.ndarray, sigma: float, penalty: float) -> tuple[int, int] | None:
    """Where the data plausibly lie in a noisy histogram: ``(first, last)`` cell, or None.

    Each cell scores ``count / sigma - penalty``, so a running sum of scores drifts
    down across empty cells. Starting from the heaviest cell of the heaviest three
    adjacent cells, the last cell is where the running sum to the right peaks and the first where the
    running sum to the left peaks; gaps inside the data are crossed when the data
    beyond outweigh them. None when even the heaviest three cells hold less than
    ``_FOUND_SD`` standard deviations of their noise (pure noise reaches that
    somewhere among 100 cells with probability about 0.3%).
    """
    k = len(cells)
    window = np.convolve(cells, np.ones(3), mode="same")
    centre = int(np.argmax(window))
    if window[centre] <= _FOUND_SD * sigma * math.sqrt(3.0):
        return None
    anchor = max(centre - 1, 0) + int(np.argmax(cells[max(centre - 1, 0) : centre + 2]))
    score = cells / sigma - penalty
    right = np.cumsum(score[anchor:])
    left = np.cumsum(score[anchor::-1])
    return anchor - int(np.argmax(left)), min(anchor + int(np.argmax(right)), k - 1)


def _snap(edges: np.ndarray, step: float | None) -> np.ndarray:
    """Move edges half-way between lattice points so every cell holds whole lattice values."""
    if step is None or len(edges) < 2 or (edges[-1] - edges[0]) / step > 1e12:
        return edges
    snapped = (np.ceil(edges / step - 1e-9) - 0.5) * step
    snapped[-1] = max(snapped[-1], snapped[0] + step)
    out = np.unique(snapped)
    return out if len(out) >= 2 else np.array([out[0], out[0] + step])


def _encode(a: _Attr, values: np.ndarray) -> np.ndarray:
    """Cell index of each value (the last cell is 'missing' when the column is nullable)."""
    if a.kind == "categorical":
        return values
    k = len(a.edges) - 1
    idx = np.clip(np.searchsorted(a.edges, np.nan_to_num(values), side="right") - 1, 0, k - 1)
    return np.where(np.isnan(values), k, idx).astype(np.int64)


def _key(v: Any) -> Any:
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v


# -- coarse bins ------------------------------------------------------------------------------------
def _coarse_groups(a: _Attr, cells: np.ndarray, sigma_two: float, n_bins: int) -> np.ndarray:
    """Map each cell to a coarse bin, from the projected noisy one-way (post-processing only)."""
    threshold = _RARE_SD * sigma_two
    if a.kind == "categorical":
        k = len(a.categories) + int(a.nullable)
        common = np.flatnonzero(cells[:k] >= threshold)
        groups = np.full(k, len(common), dtype=np.int64)  # the rare cells share one bin
        groups[common] = np.arange(len(common))
        return groups
    k = len(a.edges) - 1
    values = cells[:k]
    total = values.sum()
    want = int(np.clip(math.floor(math.sqrt(max(total, 0.0) / (_CELL_SD * sigma_two))), 2, n_bins))
    want = min(want, k)
    if total <= 0:
        values = np.ones(k)
        total = float(k)
    middle = (np.cumsum(values) - values / 2.0) / total
    raw = np.minimum((middle * want).astype(np.int64), want - 1)
    _, groups = np.unique(raw, return_inverse=True)
    groups = groups.astype(np.int64)
    if a.nullable:
        if cells[k] >= threshold:
            groups = np.append(groups, groups.max() + 1)
        else:
            sizes = np.bincount(groups, weights=values)
            groups = np.append(groups, int(np.argmax(sizes)))
    return groups


def _within_shares(cells: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Each cell's share of its coarse bin (uniform where the bin has no mass)."""
    mass = np.bincount(groups, weights=cells)
    size = np.bincount(groups)
    share = np.where(mass[groups] > 0, cells / np.where(mass[groups] > 0, mass[groups], 1.0), 1.0 / size[groups])
    return share


# -- estimation -------------------------------------------------------------------------------------
def _weighted_total(measurements: list[tuple[np.ndarray, float]]) -> float:
    """Inverse-variance weighted estimate of the row count from noisy tables."""
    num = sum(t.sum() / (s**2 * t.size) for t, s in measurements)
    den = sum(1.0 / (s**2 * t.size) for t, s in measurements)
    return max(float(num / den), 1.0)


def _project_simplex(v: np.ndarray, total: float) -> np.ndarray:
    """Euclidean projection of ``v`` onto {x >= 0, sum(x) = total}."""
    flat = np.asarray(v, dtype=float).ravel()
    u = np.sort(flat)[::-1]
    css = np.cumsum(u) - total
    ranks = np.arange(1, len(u) + 1)
    ok = u - css / ranks > 0
    r = int(ranks[ok][-1])
    theta = css[ok][-1] / r
    return np.maximum(flat - theta, 0.0).reshape(np.shape(v))


def _fit_table(noisy: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Non-negative table close to ``noisy`` whose margins are ``rows`` and ``cols`` (projection + IPF)."""
    total = rows.sum()
    table = _project_simplex(noisy, total)
    table = table + 1e-6 * np.outer(rows, cols) / max(total, 1e-12)
    for _ in range(_IPF_ITERATIONS):
        r = table.sum(axis=1)
        table *= np.divide(rows, r, out=np.zeros_like(r), where=r > 0)[:, None]
        c = table.sum(axis=0)
        table *= np.divide(cols, c, out=np.zeros_like(c), where=c > 0)[None, :]
        if np.abs(table.sum(axis=1) - rows).max() <= 1e-9 * max(total, 1.0):
            break
    return table


def _contingency(x: np.ndarray, y: np.ndarray, kx: int, ky: int) -> np.ndarray:
    return np.bincount(x * ky + y, minlength=kx * ky).reshape(kx, ky).astype(float)


def _orient(d: int, edges: list[tuple[int, int]]) -> tuple[list[int], dict[int, int]]:
    """Breadth-first order of the tree from attribute 0, and each node's parent."""
    neighbours: dict[int, list[int]] = {i: [] for i in range(d)}
    for u, v in edges:
        neighbours[u].append(v)
        neighbours[v].append(u)
    order, parent, seen = [0], {}, {0}
    for node in order:
        for nb in sorted(neighbours[node]):
            if nb not in seen:
                seen.add(nb)
                parent[nb] = node
                order.append(nb)
    return order, parent


# -- sampling ---------------------------------------------------------------------------------------
def _draw(cond: np.ndarray, given: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One draw per row from the row ``given[i]`` of the conditional table ``cond``."""
    cum = np.cumsum(cond, axis=1)
    cum /= np.where(cum[:, -1:] > 0, cum[:, -1:], 1.0)
    u = rng.random(len(given))
    out = np.empty(len(given), dtype=np.int64)
    for g in np.unique(given):
        mask = given == g
        out[mask] = np.minimum(np.searchsorted(cum[g], u[mask], side="right"), cond.shape[1] - 1)
    return out


def _draw_cells(a: _Attr, groups: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    u = rng.random(len(groups))
    out = np.empty(len(groups), dtype=np.int64)
    for g in np.unique(groups):
        members = np.flatnonzero(a.groups == g)
        cum = np.cumsum(a.within[members])
        mask = groups == g
        pos = np.searchsorted(cum / cum[-1], u[mask], side="right")
        out[mask] = members[np.minimum(pos, len(members) - 1)]
    return out


def _decode(a: _Attr, cells: np.ndarray, rng: np.random.Generator) -> Any:
    if a.kind == "categorical":
        values = np.array(list(a.categories) + [None], dtype=object)
        return values[np.minimum(cells, len(values) - 1)]
    k = len(a.edges) - 1
    missing = cells >= k
    c = np.minimum(cells, k - 1)
    lo, hi = a.edges[c], a.edges[c + 1]
    if a.step is not None and (a.edges[-1] - a.edges[0]) / a.step <= 1e12:
        first = np.ceil(lo / a.step - 1e-9)
        count = np.maximum(np.floor(hi / a.step + 1e-9) - first + 1, 1)
        count = np.where(first * a.step >= hi, 1, count)
        x = (first + np.floor(rng.random(len(c)) * count)) * a.step
        x = np.minimum(x, hi)
    else:
        x = lo + rng.random(len(c)) * (hi - lo)
    return np.where(missing, np.nan, x)
