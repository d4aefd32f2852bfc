"""Touch coverage (接触率) of one workspace and day, written as one CoverageSnapshot row per account.

The rules, in one place:

- Days are the workspace's days: a touch counts on the local date of its `occurred_at`, and the
  computation for day D sees only touches before the end of D (local midnight).
- In scope on D: the contract has started (`contract_start` empty or <= D) and the account is
  active, or churned after D. Churned accounts are out of scope from their churn date.
- The tier on D is the tier recorded in `TierChange` as of D (the nightly tier step writes it
  forward). Today, before any recorded change: the first known tier, then the current one. A past
  day never reads today's tier: with no change recorded by then, the tier the touch model gives the
  ARR of that day (when on record); else the tier is not on record and the account is out of that
  day's scope (tier empty, no policy, not counted).
- The policy: the policy of a segment the account was in on D (lowest priority wins), else the
  policy of its tier. A touch qualifies when its channel is one of the policy's channels, so
  one-to-many channels count only where a policy lists them (by default only tech touch).
- Window: a policy of N days makes the next touch due N days after the last one. On the due day
  the account is still covered; the day after it is overdue. Never touched = not covered.
- Extra rules (e.g. "decision-maker meeting every 180 days") must all be met as well: an account
  is covered only when the cadence and every rule are; `broken_rules` lists everything broken
  ("never", "cadence" or the rule's name; `broken_rule` is the first). The due date is the
  earliest of all their due dates, and empty ("due now") while any of them was never met.

ARR, owner and seats of a past day are the values of that day (accounts.selectors.attributes_as_of:
contract lines, else the accounts' change log): unknown then = no owner, ARR 0, no seat band; the
contract start too where known (else the account's own date). The matrix's users, when the touch
model counts active users, are those of the 30 days up to that day (usage.selectors.active_users_on:
the raw events, or the daily rollups' busiest day where retention removed them), never today's
`active_users_30d`. Today's computation reads the accounts' own columns (the same values).
Re-running a past day gives identical rows.

With the day's rows, the same transaction writes their sums per owner, tier, matrix cell and
combination of segments (`CoverageRollup`), which the reports read instead of 100,000 rows a day.
"""

import datetime as dt
import logging
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Max, Q

from accounts.models import Account, AccountStatus, Channel, Touchpoint
from accounts.selectors import attributes_as_of
from segments.selectors import segment_ids_as_of
from usage.selectors import active_users_on

from .models import SNAPSHOT_MEASURES, CadencePolicy, CoverageRollup, CoverageSnapshot, MatrixUsers
from .selectors import recorded_tiers, tiers_as_of, touch_model_of

logger = logging.getLogger(__name__)

CHUNK = 5000
# Rollup groups rewritten per statement when an account is deleted (a year of history is ~365).
GROUPS_PER_STATEMENT = 200
# The columns a rollup row is keyed by (CoverageRollup.DIMENSIONS and its day), as a snapshot row names them.
GROUP_KEY = ("day", "owner_id", "tier", "cell", "segment_keys")


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


def matrix_cell(*, seats, contract_start, day, touch_model, active_users=None):
    """(IDs band, tenure band, cell). IDs are the touch model's choice: active users or seats."""
    ids = active_users if touch_model.matrix_users == MatrixUsers.ACTIVE_USERS else seats
    seat_band = band_for(ids or None, touch_model.seat_bands)
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


def _last_touches(workspace, *, end, accounts, role=None):
    """{(account_id, channel): local day of the last touch before `end`} of the accounts `accounts`
    (a Q over account_id: a range of ids in the nightly run, a set of ids after a touch)."""
    touches = Touchpoint.objects.for_workspace(workspace).filter(accounts, occurred_at__lt=end)
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


_KEEP = object()  # the contract start was not known on the day: the account's own date stands
ACCOUNT_COLUMNS = ("pk", "owner_id", "status", "churned_on", "contract_start", "arr", "licensed_seats",
                   "active_users_30d", "touch_tier")


class _Day:
    """What one day's computation reads once (touch model, policies), and the rows it builds for a
    batch of accounts: the same code for the night's every account and for a few after a touch."""

    def __init__(self, workspace, day):
        self.workspace, self.day = workspace, day
        self.touch_model = touch_model_of(workspace=workspace)
        self.by_tier, by_segment = _load_policies(workspace)
        self.segment_policy = dict(by_segment)
        self.segment_order = [segment_id for segment_id, _policy in by_segment]
        self.roles = sorted({rule[2] for p in [*self.by_tier.values(), *self.segment_policy.values()]
                             for rule in p.rules if rule[2]})
        self.end = workspace.day_start(day + dt.timedelta(days=1))
        # A past day reads the values of that day, not today's (None: today, the accounts' columns).
        self.as_of = self.users = None
        self.past = day < workspace.today()
        if self.past:
            known = attributes_as_of(workspace=workspace, day=day)
            self.as_of = {
                pk: (None if owner != owner else int(owner), Decimal(0) if arr != arr else Decimal(str(arr)),
                     None if seats != seats else int(seats), start if known_start else _KEEP,
                     bool(known_arr) and arr == arr)
                for pk, owner, arr, seats, start, known_start, known_arr in zip(
                    known.index, known["owner_id"], known["arr"], known["licensed_seats"], known["contract_start"],
                    known["known_contract_start"], known["known_arr"], strict=True)
            }
            if self.touch_model.matrix_users == MatrixUsers.ACTIVE_USERS:
                self.users = active_users_on(workspace=workspace, day=day)

    def rows(self, *, tiers, segments, ids=None, low=None, high=None):
        """Unsaved snapshot rows of the accounts `ids`, or of those with ids from `low` to `high`."""
        workspace, day = self.workspace, self.day
        if ids is not None:
            accounts, of_accounts = Q(account_id__in=ids), Q(pk__in=ids)
        else:
            accounts, of_accounts = Q(account_id__gte=low, account_id__lte=high), Q(pk__gte=low, pk__lte=high)
        values = Account.objects.for_workspace(workspace).filter(of_accounts).values_list(*ACCOUNT_COLUMNS)
        last_any = _last_touches(workspace, end=self.end, accounts=accounts)
        last_by_role = {role: _last_touches(workspace, end=self.end, accounts=accounts, role=role)
                        for role in self.roles}
        rows = []
        for pk, owner_id, status, churned_on, contract_start, arr, seats, active_users, current_tier in values:
            if self.past:
                owner_id, arr, seats, start, arr_known = self.as_of.get(pk, (None, Decimal(0), None, _KEEP, False))
                contract_start = contract_start if start is _KEEP else start
                active_users = self.users.get(pk, 0) if self.users is not None else 0
                # The tier recorded by then, else the one that day's ARR gives; never today's.
                tier = tiers.get(pk) or (self.touch_model.tier_for_arr(arr) if arr_known else "")
            else:
                tier = tiers.get(pk) or current_tier or self.touch_model.tier_for_arr(arr)
            member_of = segments.get(pk, [])
            policy = (next((self.segment_policy[s] for s in self.segment_order if s in member_of), None)
                      or self.by_tier.get(tier))
            if policy is None:  # no tier on record that day (and no segment's policy): not counted
                rows.append(CoverageSnapshot(
                    workspace=workspace, day=day, account_id=pk, owner_id=owner_id, tier="",
                    segment_keys=f",{','.join(map(str, member_of))}," if member_of else "",
                    arr=arr, in_scope=False, covered=False))
                continue
            in_scope = _in_scope(status=status, churned_on=churned_on, contract_start=contract_start, day=day)
            row = _evaluate(policy, pk, day, last_any, last_by_role)
            seat_band, tenure_band, cell = matrix_cell(
                seats=seats, active_users=active_users, contract_start=contract_start, day=day,
                touch_model=self.touch_model,
            )
            rows.append(CoverageSnapshot(
                workspace=workspace, day=day, account_id=pk, owner_id=owner_id, tier=tier,
                segment_keys=f",{','.join(map(str, member_of))}," if member_of else "",
                policy_name=policy.name[:120], seat_band=seat_band, tenure_band=tenure_band, cell=cell,
                arr=arr, in_scope=in_scope, **row,
            ))
        return rows


def compute_coverage(*, workspace, day):
    """Write the coverage snapshot of `day`: delete that day's rows and insert them anew, atomically."""
    run = _Day(workspace, day)
    written = covered_count = in_scope_count = 0

    # One transaction: readers never see half a day. Two runs of the same workspace never overlap:
    # the night holds the workspace's lock (cs_platform.nightly.workspace_lock).
    with transaction.atomic():
        CoverageSnapshot.objects.for_workspace(workspace).filter(day=day).delete()
        tiers = recorded_tiers(workspace=workspace, day=day) if run.past else tiers_as_of(workspace=workspace, day=day)
        segments = segment_ids_as_of(workspace=workspace, day=day)
        account_ids = list(Account.objects.for_workspace(workspace).order_by("pk").values_list("pk", flat=True))
        for start in range(0, len(account_ids), CHUNK):
            ids = account_ids[start:start + CHUNK]
            rows = run.rows(low=ids[0], high=ids[-1], tiers=tiers, segments=segments)
            CoverageSnapshot.objects.bulk_create(rows, batch_size=1000)
            written += len(rows)
            in_scope_count += sum(r.in_scope for r in rows)
            covered_count += sum(r.in_scope and r.covered for r in rows)
        rollup_coverage(workspace=workspace, day=day)
    logger.info("coverage of %s on %s: %s/%s in scope covered (%s rows)",
                workspace.slug, day, covered_count, in_scope_count, written)
    return {"day": day.isoformat(), "rows": written, "in_scope": in_scope_count, "covered": covered_count}


def refresh_accounts_today(*, workspace, account_ids):
    """After touches of these accounts were logged, changed or deleted: rewrite their rows of today
    (the workspace's today) and the sums of today's rollup groups they were and are counted in.

    Only when today has been computed (the night ran, or a manager recomputed): before that the
    reports show an earlier day, which a touch of today does not change, and the night's run
    will count it. Tier and segments are today's as the night recorded them in the row (a pin
    or segment change still waits for a recomputation, as the settings pages say); owner, ARR,
    scope and cell are read now, as the night reads them. Set-based: a handful of queries for
    one account or ten thousand. Runs in the caller's transaction, so a touch rolled back takes
    its coverage with it.
    """
    account_ids = sorted(set(account_ids))
    day = workspace.today()
    snapshot = CoverageSnapshot.objects.for_workspace(workspace).filter(day=day)
    if not account_ids or not snapshot.exists():
        return 0
    run = _Day(workspace, day)
    try:
        with transaction.atomic():  # a savepoint: a clash below leaves the touch written
            _refresh(workspace, run, snapshot, account_ids)
    except IntegrityError:
        # A full run of today committed its rows meanwhile (the unique account-day row): it
        # counted or will count these touches; the touch must not fail for it.
        logger.warning("coverage of %s: today's rows changed under a touch; left to the run", workspace.slug)
        return 0
    return len(account_ids)


def _refresh(workspace, run, snapshot, account_ids):
    day = run.day
    for start in range(0, len(account_ids), CHUNK):
        ids = account_ids[start:start + CHUNK]
        old = snapshot.filter(account_id__in=ids)
        known = {pk: (tier, keys) for pk, tier, keys in old.values_list("account_id", "tier", "segment_keys")}
        tiers = {pk: tier for pk, (tier, _keys) in known.items() if tier}
        segments = {pk: [int(s) for s in keys.strip(",").split(",") if s] for pk, (_tier, keys) in known.items()}
        if len(known) < len(ids):  # accounts created since the night: their tier and segments from history
            tiers = {**tiers_as_of(workspace=workspace, day=day), **tiers}
            segments = {**segment_ids_as_of(workspace=workspace, day=day), **segments}
        groups = set(old.filter(in_scope=True).values_list(*GROUP_KEY))
        old.delete()
        rows = run.rows(ids=ids, tiers=tiers, segments=segments)
        CoverageSnapshot.objects.bulk_create(rows, batch_size=1000)
        groups |= {tuple(getattr(r, column) for column in GROUP_KEY) for r in rows if r.in_scope}
        _rewrite_groups(workspace, groups)


def rollup_coverage(*, workspace, day):
    """Rewrite the day's `CoverageRollup` rows as the sums of its in-scope snapshot rows.

    Called by `compute_coverage` inside its transaction (so readers never see the rows of one
    run with the sums of another); idempotent, like the snapshot it sums.
    """
    _rewrite_rollups(workspace, Q(day=day))


def _rewrite_rollups(workspace, which):
    """Replace the rollup rows matching `which` (a Q over day, owner, tier, cell and segment_keys,
    the columns both tables share) with the sums of the in-scope snapshot rows it matches."""
    CoverageRollup.objects.for_workspace(workspace).filter(which).delete()
    sums = (
        CoverageSnapshot.objects.for_workspace(workspace).filter(which, in_scope=True)
        .order_by().values(*GROUP_KEY).annotate(**SNAPSHOT_MEASURES)
    )
    CoverageRollup.objects.bulk_create([
        CoverageRollup(workspace=workspace, day=s["day"], owner_id=s["owner_id"], tier=s["tier"], cell=s["cell"],
                       segment_keys=s["segment_keys"], in_scope_count=s["n"], covered_count=s["c"],
                       in_scope_arr=s["a"], covered_arr=s["ac"] or 0)
        for s in sums
    ], batch_size=1000)


@transaction.atomic
def forget_account_coverage(*, account):
    """Take a deleted account out of every day's coverage: its snapshot rows, and the sums of the
    rollup groups it was counted in, rewritten from the rows that remain (so the unfiltered reports,
    which read the rollup, agree with the filtered ones, which read the rows)."""
    workspace = account.workspace
    rows = CoverageSnapshot.objects.for_workspace(workspace).filter(account=account)
    groups = set(rows.filter(in_scope=True).values_list(*GROUP_KEY))
    rows.delete()
    _rewrite_groups(workspace, groups)


def _rewrite_groups(workspace, groups):
    """Rewrite these rollup groups (values of GROUP_KEY) from the snapshot rows."""
    groups = sorted(groups, key=str)
    for start in range(0, len(groups), GROUPS_PER_STATEMENT):
        which = Q()
        for group in groups[start:start + GROUPS_PER_STATEMENT]:
            which |= Q(**dict(zip(GROUP_KEY, group, strict=True)))
        _rewrite_rollups(workspace, which)


def refresh_coverage_after_touches(sender, *, workspace, account_ids, **kwargs):
    """Receiver of accounts.signals.touchpoints_changed (connected in coverage.apps)."""
    refresh_accounts_today(workspace=workspace, account_ids=account_ids)


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
    names = [("never" if name == "cadence" and last is None else name)[:120] for _due, name, _channel in broken]
    broken_rule, channel = (names[0], broken[0][2]) if broken else ("", "")
    return {
        "covered": not broken,
        "last_touch_on": last,
        "days_since_last_touch": (day - last).days if last else None,
        "due_date": due_date,
        "overdue_days": (day - due_date).days if due_date and due_date < day else None,
        "broken_rule": broken_rule,
        "broken_rules": names,
        "fix_channel": channel,
    }
