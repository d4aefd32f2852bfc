"""Writes of the lifecycle capability: the level definitions (managers) and the level history (the
nightly step). Reads are in selectors.py; the computation of a day's levels in computation.py."""

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from workspaces.audit import model_changes, record_audit
from workspaces.errors import DomainError
from workspaces.policy import authorize

from .models import LEVELS, AccountLevel, CurrentLevel, UsageLevel
from .rules import validate_rules


def default_levels():
    """The four levels every workspace starts with, in its language, and their rules."""
    return [
        (1, pgettext("usage level", "Onboarding"), _("Everything else: not yet using the product regularly."), {}),
        (2, pgettext("usage level", "Established"), _("Used on 8 or more days in 30."), {"min_days_active": 8}),
        (3, pgettext("usage level", "Adopted"), _("Used on 15 or more days in 30 by half the seats."),
         {"min_days_active": 15, "min_users_per_seat": 0.5}),
        (4, pgettext("usage level", "Expanding"), _("Used on 20 or more days in 30 by 80 percent of the seats."),
         {"min_days_active": 20, "min_users_per_seat": 0.8}),
    ]


def ensure_defaults(*, workspace):
    """A new workspace's four usage levels; idempotent."""
    if UsageLevel.objects.for_workspace(workspace).exists():
        return
    UsageLevel.objects.bulk_create(
        UsageLevel(workspace=workspace, number=number, name=name, description=description, rules=rules)
        for number, name, description, rules in default_levels())


def clean_levels(levels):
    """[{number, name, description, rules}] validated: numbers 1-4 once each, a name, valid rules;
    Lv1 has no rules (it is everything else). DomainError naming the field otherwise."""
    if not isinstance(levels, list) or not levels:
        raise DomainError(_("levels: a list of levels is expected."), field="levels")
    clean, seen = [], set()
    for i, level in enumerate(levels):
        if not isinstance(level, dict):
            raise DomainError(_("levels[%(i)s]: an object is expected.") % {"i": i}, field="levels")
        number = level.get("number")
        if number not in LEVELS or isinstance(number, bool):
            raise DomainError(_("levels[%(i)s].number: one of 1, 2, 3, 4 is expected.") % {"i": i}, field="number")
        if number in seen:
            raise DomainError(_("levels[%(i)s].number: Lv%(n)s is given twice.") % {"i": i, "n": number},
                              field="number")
        seen.add(number)
        name = level.get("name")
        if not isinstance(name, str) or not name.strip() or len(name.strip()) > 60:
            raise DomainError(_("levels[%(i)s].name: a name of at most 60 characters is expected.") % {"i": i},
                              field="name")
        description = level.get("description") or ""
        if not isinstance(description, str) or len(description) > 300:
            raise DomainError(_("levels[%(i)s].description: at most 300 characters.") % {"i": i},
                              field="description")
        rules = validate_rules(level.get("rules"), path=f"levels[{i}].rules")
        if number == 1 and rules:
            raise DomainError(_("levels[%(i)s].rules: Lv1 is every account no higher level takes; it has no rules.")
                              % {"i": i}, field="rules")
        clean.append({"number": number, "name": name.strip(), "description": description.strip(), "rules": rules})
    return clean


@transaction.atomic
def save_levels(*, workspace, actor, levels):
    """Replace the definitions of the given levels (managers). The history is not rewritten: the next
    night assigns with the new rules from its day on."""
    authorize(actor, "lifecycle.manage_levels")
    clean = clean_levels(levels)
    existing = {level.number: level for level in UsageLevel.objects.for_workspace(workspace)}
    for data in clean:
        level = existing.get(data["number"]) or UsageLevel(workspace=workspace, number=data["number"])
        created = level.pk is None
        changes = {} if created else model_changes(level, {k: data[k] for k in ("name", "description", "rules")})
        level.name, level.description, level.rules = data["name"], data["description"], data["rules"]
        if created or changes:
            level.save()
            record_audit(workspace=workspace, actor=actor, obj=level, changes=changes,
                         action="usage_level.created" if created else "usage_level.updated")
    return list(UsageLevel.objects.for_workspace(workspace).order_by("number"))


@transaction.atomic
def write_levels(*, workspace, day, levels):
    """Record that on `day` the active accounts were at `levels` ({account_id: level}) and the others at
    none; idempotent (the same day and levels write nothing new), and a past day can be recomputed:
    the row covering it is split or changed, the rest of the history kept. Then the current-level
    table is the open rows. Returns the number of history rows written or changed."""
    rows = list(AccountLevel.objects.for_workspace(workspace).filter(valid_from__lte=day).exclude(valid_to__lte=day)
                .order_by("account_id"))
    covering = {row.account_id: row for row in rows}
    nearby = AccountLevel.objects.for_workspace(workspace)
    ended_today = {row.account_id: row for row in nearby.filter(valid_to=day)}
    next_start = {}
    for pk, start in nearby.filter(valid_from__gt=day).order_by("account_id", "-valid_from").values_list(
            "account_id", "valid_from"):
        next_start[pk] = start  # the earliest (ordered descending, the last written wins)
    written = 0
    for pk, row in covering.items():
        level = levels.get(pk)
        if level == row.level:
            continue
        if row.valid_from == day:
            if level is None:
                row.delete()
            else:
                previous = ended_today.get(pk)
                if previous is not None and previous.level == level:
                    previous.valid_to = row.valid_to
                    previous.save(update_fields=["valid_to"])
                    row.delete()
                else:
                    row.level = level
                    row.save(update_fields=["level"])
        else:
            end = row.valid_to
            row.valid_to = day
            row.save(update_fields=["valid_to"])
            if level is not None:
                AccountLevel.objects.create(workspace=workspace, account_id=pk, level=level, valid_from=day,
                                            valid_to=end)
        written += 1
    new = []
    for pk, level in levels.items():
        if pk in covering:
            continue
        previous = ended_today.get(pk)
        if previous is not None and previous.level == level:
            previous.valid_to = next_start.get(pk)
            previous.save(update_fields=["valid_to"])
        else:
            new.append(AccountLevel(workspace=workspace, account_id=pk, level=level, valid_from=day,
                                    valid_to=next_start.get(pk)))
        written += 1
    AccountLevel.objects.bulk_create(new, batch_size=2000)
    refresh_current(workspace=workspace, day=day)
    return written


def refresh_current(*, workspace, day):
    """The current-level table = the open history rows (rewritten only where it differs)."""
    open_rows = {pk: (level, since) for pk, level, since in AccountLevel.objects.for_workspace(workspace)
                 .filter(valid_to__isnull=True).values_list("account_id", "level", "valid_from")}
    current = {row.account_id: row for row in CurrentLevel.objects.for_workspace(workspace)}
    gone = [pk for pk in current if pk not in open_rows]
    if gone:
        CurrentLevel.objects.for_workspace(workspace).filter(account_id__in=gone).delete()
    create, update = [], []
    for pk, (level, since) in open_rows.items():
        row = current.get(pk)
        if row is None:
            create.append(CurrentLevel(workspace=workspace, account_id=pk, level=level, since=since, computed_on=day))
        elif (row.level, row.since) != (level, since):
            row.level, row.since, row.computed_on = level, since, day
            update.append(row)
    CurrentLevel.objects.bulk_create(create, batch_size=2000)
    CurrentLevel.objects.for_workspace(workspace).bulk_update(update, ["level", "since", "computed_on"], batch_size=2000)
