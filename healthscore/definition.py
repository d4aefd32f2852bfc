"""The shape of a scorecard definition, its defaults, validation and the vectorised rules.

    {
      "bands": {"red": 40, "green": 70},          # red < 40 <= yellow < 70 <= green
      "min_available_weight": 0.5,                # below this share of weight: "not enough data"
      "groups": [
        {"key": "usage", "label": "Usage", "weight": 50, "measures": [
          {"key": "seat_utilisation", "kind": "active_users_per_seat", "weight": 25,
           "params": {}, "rule": {"type": "linear", "low": 0, "high": 0.8}},
          {"key": "days_active", "kind": "days_active_30", "weight": 20,
           "rule": {"type": "thresholds", "direction": "higher",
                    "steps": [{"at": 4, "points": 40}, {"at": 10, "points": 70}, {"at": 18, "points": 100}]}},
        ]},
      ]
    }

Rules turn a raw value into 0-100 points:
  * linear: `low` → 0 points and `high` → 100 points, clamped, straight line in between. When
    `low > high` lower values are better (e.g. days since the last touch).
  * thresholds, direction "higher": the points of the highest step with value >= at (else
    `below`, default 0); direction "lower": the points of the lowest step with value <= at (else
    `above`, default 0).
A missing value (NaN) gives no points and no weight: it is "not available", never zero.
"""

import math

import numpy as np
import pandas as pd
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext

from workspaces.errors import DomainError

MEASURE_KINDS = {
    # kind: (label, unit for explanations, group it usually belongs to)
    "active_users_per_seat": (gettext_lazy("Active users per licensed seat (30 days)"), "ratio", "usage"),
    "days_active_30": (gettext_lazy("Days active in the last 30"), "days", "usage"),
    "key_feature_adoption": (gettext_lazy("Key features used (30 days)"), "share", "usage"),
    "usage_trend": (gettext_lazy("Usage trend vs the 30 days before"), "change", "usage"),
    "days_since_last_activity": (gettext_lazy("Days since last activity"), "days", "usage"),
    "days_since_last_touch": (gettext_lazy("Days since the last qualifying touch"), "days", "relationship"),
    "key_person_reached_90": (gettext_lazy("Key person reached in the last 90 days"), "yes_no", "relationship"),
    "decision_maker_met_180": (gettext_lazy("Decision maker met in the last 180 days"), "yes_no", "relationship"),
    "csm_sentiment": (gettext_lazy("CSM sentiment (1-5)"), "rating", "relationship"),
    "days_to_renewal": (gettext_lazy("Days to renewal"), "days", "commercial"),
    "custom_attribute": (gettext_lazy("Account attribute"), "number", "custom"),
    # params: within_days (default 180): an answer older than that is not available.
    "latest_nps": (gettext_lazy("Latest NPS answer (0-10)"), "number", "relationship"),
    # The success plan's gap on the day (levels its objectives' achievements fall short, summed; from
    # the plan's history). No plan with objectives on the day: not available. Lower is better.
    "success_plan_gap": (gettext_lazy("Success plan gap (levels short of the objectives)"), "number", "relationship"),
}
NPS_WITHIN_DAYS = 180


def _linear(low, high):
    return {"type": "linear", "low": low, "high": high}


def _steps(direction, *steps, below=0):
    rule = {"type": "thresholds", "direction": direction, "steps": [{"at": a, "points": p} for a, p in steps]}
    rule["below" if direction == "higher" else "above"] = below
    return rule


def default_definition():
    """The field's scorecard; its group labels in the active language (provisioning: the deployment's)."""
    return {
        "bands": {"red": 40, "green": 70},
        "min_available_weight": 0.5,
        "groups": [
            {"key": "usage", "label": pgettext("health group", "Usage"), "weight": 50, "measures": [
                {"key": "seat_utilisation", "kind": "active_users_per_seat", "weight": 25, "params": {},
                 "rule": _linear(0, 0.8)},
                {"key": "days_active", "kind": "days_active_30", "weight": 20, "params": {},
                 "rule": _steps("higher", (4, 40), (10, 70), (18, 100))},
                {"key": "key_features", "kind": "key_feature_adoption", "weight": 20, "params": {},
                 "rule": _linear(0, 1)},
                {"key": "usage_trend", "kind": "usage_trend", "weight": 15, "params": {},
                 "rule": _linear(-0.5, 0.2)},
                {"key": "last_activity", "kind": "days_since_last_activity", "weight": 20, "params": {},
                 "rule": _steps("lower", (3, 100), (7, 80), (14, 50), (30, 20))},
            ]},
            {"key": "relationship", "label": pgettext("health group", "Relationship"), "weight": 35, "measures": [
                {"key": "last_touch", "kind": "days_since_last_touch", "weight": 30,
                 "params": {"include_one_to_many": False}, "rule": _linear(120, 14)},
                {"key": "key_person", "kind": "key_person_reached_90", "weight": 20, "params": {},
                 "rule": _steps("higher", (1, 100))},
                {"key": "decision_maker", "kind": "decision_maker_met_180", "weight": 30, "params": {},
                 "rule": _steps("higher", (1, 100))},
                {"key": "sentiment", "kind": "csm_sentiment", "weight": 20, "params": {}, "rule": _linear(1, 5)},
            ]},
            {"key": "commercial", "label": pgettext("health group", "Commercial"), "weight": 15, "measures": [
                {"key": "renewal", "kind": "days_to_renewal", "weight": 100, "params": {},
                 "rule": _steps("higher", (0, 30), (31, 60), (91, 100))},
            ]},
        ],
    }


def _number(value, field):
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise DomainError(_("Enter a number."), field=field)
    return float(value)


def validate_definition(definition):
    """Return a clean copy of `definition` or raise DomainError naming the offending field."""
    if not isinstance(definition, dict):
        raise DomainError(_("A scorecard definition is an object."), field="definition")
    clean = {"groups": []}
    bands = definition.get("bands") or {}
    red = _number(bands.get("red", 40), "bands.red")
    green = _number(bands.get("green", 70), "bands.green")
    if not 0 <= red <= green <= 100:
        raise DomainError(_("Bands need 0 <= red <= green <= 100."), field="bands")
    clean["bands"] = {"red": red, "green": green}
    share = _number(definition.get("min_available_weight", 0.5), "min_available_weight")
    if not 0 < share <= 1:
        raise DomainError(_("The minimum available weight is a share between 0 and 1."), field="min_available_weight")
    clean["min_available_weight"] = share
    groups = definition.get("groups")
    if not isinstance(groups, list) or not groups:
        raise DomainError(_("A scorecard needs at least one group."), field="groups")
    seen = set()
    for gi, group in enumerate(groups):
        prefix = f"groups[{gi}]"
        if not isinstance(group, dict):
            raise DomainError(_("A group is an object."), field=prefix)
        gkey = str(group.get("key") or "").strip()
        if not gkey or gkey in seen:
            raise DomainError(_("Each group and measure needs a unique key."), field=f"{prefix}.key")
        seen.add(gkey)
        gweight = _number(group.get("weight", 0), f"{prefix}.weight")
        if gweight < 0:
            raise DomainError(_("Weights cannot be negative."), field=f"{prefix}.weight")
        clean_group = {"key": gkey, "label": str(group.get("label") or gkey), "weight": gweight, "measures": []}
        for mi, measure in enumerate(group.get("measures") or []):
            mprefix = f"{prefix}.measures[{mi}]"
            if not isinstance(measure, dict):
                raise DomainError(_("A measure is an object."), field=mprefix)
            mkey = str(measure.get("key") or "").strip()
            if not mkey or mkey in seen:
                raise DomainError(_("Each group and measure needs a unique key."), field=f"{mprefix}.key")
            seen.add(mkey)
            kind = measure.get("kind")
            if kind not in MEASURE_KINDS:
                raise DomainError(_("Unknown measure kind."), field=f"{mprefix}.kind")
            weight = _number(measure.get("weight", 0), f"{mprefix}.weight")
            if weight < 0:
                raise DomainError(_("Weights cannot be negative."), field=f"{mprefix}.weight")
            params = measure.get("params") or {}
            if not isinstance(params, dict):
                raise DomainError(_("Parameters are an object."), field=f"{mprefix}.params")
            if kind == "custom_attribute" and not str(params.get("attribute") or "").strip():
                raise DomainError(_("Name the account attribute to score."), field=f"{mprefix}.params.attribute")
            if kind == "latest_nps" and "within_days" in params:
                within = params["within_days"]
                if isinstance(within, bool) or not isinstance(within, int) or not 1 <= within <= 3650:
                    raise DomainError(_("Give the days as a whole number from 1 to 3650."),
                                      field=f"{mprefix}.params.within_days")
            clean_group["measures"].append({
                "key": mkey, "kind": kind, "weight": weight, "params": params,
                "label": str(measure.get("label") or ""),
                "rule": _validate_rule(measure.get("rule"), f"{mprefix}.rule"),
            })
        clean["groups"].append(clean_group)
    if not any(g["weight"] > 0 and any(m["weight"] > 0 for m in g["measures"]) for g in clean["groups"]):
        raise DomainError(_("At least one measure in a weighted group needs a weight above 0."), field="groups")
    return clean


def _validate_rule(rule, field):
    if not isinstance(rule, dict):
        raise DomainError(_("Every measure needs a rule."), field=field)
    if rule.get("type") == "linear":
        low, high = _number(rule.get("low"), f"{field}.low"), _number(rule.get("high"), f"{field}.high")
        if low == high:
            raise DomainError(_("A linear rule needs two different ends."), field=f"{field}.high")
        return {"type": "linear", "low": low, "high": high}
    if rule.get("type") == "thresholds":
        direction = rule.get("direction", "higher")
        if direction not in ("higher", "lower"):
            raise DomainError(_("Direction is 'higher' or 'lower'."), field=f"{field}.direction")
        steps = rule.get("steps")
        if not isinstance(steps, list) or not steps:
            raise DomainError(_("A threshold rule needs at least one step."), field=f"{field}.steps")
        clean_steps = []
        for si, step in enumerate(steps):
            if not isinstance(step, dict):
                raise DomainError(_("A step is {at, points}."), field=f"{field}.steps[{si}]")
            at = _number(step.get("at"), f"{field}.steps[{si}].at")
            points = _number(step.get("points"), f"{field}.steps[{si}].points")
            if not 0 <= points <= 100:
                raise DomainError(_("Points are between 0 and 100."), field=f"{field}.steps[{si}].points")
            clean_steps.append({"at": at, "points": points})
        clean_steps.sort(key=lambda s: s["at"])
        otherwise = "below" if direction == "higher" else "above"
        rest = _number(rule.get(otherwise, 0), f"{field}.{otherwise}")
        if not 0 <= rest <= 100:
            raise DomainError(_("Points are between 0 and 100."), field=f"{field}.{otherwise}")
        return {"type": "thresholds", "direction": direction, "steps": clean_steps, otherwise: rest}
    raise DomainError(_("A rule is 'linear' or 'thresholds'."), field=f"{field}.type")


def apply_rule(rule, values):
    """Points 0-100 for a Series of raw values; NaN stays NaN (not available)."""
    values = pd.to_numeric(values, errors="coerce").astype(float)
    if rule["type"] == "linear":
        low, high = rule["low"], rule["high"]
        points = ((values - low) / (high - low)).clip(0, 1) * 100
    else:
        steps = rule["steps"]
        if rule["direction"] == "higher":
            points = pd.Series(float(rule.get("below", 0)), index=values.index)
            for step in steps:  # ascending: a later (higher) step overrides
                points = points.mask(values >= step["at"], step["points"])
        else:
            points = pd.Series(float(rule.get("above", 0)), index=values.index)
            for step in reversed(steps):  # descending: a later (lower) step overrides
                points = points.mask(values <= step["at"], step["points"])
    return points.where(values.notna(), np.nan)


def iter_measures(definition):
    for group in definition["groups"]:
        for measure in group["measures"]:
            yield group, measure


def measure_label(measure):
    return measure.get("label") or str(MEASURE_KINDS[measure["kind"]][0])


def describe_rule(rule):
    """The rule as a sentence: "≥ 18 → 100 points, ≥ 10 → 70 points, otherwise 0 points"."""
    if rule["type"] == "linear":
        low, high = rule["low"], rule["high"]
        if low < high:  # higher is better
            return _("%(low)s or less → 0 points, %(high)s or more → 100 points, in proportion between") % {
                "low": _fmt(low), "high": _fmt(high)}
        return _("%(high)s or less → 100 points, %(low)s or more → 0 points, in proportion between") % {
            "low": _fmt(low), "high": _fmt(high)}
    if rule["direction"] == "higher":
        steps = sorted(rule["steps"], key=lambda s: -s["at"])  # the best step first
        parts = [_("≥ %(value)s → %(points)s") % {"value": _fmt(s["at"]), "points": _points(s["points"])}
                 for s in steps]
        other = rule.get("below", 0)
    else:
        steps = sorted(rule["steps"], key=lambda s: s["at"])
        parts = [_("≤ %(value)s → %(points)s") % {"value": _fmt(s["at"]), "points": _points(s["points"])}
                 for s in steps]
        other = rule.get("above", 0)
    parts.append(_("otherwise %(points)s") % {"points": _points(other)})
    return pgettext("list separator", ", ").join(parts)


def _points(points):
    number = float(points)
    return ngettext("%(n)s point", "%(n)s points", int(number) if number.is_integer() else 2) % {"n": _fmt(number)}


def _fmt(value):
    return f"{value:.2f}".rstrip("0").rstrip(".") if isinstance(value, float) else str(value)
