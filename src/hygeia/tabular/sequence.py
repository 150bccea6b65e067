"""Longitudinal tables: one row per visit, many visits per subject.

:class:`SequenceSynthesizer` learns a long table (a subject column, a visit-time
column, columns constant within a subject and columns measured at each visit)
in two parts:

1. **Subjects.** One row per subject — the *static* columns (detected: constant
   within every subject), the number of visits, and where the last visit falls
   in the follow-up — is learned by a table generator (``static_model``, Hygeia's
   copula or tree synthesizer, nested in this model).
2. **Visits**, conditioned on the subject. Visit times: the first visit is at
   the data's fixed first time (``day`` 0 in ``pbcseq``) or learned with the
   subject; the last at the learned fraction of the follow-up; each visit in
   between takes a share of the time left to the last visit, drawn from a
   logit-normal regression on the subject and the visits still to come. Visit
   values: each column becomes a normal score (rank-based, or interval means for
   discrete columns) and a linear-Gaussian autoregression on the subject, the
   time since entry and since the previous visit, and the previous visit's
   scores (last observed value carried forward) gives the next visit's scores,
   with a full residual covariance between columns. Scores are read back through
   each column's quantiles, calibrated so the visit-level marginals match the
   data. Missingness is a logistic regression per column on the same inputs,
   the previous visit's missingness and the earlier columns' at this visit.

Temporal constraints hold by construction, not by rejection: visit times
strictly increase within a subject (on the data's time grid, e.g. whole days),
the first visit is at the data's first time when all subjects share it, and no
visit falls after the follow-up end (``end_column``; strictly before it when
every real visit is). A sampled visit count that does not fit between the
first visit and the end on the time grid is lowered, and a sampled end that
falls before the fixed first visit is moved just after it; ``df.attrs["hygeia"]``
counts both (``visits_capped``, ``end_raised``). Training data that breaks the
constraints (two visits at one time, a visit after its subject's own follow-up
end) is refused with the subjects named.

The saved model keeps quantile grids, regression weights and the nested
subject model (whose own documentation says what it keeps: the tree model
keeps training values in its leaves).

Example:
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> rows = []
    >>> for i in range(60):
    ...     end, age = int(rng.integers(400, 3000)), float(rng.uniform(30, 70))
    ...     days = [0, *sorted(rng.choice(np.arange(1, end), int(rng.integers(0, 5)), replace=False).tolist())]
    ...     rows += [{"id": i, "end": end, "age": age, "day": d, "lab": float(rng.normal(5 + d / 1000))} for d in days]
    >>> real = pd.DataFrame(rows)
    >>> model = SequenceSynthesizer(sequence_key="id", sequence_index="day", end_column="end", static_model="copula")
    >>> fake = model.fit(real).sample(20, seed=0)
    >>> list(fake.columns) == list(real.columns), sorted(fake["id"].unique()) == list(range(20))
    (True, True)
    >>> bool((fake["day"] < fake["end"]).all()), bool((fake.groupby("id")["day"].min() == 0).all())
    (True, True)
"""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit

from hygeia.core.generator import Generator, get_generator_class, register_generator
from hygeia.errors import ConfigError, DataValidationError
from hygeia.tabular._base import TabularGenerator, to_model_frame
from hygeia.tabular.metadata import Metadata
from hygeia.tabular._sequence_parts import (
    _Linear,
    _Logistic,
    _StaticEncoder,
    _VisitColumn,
    _fresh,
    _label,
    _lagged,
    _time_inputs,
)

__all__ = ["SequenceSynthesizer"]

_HEADER = "cannot learn from this table"
_SHORT_NAMES = {"copula": "tabular.copula", "cart": "tabular.cart"}


@register_generator("tabular.sequence")
class SequenceSynthesizer(TabularGenerator):
    """Visit sequences: a subject model plus an autoregressive visit model (see the module docs).

    Args:
        sequence_key: the column naming the subject (default: ``metadata.sequence_key``).
        sequence_index: the numeric visit-time column, e.g. days since entry
            (default: ``metadata.sequence_index``).
        end_column: static column holding each subject's follow-up end (death or
            censoring) in the units of the visit times; no sampled visit falls after it.
        event_column: static death/event indicator (checked to be constant per subject;
            modelled with the other static columns).
        static_columns: the subject-level columns; detected (constant within every
            subject) when ``None``.
        static_model: table generator of the subject rows: a registered name
            (``"tabular.cart"``, ``"tabular.copula"``) or its short form.
        static_params: constructor parameters of ``static_model``.
        ridge: L2 penalty of the visit regressions (on standardized inputs).

    It runs on :class:`~hygeia.tabular._base.TabularGenerator`'s hooks: ``fit`` checks the
    table in :meth:`_check_table`, learns from the whole long table (:meth:`_model_frame`)
    in :meth:`_fit`, and ``sample`` draws ``n`` subjects in :meth:`_sample_table`.
    """

    spec_version = 2  # 2: state under {"metadata", "model"} like the table generators

    def __init__(
        self,
        *,
        sequence_key: str | None = None,
        sequence_index: str | None = None,
        end_column: str | None = None,
        event_column: str | None = None,
        static_columns: list[str] | None = None,
        static_model: str = "tabular.cart",
        static_params: dict[str, Any] | None = None,
        ridge: float = 1.0,
    ) -> None:
        self.sequence_key = sequence_key
        self.sequence_index = sequence_index
        self.end_column = end_column
        self.event_column = event_column
        self.static_columns = static_columns
        self.static_model = static_model
        self.static_params = static_params
        self.ridge = ridge

    # -- fit ------------------------------------------------------------------------------------
    # ``fit(data, metadata=None)`` is TabularGenerator's: it learns from a long table (one row per
    # visit) and raises ConfigError when no sequence key or index is given or a parameter is bad,
    # DataValidationError for every problem of the table at once (non-numeric times, two visits at
    # one time, visits after the subject's own follow-up end, "static" columns that vary within a
    # subject...). A failed fit leaves the generator unfitted.

    def _model_frame(self, df: pd.DataFrame, meta: Metadata) -> pd.DataFrame:
        """The sequence model learns from the whole long table (keys and times included)."""
        return df

    def _fit(self, df: pd.DataFrame, meta: Metadata) -> None:
        static_cls = self._static_class()
        key, index, end = meta.sequence_key, meta.sequence_index, self.end_column
        static_cols = self._static_columns(df, meta)
        g = df.groupby(key, sort=False)
        k = g[index].transform("size").to_numpy()
        subj = g.ngroup().to_numpy()
        pos = g.cumcount().to_numpy()
        t = df[index].to_numpy(dtype=float)
        first = pos == 0
        t0 = t[first][subj]
        t_last = g[index].transform("max").to_numpy(dtype=float)
        F = df[end].to_numpy(dtype=float) if end else None

        spec = meta.column(index)
        self.step_ = float(10.0 ** -spec.decimals) if spec.decimals is not None else 0.0
        gaps = np.diff(t)[~first[1:]]
        self.tscale_ = float(np.median(gaps)) if len(gaps) else 1.0
        self.gap_min_ = self.step_ if self.step_ > 0 else 1e-6 * max(self.tscale_, 1.0)
        self.t0_ = float(t0[0]) if np.all(t[first] == t[first][0]) else None
        self.strict_ = bool(F is not None and np.all(t < F))
        self.kmax_ = int(k.max())

        # 1. the subject table
        names = set(df.columns)
        self.n_visits_col_ = _fresh("__n_visits__", names)
        self.first_col_ = None if self.t0_ is not None else _fresh("__first_time__", names)
        self.last_col_ = _fresh("__last_fraction__" if end else "__span__", names)
        rows = df.loc[first].reset_index(drop=True)
        static_df = rows[static_cols].copy()
        static_df[self.n_visits_col_] = k[first].astype(np.int64)
        if self.first_col_:
            static_df[self.first_col_] = rows[index].to_numpy()
        span = (t_last - t0)[first]
        if end:
            room = (F - t0)[first]
            static_df[self.last_col_] = np.where(room > 0, span / np.where(room > 0, room, 1.0), 0.0)
        else:
            static_df[self.last_col_] = span
        helpers = [c for c in (self.n_visits_col_, self.first_col_, self.last_col_) if c]
        types = {c: meta.column(c).type for c in static_cols} | {c: "numeric" for c in helpers}
        static_meta = Metadata.detect(static_df, types=types)
        params = dict(self.static_params or {})
        self.static_ = static_cls(**params).fit(static_df, metadata=static_meta)
        self.encoder_ = _StaticEncoder.fit(static_df, static_meta, numeric=helpers)
        S = self.encoder_.transform(static_df)[subj]

        # 2. visit times between the first and the last visit
        tprev = np.where(first, t, np.roll(t, 1))
        self.static_columns_ = static_cols
        mid = (~first) & (pos < k - 1)
        if mid.any():
            r = (t - tprev)[mid] / (t_last - tprev)[mid]
            y = np.log(r) - np.log1p(-r)
            self.time_model_ = _Linear.fit(self._time_features(S[mid], k[mid], pos[mid], t_last[mid], tprev[mid], t0[mid]),
                                           y[:, None], self.ridge)
        else:
            self.time_model_ = _Linear.empty(self._time_features(S[:0], k[:0], pos[:0], t[:0], t[:0], t[:0]).shape[1], 1)

        # 3. visit values
        mf = to_model_frame(df, meta)
        self.columns_ = [_VisitColumn.fit(c.name, mf[c.name], c.type) for c in meta.modelled if c.name not in static_cols
                         and c.name not in (key, index)]
        Z = np.column_stack([c.latent for c in self.columns_]) if self.columns_ else np.zeros((len(df), 0))
        observed = ~np.isnan(Z)
        self.missing_ = [j for j in range(len(self.columns_)) if not observed[:, j].all()]
        zprev, hasprev, missprev = _lagged(Z, observed, subj, first)
        T = _time_inputs(t, tprev, t0, F, t_last, self.tscale_, end is not None)
        X0 = S[first]
        X1 = self._follow_features(S, T, pos, zprev, hasprev, gap=T[:, 2])[~first]
        self.first_model_ = _Linear.fit(X0, Z[first], self.ridge)
        follow = (~first).any()
        self.follow_model_ = _Linear.fit(X1, Z[~first], self.ridge) if follow else _Linear.empty(X1.shape[1], Z.shape[1])
        pred = np.empty_like(Z)
        pred[first] = self.first_model_.predict(X0)
        pred[~first] = self.follow_model_.predict(X1)
        sd = np.where(first[:, None], self.first_model_.sd, self.follow_model_.sd)
        for j, col in enumerate(self.columns_):
            col.calibrate(pred[:, j], sd[:, j])
        self.miss_models_ = []
        miss = ~observed
        for rank, j in enumerate(self.missing_):
            X = self._miss_features(S, T, pos, missprev, miss[:, self.missing_[:rank]])
            self.miss_models_.append(_Logistic.fit(X, miss[:, j].astype(float), max(self.ridge, 1e-3)))

    def _static_class(self) -> type[Generator]:
        name = _SHORT_NAMES.get(self.static_model, self.static_model)
        if not isinstance(name, str) or not name.startswith("tabular.") or name == "tabular.sequence":
            raise ConfigError(
                "static_model must name a table generator such as 'tabular.cart' or 'tabular.copula'; "
                f"got {self.static_model!r}"
            )
        try:
            return get_generator_class(name)
        except ConfigError:
            try:
                importlib.import_module("hygeia.tabular." + name.split(".", 1)[1])
            except ImportError:
                pass
            return get_generator_class(name)

    def _check_table(self, data: Any, metadata: Metadata | None) -> tuple[pd.DataFrame, Metadata]:
        self._static_class()
        if not isinstance(self.ridge, (int, float)) or isinstance(self.ridge, bool) or not self.ridge >= 0:
            raise ConfigError(f"ridge must be a non-negative number; got {self.ridge!r}. Pass e.g. ridge=1.0.")
        if not isinstance(data, pd.DataFrame):
            raise DataValidationError([f"expected a pandas DataFrame, got {type(data).__name__}"], header=_HEADER)
        key = self.sequence_key or (metadata.sequence_key if metadata is not None else None)
        index = self.sequence_index or (metadata.sequence_index if metadata is not None else None)
        if key is None:
            raise ConfigError(
                "no sequence key: SequenceSynthesizer needs the column that names the subject of each visit; "
                "pass sequence_key='<column>' (e.g. 'id') or set metadata.sequence_key"
            )
        if index is None:
            raise ConfigError(
                "no sequence index: SequenceSynthesizer needs the visit-time column; pass sequence_index='<column>' "
                "(e.g. 'day', numeric time since entry) or set metadata.sequence_index"
            )
        named = {"sequence_key": key, "sequence_index": index, "end_column": self.end_column, "event_column": self.event_column}
        problems = [f"{label} {col!r} is not a column (columns: {list(map(str, data.columns))})"
                    for label, col in named.items() if col is not None and col not in data.columns]
        for col in self.static_columns or []:
            if col not in data.columns:
                problems.append(f"static column {col!r} is not a column")
        if problems:
            raise DataValidationError(problems, header=_HEADER)
        if data[key].isna().any():
            n_missing = int(data[key].isna().sum())
            problems.append(f"sequence key {key!r} is missing in {n_missing} rows; every visit needs its subject")
        for col, label in ((index, "visit-time column"), (self.end_column, "follow-up end column")):
            if col is None:
                continue
            s = data[col]
            plain = not (pd.api.types.is_bool_dtype(s) or pd.api.types.is_datetime64_any_dtype(s))
            num = pd.to_numeric(s, errors="coerce") if plain else None
            if num is None or (num.isna() & s.notna()).any():
                bad = s.dropna().iloc[0] if num is None else s[num.isna() & s.notna()].iloc[0]
                problems.append(
                    f"{label} {col!r} must be numeric (time since entry in one unit, e.g. days) but holds {_label(bad)!r} "
                    f"(dtype {s.dtype}); convert it, e.g. "
                    f"df[{col!r}] = (df.date - df.groupby({key!r}).date.transform('min')).dt.days"
                )
            elif s.isna().any():
                example = _label(data.loc[s.isna(), key].iloc[0])
                problems.append(
                    f"{label} {col!r} is missing in {int(s.isna().sum())} rows (e.g. subject {example!r}); fill or drop them"
                )
        if problems:
            raise DataValidationError(problems, header=_HEADER)
        df = data.copy()
        for col in (index, self.end_column):
            if col is not None and not pd.api.types.is_numeric_dtype(df[col]):
                df[col] = pd.to_numeric(df[col])
        df = df.sort_values([key, index], kind="stable").reset_index(drop=True)
        dup = df.duplicated([key, index])
        if dup.any():
            subs = pd.unique(df.loc[dup, key])
            problems.append(
                f"{len(subs)} subject(s) have two visits at the same {index!r} (e.g. subject {_label(subs[0])!r} at "
                f"{_label(df.loc[dup, index].iloc[0])!r}); merge or drop duplicate visits so times strictly increase"
            )
        if self.end_column:
            after = df[index] > df[self.end_column]
            if after.any():
                bad = df.loc[after, [key, index, self.end_column]].drop_duplicates(key)
                shown = "; ".join(
                    f"subject {_label(r[0])!r}: visit at {index}={_label(r[1])!r} after {self.end_column}={_label(r[2])!r}"
                    for r in bad.head(5).itertuples(index=False)
                )
                problems.append(
                    f"{len(bad)} subject(s) have visits after their own follow-up end ({shown}); fix the end times "
                    f"or drop those visits, e.g. df = df[df[{index!r}] <= df[{self.end_column!r}]]"
                )
        if df[key].nunique() < 2:
            problems.append(f"the table has {df[key].nunique()} subject(s); the sequence generator needs at least 2")
        if problems:
            raise DataValidationError(problems, header=_HEADER)
        times = [c for c in (index, self.end_column) if c]
        if metadata is None:
            meta = Metadata.detect(df, sequence_key=key, sequence_index=index, types={c: "numeric" for c in times})
        else:
            meta = Metadata.from_dict(metadata.to_dict())
            meta.validate(df, label="the training table")
            if meta.constraints:
                raise ConfigError(
                    "row constraints in the metadata are not applied by the sequence generator (its temporal "
                    "constraints are built in); remove metadata.constraints"
                )
            meta.sequence_key, meta.sequence_index = key, index
            meta.column(key).type = "id"
        for col in times:
            if meta.column(col).type != "numeric":
                fresh = Metadata.detect(df[[col]], types={col: "numeric"}).columns[0]
                meta.columns[meta.names.index(col)] = fresh
        return df, meta

    def _static_columns(self, df: pd.DataFrame, meta: Metadata) -> list[str]:
        key, index = meta.sequence_key, meta.sequence_index
        candidates = [c for c in df.columns if c not in (key, index)]
        counts = df.groupby(key, sort=False)[candidates].nunique(dropna=False) if candidates else pd.DataFrame()
        constant = [c for c in candidates if counts[c].max() <= 1]
        if self.static_columns is None:
            chosen = constant
        else:
            chosen = [c for c in candidates if c in set(self.static_columns)]
        must = [c for c in (self.end_column, self.event_column) if c]
        problems = []
        for c in dict.fromkeys([*chosen, *must]):
            if counts[c].max() > 1:
                sid = _label(counts.index[int(np.argmax(counts[c].to_numpy() > 1))])
                role = "follow-up end" if c == self.end_column else "event" if c == self.event_column else "static"
                problems.append(
                    f"{role} column {c!r} varies within subject {sid!r} ({int(counts[c].max())} distinct values in one "
                    "subject); a subject-level column must be constant within each subject"
                )
        if problems:
            raise DataValidationError(problems, header=_HEADER)
        return [c for c in candidates if c in set(chosen) | set(must)]

    # -- inputs of the regressions ----------------------------------------------------------------
    def _time_features(self, S: np.ndarray, k: np.ndarray, pos: np.ndarray, t_last: np.ndarray, tprev: np.ndarray,
                       t0: np.ndarray) -> np.ndarray:
        m = (k - pos).astype(float)
        return np.column_stack([S, np.log(m), 1.0 / m, np.log1p((t_last - tprev) / self.tscale_),
                                np.log1p((tprev - t0) / self.tscale_), (pos == 1).astype(float)])

    @staticmethod
    def _follow_features(S, T, pos, zprev, hasprev, gap) -> np.ndarray:
        onehot = np.column_stack([(pos == i).astype(float) for i in (1, 2, 3)])
        return np.column_stack([S, T, onehot, np.log1p(pos), zprev, hasprev, zprev * gap[:, None]])

    @staticmethod
    def _miss_features(S, T, pos, missprev, missnow) -> np.ndarray:
        onehot = np.column_stack([(pos == i).astype(float) for i in range(5)])
        return np.column_stack([S, T, onehot, np.log1p(pos), missprev, missnow])

    # -- sample ---------------------------------------------------------------------------------
    def _sample_table(self, n: int, seed: int) -> pd.DataFrame:
        """Visits of ``n`` synthetic subjects (ids ``0..n-1``), with the training table's columns and dtypes."""
        static_seq, visit_seq = np.random.SeedSequence(seed).spawn(2)
        static = self.static_.sample(n, seed=int(static_seq.generate_state(1, np.uint64)[0] >> 1)).reset_index(drop=True)
        rng = np.random.default_rng(visit_seq)
        meta, key, index, end = self.metadata_, self.metadata_.sequence_key, self.metadata_.sequence_index, self.end_column
        S = self.encoder_.transform(static)
        k = pd.to_numeric(static[self.n_visits_col_], errors="coerce").fillna(1).round().clip(1, self.kmax_).to_numpy(int)
        wanted = k
        times, k, raised = self._sample_times(static, S, k, rng)
        if raised.any():
            static[end] = static[end].astype(float).where(~raised, times[0][raised] + self.gap_min_).astype(static[end].dtype)
        subj, pos, values = self._sample_visits(static, S, k, times, rng)
        order = np.lexsort((pos, subj))
        subj, total = subj[order], len(subj)
        frame = {c: static[c].to_numpy()[subj] for c in self.static_columns_}
        frame[index] = np.concatenate([times[i][k > i] for i in range(self.kmax_)])[order]
        for j, col in enumerate(self.columns_):
            frame[col.name] = values[j][order]
        out_meta = Metadata.from_dict(meta.to_dict())
        out_meta.column(index).low = out_meta.column(index).high = None
        out = out_meta.restore(pd.DataFrame(frame, index=range(total)))
        ids = pd.Series(subj)
        dtype = meta.column(key).dtype
        out[key] = ids.astype(str) if dtype in ("object", "string", "str") else ids.astype(dtype)
        out.attrs["hygeia"] = {
            "subjects": n, "visits": total,
            # subjects whose sampled visit count did not fit before their end on the time grid / whose end was moved
            "visits_capped": int((k < wanted).sum()), "end_raised": int(raised.sum()),
        }
        return out

    def _sample_times(
        self, static: pd.DataFrame, S: np.ndarray, k: np.ndarray, rng: np.random.Generator
    ) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
        """Visit times per visit number (arrays over subjects), the visit counts and where the end was raised."""
        n = len(k)
        step, gmin = self.step_, self.gap_min_
        t0 = np.full(n, self.t0_) if self.t0_ is not None else pd.to_numeric(static[self.first_col_]).to_numpy(float)
        if step > 0:
            t0 = np.round(t0 / step) * step
        raised = np.zeros(n, bool)
        if self.end_column:
            F = pd.to_numeric(static[self.end_column]).to_numpy(float)
            upper = F - gmin if self.strict_ else F
            if step > 0:
                upper = np.floor(upper / step + 1e-9) * step
            if self.t0_ is None:
                t0 = np.minimum(t0, upper)
            raised = upper < t0
            upper = np.where(raised, t0, upper)
            k = np.minimum(k, np.floor((upper - t0) / gmin + 1e-9).astype(int) + 1)
            frac = np.clip(pd.to_numeric(static[self.last_col_]).fillna(0).to_numpy(float), 0, 1)
            last = t0 + frac * (upper - t0)
        else:
            upper = np.full(n, np.inf)
            last = t0 + np.maximum(pd.to_numeric(static[self.last_col_]).fillna(0).to_numpy(float), 0)
        if step > 0:
            last = np.round(last / step) * step
        last = np.where(k > 1, np.minimum(np.maximum(last, t0 + (k - 1) * gmin), upper), t0)
        times = [t0]
        for i in range(1, self.kmax_):
            prev = times[-1]
            t = last.copy()
            mid = k > i + 1
            if mid.any():
                X = self._time_features(S[mid], k[mid], np.full(mid.sum(), i), last[mid], prev[mid], t0[mid])
                y = self.time_model_.predict(X)[:, 0] + self.time_model_.sd[0] * rng.standard_normal(mid.sum())
                share = expit(y)
                new = prev[mid] + share * (last[mid] - prev[mid])
                if step > 0:
                    new = np.round(new / step) * step
                lo, hi = prev[mid] + gmin, last[mid] - (k[mid] - i - 1) * gmin
                t[mid] = np.minimum(np.maximum(new, lo), hi)
            times.append(np.where(k > i, t, np.nan))
        return times, k, raised

    def _sample_visits(
        self, static: pd.DataFrame, S: np.ndarray, k: np.ndarray, times: list[np.ndarray], rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
        """Missingness, then values, visit by visit for every subject still being followed."""
        n, V = len(k), len(self.columns_)
        end = self.end_column
        F = pd.to_numeric(static[end]).to_numpy(float) if end else None
        t0, last = times[0], np.nanmax(np.column_stack(times), axis=1)
        zlocf, has = np.zeros((n, V)), np.zeros((n, V))
        missprev = np.zeros((n, len(self.missing_)))
        subj_out, pos_out = [], []
        values: list[list[np.ndarray]] = [[] for _ in range(V)]
        for i in range(self.kmax_):
            act = np.flatnonzero(k > i)
            if len(act) == 0:
                break
            t = times[i][act]
            tprev = times[i - 1][act] if i > 0 else t
            pos = np.full(len(act), i)
            T = _time_inputs(t, tprev, t0[act], F[act] if end else None, last[act], self.tscale_, end is not None)
            Sa = S[act]
            miss = np.zeros((len(act), V), bool)
            for rank, j in enumerate(self.missing_):
                X = self._miss_features(Sa, T, pos, missprev[act], miss[:, self.missing_[:rank]])
                miss[:, j] = rng.random(len(act)) < self.miss_models_[rank].predict(X)
            if i == 0:
                model, X = self.first_model_, Sa
            else:
                model = self.follow_model_
                X = self._follow_features(Sa, T, pos, zlocf[act], has[act], gap=T[:, 2])
            z = model.predict(X) + rng.standard_normal((len(act), V)) @ model.chol.T
            for j, col in enumerate(self.columns_):
                v, latent = col.decode(z[:, j])
                values[j].append(np.where(miss[:, j], np.nan, v) if col.kind != "label" else np.where(miss[:, j], None, v))
                ok = act[~miss[:, j]]
                zlocf[ok, j] = latent[~miss[:, j]]
                has[ok, j] = 1.0
            missprev[act] = miss[:, self.missing_]
            subj_out.append(act)
            pos_out.append(pos)
        subj, pos = np.concatenate(subj_out), np.concatenate(pos_out)
        return subj, pos, [np.concatenate(v) if v else np.zeros(0) for v in values]

    # -- state ----------------------------------------------------------------------------------
    def _get_model_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        static_state, static_arrays = self.static_._get_state()
        arrays = {f"static__{name}": a for name, a in static_arrays.items()}
        for prefix, model in (("time", self.time_model_), ("first", self.first_model_), ("follow", self.follow_model_)):
            arrays |= model.arrays(prefix)
        for r, m in enumerate(self.miss_models_):
            arrays |= m.arrays(f"miss{r}")
        for j, col in enumerate(self.columns_):
            arrays |= col.arrays(f"col{j}")
        enc_state, enc_arrays = self.encoder_.state()
        arrays |= enc_arrays
        state = {
            "static_columns": self.static_columns_,
            "helpers": [self.n_visits_col_, self.first_col_, self.last_col_],
            "time": {"t0": self.t0_, "step": self.step_, "gap_min": self.gap_min_, "tscale": self.tscale_,
                     "strict": self.strict_, "kmax": self.kmax_},
            "columns": [col.state() for col in self.columns_],
            "missing": self.missing_,
            "encoder": enc_state,
            "static": {"generator": self.static_.generator_name, "module": type(self.static_).__module__,
                       "spec_version": self.static_.spec_version, "params": self.static_.get_params(), "state": static_state},
        }
        return state, arrays

    def _set_state(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        if "model" not in state:  # spec_version 1 kept one flat state
            state = {"metadata": state["metadata"], "model": state}
        super()._set_state(state, arrays)

    def _set_model_state(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        nested = state["static"]
        if not str(nested["module"]).startswith("hygeia."):
            raise ConfigError(f"nested static model module {nested['module']!r} is not part of Hygeia; refusing to import it")
        importlib.import_module(nested["module"])
        cls = get_generator_class(nested["generator"])
        if int(nested["spec_version"]) > cls.spec_version:
            raise ConfigError(f"the nested {nested['generator']} model was saved by a newer Hygeia; upgrade Hygeia")
        static = cls(**nested["params"])
        static._set_state(nested["state"], {k[len("static__"):]: a for k, a in arrays.items() if k.startswith("static__")})
        self.static_ = static
        self.static_columns_ = list(state["static_columns"])
        self.n_visits_col_, self.first_col_, self.last_col_ = state["helpers"]
        tm = state["time"]
        self.t0_, self.step_, self.gap_min_, self.tscale_ = tm["t0"], tm["step"], tm["gap_min"], tm["tscale"]
        self.strict_, self.kmax_ = tm["strict"], tm["kmax"]
        self.columns_ = [_VisitColumn.from_state(s, arrays, f"col{j}") for j, s in enumerate(state["columns"])]
        self.missing_ = [int(j) for j in state["missing"]]
        self.encoder_ = _StaticEncoder.from_state(state["encoder"], arrays)
        self.time_model_ = _Linear.from_arrays(arrays, "time")
        self.first_model_ = _Linear.from_arrays(arrays, "first")
        self.follow_model_ = _Linear.from_arrays(arrays, "follow")
        self.miss_models_ = [_Logistic.from_arrays(arrays, f"miss{r}") for r in range(len(self.missing_))]


