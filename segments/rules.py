"""Segment rules: a JSON tree of AND/OR groups of conditions, validated strictly and compiled to a Q.

    {"op": "and", "conditions": [
        {"field": "arr", "op": "gte", "value": 1000000},
        {"op": "or", "conditions": [
            {"field": "tags", "op": "any", "value": ["enterprise"]},
            {"field": "seats", "op": "between", "value": [11, 20]}]}]}

An empty group matches every account. Today everything is evaluated in the database: active users
are the account's `active_users_30d` column (refreshed by the nightly usage step), tenure becomes a
`contract_start` date comparison, tags are EXISTS subqueries, so a segment of 100,000 accounts is one
query. A past day reads the values of that day instead, never today's (segments/past.py).
"""

import datetime as dt
from decimal import Decimal

from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.models import Account, AccountStatus, HealthBand, LifecycleStage, Tag, TouchTier
from workspaces.errors import DomainError
from workspaces.models import Membership
from workspaces.values import INT_MAX, NumberError, to_decimal, to_int

from .models import SegmentAddition

MAX_DEPTH = 4
MAX_CONDITIONS = 60

NUMBER_OPS = ["eq", "ne", "gt", "gte", "lt", "lte", "between"]
NULLABLE_NUMBER_OPS = NUMBER_OPS + ["is_empty", "is_not_empty"]
CHOICE_OPS = ["in", "not_in"]
NULLABLE_CHOICE_OPS = CHOICE_OPS + ["is_empty", "is_not_empty"]
TAG_OPS = ["any", "all", "none"]
ADDED_OPS = ["yes", "no"]

# field: (kind, operators, label). The editor in static/js/segment_editor.js reads this via the page.
FIELDS = {
    "arr": ("number", NUMBER_OPS, gettext_noop("ARR")),
    "seats": ("number", NULLABLE_NUMBER_OPS, gettext_noop("Seats")),
    "active_users": ("number", NUMBER_OPS, gettext_noop("Active users (30 days)")),
    "tenure_months": ("number", NULLABLE_NUMBER_OPS, gettext_noop("Tenure (months)")),
    "stage": ("stage", NULLABLE_CHOICE_OPS, gettext_noop("Lifecycle stage")),
    "status": ("status", CHOICE_OPS, gettext_noop("Status")),
    "tags": ("tag", TAG_OPS, gettext_noop("Tags")),
    "owner": ("owner", NULLABLE_CHOICE_OPS, gettext_noop("Owner")),
    "health_band": ("health_band", NULLABLE_CHOICE_OPS, gettext_noop("Health band")),
    "touch_tier": ("tier", NULLABLE_CHOICE_OPS, gettext_noop("Touch tier")),
    # Put into this segment by hand or by a playbook step (SegmentAddition): "yes" or "no", no value.
    "added": ("added", ADDED_OPS, gettext_noop("Added by hand or by a playbook")),
}

NUMBER_COLUMNS = {"arr": "arr", "seats": "licensed_seats", "active_users": "active_users_30d"}
OP_LOOKUPS = {"eq": "exact", "gt": "gt", "gte": "gte", "lt": "lt", "lte": "lte"}


def _fail(path, message):
    raise DomainError(f"{path}: {message}", field="rules")


# The most a rule value may be, per field: the column's range (tenure: 100 years, so that the
# contract-start date it becomes stays a date). Checked before conversion (workspaces.values).
NUMBER_LIMITS = {"arr": Decimal("99999999999999.99"), "seats": INT_MAX, "active_users": INT_MAX, "tenure_months": 1200}
ID_MAX = 2 ** 63 - 1  # BigAutoField


def _number(path, value, *, integer=False, max_value=INT_MAX):
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        _fail(path, _("the value must be a number."))
    try:
        number = to_decimal(value)
    except NumberError:
        _fail(path, _("the value must be a number."))
    if number < 0:
        _fail(path, _("the value must be a number of zero or more."))
    try:
        if integer:
            return to_int(number, min_value=0, max_value=max_value)
        return to_decimal(number, min_value=0, max_value=max_value)
    except NumberError as error:
        if error.code == "not_whole":
            _fail(path, _("the value must be a whole number."))
        _fail(path, _("the value must be at most %(max)s.") % {"max": max_value})


def _choice_values(workspace, kind, path, value):
    if not isinstance(value, list) or not value:
        _fail(path, _("the value must be a non-empty list."))
    if kind == "stage":
        ids = [_number(path, v, integer=True, max_value=ID_MAX) for v in value]
        found = set(LifecycleStage.objects.for_workspace(workspace).filter(pk__in=ids).values_list("pk", flat=True))
        missing = [i for i in ids if i not in found]
        if missing:
            _fail(path, _("unknown lifecycle stage %(ids)s.") % {"ids": missing})
        return ids
    if kind == "owner":
        ids = [_number(path, v, integer=True, max_value=ID_MAX) for v in value]
        found = set(Membership.objects.for_workspace(workspace).filter(pk__in=ids).values_list("pk", flat=True))
        missing = [i for i in ids if i not in found]
        if missing:
            _fail(path, _("unknown member %(ids)s.") % {"ids": missing})
        return ids
    allowed = {
        "status": list(AccountStatus.values),
        "health_band": list(HealthBand.values),
        "tier": list(TouchTier.values),
    }.get(kind)
    if allowed is not None:
        bad = [v for v in value if v not in allowed]
        if bad:
            _fail(path, _("%(bad)s is not one of %(allowed)s.") % {"bad": bad, "allowed": ", ".join(allowed)})
        return list(value)
    # tags: names, matched exactly (unknown tags simply match nothing yet)
    if any(not isinstance(v, str) or not v.strip() for v in value):
        _fail(path, _("tags must be non-empty names."))
    return [v.strip() for v in value]


def validate_rules(rules, *, workspace):
    """Return a normalised copy of `rules`, or raise DomainError(field="rules") naming the bad part."""
    counter = {"n": 0}
    if rules in (None, {}):
        return {"op": "and", "conditions": []}
    return _validate_group(rules, workspace=workspace, path="rules", depth=1, counter=counter)


def _validate_group(group, *, workspace, path, depth, counter):
    if not isinstance(group, dict):
        _fail(path, _("a group must be an object with \"op\" and \"conditions\"."))
    unknown = set(group) - {"op", "conditions"}
    if unknown:
        _fail(path, _("unknown key(s) %(keys)s in a group.") % {"keys": sorted(unknown)})
    op = group.get("op", "and")
    if op not in ("and", "or"):
        _fail(path, _("a group's op must be \"and\" or \"or\", not %(op)r.") % {"op": op})
    conditions = group.get("conditions", [])
    if not isinstance(conditions, list):
        _fail(path, _("\"conditions\" must be a list."))
    if depth > MAX_DEPTH:
        _fail(path, _("groups nest at most %(n)s levels deep.") % {"n": MAX_DEPTH})
    out = []
    for index, item in enumerate(conditions):
        item_path = f"{path}.conditions[{index}]"
        if isinstance(item, dict) and "conditions" in item:
            out.append(_validate_group(item, workspace=workspace, path=item_path, depth=depth + 1, counter=counter))
        else:
            counter["n"] += 1
            if counter["n"] > MAX_CONDITIONS:
                _fail(item_path, _("a segment has at most %(n)s conditions.") % {"n": MAX_CONDITIONS})
            out.append(_validate_condition(item, workspace=workspace, path=item_path))
    return {"op": op, "conditions": out}


def _validate_condition(cond, *, workspace, path):
    if not isinstance(cond, dict):
        _fail(path, _("a condition must be an object with \"field\", \"op\" and \"value\"."))
    unknown = set(cond) - {"field", "op", "value"}
    if unknown:
        _fail(path, _("unknown key(s) %(keys)s in a condition.") % {"keys": sorted(unknown)})
    field = cond.get("field")
    if field not in FIELDS:
        _fail(path, _("unknown field %(field)r; use one of %(fields)s.") % {"field": field, "fields": ", ".join(FIELDS)})
    kind, ops, _label = FIELDS[field]
    op = cond.get("op")
    if op not in ops:
        _fail(path, _("%(field)s does not support op %(op)r; use one of %(ops)s.")
              % {"field": field, "op": op, "ops": ", ".join(ops)})
    path = f"{path} ({field} {op})"
    value = cond.get("value")
    if op in ("is_empty", "is_not_empty") or kind == "added":
        return {"field": field, "op": op}
    if kind == "number":
        integer = field in ("seats", "active_users", "tenure_months")
        if op == "between":
            if not isinstance(value, list) or len(value) != 2:
                _fail(path, _("between needs a list of two numbers [from, to]."))
            low, high = (_number(path, v, integer=integer, max_value=NUMBER_LIMITS[field]) for v in value)
            if low > high:
                _fail(path, _("between needs from <= to."))
            value = [low, high]
        else:
            value = _number(path, value, integer=integer, max_value=NUMBER_LIMITS[field])
        # JSON cannot hold Decimal: keep ARR as a number the way it was written.
        if isinstance(value, list):
            value = [_plain(v) for v in value]
        else:
            value = _plain(value)
        return {"field": field, "op": op, "value": value}
    return {"field": field, "op": op, "value": _choice_values(workspace, kind, path, value)}


def _plain(number):
    if isinstance(number, Decimal):
        return int(number) if number == number.to_integral_value() else float(number)
    return number


# --- Compilation ----------------------------------------------------------------------------------


def subtract_months(day, months):
    """`day` minus whole months, clamped to the month's end (Mar 31 - 1 month = Feb 28/29)."""
    index = day.year * 12 + (day.month - 1) - months
    year, month = divmod(index, 12)
    month += 1
    next_month = dt.date(year + (month // 12), month % 12 + 1, 1)
    last_day = (next_month - dt.timedelta(days=1)).day
    return dt.date(year, month, min(day.day, last_day))


def tenure_window(op, value, as_of):
    """The contract starts a tenure condition admits on `as_of`: (after, on_or_before, negated), either
    bound None when open; None when nothing matches. Tenure >= n months <=> started on or before
    as_of - n months; tenure <= n months <=> started after as_of - (n+1) months. The one reading of
    tenure: today's SQL (_tenure_q) and a past day's (segments.past) both use it."""
    def at_least(n):
        return subtract_months(as_of, n)

    def at_most(n):
        return subtract_months(as_of, n + 1)

    if op == "gte":
        return None, at_least(value), False
    if op == "gt":
        return None, at_least(value + 1), False
    if op == "lte":
        return at_most(value), None, False
    if op == "lt":
        return (at_most(value - 1), None, False) if value > 0 else None
    if op in ("eq", "ne"):
        return at_most(value), at_least(value), op == "ne"
    if op == "between":
        return at_most(value[1]), at_least(value[0]), False
    raise AssertionError(op)


def _tenure_q(op, value, as_of):
    window = tenure_window(op, value, as_of)
    if window is None:
        return Q(pk__in=[])
    after, on_or_before, negated = window
    q = Q()
    if after is not None:
        q &= Q(contract_start__gt=after)
    if on_or_before is not None:
        q &= Q(contract_start__lte=on_or_before)
    return ~q & Q(contract_start__isnull=False) if negated else q


def _number_q(column, op, value):
    if op == "between":
        return Q(**{f"{column}__gte": value[0], f"{column}__lte": value[1]})
    if op == "ne":
        return ~Q(**{column: value})
    return Q(**{f"{column}__{OP_LOOKUPS[op]}": value})


def _condition_q(cond, *, workspace, as_of, segment_id):
    field, op, value = cond["field"], cond["op"], cond.get("value")
    if field == "added":
        # Rules that belong to no saved segment (a preview of a new one, a playbook's condition)
        # have no additions: "yes" selects nobody there.
        added = Q(Exists(SegmentAddition.objects.filter(segment_id=segment_id, account=OuterRef("pk")))) \
            if segment_id else Q(pk__in=[])
        return added if op == "yes" else ~added
    if field == "tenure_months":
        if op in ("is_empty", "is_not_empty"):
            return Q(contract_start__isnull=(op == "is_empty"))
        return _tenure_q(op, value, as_of)
    if field in NUMBER_COLUMNS:
        column = NUMBER_COLUMNS[field]
        if op in ("is_empty", "is_not_empty"):
            return Q(**{f"{column}__isnull": op == "is_empty"})
        return _number_q(column, op, value)
    if field == "tags":
        tagged = {
            name: Exists(Tag.objects.for_workspace(workspace).filter(name=name, accounts=OuterRef("pk")))
            for name in value
        }
        if op == "any":
            q = Q()
            for exists in tagged.values():
                q |= Q(exists)
            return q
        if op == "all":
            q = Q()
            for exists in tagged.values():
                q &= Q(exists)
            return q
        q = Q()
        for exists in tagged.values():
            q &= ~Q(exists)
        return q
    column = {"stage": "stage_id", "status": "status", "owner": "owner_id", "health_band": "health_band",
              "touch_tier": "touch_tier"}[field]
    blank_is_empty = field in ("health_band", "touch_tier")
    if op in ("is_empty", "is_not_empty"):
        empty = Q(**{column: ""}) if blank_is_empty else Q(**{f"{column}__isnull": True})
        return empty if op == "is_empty" else ~empty
    q = Q(**{f"{column}__in": value})
    return q if op == "in" else ~q


def _group_q(group, *, workspace, as_of, segment_id):
    q = Q()
    for item in group["conditions"]:
        part = (_group_q(item, workspace=workspace, as_of=as_of, segment_id=segment_id) if "conditions" in item
                else _condition_q(item, workspace=workspace, as_of=as_of, segment_id=segment_id))
        q = (q & part) if group["op"] == "and" else (q | part) if q else part
    if group["op"] == "or" and not group["conditions"]:
        return Q()
    return q


def segment_accounts(*, workspace, rules, as_of, segment_id=None):
    """The accounts of `workspace` matching already-validated `rules` on day `as_of` (the rules of
    segment `segment_id`, when they are a saved segment's: its additions count for "added").

    Today (or later): one query over the accounts' columns (active_users reads the column the nightly
    usage step refreshes; the pipeline runs it first). A past day reads the values of that day
    (segments.past): the matching ids, then the accounts by id."""
    accounts = Account.objects.for_workspace(workspace)
    if as_of < workspace.today():
        from .past import past_member_ids

        return accounts.filter(pk__in=past_member_ids(workspace=workspace, rules=rules, day=as_of,
                                                      segment_id=segment_id))
    return accounts.filter(_group_q(rules, workspace=workspace, as_of=as_of, segment_id=segment_id))


def uses_additions(rules):
    """Whether a rule tree has an "added: yes" condition anywhere (so that adding an account can make
    it a member)."""
    if not isinstance(rules, dict):
        return False
    if "conditions" in rules:
        return any(uses_additions(item) for item in rules["conditions"])
    return rules.get("field") == "added" and rules.get("op") == "yes"
