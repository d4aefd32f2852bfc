"""Segment rules on a past day: every condition reads the value the account had that day, never today's.

Today (the workspace's today, or later) the rules compile to one SQL query over the accounts' own
columns (rules.py). A day before today — a recomputed night, a back-filled history — reads instead:

- ARR, seats, tenure (contract start), owner and status: `accounts.selectors.attributes_as_of`,
  the contract lines where the account has them, else the accounts' change log (AccountChange);
- lifecycle stage: the stage moves (StageChange): the stage the latest move on or before the day
  went to; before the account's first move the stage that move left; an account that never moved
  was always in its stage now (the same reading as the lifecycle and programme reports);
- active users, health band and touch tier: what the capabilities above segments record, through
  the providers composition registers here (`register_past_values`; cs_platform/apps.py): segments
  sits below usage, coverage and healthscore and never imports them. What the providers give is
  documented in docs/coverage.md: active users in the 30 days up to the day, the tier recorded on
  or before the day, and the health band of the latest health snapshot *before* the day (the night
  runs segments before health, so a night's segments see the band the previous night stored);
- "added by hand or by a playbook": the additions made by the end of the day (an addition since
  removed is gone: additions keep no history);
- tags: the tags now (tags keep no history).

A value not on record on the day (before the account's first change-log row, or its first tier
change, or its first health snapshot; a field no provider is registered for) matches no condition
on it: not `in`, not `not_in`, not a number comparison, and not `is_empty` or `is_not_empty` either
(unknown is not empty). A value known to be empty (an owner removed, seats not given) is empty.
An account not yet on record that day (created later, and nothing on record for it by then) is in
no segment that day.

Set-based: a fixed number of queries whatever the number of accounts (the accounts, the three of
`attributes_as_of`, and one per other field family the rules use), and the rule tree is evaluated
on whole columns at once.
"""

import datetime as dt

from accounts.models import Account, StageChange
from accounts.selectors import attributes_as_of

from .models import SegmentAddition

# field -> (provider(*, workspace, day) -> {account_id: value}, the value of an account the
# provider does not name: UNKNOWN, or a value such as 0 active users for an account without events)
UNKNOWN = object()
_PROVIDERS = {}
PROVIDED_FIELDS = ("active_users", "health_band", "touch_tier")
# Rule fields read from attributes_as_of, and its column for each.
ATTRIBUTE_COLUMNS = {"arr": "arr", "seats": "licensed_seats", "tenure_months": "contract_start",
                     "owner": "owner_id", "status": "status"}


def register_past_values(field, provider, *, absent=UNKNOWN):
    """Let a higher app give segments the value of `field` on a past day (called from an AppConfig.ready)."""
    if field not in PROVIDED_FIELDS:
        raise ValueError(f"Segments take no provider for {field!r}.")
    _PROVIDERS[field] = (provider, absent)


def fields_of(rules):
    """The fields a (validated) rule tree names."""
    if "conditions" in rules:
        return set().union(*(fields_of(item) for item in rules["conditions"])) if rules["conditions"] else set()
    return {rules["field"]}


def _empty(value):
    return value is None or value == "" or (isinstance(value, float) and value != value)


class _Values:
    """The values of one day: for each field, {account_id: value} of the accounts whose value is on record."""

    def __init__(self, *, workspace, day, rules, segment_id):
        self.workspace, self.day = workspace, day
        fields = fields_of(rules)
        rows = list(Account.objects.for_workspace(workspace).order_by("pk").values_list("pk", "created_at", "stage_id"))
        known = attributes_as_of(workspace=workspace, day=day)
        seen = (known["known_status"] | known["known_arr"] | known["known_contract_start"]).astype(bool)
        on_record = {int(pk) for pk in seen[seen].index}
        # On record that day: created by then, or with a tracked value known by then (history loaded later).
        self.ids = [pk for pk, created, _stage in rows if pk in on_record or workspace.local_day(created) <= day]
        self.values = {}
        for field, column in ATTRIBUTE_COLUMNS.items():
            if field not in fields:
                continue
            flags = known[f"known_{column}"].astype(bool)
            self.values[field] = {int(pk): (None if _empty(v) else v) for pk, v, k in
                                  zip(known.index, known[column].tolist(), flags.tolist(), strict=True) if k}
        if "stage" in fields:
            self.values["stage"] = self._stages({pk: stage for pk, _created, stage in rows})
        for field in PROVIDED_FIELDS:
            if field in fields:
                self.values[field] = self._provided(field)
        self.tags = self._tags(rules) if "tags" in fields else {}
        self.added = set()
        if "added" in fields and segment_id:
            end = workspace.day_start(day + dt.timedelta(days=1))
            self.added = set(SegmentAddition.objects.for_workspace(workspace)
                             .filter(segment_id=segment_id, added_at__lt=end).values_list("account_id", flat=True))

    def _stages(self, now):
        moves = {}
        rows = (StageChange.objects.for_workspace(self.workspace).order_by("account_id", "changed_at", "id")
                .values_list("account_id", "changed_at", "from_stage_id", "to_stage_id"))
        for account_id, changed_at, from_id, to_id in rows.iterator(chunk_size=5000):
            if account_id not in moves:
                moves[account_id] = from_id  # before the first move: the stage it left
            if self.workspace.local_day(changed_at) <= self.day:
                moves[account_id] = to_id
        return {pk: moves.get(pk, stage) for pk, stage in now.items()}

    def _provided(self, field):
        if field not in _PROVIDERS:
            return {}  # nothing to read it from: unknown
        provider, absent = _PROVIDERS[field]
        given = provider(workspace=self.workspace, day=self.day)
        if absent is UNKNOWN:
            return dict(given)
        return {pk: given.get(pk, absent) for pk in self.ids}

    def _tags(self, rules):
        names = set()

        def walk(item):
            if "conditions" in item:
                for child in item["conditions"]:
                    walk(child)
            elif item["field"] == "tags":
                names.update(item["value"])

        walk(rules)
        tagged = {}
        links = (Account.tags.through.objects.filter(tag__workspace_id=self.workspace.pk, tag__name__in=sorted(names))
                 .values_list("account_id", "tag__name"))
        for account_id, name in links:
            tagged.setdefault(name, set()).add(account_id)
        return tagged


def _number_match(op, value, target):
    if op == "between":
        return target[0] <= value <= target[1]
    return {"eq": value == target, "ne": value != target, "gt": value > target, "gte": value >= target,
            "lt": value < target, "lte": value <= target}[op]


def _tenure_match(op, start, value, day):
    from .rules import tenure_window

    window = tenure_window(op, value, day)
    if window is None:
        return False
    after, on_or_before, negated = window
    inside = (after is None or start > after) and (on_or_before is None or start <= on_or_before)
    return not inside if negated else inside


def _condition(cond, values):
    field, op, target = cond["field"], cond["op"], cond.get("value")
    ids = values.ids
    if field == "added":
        return {pk for pk in ids if (pk in values.added) == (op == "yes")}
    if field == "tags":
        sets = [values.tags.get(name, set()) for name in target]
        if op == "any":
            return {pk for pk in ids if any(pk in s for s in sets)}
        if op == "all":
            return {pk for pk in ids if all(pk in s for s in sets)}
        return {pk for pk in ids if not any(pk in s for s in sets)}
    known = values.values[field]
    out = set()
    for pk in ids:
        if pk not in known:
            continue  # not on record that day: matches nothing
        value = known[pk]
        if op in ("is_empty", "is_not_empty"):
            if _empty(value) == (op == "is_empty"):
                out.add(pk)
            continue
        if op in ("in", "not_in"):
            inside = not _empty(value) and _same(field, value) in target
            if inside == (op == "in"):
                out.add(pk)
            continue
        if _empty(value):
            continue  # a number or date known to be empty compares with nothing
        if field == "tenure_months":
            matched = _tenure_match(op, value, target, values.day)
        else:
            matched = _number_match(op, float(value), [float(t) for t in target] if op == "between" else float(target))
        if matched:
            out.add(pk)
    return out


def _same(field, value):
    """The value as the rule lists it (member and stage ids are integers; the change log reads floats)."""
    if field in ("owner", "stage"):
        return int(value)
    return value


def _group(group, values):
    conditions = group["conditions"]
    if not conditions:
        return set(values.ids)
    parts = [_group(item, values) if "conditions" in item else _condition(item, values) for item in conditions]
    if group["op"] == "and":
        return set.intersection(*parts)
    return set.union(*parts)


def past_member_ids(*, workspace, rules, day, segment_id=None):
    """The ids of the accounts matching validated `rules` on the past `day` (see the module's rules)."""
    values = _Values(workspace=workspace, day=day, rules=rules, segment_id=segment_id)
    return sorted(_group(rules, values))
