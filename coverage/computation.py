"""Touch coverage (接触率) of one workspace and day, written as one CoverageSnapshot row per account.

The rules, in one place:

- Days are the workspace's days: a touch counts on the local date of its `occurred_at`, and the
  computation for day D sees only touches before the end of D (local midnight).
- In scope on D: the contract has started (`contract_start` empty or <= D) and the account is
  active, or churned after D. Churned accounts are out of scope from their churn date.
- The tier on D is the tier recorded in `TierChange` as of D (the nightly tier step writes it
  forward); before any recorded change the first known tier, then the current one.
- The policy: the policy of a segment the account was in on D (lowest priority wins), else the
  policy of its tier. A touch qualifies when its channel is one of the policy's channels, so
  one-to-many channels count only where a policy lists them (by default only tech touch).
- Window: a policy of N days makes the next touch due N days after the last one. On the due day
  the account is still covered; the day after it is overdue. Never touched = not covered.
- Extra rules (e.g. "decision-maker meeting every 180 days") must all be met as well: an account
  is covered only when the cadence and every rule are, and `broken_rule` names what is broken
  ("never", "cadence" or the rule's name). The due date is the earliest of all their due dates.

ARR, owner, seats and contract dates are the account's current values (they keep no history).
Re-running a past day therefore gives identical rows as long as those did not change since.

With the day's rows, the same transaction writes their sums per owner, tier and matrix cell
(`CoverageRollup`), which the reports read instead of 100,000 rows a day.
"""

import datetime as dt
import logging

from django.db import transaction
from django.db.models import Max, Q

from accounts.models import Account, AccountStatus, Channel, Touchpoint
from segments.selectors import segment_ids_as_of

from .models import SNAPSHOT_MEASURES, CadencePolicy, CoverageRollup, CoverageSnapshot
from .selectors import tiers_as_of, touch_model_of

logger = logging.getLogger(__name__)

CHUNK = 5000
# Rollup groups rewritten per statement when an account is deleted (a year of history is ~365).
GROUPS_PER_STATEMENT = 200


def band_for(value, bands):
    """The label of the first band (highest minimum first) whose minimum `value` reaches."""
    if value is None:
        return ""
    for band in sorted(bands, key=lambda b: -b["min"]):
        if value >= band["min"]:
            return band["label"]
    return ""


def tenure_months(contract_start, on):
    if contract_start is None or contract_start > on:
        return None
    months = (on.year - contract_start.year) * 12 + on.month - contract_start.month
    if on.day < contract_start.day:
        months -= 1
    return max(months, 0)


def matrix_cell(*, seats, contract_start, day, touch_model):
    seat_band = band_for(seats or None, touch_model.seat_bands)
    tenure_band = band_for(tenure_months(contract_start, day), touch_model.tenure_bands)
    cell = f"{seat_band}-{tenure_band}" if seat_band and tenure_band else ""
    return seat_band, tenure_band, cell


class _Policy:
    """A cadence policy loaded once per run, with its rules."""

    def __init__(self, policy):
        self.name = policy.name
        self.max_gap_days = policy.max_gap_days
        self.channels = list(policy.channels)
        self.rules = [
            (rule.name, list(rule.channels), rule.contact_role, rule.max_gap_days) for rule in policy.rules.all()
        ]

    @property
    def fix_channel(self):
        return Channel.PHONE if Channel.PHONE in self.channels else self.channels[0]


def _load_policies(workspace):
    by_tier, by_segment = {}, []
    for policy in CadencePolicy.objects.for_workspace(workspace).prefetch_related("rules"):
        if policy.segment_id:
            by_segment.append((policy.priority, policy.segment_id, _Policy(policy)))
        else:
            by_tier[policy.tier] = _Policy(policy)
    by_segment.sort(key=lambda item: (item[0], item[1]))
    return by_tier, [(segment_id, policy) for _priority, segment_id, policy in by_segment]


def _last_touches(workspace, *, end, low, high, role=None):
    """{(account_id, channel): local day of the last touch before `end`} for accounts low..high."""
    touches = Touchpoint.objects.for_workspace(workspace).filter(occurred_at__lt=end, account_id__gte=low, account_id__lte=high
    )
    if role:
        touches = touches.filter(contacts__role=role)
    rows = touches.order_by().values("account_id", "channel").annotate(last=Max("occurred_at"))
    return {(r["account_id"], r["channel"]): workspace.local_day(r["last"]) for r in rows}


def _latest(last, account_id, channels):
    days = [last[(account_id, c)] for c in channels if (account_id, c) in last]
    return max(days) if days else None


def _in_scope(*, status, churned_on, contract_start, day):
    started = contract_start is None or contract_start <= day
    active_then = status == AccountStatus.ACTIVE or (churned_on is not None and churned_on > day)
    return started and active_then


def compute_coverage(*, workspace, day):
    """Write the coverage snapshot of `day`: delete that day's rows and insert them anew, atomically."""
    touch_model = touch_model_of(workspace=workspace)
    by_tier, by_segment = _load_policies(workspace)
    segment_policy = dict(by_segment)
    segment_order = [segment_id for segment_id, _policy in by_segment]
    roles = sorted({rule[2] for p in [*by_tier.values(), *segment_policy.values()] for rule in p.rules if rule[2]})
    end = workspace.day_start(day + dt.timedelta(days=1))
    written = covered_count = in_scope_count = 0

    # One transaction: readers never see half a day. Two runs of the same workspace never overlap:
    # the night holds the workspace's lock (cs_platform.nightly.workspace_lock).
    with transaction.atomic():
        CoverageSnapshot.objects.for_workspace(workspace).filter(day=day).delete()
        tiers = tiers_as_of(workspace=workspace, day=day)
        segments = segment_ids_as_of(workspace=workspace, day=day)
        account_ids = list(Account.objects.for_workspace(workspace).order_by("pk").values_list("pk", flat=True))
        for start in range(0, len(account_ids), CHUNK):
            ids = account_ids[start:start + CHUNK]
            low, high = ids[0], ids[-1]
            accounts = Account.objects.for_workspace(workspace).filter(pk__gte=low, pk__lte=high).values_list(
                "pk", "owner_id", "status", "churned_on", "contract_start", "arr", "licensed_seats", "touch_tier"
            )
            last_any = _last_touches(workspace, end=end, low=low, high=high)
            last_by_role = {role: _last_touches(workspace, end=end, low=low, high=high, role=role) for role in roles}
            rows = []
            for pk, owner_id, status, churned_on, contract_start, arr, seats, current_tier in accounts:
                tier = tiers.get(pk) or current_tier or touch_model.tier_for_arr(arr)
                member_of = segments.get(pk, [])
                policy = next((segment_policy[s] for s in segment_order if s in member_of), None) or by_tier[tier]
                in_scope = _in_scope(status=status, churned_on=churned_on, contract_start=contract_start, day=day)
                row = _evaluate(policy, pk, day, last_any, last_by_role)
                seat_band, tenure_band, cell = matrix_cell(
                    seats=seats, contract_start=contract_start, day=day, touch_model=touch_model
                )
                rows.append(CoverageSnapshot(
                    workspace=workspace, day=day, account_id=pk, owner_id=owner_id, tier=tier,
                    segment_keys=f",{','.join(map(str, member_of))}," if member_of else "",
                    policy_name=policy.name[:120], seat_band=seat_band, tenure_band=tenure_band, cell=cell,
                    arr=arr, in_scope=in_scope, **row,
                ))
                in_scope_count += in_scope
                covered_count += in_scope and row["covered"]
            CoverageSnapshot.objects.bulk_create(rows, batch_size=1000)
            written += len(rows)
        rollup_coverage(workspace=workspace, day=day)
    logger.info("coverage of %s on %s: %s/%s in scope covered (%s rows)",
                workspace.slug, day, covered_count, in_scope_count, written)
    return {"day": day.isoformat(), "rows": written, "in_scope": in_scope_count, "covered": covered_count}


def rollup_coverage(*, workspace, day):
    """Rewrite the day's `CoverageRollup` rows as the sums of its in-scope snapshot rows.

    Called by `compute_coverage` inside its transaction (so readers never see the rows of one
    run with the sums of another); idempotent, like the snapshot it sums.
    """
    _rewrite_rollups(workspace, Q(day=day))


def _rewrite_rollups(workspace, which):
    """Replace the rollup rows matching `which` (a Q over day, owner, tier and cell, the columns
    both tables share) with the sums of the in-scope snapshot rows it matches."""
    CoverageRollup.objects.for_workspace(workspace).filter(which).delete()
    sums = (
        CoverageSnapshot.objects.for_workspace(workspace).filter(which, in_scope=True)
        .order_by().values("day", "owner_id", "tier", "cell").annotate(**SNAPSHOT_MEASURES)
    )
    CoverageRollup.objects.bulk_create([
        CoverageRollup(workspace=workspace, day=s["day"], owner_id=s["owner_id"], tier=s["tier"], cell=s["cell"],
                       in_scope_count=s["n"], covered_count=s["c"], in_scope_arr=s["a"], covered_arr=s["ac"] or 0)
        for s in sums
    ], batch_size=1000)


@transaction.atomic
def forget_account_coverage(*, account):
    """Take a deleted account out of every day's coverage: its snapshot rows, and the sums of the
    rollup groups it was counted in, rewritten from the rows that remain (so the unfiltered reports,
    which read the rollup, agree with the filtered ones, which read the rows)."""
    workspace = account.workspace
    rows = CoverageSnapshot.objects.for_workspace(workspace).filter(account=account)
    groups = sorted(set(rows.filter(in_scope=True).values_list("day", "owner_id", "tier", "cell")), key=str)
    rows.delete()
    for start in range(0, len(groups), GROUPS_PER_STATEMENT):
        which = Q()
        for day, owner_id, tier, cell in groups[start:start + GROUPS_PER_STATEMENT]:
            which |= Q(day=day, owner_id=owner_id, tier=tier, cell=cell)
        _rewrite_rollups(workspace, which)


def forget_coverage_of_deleted_account(sender, *, account, **kwargs):
    """Receiver of accounts.signals.account_deleting (connected in coverage.apps)."""
    forget_account_coverage(account=account)


def _evaluate(policy, account_id, day, last_any, last_by_role):
    """Covered or not on `day`, and why: the cadence and every rule of the policy."""
    last = _latest(last_any, account_id, policy.channels)
    dues = []  # (due date or None when never, what it is, channel that fixes it)
    dues.append((last + dt.timedelta(days=policy.max_gap_days) if last else None, "cadence", policy.fix_channel))
    for name, channels, role, gap in policy.rules:
        source = last_by_role[role] if role else last_any
        rule_last = _latest(source, account_id, channels)
        dues.append((rule_last + dt.timedelta(days=gap) if rule_last else None, name, channels[0]))
    broken = [(due, name, channel) for due, name, channel in dues if due is None or due < day]
    known = [due for due, _name, _channel in dues if due is not None]
    due_date = None if len(known) < len(dues) else min(known)
    if broken:
        due, name, channel = broken[0]
        broken_rule = "never" if name == "cadence" and last is None else name
    else:
        broken_rule, channel = "", ""
    return {
        "covered": not broken,
        "last_touch_on": last,
        "days_since_last_touch": (day - last).days if last else None,
        "due_date": due_date,
        "overdue_days": (day - due_date).days if due_date and due_date < day else None,
        "broken_rule": broken_rule[:120],
        "fix_channel": channel,
    }
