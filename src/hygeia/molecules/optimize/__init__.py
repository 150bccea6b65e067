"""Goal-directed molecule optimization under an oracle-call budget.

Two optimizers share one signature, ``optimizer.optimize(oracle, *, seed=None)
-> OptimizationResult``, and spend the budget of one :class:`Oracle`, which
counts unique molecules and computes the PMO metrics (AUC top-10, top-k means):

- :class:`Reinvent`: reinforcement learning of a chemical language model
  (Olivecrona et al., 2017; Blaschke et al., 2020);
- :class:`GraphGA`: a graph-based genetic algorithm (Jensen, 2019).

Example:
    >>> from hygeia.molecules.objectives import objective
    >>> oracle = Oracle(objective("celecoxib_rediscovery"), budget=100)
    >>> result = GraphGA(population_size=20, offspring_size=20, initial_size=40).optimize(oracle, seed=0)
    >>> result.metrics["n_calls"], 0 < result.metrics["auc_top10"] < 1
    (100, True)
"""

from hygeia.molecules.optimize.graph_ga import GraphGA, crossover, mutate
from hygeia.molecules.optimize.oracle import BudgetExhausted, OptimizationResult, Oracle
from hygeia.molecules.optimize.reinvent import DiversityFilter, Reinvent

__all__ = [
    "BudgetExhausted",
    "DiversityFilter",
    "GraphGA",
    "OptimizationResult",
    "Oracle",
    "Reinvent",
    "crossover",
    "mutate",
]
