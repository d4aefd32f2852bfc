"""Reads of onboarding. Every function takes the workspace explicitly; other apps (playbooks) read
onboarding through this module only.

Milestones: an account's plan is the workspace's templates (a tier's row overriding the row
without a tier), each with its target day = contract start + the template's target day. An
`AccountMilestone` row holds the done day once recorded; a milestone without one is not done.
A milestone is late on a day when its target day has passed (target < day) and it was not done by
that day (no done day, or a later one). Days are the workspace's local days.
"""

import datetime as dt
import statistics
from collections import defaultdict

from django.db.models import Exists, OuterRef
from django.utils.translation import gettext as _

from accounts.models import Account, AccountStatus, TouchTier
from workspaces.models import Membership

from .models import (
    DEFAULT_REQUIRED,
    FIRST_VALUE,
    HANDOFF_FIELDS,
    AccountMilestone,
    Handoff,
    MilestoneTemplate,
    OnboardingSettings,
)

CHUNK = 5000
# Late onboarding is about an account's first year: older accounts are not listed late (nor match
# the trigger) for milestones nobody recorded.
HORIZON_DAYS = 365


def settings_of(workspace):
    """The workspace's settings row (unsaved defaults when none was provisioned)."""
    found = OnboardingSettings.objects.for_workspace(workspace).first()
    return found or OnboardingSettings(workspace=workspace, required_fields=list(DEFAULT_REQUIRED))


def required_fields(workspace):
    required = settings_of(workspace).required_fields or []
    return [name for name in HANDOFF_FIELDS if name in required]


def handoff_of(*, workspace, account):
    return (Handoff.objects.for_workspace(workspace).select_related("decision_maker", "key_person",
                                                                  "completed_by__user")
            .filter(account=account).first())


def handoff_list(*, workspace):
    return Handoff.objects.for_workspace(workspace).select_related("account", "decision_maker", "key_person")


def complete_handoffs(workspace):
    return Handoff.objects.for_workspace(workspace).filter(completed_at__isnull=False)


def gate_errors(*, workspace, account_ids):
    """{account_id: message} of the accounts that may not leave the first stage: the workspace's
    gate is on and their handoff is missing or incomplete."""
    settings = settings_of(workspace)
    if not settings.handoff_gates_stage or not account_ids:
        return {}
    done = set()
    ids = list(account_ids)
    for start in range(0, len(ids), CHUNK):
        done.update(complete_handoffs(workspace).filter(account_id__in=ids[start:start + CHUNK])
                    .values_list("account_id", flat=True))
    message = _("The sales handoff of this account is not complete: complete it before the account leaves the "
                "first lifecycle stage.")
    return {pk: message for pk in ids if pk not in done}


def incomplete_handoffs(*, workspace, owner=None):
    """Active accounts whose handoff is missing or incomplete (newest contract first), annotated
    with `handoff_id` (None: no handoff yet)."""
    handoffs = Handoff.objects.for_workspace(workspace).filter(account=OuterRef("pk"))
    accounts = (Account.objects.for_workspace(workspace).filter(status=AccountStatus.ACTIVE)
                .filter(~Exists(handoffs.filter(completed_at__isnull=False)))
                .annotate(has_handoff=Exists(handoffs))
                .select_related("owner__user", "stage").order_by("-contract_start", "name", "id"))
    if owner is not None:
        accounts = accounts.filter(owner=owner)
    return accounts


def days_since(day, today):
    return (today - day).days if day else None


def handoffs_completed(*, workspace, since, until, account_ids=None):
    """{account_id: local day its handoff was completed} for handoffs completed on local days
    since..until (both included)."""
    rows = complete_handoffs(workspace).filter(completed_at__gte=workspace.day_start(since),
                                               completed_at__lt=workspace.day_start(until + dt.timedelta(days=1)))
    if account_ids is not None:
        rows = rows.filter(account_id__in=list(account_ids))
    return {pk: workspace.local_day(at) for pk, at in rows.values_list("account_id", "completed_at")}


# --- milestones -------------------------------------------------------------------------------------
def templates(*, workspace):
    return MilestoneTemplate.objects.for_workspace(workspace)


def plan_by_tier(workspace):
    """{tier: [{"key", "name", "target_day", "position"}]}: "" is the plan of accounts without a tier
    (and the base of every tier); a tier's rows override the base's of the same key."""
    rows = list(templates(workspace=workspace).values("key", "name", "target_day", "position", "tier"))
    base = {r["key"]: r for r in rows if not r["tier"]}
    plans = {"": sorted(base.values(), key=lambda r: (r["position"], r["target_day"], r["key"]))}
    for tier in {r["tier"] for r in rows if r["tier"]}:
        merged = dict(base)
        merged.update({r["key"]: r for r in rows if r["tier"] == tier})
        plans[tier] = sorted(merged.values(), key=lambda r: (r["position"], r["target_day"], r["key"]))
    return plans


def milestone_names(workspace):
    """{key: name} of the base plan (else of any tier's row)."""
    names = {}
    for row in templates(workspace=workspace).order_by("tier", "position").values("key", "name", "tier"):
        if row["key"] not in names or not row["tier"]:
            names[row["key"]] = row["name"]
    return names


def done_days(workspace, account_ids=None):
    """{(account_id, key): done day} of the recorded milestones."""
    rows = AccountMilestone.objects.for_workspace(workspace).filter(done_on__isnull=False)
    if account_ids is not None:
        found = {}
        ids = list(account_ids)
        for start in range(0, len(ids), CHUNK):
            found.update({(a, k): d for a, k, d in rows.filter(account_id__in=ids[start:start + CHUNK])
                          .values_list("account_id", "key", "done_on")})
        return found
    return {(a, k): d for a, k, d in rows.values_list("account_id", "key", "done_on")}


def _milestones(plan, contract_start, done, account_id, as_of):
    out = []
    for row in plan:
        target = contract_start + dt.timedelta(days=row["target_day"]) if contract_start else None
        done_on = done.get((account_id, row["key"]))
        done_by_day = done_on is not None and done_on <= as_of
        late = target is not None and target < as_of and not done_by_day
        out.append({"key": row["key"], "name": row["name"], "target_day": row["target_day"], "target_on": target,
                    "done_on": done_on, "late": late, "days_late": (as_of - target).days if late else 0,
                    "on_time": done_on is not None and target is not None and done_on <= target})
    return out


def account_milestones(*, workspace, account, as_of=None):
    """The account's plan: [{"key", "name", "target_day", "target_on", "done_on", "late", "days_late",
    "on_time"}] in plan order."""
    as_of = as_of or workspace.today()
    plans = plan_by_tier(workspace)
    plan = plans.get(account.touch_tier or "", plans[""])
    return _milestones(plan, account.contract_start, done_days(workspace, [account.pk]), account.pk, as_of)


def _accounts_in_horizon(workspace, as_of, account_ids=None):
    accounts = (Account.objects.for_workspace(workspace).filter(status=AccountStatus.ACTIVE)
                .filter(contract_start__gte=as_of - dt.timedelta(days=HORIZON_DAYS), contract_start__lte=as_of))
    if account_ids is not None:
        accounts = accounts.filter(pk__in=list(account_ids))
    return accounts


def late_milestones(*, workspace, as_of, key=None, account_ids=None, min_days_late=1):
    """{account_id: [late milestones, most overdue first]} of the active accounts whose contract
    started within HORIZON_DAYS before `as_of`: milestones (of `key` only, when given) late by at
    least `min_days_late` days on `as_of`."""
    rows = list(_accounts_in_horizon(workspace, as_of, account_ids).values_list("pk", "contract_start",
                                                                                 "touch_tier"))
    if not rows:
        return {}
    plans = plan_by_tier(workspace)
    done = done_days(workspace, [pk for pk, _s, _t in rows])
    found = {}
    for pk, start, tier in rows:
        late = [m for m in _milestones(plans.get(tier or "", plans[""]), start, done, pk, as_of)
                if m["late"] and m["days_late"] >= min_days_late and (key is None or m["key"] == key)]
        if late:
            found[pk] = sorted(late, key=lambda m: (m["target_on"], m["key"]))
    return found


def late_list(*, workspace, as_of, owner=None):
    """Accounts with late milestones: [{"account", "late": [...]}], most overdue first."""
    late = late_milestones(workspace=workspace, as_of=as_of)
    accounts = Account.objects.for_workspace(workspace).filter(pk__in=list(late)).select_related("owner__user")
    if owner is not None:
        accounts = accounts.filter(owner=owner)
    rows = [{"account": a, "late": late[a.pk]} for a in accounts]
    return sorted(rows, key=lambda r: (-r["late"][0]["days_late"], r["account"].name, r["account"].pk))


# --- the report ------------------------------------------------------------------------------------
def _month(day):
    return day.replace(day=1)


def _add_months(day, months):
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def _stats(values):
    if not values:
        return {"median": None, "mean": None}
    return {"median": float(statistics.median(values)), "mean": round(sum(values) / len(values), 1)}


def onboarding_report(*, workspace, as_of, months=12):
    """The onboarding report as of `as_of` (a local day), over the accounts whose contract started
    in the last `months` calendar months (this month included), active or churned:

    - cohorts (month of contract start) and tiers: accounts, reached (first success done by
      as_of), TTV median and mean (days from contract start to the first success's done day), due
      (accounts whose last milestone's target day is before as_of), on_time (due accounts whose every
      milestone was done on or before its target day) and on_time_share (on_time / due, in percent);
    - csms: per owner, the accounts in onboarding (contract started within HORIZON_DAYS), their
      late milestones and the accounts with at least one.
    Only what was true on as_of counts: a milestone done after as_of is not done.
    """
    first = _add_months(_month(as_of), -(months - 1))
    accounts = list(Account.objects.for_workspace(workspace)
                    .filter(contract_start__gte=first, contract_start__lte=as_of)
                    .values_list("pk", "contract_start", "touch_tier"))
    plans = plan_by_tier(workspace)
    done = done_days(workspace, [pk for pk, _s, _t in accounts])
    cohorts = {_add_months(first, n): {"ttv": [], "accounts": 0, "due": 0, "on_time": 0} for n in range(months)}
    tiers = defaultdict(lambda: {"ttv": [], "accounts": 0, "due": 0, "on_time": 0})
    for pk, start, tier in accounts:
        plan = plans.get(tier or "", plans[""])
        milestones = _milestones(plan, start, done, pk, as_of)
        groups = (cohorts[_month(start)], tiers[tier or ""])
        first_value = done.get((pk, FIRST_VALUE))
        for group in groups:
            group["accounts"] += 1
            if first_value is not None and first_value <= as_of:
                group["ttv"].append((first_value - start).days)
            if milestones and all(m["target_on"] < as_of for m in milestones):
                group["due"] += 1
                if all(m["on_time"] and m["done_on"] <= as_of for m in milestones):
                    group["on_time"] += 1

    def finish(group):
        return {"accounts": group["accounts"], "reached": len(group["ttv"]), **_stats(group["ttv"]),
                "due": group["due"], "on_time": group["on_time"],
                "on_time_share": round(100 * group["on_time"] / group["due"], 1) if group["due"] else None}

    tier_labels = {"": _("No tier"), **dict(TouchTier.choices)}
    return {
        "as_of": as_of, "months": months, "start": first,
        "cohorts": [{"month": month, **finish(group)} for month, group in cohorts.items()],
        "tiers": [{"tier": tier, "label": str(tier_labels.get(tier, tier)), **finish(tiers[tier])}
                  for tier in [t for t in ("high", "low", "tech", "") if t in tiers]],
        "csms": late_by_csm(workspace=workspace, as_of=as_of),
    }


def late_by_csm(*, workspace, as_of):
    """[{"owner_id", "owner", "accounts", "late_milestones", "late_accounts"}], most late first."""
    accounts = list(_accounts_in_horizon(workspace, as_of).values_list("pk", "owner_id"))
    late = late_milestones(workspace=workspace, as_of=as_of)
    owners = {m.pk: m.display_name for m in Membership.objects.for_workspace(workspace).select_related("user").filter(
        pk__in={o for _a, o in accounts if o})}
    rows = defaultdict(lambda: {"accounts": 0, "late_milestones": 0, "late_accounts": 0})
    for pk, owner in accounts:
        row = rows[owner]
        row["accounts"] += 1
        if pk in late:
            row["late_accounts"] += 1
            row["late_milestones"] += len(late[pk])
    out = [{"owner_id": owner, "owner": owners.get(owner) or _("Unassigned"), **row} for owner, row in rows.items()]
    return sorted(out, key=lambda r: (-r["late_milestones"], str(r["owner"])))

