"""Level rules: thresholds over an account's usage signals of the 30 days up to a day.

    min_days_active      days with at least one event (daily rollups)
    min_active_users     distinct product users (raw events; where they were pruned, the busiest day's users)
    min_users_per_seat   those users ÷ licensed seats as of the day (unknown seats: the rule does not hold)
    min_key_features     distinct key features used (the health settings' key features; raw events)

A level holds when every rule it has holds; the highest such level is the account's, Lv1 is the rest.
"""

import math

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from workspaces.errors import DomainError

# rule: (signal column, kind, label)
RULES = {
    "min_days_active": ("days_active", int, gettext_lazy("Days active in 30 at least")),
    "min_active_users": ("active_users", int, gettext_lazy("Active users in 30 days at least")),
    "min_users_per_seat": ("users_per_seat", float, gettext_lazy("Active users per seat at least")),
    "min_key_features": ("key_features", int, gettext_lazy("Key features used in 30 days at least")),
}
LIMITS = {"min_days_active": 30, "min_active_users": 1_000_000, "min_users_per_seat": 100.0,
          "min_key_features": 1000}


def validate_rules(rules, *, path="rules"):
    """The clean rules (unknown keys, non-numbers and out-of-range values are DomainErrors naming the rule)."""
    if rules in (None, ""):
        return {}
    if not isinstance(rules, dict):
        raise DomainError(_("%(path)s: an object of rules is expected.") % {"path": path}, field="rules")
    unknown = sorted(set(rules) - set(RULES))
    if unknown:
        raise DomainError(_("%(path)s: unknown rule(s): %(names)s.") % {"path": path, "names": ", ".join(unknown)},
                          field="rules")
    clean = {}
    for name, value in rules.items():
        if value is None or value == "":
            continue
        kind = RULES[name][1]
        ok = not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value)
        if ok and kind is int and float(value) != int(value):
            ok = False
        if not ok or not 0 <= value <= LIMITS[name]:
            raise DomainError(_("%(path)s.%(name)s: a number between 0 and %(high)s is expected.")
                              % {"path": path, "name": name, "high": LIMITS[name]}, field="rules")
        clean[name] = kind(value)
    return clean


def holds(rules, signals):
    """Whether every rule holds for one account's signals (a dict of the signal columns; None = unknown)."""
    for name, threshold in rules.items():
        value = signals.get(RULES[name][0])
        if value is None or (isinstance(value, float) and math.isnan(value)) or value < threshold:
            return False
    return True


def level_of(definitions, signals):
    """The highest level number (2-4) whose rules all hold (a level without rules never lifts), else 1."""
    for number, rules in sorted(definitions.items(), reverse=True):
        if number > 1 and rules and holds(rules, signals):
            return number
    return 1


def describe_rules(rules):
    if not rules:
        return _("Everything else")
    return "; ".join(f"{RULES[name][2]} {value:g}" for name, value in rules.items() if name in RULES)
