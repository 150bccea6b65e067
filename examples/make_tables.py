"""Write the example tables the README uses, from a population Hygeia simulates (seed 1).

The files stand in for a user's own data; every value is synthetic:

* ``cohort.csv`` (1,500 persons) and ``holdout.csv`` (500 other persons of the same
  run): one row per person, as ``hygeia evaluate`` compares run folders (age, sex,
  race, ethnicity, died, counts of encounters, conditions, medications, procedures,
  observations);
* ``visits.csv``: blood-pressure visits of 200 adults, one row per visit: ``id``,
  ``day`` (days since the person's first visit), ``sbp``, ``dbp`` (mmHg) and
  ``futime`` (days from the first visit to death or the end of follow-up);
* ``codebook.json``: the cohort's column types, categories and bounds as public
  knowledge (the US locale pack's categories, plausible ranges), for
  ``hygeia fit --public-metadata``.

Run it from the repository root to refresh them (about a minute):

    .venv/bin/python examples/make_tables.py

Example:
    >>> import pandas as pd
    >>> list(pd.read_csv("examples/cohort.csv", nrows=1).columns)[:3]
    ['age', 'sex', 'race']
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pandas as pd

from hygeia.core.atomic import write_text
from hygeia.core.storage import connect
from hygeia.evaluate._inputs import person_features
from hygeia.population import generate

HERE = Path(__file__).resolve().parent
N_TRAIN, N_HOLDOUT, N_VISIT_PERSONS, MAX_VISITS = 1500, 500, 200, 15

_VISITS_SQL = f"""
WITH bp AS (
    SELECT e.subject_id, e.time, e.encounter_id,
           max(e.numeric_value) FILTER (WHERE e.display = 'Systolic blood pressure') AS sbp,
           max(e.numeric_value) FILTER (WHERE e.display = 'Diastolic blood pressure') AS dbp
    FROM events e JOIN persons p USING (subject_id)
    WHERE e.kind = 'observation' AND e.display IN ('Systolic blood pressure', 'Diastolic blood pressure')
      AND date_diff('year', p.birth_time, e.time) >= 18
    GROUP BY ALL
), first AS (SELECT subject_id, min(time) AS t0 FROM bp GROUP BY subject_id)
SELECT b.subject_id AS id, date_diff('day', f.t0, b.time) AS day, round(b.sbp) AS sbp, round(b.dbp) AS dbp,
       date_diff('day', f.t0, coalesce(p.death_time, CAST(? AS TIMESTAMP))) AS futime
FROM bp b JOIN first f USING (subject_id) JOIN persons p USING (subject_id)
WHERE b.sbp IS NOT NULL AND b.dbp IS NOT NULL
  AND b.subject_id IN (SELECT subject_id FROM first ORDER BY subject_id LIMIT {N_VISIT_PERSONS})
QUALIFY row_number() OVER (PARTITION BY b.subject_id ORDER BY b.time) <= {MAX_VISITS}
ORDER BY id, day
"""


def _codebook(cohort: pd.DataFrame) -> dict:
    """Types, categories and bounds known without looking at anyone's record."""
    counts = {c: {"name": c, "type": "numeric", "integer": True, "decimals": 0, "low": 0.0, "high": 20000.0}
              for c in cohort.columns if c.startswith("n_")}
    columns = [
        {"name": "age", "type": "numeric", "decimals": 2, "low": 0.0, "high": 110.0},
        {"name": "sex", "type": "categorical", "categories": ["F", "M"]},
        {"name": "race", "type": "categorical",
         "categories": ["asian", "black", "hawaiian", "native", "other", "white"]},
        {"name": "ethnicity", "type": "categorical", "categories": ["hispanic", "nonhispanic"]},
        {"name": "died", "type": "categorical", "categories": [0, 1]},
        *[counts[c] for c in cohort.columns if c in counts],
    ]
    for c in columns:
        c.update({"dtype": str(cohort[c["name"]].dtype), "missing": 0.0, "public": True})
    return {"spec_version": 2, "columns": columns, "primary_key": None, "sequence_key": None,
            "sequence_index": None, "constraints": []}


def main() -> None:
    """Simulate the population, then write the four example files beside this script."""
    with tempfile.TemporaryDirectory() as tmp:
        run = Path(tmp) / "run"
        result = generate(n=N_TRAIN + N_HOLDOUT, seed=1, out=run)
        people = person_features(run)
        con = connect(run)
        try:
            visits = con.execute(_VISITS_SQL, [str(result.config.end)]).df()
        finally:
            con.close()
    write_text(HERE / "cohort.csv", people.iloc[:N_TRAIN].to_csv(index=False), what="example table")
    write_text(HERE / "holdout.csv", people.iloc[N_TRAIN:].to_csv(index=False), what="example table")
    write_text(HERE / "visits.csv", visits.to_csv(index=False), what="example table")
    codebook = _codebook(people)
    write_text(HERE / "codebook.json", json.dumps(codebook, indent=2) + "\n", what="example codebook")


if __name__ == "__main__":
    main()
