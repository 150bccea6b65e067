"""A naive-Bayes diagnostic model over the HPO disease annotations, and the information a finding carries.

For every candidate disease ``d`` and phenotype term ``t``, the model holds ``P(t present | d)``
with ancestor propagation: a patient has ``t`` when any annotated term at or below ``t`` is present,
each independently at its annotated frequency, so ``P = 1 - prod(1 - f_a)`` over those terms
(``DEFAULT_FREQUENCY`` where the annotation states none). What a student observes is noisier:
a finding the disease does not explain turns up at the ``background`` rate (a false positive, an
unrelated complaint), a finding the disease has is missed at the ``miss`` rate, and a term the
disease excludes (a ``NOT`` annotation) turns up at the ``excluded`` rate only::

    P(observed t | d) = background + (1 - background - miss) * P(t | d)

The posterior over the candidates given present terms and absent ones is a sum of sparse log
likelihood ratios against the background (numpy/scipy, a few milliseconds over every annotated
disease). Present terms are reduced to the most specific ones (an ancestor of another present term
adds nothing), absent terms to the most general ones (every term below an absent term is absent).

An absent term may carry a channel (``('HP:0000478', 'history')``): the patient denies any complaint
under it, which says nothing about the findings only an examination or a test shows. The model then
uses ``P`` restricted to the annotated terms of that channel (``channel_of`` tells a term's channel).

Example:
    >>> from hygeia.tutor._hpo import load_knowledge
    >>> model = DiagnosticModel(load_knowledge(), "ORPHA")
    >>> post = model.posterior(["HP:0001166", "HP:0001083", "HP:0002647"])   # arachnodactyly, ectopia lentis, aortic dissection
    >>> post[0][0], model.kb.disease(post[0][0]).name
    ('ORPHA:558', 'Marfan syndrome')
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from hygeia.errors import ConfigError
from hygeia.tutor._case import Case
from hygeia.tutor._hpo import (
    DEFAULT_FREQUENCY,
    PHENOTYPIC_ABNORMALITY,
    Disease,
    Knowledge,
    load_knowledge,
)

__all__ = ["DiagnosticModel", "Discriminator", "top1_credit"]

#: Largest frequency used in ``log(1 - f)`` (an obligate finding would give minus infinity).
_F_MAX = 1.0 - 1e-9
#: Sources a candidate namespace may name.
_NAMESPACES = ("OMIM", "ORPHA", "DECIPHER")


def top1_credit(scores: np.ndarray, true_index: int, *, atol: float = 1e-9) -> float:
    """Top-1 credit of ``true_index`` under ``scores`` with ties shared: ``1/k`` when it ties with k-1 others at the top.

    Diseases whose annotations are identical get identical scores and cannot be told apart; sharing
    the credit counts such a tie as a 1-in-k guess instead of a win or a loss by index order.

    Example:
        >>> top1_credit(np.array([0.2, 0.5, 0.5, 0.1]), 1), top1_credit(np.array([0.2, 0.5, 0.1]), 0)
        (0.5, 0.0)
    """
    scores = np.asarray(scores, dtype=float)
    best = float(scores.max())
    if scores[true_index] < best - atol:
        return 0.0
    return 1.0 / int(np.count_nonzero(scores >= best - atol))


@dataclass(frozen=True)
class Discriminator:
    """A case finding that separates the true disease from a competitor.

    Attributes:
        hpo: the finding's term; ``name`` its label; ``present`` False for a pertinent negative.
        llr: the log likelihood ratio (natural log) it gives the true disease over ``versus``,
            weighted over the closest competitors (larger separates more).
        versus: the competitor (disease id) it separates the true disease from most.
        versus_name: that competitor's name.
        finding: the case finding's own term (``hpo`` is what the student hears: a vague finding's
            ``reported_as``).
        channel: how the finding comes to light (``'history'``, ``'exam'``, ``'test'``).
    """

    hpo: str
    name: str
    present: bool
    llr: float
    versus: str
    versus_name: str
    finding: str = ""
    channel: str = ""

    def to_dict(self) -> dict:
        """JSON-ready fields."""
        return {"hpo": self.hpo, "name": self.name, "present": self.present, "llr": round(self.llr, 4),
                "versus": self.versus, "versus_name": self.versus_name, "finding": self.finding or self.hpo,
                "channel": self.channel}


class DiagnosticModel:
    """P(term | disease) for a set of candidate diseases; posterior, information gain, discriminating findings.

    Args:
        kb: the knowledge base (``load_knowledge()`` where None).
        diseases: candidate disease ids, a namespace (``'ORPHA'``, ``'OMIM'``, ``'DECIPHER'``), or None
            for every disease with at least one phenotype annotation.
        background: probability of observing a term the disease does not explain (false positive).
        miss: probability that a finding the disease has goes unobserved (denied, overlooked).
        excluded: probability of observing a term the disease excludes (a ``NOT`` annotation).
        default_frequency: frequency of an annotation that states none.
        channel_of: a term's channel (``'history'``, ``'exam'``, ``'test'``), for absent terms that carry
            one; None: channel-restricted absent terms are refused.
        extra: further candidate diseases that are not in ``kb`` (the authored acute ones), as
            :class:`~hygeia.tutor._hpo.Disease` objects.

    Raises:
        ConfigError: an unknown disease id, or no candidate disease with phenotype annotations.

    Example:
        >>> from hygeia.tutor._hpo import load_knowledge
        >>> m = DiagnosticModel(load_knowledge(), ["ORPHA:558", "ORPHA:394"])   # Marfan, homocystinuria
        >>> round(m.probability("ORPHA:558", "HP:0001166"), 3)                       # arachnodactyly
        0.895
    """

    def __init__(self, kb: Knowledge | None = None, diseases: str | Iterable[str] | None = None, *,
                 background: float = 0.02, miss: float = 0.05, excluded: float = 0.001,
                 default_frequency: float = DEFAULT_FREQUENCY,
                 channel_of: Callable[[str], str] | None = None, extra: Iterable[Disease] = ()) -> None:
        for name, value in (("background", background), ("miss", miss), ("excluded", excluded)):
            if not 0.0 < value < 0.5:
                raise ConfigError(f"DiagnosticModel {name}={value!r}: expected a probability in (0, 0.5)")
        self.kb = kb if kb is not None else load_knowledge()
        self.background, self.miss, self.excluded = float(background), float(miss), float(excluded)
        self.default_frequency = float(default_frequency)
        self.channel_of = channel_of
        self.extra = {d.id: d for d in extra}
        self.ids = sorted(set(self._candidates(diseases)) | set(self.extra))
        self.index = {d: i for i, d in enumerate(self.ids)}
        self._build()

    # ------------------------------------------------------------------ construction
    def disease(self, disease_id: str) -> Disease:
        """A candidate disease (from ``kb`` or ``extra``)."""
        return self.extra.get(disease_id) or self.kb.diseases[disease_id]

    def _candidates(self, diseases: str | Iterable[str] | None) -> list[str]:
        kb = self.kb
        if diseases is None:
            ids = [d.id for d in kb.diseases.values() if d.phenotypes]
        elif isinstance(diseases, str):
            ns = diseases.upper().replace("ORPHANET", "ORPHA")
            if ns not in _NAMESPACES:
                raise ConfigError(f"unknown disease namespace {diseases!r}: expected one of {', '.join(_NAMESPACES)} "
                                  "or a list of disease ids")
            ids = [d.id for d in kb.diseases.values() if d.source == ns and d.phenotypes]
        else:
            ids = [kb.disease(d).id for d in diseases]
            ids = [d for d in dict.fromkeys(ids) if kb.diseases[d].phenotypes]
        if not ids:
            raise ConfigError(f"DiagnosticModel: no candidate disease with phenotype annotations in {diseases!r}")
        return sorted(ids)

    def _build(self) -> None:
        kb = self.kb
        annotated: dict[str, None] = {}
        for did in self.ids:
            for p in self.disease(did).phenotypes:
                if kb.is_phenotype(p.hpo):
                    annotated[p.hpo] = None
        vocab: dict[str, None] = {}
        for a in annotated:
            for t in kb.ancestors(a):
                vocab[t] = None
        vocab.pop(PHENOTYPIC_ABNORMALITY, None)
        terms = sorted(t for t in vocab if kb.is_phenotype(t))
        self.terms = terms
        self.term_index = {t: j for j, t in enumerate(terms)}
        n_t = len(terms)
        # A[a, t] = 1 where t is a (phenotypic) ancestor-or-self of a
        rows, cols = [], []
        for a in annotated:
            ja = self.term_index.get(a)
            if ja is None:
                continue
            for t in kb.ancestors(a):
                jt = self.term_index.get(t)
                if jt is not None:
                    rows.append(ja)
                    cols.append(jt)
        self._anc = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n_t, n_t))
        # L[d, a] = log(1 - f) of each annotation
        rows, cols, vals = [], [], []
        for i, did in enumerate(self.ids):
            for p in self.disease(did).phenotypes:
                j = self.term_index.get(p.hpo)
                f = self.default_frequency if p.frequency is None else p.frequency
                if j is None or f <= 0.0:
                    continue
                rows.append(i)
                cols.append(j)
                vals.append(math.log1p(-min(f, _F_MAX)))
        self._log_absent = sparse.csr_matrix((vals, (rows, cols)), shape=(len(self.ids), n_t))
        self.P = self._propagate(self._log_absent)
        # excluded terms (and the vocabulary below them) where the disease does not otherwise explain them
        rows, cols = [], []
        for i, did in enumerate(self.ids):
            for e in self.disease(did).excluded:
                if e not in self.term_index:
                    continue
                for t in kb.descendants(e):
                    j = self.term_index.get(t)
                    if j is not None:
                        rows.append(i)
                        cols.append(j)
        excl = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=self.P.shape)
        excl.data[:] = 1.0
        excl = excl - excl.multiply(self.P > 0)
        excl.eliminate_zeros()
        self.E = excl.tocsr()
        self._pos, self._neg = self._evidence(self.P)
        self._channel_cache: dict[str, tuple[sparse.csr_matrix, sparse.csc_matrix]] = {}
        self._P_csr = self.P.tocsr()

    def _propagate(self, log_absent: sparse.csr_matrix) -> sparse.csr_matrix:
        """P = 1 - exp(sum of log(1 - f) over the annotated terms at or below each term)."""
        q = (log_absent @ self._anc).tocsr()
        q.data = -np.expm1(q.data)
        q.eliminate_zeros()
        return q

    def _observed(self, p: np.ndarray) -> np.ndarray:
        return self.background + (1.0 - self.background - self.miss) * p

    def _evidence(self, P: sparse.csr_matrix) -> tuple[sparse.csc_matrix, sparse.csc_matrix]:
        """Log likelihood ratios against the background of a present and of an absent observation, per (d, t)."""
        lb, lnb = math.log(self.background), math.log1p(-self.background)
        po = P.copy()
        po.data = np.log(self._observed(po.data)) - lb
        ne = P.copy()
        ne.data = np.log1p(-self._observed(ne.data)) - lnb
        ex_pos = self.E * (math.log(self.excluded) - lb)
        ex_neg = self.E * (math.log1p(-self.excluded) - lnb)
        return (po + ex_pos).tocsc(), (ne + ex_neg).tocsc()

    def _channel(self, channel: str) -> tuple[sparse.csr_matrix, sparse.csc_matrix]:
        """P restricted to the annotated terms of ``channel``, and the absent-observation evidence from it."""
        if channel not in self._channel_cache:
            if self.channel_of is None:
                raise ConfigError(f"absent term with channel {channel!r}: this DiagnosticModel was built without "
                                  "channel_of; pass channel_of=... or give plain term ids")
            keep = np.array([self.channel_of(t) == channel for t in self.terms], dtype=float)
            la = self._log_absent.multiply(keep[None, :]).tocsr()
            P = self._propagate(la)
            self._channel_cache[channel] = (P, self._evidence(P)[1])
        return self._channel_cache[channel]

    # ------------------------------------------------------------------ queries
    @property
    def n_diseases(self) -> int:
        """Number of candidate diseases."""
        return len(self.ids)

    def probability(self, disease_id: str, hpo: str) -> float:
        """P(``hpo`` present | ``disease_id``) with ancestor propagation (0 where nothing at or below it is annotated)."""
        i, j = self.index.get(disease_id), self.term_index.get(self.kb.alt_ids.get(hpo, hpo))
        if i is None:
            raise ConfigError(f"{disease_id!r} is not a candidate of this model ({self.n_diseases} diseases)")
        return 0.0 if j is None else float(self._P_csr[i, j])

    @functools.cached_property
    def _twin_groups(self) -> dict[str, tuple[str, ...]]:
        groups: dict[tuple, list[str]] = {}
        for did in self.ids:
            d = self.disease(did)
            key = (tuple(sorted((p.hpo, p.frequency) for p in d.phenotypes)), tuple(sorted(d.excluded)))
            groups.setdefault(key, []).append(did)
        return {did: tuple(g) for g in groups.values() for did in g}

    def twins(self, disease_id: str) -> tuple[str, ...]:
        """The candidates whose annotations are identical to ``disease_id``'s (itself included): no finding tells them apart.

        Example:
            >>> from hygeia.tutor._hpo import load_knowledge
            >>> DiagnosticModel(load_knowledge(), "ORPHA").twins("ORPHA:558")
            ('ORPHA:558',)
        """
        return self._twin_groups.get(disease_id, (disease_id,))

    def top1(self, differential: Sequence[str], disease_id: str) -> float:
        """Top-1 credit of a differential: ``1/k`` when its first disease is one of the ``k`` twins of the true one.

        Twins (:meth:`twins`) cannot be told apart by any finding, so naming any of them first is a
        1-in-k guess, and so is naming the true disease first when it has twins.
        """
        if not differential:
            return 0.0
        group = self.twins(disease_id)
        return 1.0 / len(group) if differential[0] in group else 0.0

    def reduce(self, positives: Iterable[str], negatives: Iterable[str | tuple[str, str]] = ()
               ) -> tuple[list[str], list[tuple[str, str | None]]]:
        """Present terms reduced to the most specific, absent ones to the most general, both in the vocabulary.

        A term both present and absent keeps its present observation only where it was observed
        present more specifically than it was denied.
        """
        kb = self.kb
        pos = {kb.alt_ids.get(t, t) for t in positives}
        pos = {t for t in pos if t in self.term_index}
        pos_min = [t for t in pos if not any(o != t and t in kb.ancestors(o) for o in pos)]
        negs: dict[tuple[str, str | None], None] = {}
        for n in negatives:
            t, ch = (n, None) if isinstance(n, str) else (n[0], n[1])
            t = kb.alt_ids.get(t, t)
            if t in self.term_index:
                negs[(t, ch)] = None
        neg_max = [(t, ch) for (t, ch) in negs
                   if not any((o, c2) != (t, ch) and o in kb.ancestors(t) and (c2 is None or c2 == ch)
                              for (o, c2) in negs)]
        return sorted(pos_min), sorted(neg_max, key=lambda x: (x[0], x[1] or ""))

    def log_posterior(self, positives: Iterable[str] = (), negatives: Iterable[str | tuple[str, str]] = (),
                      *, prior: np.ndarray | None = None) -> np.ndarray:
        """Unnormalized log posterior of every candidate (the order of ``ids``) given present and absent terms.

        Args:
            positives: terms observed present.
            negatives: terms observed absent, each a term id (nothing at or below it) or ``(term, channel)``
                (nothing of that channel at or below it).
            prior: log prior per candidate (uniform where None).
        """
        pos, neg = self.reduce(positives, negatives)
        score = np.zeros(self.n_diseases) if prior is None else np.array(prior, dtype=float)
        for t in pos:
            self._add_column(score, self._pos, self.term_index[t])
        for t, ch in neg:
            mat = self._neg if ch is None else self._channel(ch)[1]
            self._add_column(score, mat, self.term_index[t])
        return score

    @staticmethod
    def _add_column(score: np.ndarray, mat: sparse.csc_matrix, j: int) -> None:
        lo, hi = mat.indptr[j], mat.indptr[j + 1]
        score[mat.indices[lo:hi]] += mat.data[lo:hi]

    @staticmethod
    def normalize(log_post: np.ndarray) -> np.ndarray:
        """Probabilities from log scores (softmax)."""
        z = np.exp(log_post - log_post.max())
        return z / z.sum()

    def posterior(self, positives: Iterable[str] = (), negatives: Iterable[str | tuple[str, str]] = (),
                  *, top: int | None = None) -> list[tuple[str, float]]:
        """``(disease id, probability)`` best first, given present and absent terms (see :meth:`log_posterior`).

        Example:
            >>> from hygeia.tutor._hpo import load_knowledge
            >>> m = DiagnosticModel(load_knowledge(), "ORPHA")
            >>> [d for d, _ in m.posterior(["HP:0001166", "HP:0001083"], top=2)]   # arachnodactyly, ectopia lentis
            ['ORPHA:394', 'ORPHA:558']
        """
        p = self.normalize(self.log_posterior(positives, negatives))
        order = np.argsort(-p, kind="stable")
        if top is not None:
            order = order[:top]
        return [(self.ids[i], float(p[i])) for i in order]

    def information_gain(self, log_post: np.ndarray, *, k: int = 50, candidates: Sequence[str] | None = None,
                         channel: str | None = None, exclude: Iterable[str] = ()) -> list[tuple[str, float]]:
        """Expected information gain (bits) of observing each term, best first, over the top-``k`` candidates.

        The posterior is cut to its ``k`` most probable diseases and renormalized; a term's gain is the
        mutual information between the disease and the yes/no answer, ``H(sum_d pi_d q_d) - sum_d pi_d H(q_d)``
        with ``q_d`` the probability of observing the term present under ``d``.

        Args:
            log_post: scores from :meth:`log_posterior`.
            k: how many of the most probable diseases the gain is computed over.
            candidates: terms to score; default every term annotated (or implied) for the top ``k``.
            channel: score a "no" as "nothing of this channel under the term" (needs ``channel_of``); the
                present probability is then the channel-restricted one.
            exclude: terms not to score (already asked).
        """
        top = np.argsort(-log_post, kind="stable")[:k]
        pi = self.normalize(log_post[top])
        if channel is None:
            sub = self._P_csr[top]
        else:
            sub = self._channel(channel)[0][top]
        if candidates is None:
            cols = np.unique(sub.indices)
        else:
            cols = np.array(sorted({self.term_index[t] for t in candidates if t in self.term_index}), dtype=int)
        skip = {self.term_index[t] for t in exclude if t in self.term_index}
        if skip:
            cols = cols[~np.isin(cols, list(skip))]
        if cols.size == 0:
            return []
        q = self._observed(sub[:, cols].toarray())
        ex = self.E[top][:, cols].toarray() > 0
        q[ex] = self.excluded
        gain = _h(q.T @ pi) - _h(q).T @ pi
        order = np.argsort(-gain, kind="stable")
        return [(self.terms[cols[i]], float(gain[i])) for i in order]

    def case_evidence(self, case: Case) -> tuple[list[str], list[str]]:
        """Present and absent terms of a case, as a student who elicited every finding would observe them.

        A vague finding counts as its ``reported_as`` term.
        """
        pos = [f.reported_as or f.hpo for f in case.findings if f.present]
        neg = [f.hpo for f in case.findings if not f.present]
        return pos, neg

    def discriminating(self, case: Case, k: int = 5, *, competitors: int = 5) -> list[Discriminator]:
        """The case's findings that most separate its disease from the closest competitors, most first.

        Competitors are the ``competitors`` most probable other candidates given every finding of the
        case. Each finding's log likelihood ratio (true disease over competitor) is averaged over the
        competitors weighted by their posterior; findings that favour the true disease are kept.

        Raises:
            ConfigError: the case's disease is not a candidate of this model.
        """
        did = case.disease.get("id", "")
        if did not in self.index:
            raise ConfigError(f"case disease {did!r} is not a candidate of this model ({self.n_diseases} diseases); "
                              "build the DiagnosticModel over its namespace")
        ti = self.index[did]
        pos, neg = self.case_evidence(case)
        lp = self.log_posterior(pos, neg)
        lp_others = lp.copy()
        lp_others[ti] = -np.inf
        comp = np.argsort(-lp_others, kind="stable")[:competitors]
        w = self.normalize(lp_others[comp])
        out: list[Discriminator] = []
        seen: set[tuple[str, bool]] = set()
        for f in case.findings:
            if f.source == "noise":
                continue
            t = f.reported_as or f.hpo if f.present else f.hpo
            j = self.term_index.get(self.kb.alt_ids.get(t, t))
            if j is None or (t, f.present) in seen:
                continue
            seen.add((t, f.present))
            mat = self._pos if f.present else self._neg
            col = np.asarray(mat[:, j].toarray()).ravel()
            llr = col[ti] - col[comp]
            score = float(llr @ w)
            if score <= 1e-6:
                continue
            v = comp[int(np.argmax(llr))]
            out.append(Discriminator(t, self.kb.term(t).name, bool(f.present), score, self.ids[v],
                                     self.disease(self.ids[v]).name, f.hpo, f.channel))
        out.sort(key=lambda x: (-x.llr, x.hpo))
        return out[:k]


def _h(p: np.ndarray) -> np.ndarray:
    """Binary entropy in bits."""
    p = np.clip(p, 1e-12, 1 - 1e-12)
    return -(p * np.log2(p) + (1 - p) * np.log2(1 - p))
