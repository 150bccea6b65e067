"""Compile conditions and conditional choices into plain Python functions.

A condition tree evaluated node by node costs a method call per node. The
engine evaluates millions of them, so at load each tree is also written out as
one Python expression (``p.sex == 'F' and t - p.birth >= 568...``) and compiled
once; node types without a simple expression call their own ``test``. The
generated code only reads the person, so it behaves exactly as the tree does
(the tests compare both).
"""

from __future__ import annotations

import math

from hygeia.population.engine import _logic as L

__all__ = ["compile_choice", "compile_test"]


def _literal(value) -> str | None:
    """``value`` as Python source that evaluates to an equal value of the same type, when it has one."""
    if value is None or type(value) in (bool, int, str):
        return repr(value)
    if type(value) is float and math.isfinite(value):
        return repr(value)  # repr round-trips a float exactly
    return None


def _expr(cond, consts: list) -> str:
    def const(value) -> str:
        literal = _literal(value)
        if literal is not None:
            return f"({literal})"
        consts.append(value)
        return f"C[{len(consts) - 1}]"

    if type(cond) is L.TrueCondition:
        return "True"
    if type(cond) is L.FalseCondition:
        return "False"
    if type(cond) is L.And:
        return "(" + " and ".join(_expr(c, consts) for c in cond.children) + ")"
    if type(cond) is L.Or:
        return "(" + " or ".join(_expr(c, consts) for c in cond.children) + ")"
    if type(cond) is L.Not:
        return f"(not {_expr(cond.child, consts)})"
    if type(cond) is L.Gender:
        return f"(p.sex == {cond.gender!r})"
    if type(cond) is L.Race:
        if cond.race == "hispanic":
            return "(p.ethnicity == 'hispanic')"
        return f"(p.race == {cond.race!r})"
    if type(cond) is L.SocioeconomicStatus:
        return f"(p.ses == {cond.category!r})"
    if type(cond) is L.Age:
        parts = []
        if cond.lo != -math.inf:
            parts.append(f"{const(cond.lo)} <= t - p.birth")
        if cond.hi != math.inf:
            parts.append(f"t - p.birth < {const(cond.hi)}")
        body = " and ".join(parts) or "True"
        return f"(not ({body}))" if cond.negate else f"({body})"
    if type(cond) is L.Attribute:
        get = f"p.attrs.get({cond.attribute!r})"
        if cond.op == "is nil":
            return f"({get} is None)"
        if cond.op == "is not nil":
            return f"({get} is not None)"
        if cond.op == "==" and cond.value is not None:
            return f"({get} == {const(cond.value)})"
        if cond.op in _ORDER and _plain_number(cond.value):
            return f"{_ORDER[cond.op]}({get}, {const(cond.value)})"
    if type(cond) is L.Date and cond.field in ("year", "date") and len(cond.points) == 2:
        op = next((k for k, f in L._OPS.items() if f is cond.f), None)
        if op is not None:
            # The year of t compares with Y as t with the start of Y (or of Y + 1): no datetime made.
            lo, hi = cond.points  # a date's own ms and the next, or the starts of years Y and Y + 1
            if cond.field == "date":
                return f"(t {op} ({cond.value}))"
            return {"<": f"(t < ({lo}))", "<=": f"(t < ({hi}))", ">=": f"(t >= ({lo}))", ">": f"(t >= ({hi}))",
                    "==": f"(({lo}) <= t < ({hi}))", "!=": f"(not (({lo}) <= t < ({hi})))"}[op]
    if type(cond) is L.VitalSign and cond.op in _ORDER and _plain_number(cond.value):
        return f"{_ORDER[cond.op]}(p.vital({cond.name!r}, t), {const(cond.value)})"
    if isinstance(cond, L._Active) and not cond.attribute and cond.codes:
        table = f"p.{cond.table}"
        return "(" + " or ".join(f"{const(c)} in {table}" for c in cond.codes) + ")"
    return f"{const(cond)}.test(p, t)"


def _plain_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# ``_logic.compare(lhs, rhs, op)`` for an order operator and a number ``rhs`` (not a bool): false
# for a missing or boolean ``lhs`` and for one that does not compare with a number.
def _lt(lhs, rhs) -> bool:
    if lhs is None or isinstance(lhs, bool):
        return False
    try:
        return lhs < rhs
    except TypeError:
        return False


def _le(lhs, rhs) -> bool:
    if lhs is None or isinstance(lhs, bool):
        return False
    try:
        return lhs <= rhs
    except TypeError:
        return False


def _gt(lhs, rhs) -> bool:
    if lhs is None or isinstance(lhs, bool):
        return False
    try:
        return lhs > rhs
    except TypeError:
        return False


def _ge(lhs, rhs) -> bool:
    if lhs is None or isinstance(lhs, bool):
        return False
    try:
        return lhs >= rhs
    except TypeError:
        return False


_ORDER = {"<": "_lt", "<=": "_le", ">": "_gt", ">=": "_ge"}
_SCOPE = {"_lt": _lt, "_le": _le, "_gt": _gt, "_ge": _ge}


def compile_test(cond):
    """A function ``(person, t) -> bool`` equivalent to ``cond.test``."""
    consts: list = []
    src = f"lambda p, t: {_expr(cond, consts)}"
    return eval(src, {"C": tuple(consts), **_SCOPE})  # noqa: S307 - source built above from validated conditions


def compile_choice(options: list):
    """A function ``(person, t) -> State`` taking the first option whose condition holds.

    When no condition holds, the last option is taken whatever its condition (as
    Synthea's ``ConditionalTransition.follow`` and ``ComplexTransition.follow`` do).

    Args:
        options: ``(condition or None, target)`` pairs; a target is a State, or an
            object with ``choose(person, t)`` (a distribution) that picks one.
    """
    consts: list = []
    targets: list = []
    scope: dict = {}
    lines = ["def choose(p, t):"]
    result = "None"
    for cond, target in options:
        targets.append(target)
        k = len(targets) - 1
        if hasattr(target, "choose"):
            scope[f"CH{k}"] = target.chooser() if hasattr(target, "chooser") else target.choose
            result = f"CH{k}(p, t)"
        else:
            result = f"T[{k}]"
        if cond is None:
            lines.append(f"    return {result}")
            break
        lines.append(f"    if {_expr(cond, consts)}:")
        lines.append(f"        return {result}")
    else:
        lines.append(f"    return {result}")  # no option held: the last one, as Synthea
    scope.update({"C": tuple(consts), "T": tuple(targets), **_SCOPE})
    exec("\n".join(lines), scope)  # noqa: S102 - source built above from validated conditions
    return scope["choose"]
