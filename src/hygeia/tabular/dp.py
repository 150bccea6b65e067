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

What the guarantee does not cover: the column names, types and dtypes (the
public schema), and the metadata fields the model saves as they are:
categories, nullability (``missing > 0``), ``integer``/``decimals``, and the
bounds of columns with public bounds. Each must be *declared* by the user
(public knowledge such as a codebook; see :mod:`hygeia.tabular.metadata`);
fields detected from the data are refused unless
``release_detected_metadata=True`` says in words that they are released (see
:mod:`hygeia.tabular._public_domain`). Numeric and datetime columns without
declared bounds get a DP range estimate (charged to the budget); the saved
``low``/``high`` and ``missing`` share are the DP grid's range and the DP
estimate of the missing share (origin ``"dp-estimate"``), never the data's.
Values outside a declared domain are clipped to the bounds; a category
outside the declared categories counts as missing (when the column is declared
nullable) and is never saved. ``privacy_report_["summary"]`` names what is and
is not covered. The noise seed (``seed``) is never saved (whoever knows it
could subtract the noise). Noise is drawn with numpy's floating-point
generators, which are not hardened against floating-point side channels.

Example:
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"age": rng.integers(20, 90, 2000).astype(float),
    ...                    "sex": rng.choice(["F", "M"], 2000)})
    >>> model = DPSynthesizer(epsilon=1.0, seed=0, release_detected_metadata=True).fit(df)
    >>> round(model.privacy_report_["epsilon_spent"], 6) <= 1.0
    True
    >>> synth = model.sample(5, seed=1)
    >>> list(synth.columns), bool(synth["sex"].isin(["F", "M"]).all())
    (['age', 'sex'], True)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from hygeia.core.generator import register_generator
from hygeia.core.seeding import resolve_seed
from hygeia.errors import ConfigError, DataValidationError
from hygeia.tabular._base import TabularGenerator
from hygeia.tabular._dp_cells import (
    _N_OCTAVE_CELLS,
    _Attr,
    _coarse_groups,
    _contingency,
    _decode,
    _draw,
    _draw_cells,
    _encode,
    _fit_table,
    _octave_grid,
    _octave_index,
    _orient,
    _project_simplex,
    _snap,
    _trim,
    _weighted_total,
    _within_shares,
)
from hygeia.tabular._marginals import plain_value as _key
from hygeia.tabular._privacy_accounting import (
    ZCDPAccountant,
    epsilon_from_rho,
    gaussian_sigma,
    rho_from_epsilon,
)
from hygeia.tabular._public_domain import (
    check_public_domain,
    domain_report,
    guarantee_summary,
)
from hygeia.tabular.metadata import Metadata

__all__ = ["DEFAULT_BUDGET", "DPSynthesizer"]

#: Default split of the zCDP budget between the four steps (shares of unused steps are redistributed).
DEFAULT_BUDGET = {"bounds": 0.05, "one_way": 0.25, "select": 0.1, "two_way": 0.6}
_STEPS = tuple(DEFAULT_BUDGET)
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
        bounds: public value ranges: ``None`` (the metadata's *declared* ``low``/``high``;
            every other range estimated with DP), ``"metadata"`` (every metadata ``low``/``high``,
            detected ones only with ``release_detected_metadata``) or ``{column: [low, high]}``
            (the other numeric columns estimated with DP).
            Datetime bounds may be strings or timestamps.
        budget: shares of the budget for ``bounds``, ``one_way``, ``select`` and
            ``two_way`` (see :data:`DEFAULT_BUDGET`); normalized to sum to 1.
        max_categories: a categorical column with more categories is refused.
        seed: seed of the privacy noise (``None``: OS entropy). It is never saved (see ``unsaved_params``).
        release_detected_metadata: accept that metadata fields detected from the data (categories,
            nullability, decimals, bounds with ``bounds="metadata"``) are saved outside the guarantee;
            without it they must be declared public or the fit is refused.

    Example:
        >>> import pandas as pd
        >>> from hygeia.tabular.metadata import Metadata
        >>> df = pd.DataFrame({"x": [1.0, 2.5, 3.0, 4.5] * 50, "y": ["a", "b"] * 100})
        >>> meta = Metadata.detect(df).as_declared()  # here: the codebook says exactly this
        >>> m = DPSynthesizer(epsilon=5, bounds={"x": [0, 10]}, seed=0).fit(df, meta)
        >>> m.privacy_report_["selected_pairs"]
        [['x', 'y']]
    """

    spec_version = 1
    unsaved_params = frozenset({"seed"})

    def __init__(
        self,
        epsilon: float = 1.0,
        delta: float = 1e-9,
        n_bins: int = 16,
        fine_bins: int = 64,
        bounds: dict[str, Any] | str | None = None,
        budget: dict[str, float] | None = None,
        max_categories: int = 1000,
        seed: int | None = None,
        release_detected_metadata: bool = False,
    ) -> None:
        self.epsilon = epsilon
        self.delta = delta
        self.n_bins = n_bins
        self.fine_bins = fine_bins
        self.bounds = bounds
        self.budget = budget
        self.max_categories = max_categories
        self.seed = seed
        self.release_detected_metadata = release_detected_metadata

    # -- fit ------------------------------------------------------------------------------------
    def fit(self, data: pd.DataFrame, metadata: Metadata | None = None) -> "DPSynthesizer":
        """Learn a DP model of ``data``.

        Args:
            data: the real table.
            metadata: column types and the public domain (detected when ``None``, and then refused
                unless ``release_detected_metadata``; see the module notes on what is public).

        Raises:
            ConfigError: invalid parameters, bounds or constraints, or metadata fields detected from
                the data without ``release_detected_metadata`` (the message lists them and both fixes).
            DataValidationError: the data does not fit the declared schema.
        """
        self._check_params()
        self._noise_rng = np.random.default_rng(resolve_seed(self.seed))
        try:
            super().fit(data, metadata)
        finally:
            del self._noise_rng
        self.metadata_ = self._public_metadata(self.metadata_)
        return self

    def _check_table(self, data: Any, metadata: Metadata | None) -> tuple[pd.DataFrame, Metadata]:
        for c in (metadata.constraints if metadata is not None else []):
            if c.get("type") == "allowed" and c.get("combinations") == "observed":
                raise ConfigError(
                    f"constraint on {c.get('columns')!r} uses combinations='observed', which copies combinations "
                    "from the data and would break the DP guarantee; list the allowed combinations explicitly"
                )
        df, meta = super()._check_table(data, metadata)
        self._needed = _needed_fields(meta, self.bounds)
        self._released = check_public_domain(meta, self._needed, release=bool(self.release_detected_metadata),
                                             model="dp")
        return df, meta

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
        if not isinstance(self.release_detected_metadata, bool):
            raise ConfigError(
                f"release_detected_metadata must be True or False; got {self.release_detected_metadata!r}"
            )
        if not (self.bounds is None or self.bounds == "metadata" or isinstance(self.bounds, dict)):
            raise ConfigError(
                f"bounds must be None, 'metadata' or a dict {{column: [low, high]}}; got bounds={self.bounds!r}"
            )

    def _fit(self, df: pd.DataFrame, meta: Metadata) -> None:
        rng = self._noise_rng
        self._metadata_for_report = meta
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
        del self._metadata_for_report, self._needed, self._released

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
                if unknown and not nullable:
                    problems.append(
                        f"column {c.name!r} holds values outside its declared categories: {unknown[:5]}; "
                        "add them to the column's categories (the categories are the public domain), or "
                        "declare the column nullable (missing > 0) so such values count as missing"
                    )
                    continue
                miss = len(cats)
                keys = [None if k not in index else k for k in keys]  # out of the public domain: missing
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
                raw[c.name] = np.clip(raw[c.name], low, high)  # NaN stays NaN
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
        public = domain_report(self._metadata_for_report, self._needed, self._released)
        public["bounds"] = sorted(a.name for a in attrs if a.kind != "categorical" and not a.dp_bounds)
        estimated = [f"bounds of {', '.join(sorted(a.name for a in attrs if a.dp_bounds))}"] if any(
            a.dp_bounds for a in attrs) else []
        if any(a.nullable for a in attrs):
            estimated.append("missing shares")
        return {
            "guarantee": "(epsilon, delta)-differential privacy for adding or removing one row, via rho-zCDP",
            "summary": guarantee_summary(float(self.epsilon), float(self.delta), public, estimated),
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
                if a.dp_bounds:
                    c.origin["low"] = c.origin["high"] = "dp-estimate"
            if a.nullable:
                share = self._missing_share(a)
                c.missing = round(max(share, 1e-6), 6)
                c.origin["missing"] = "dp-estimate"
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
            "parent": {str(k): v for k, v in self.parent_.items()},
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
        if "privacy" in state:  # models saved before the report moved to spec.json
            self.privacy_report_ = state["privacy"]


def _needed_fields(meta: Metadata, bounds: Any) -> dict[str, list[str]]:
    """The metadata fields the DP model saves as they are, per modelled column (see the module notes)."""
    public = _public_bounds(bounds, meta) if bounds is None or bounds == "metadata" else {}
    needed: dict[str, list[str]] = {}
    for c in meta.modelled:
        fields = ["missing"]
        if c.type == "categorical":
            fields.append("categories")
        if c.type == "numeric":
            fields += ["integer"] + (["decimals"] if c.decimals is not None else [])
        if c.name in public:
            fields += ["low", "high"]
        needed[c.name] = fields
    return needed


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
    known = {n: c for n, c in numeric.items() if c.low is not None and c.high is not None}
    if bounds is None:
        known = {n: c for n, c in known.items() if c.origin_of("low") == c.origin_of("high") == "declared"}
    if bounds is None or bounds == "metadata":
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


