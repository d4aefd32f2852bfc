"""Calibrated usage thresholds: rule breakpoints proposed from the workspace's own distribution.

For each usage measure of a scorecard (a kind whose usual group is "usage"), the raw values (`v:KEY`)
of every account scored as of the first of each of the last CALIBRATION_MONTHS months (the current
month's first included; recomputed as of each day with the scorecard's definition, so that every
measure has its value) are pooled, "not available" (NaN) left out. Their percentiles p25, p50 and
p75 (linear interpolation, numpy's default) become a threshold rule in the measure's current
direction (a linear rule with low < high, or a "higher" threshold rule, is "higher is better"):

  * higher is better: ≥ p75 → 100 points, ≥ p50 → 50, ≥ p25 → 25, otherwise 0;
  * lower is better:  ≤ p25 → 100 points, ≤ p50 → 50, ≤ p75 → 25, otherwise 0.

Equal percentiles collapse into one step (the better points). When p25 = p75 the workspace's
values do not spread and no rule is proposed for that measure. Nothing is saved here: the scorecard
page shows the proposal as an edit, with its what-if preview; the manager saves it as a new version.
"""

import datetime as dt

import numpy as np

from .backtest import MONTHLY, observations
from .definition import MEASURE_KINDS, measure_label, validate_definition

CALIBRATION_MONTHS = 6
PERCENTILES = (25, 50, 75)
# (percentile, points) from the best step down, per direction.
HIGHER_STEPS = ((75, 100), (50, 50), (25, 25))
LOWER_STEPS = ((25, 100), (50, 50), (75, 25))


def rule_direction(rule):
    if rule["type"] == "linear":
        return "higher" if rule["low"] < rule["high"] else "lower"
    return rule["direction"]


def proposed_rule(values, direction):
    """(rule or None, {25: p25, 50: p50, 75: p75}) for a 1-D array of raw values (NaN left out)."""
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    if not len(values):
        return None, {}
    cuts = {p: float(round(np.percentile(values, p), 4)) for p in PERCENTILES}
    if cuts[25] == cuts[75]:
        return None, cuts
    steps = {}
    for percentile, points in (HIGHER_STEPS if direction == "higher" else LOWER_STEPS):
        steps.setdefault(cuts[percentile], points)  # the better step wins a tie
    rule = {"type": "thresholds", "direction": direction,
            "steps": sorted(({"at": at, "points": float(p)} for at, p in steps.items()), key=lambda s: s["at"])}
    rule["below" if direction == "higher" else "above"] = 0.0
    return rule, cuts


def calibration_days(today, months=CALIBRATION_MONTHS):
    first = dt.date(today.year, today.month, 1)
    days = []
    for back in range(months):
        month = first.month - back
        year = first.year + (month - 1) // 12
        days.append(dt.date(year, (month - 1) % 12 + 1, 1))
    return sorted(days)


def calibrate(*, workspace, definition, months=CALIBRATION_MONTHS):
    """{"definition": the definition with proposed usage rules, "rows": per usage measure, "days": ...}."""
    definition = validate_definition(definition)
    days = calibration_days(workspace.today(), months)
    data = observations(workspace=workspace, start=days[0], end=days[-1], step=MONTHLY, definition=definition)
    rows = []
    proposal = {**definition, "groups": []}
    for group in definition["groups"]:
        measures = []
        for m in group["measures"]:
            if MEASURE_KINDS[m["kind"]][2] != "usage":
                measures.append(m)
                continue
            column = f"v:{m['key']}"
            values = data[column].to_numpy(dtype=float) if column in data else np.array([])
            direction = rule_direction(m["rule"])
            rule, cuts = proposed_rule(values, direction)
            rows.append({"key": m["key"], "label": measure_label(m), "direction": direction, "percentiles": cuts,
                         "n": int((~np.isnan(values)).sum()), "current": m["rule"], "proposed": rule})
            measures.append({**m, "rule": rule} if rule else m)
        proposal["groups"].append({**group, "measures": measures})
    return {"definition": validate_definition(proposal), "rows": rows, "days": days,
            "changed": any(r["proposed"] for r in rows)}

