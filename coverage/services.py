"""Writes of the touch model: thresholds and matrix bands, tier pins and history, cadence policies.

Only managers (and admins) change tiers and cadence policies; every write here checks the actor, so
pages, API and commands cannot disagree about it.
"""

import logging
from decimal import Decimal

from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from accounts.models import MEETING_CHANNELS, ONE_TO_MANY_CHANNELS, Account, Channel, ContactRole, TouchTier
from accounts.selectors import attributes_as_of
from workspaces.audit import record_audit
from workspaces.errors import DomainError
from workspaces.policy import acting_member, authorize

from .models import CadencePolicy, CadenceRule, TierChange, TierPin, TouchModel
from .selectors import touch_model_of

logger = logging.getLogger(__name__)

ONE_TO_ONE_CHANNELS = [c for c in Channel.values if c not in ONE_TO_MANY_CHANNELS]
BATCH = 2000

# The defaults from the field reports: high touch every 30 days, low touch every 90, tech touch
# every 180 days where one-to-many programmes (webinars, newsletters, in-app messages) count too.
# Names marked with gettext_noop and translated when written (ensure_defaults), in the language
# provisioning activates: the workspace's.
DEFAULT_POLICIES = [
    (TouchTier.HIGH, gettext_noop("High touch: every 30 days"), 30, ONE_TO_ONE_CHANNELS),
    (TouchTier.LOW, gettext_noop("Low touch: every 90 days"), 90, ONE_TO_ONE_CHANNELS),
    (TouchTier.TECH, gettext_noop("Tech touch: every 180 days"), 180, list(Channel.values)),
]
# Suggested extra rules a manager can add with one click on the settings page.
SUGGESTED_RULES = [
    {"name": gettext_lazy("Decision-maker meeting"), "channels": list(MEETING_CHANNELS),
     "contact_role": ContactRole.DECISION_MAKER, "max_gap_days": 180},
    {"name": gettext_lazy("Phone follow-up"), "channels": [Channel.PHONE], "contact_role": "", "max_gap_days": 90},
]


def _chunks(items, size=BATCH):
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start:start + size]


# --- Touch model settings -------------------------------------------------------------------------


@transaction.atomic
def ensure_defaults(*, workspace):
    """A new workspace's touch model and its three tier policies (the field's cadences); idempotent.
    Called by provisioning, so that everything else only reads them."""
    TouchModel.objects.for_workspace(workspace).get_or_create(workspace=workspace)
    existing = set(CadencePolicy.objects.for_workspace(workspace).exclude(tier="").values_list("tier", flat=True))
    missing = [
        CadencePolicy(workspace=workspace, tier=tier, name=_(name), max_gap_days=days, channels=list(channels))
        for tier, name, days, channels in DEFAULT_POLICIES
        if tier not in existing
    ]
    if missing:
        CadencePolicy.objects.bulk_create(missing, ignore_conflicts=True)


def _validate_bands(bands, field, *, max_label=10):
    if not isinstance(bands, list) or not bands:
        raise DomainError(_("Give at least one band."), field=field)
    labels, mins = [], []
    for index, band in enumerate(bands):
        if not isinstance(band, dict) or set(band) != {"label", "min"}:
            raise DomainError(_("Band %(n)s needs exactly a label and a min.") % {"n": index + 1}, field=field)
        label, low = band["label"], band["min"]
        if not isinstance(label, str) or not label.strip() or len(label) > max_label or "-" in label:
            raise DomainError(_("Band %(n)s needs a short label without '-'.") % {"n": index + 1}, field=field)
        if isinstance(low, bool) or not isinstance(low, int) or low < 0:
            raise DomainError(_("Band %(n)s needs a whole-number min of 0 or more.") % {"n": index + 1}, field=field)
        labels.append(label.strip())
        mins.append(low)
    if len(set(labels)) != len(labels):
        raise DomainError(_("Band labels must be different."), field=field)
    if len(set(mins)) != len(mins):
        raise DomainError(_("Band minimums must be different."), field=field)
    return sorted(({"label": lb, "min": m} for lb, m in zip(labels, mins, strict=True)), key=lambda b: -b["min"])


def parse_bands(text, field):
    """ "A:21, B:11, C:6, D:1" → [{"label": "A", "min": 21}, …] for the settings form."""
    bands = []
    for part in [p.strip() for p in (text or "").split(",") if p.strip()]:
        label, sep, low = part.partition(":")
        if not sep or not low.strip().isdigit():
            raise DomainError(_("Write bands as label:min, e.g. A:21, B:11 (%(part)r).") % {"part": part}, field=field)
        bands.append({"label": label.strip(), "min": int(low.strip())})
    return _validate_bands(bands, field)


def format_bands(bands):
    return ", ".join(f"{b['label']}:{b['min']}" for b in bands)


@transaction.atomic
def update_touch_model(*, workspace, actor, **fields):
    authorize(actor, "coverage.manage")
    touch_model = touch_model_of(workspace=workspace)
    if "seat_bands" in fields:
        fields["seat_bands"] = _validate_bands(fields["seat_bands"], "seat_bands")
    if "tenure_bands" in fields:
        fields["tenure_bands"] = _validate_bands(fields["tenure_bands"], "tenure_bands")
    if "must_not_lose" in fields:
        cells = fields["must_not_lose"]
        if not isinstance(cells, list) or any(not isinstance(c, str) for c in cells):
            raise DomainError(_("List the cells as strings such as \"A-d\"."), field="must_not_lose")
        fields["must_not_lose"] = sorted(set(cells))
    allowed = {"high_min_arr", "low_min_arr", "seat_bands", "tenure_bands", "must_not_lose", "matrix_users"}
    unknown = set(fields) - allowed
    if unknown:
        raise DomainError(_("Unknown setting %(names)s.") % {"names": sorted(unknown)}, field=sorted(unknown)[0])
    changes = {}
    for field, value in fields.items():
        if getattr(touch_model, field) != value:
            changes[field] = [str(getattr(touch_model, field)), str(value)]
        setattr(touch_model, field, value)
    high, low = touch_model.high_min_arr, touch_model.low_min_arr
    if high is not None and low is not None and high < low:
        raise DomainError(_("The high-touch threshold must not be below the low-touch threshold."),
                          field="high_min_arr")
    touch_model.full_clean(validate_constraints=False)
    touch_model.save()
    if changes:
        record_audit(workspace=workspace, actor=actor, action="touch_model.updated", obj=touch_model, changes=changes)
    return touch_model


@transaction.atomic
def set_must_not_lose(*, workspace, actor, cell, must_not_lose):
    authorize(actor, "coverage.manage")
    touch_model = touch_model_of(workspace=workspace)
    cells = set(touch_model.must_not_lose)
    cells.add(cell) if must_not_lose else cells.discard(cell)
    return update_touch_model(workspace=workspace, actor=actor, must_not_lose=sorted(cells))


# --- Tiers ----------------------------------------------------------------------------------------


def _tier_conditions(touch_model):
    high, low = touch_model.high_min_arr, touch_model.low_min_arr
    unpinned = Q(tier_pin__isnull=True)
    return [
        (TouchTier.HIGH, (unpinned & Q(arr__gte=high)) | Q(tier_pin__tier=TouchTier.HIGH)),
        (TouchTier.LOW, (unpinned & Q(arr__gte=low, arr__lt=high)) | Q(tier_pin__tier=TouchTier.LOW)),
        (TouchTier.TECH, (unpinned & Q(arr__lt=low)) | Q(tier_pin__tier=TouchTier.TECH)),
    ]


def _tier_conditions_as_of(workspace, touch_model, as_of):
    """[(tier, condition)] for a past day: by the ARR the account had that day (attributes_as_of:
    contract lines, else the change log), never today's. An unpinned account whose ARR was not on
    record that day gets no tier from this day (it keeps the one it had)."""
    known = attributes_as_of(workspace=workspace, day=as_of)
    arr = known.loc[known["known_arr"].astype(bool), "arr"].dropna()
    by_tier = {tier: [] for tier in TouchTier.values}
    for pk, value in arr.items():
        by_tier[touch_model.tier_for_arr(Decimal(str(value)))].append(int(pk))
    unpinned = Q(tier_pin__isnull=True)
    out = []
    for tier in (TouchTier.HIGH, TouchTier.LOW, TouchTier.TECH):
        out.append((tier, Q(tier_pin__tier=tier)))
        for chunk in _chunks(by_tier[tier]):
            out.append((tier, unpinned & Q(pk__in=chunk)))
    return out


def assign_tiers(*, workspace, as_of):
    """Put every active account in its tier for `as_of`: pinned tier, else by ARR thresholds.

    Set-based: one UPDATE per tier, plus one history row per account whose tier changed. Churned
    accounts keep the tier they had when they churned (reports of their past need it). History only
    moves forward: re-running a day older than the latest recorded change leaves everything as is,
    so that a past day's coverage can be recomputed identically.
    """
    touch_model = touch_model_of(workspace=workspace)
    latest = TierChange.objects.for_workspace(workspace).aggregate(day=Max("day"))["day"]
    if latest is not None and as_of < latest:
        logger.info("tiers of %s: %s is before the latest change (%s); left as is", workspace.slug, as_of, latest)
        return {"changed": 0, "skipped": True}
    # Each account's tier on record as of the day, read once for all accounts (changes are rare, so
    # the history is about one row per account). A correlated subquery per account did the same
    # and let the planner pick a plan that read the whole workspace's history for every account.
    last_tier = {}
    history = (TierChange.objects.for_workspace(workspace).filter(day__lte=as_of)
               .order_by("account_id", "day").values_list("account_id", "tier"))
    for account_id, tier in history.iterator(chunk_size=BATCH):
        last_tier[account_id] = tier
    active = Account.objects.for_workspace(workspace).active()
    changed = 0
    conditions = _tier_conditions(touch_model)
    if as_of < workspace.today():
        conditions = _tier_conditions_as_of(workspace, touch_model, as_of)
    with transaction.atomic():
        for tier, condition in conditions:
            in_tier = active.filter(condition)
            active.filter(pk__in=in_tier.exclude(touch_tier=tier).values("pk")).update(touch_tier=tier)
            moved = [(pk, pin) for pk, pin in in_tier.values_list("pk", "tier_pin__tier").iterator(chunk_size=BATCH)
                     if last_tier.get(pk) != tier]
            for chunk in _chunks(moved):
                TierChange.objects.bulk_create(
                    [TierChange(workspace=workspace, account_id=pk, day=as_of, tier=tier, pinned=pin is not None)
                     for pk, pin in chunk],
                    update_conflicts=True, unique_fields=["account", "day"], update_fields=["tier", "pinned"],
                )
                changed += len(chunk)
    return {"changed": changed, "skipped": False}


def _record_tier_today(account, tier, pinned):
    TierChange.objects.for_workspace(account.workspace).update_or_create(
        account=account, day=account.workspace.today(),
        defaults={"workspace": account.workspace, "tier": tier, "pinned": pinned},
    )
    Account.objects.for_workspace(account.workspace).filter(pk=account.pk).update(touch_tier=tier)
    account.touch_tier = tier


@transaction.atomic
def pin_tier(*, account, actor, tier, reason):
    authorize(actor, "coverage.manage", account)
    if tier not in TouchTier.values:
        raise DomainError(_("Choose high, low or tech touch."), field="tier")
    if not (reason or "").strip():
        raise DomainError(_("Say why this account is pinned to a tier."), field="reason")
    pin, _created = TierPin.objects.for_workspace(account.workspace).update_or_create(
        account=account,
        defaults={"workspace": account.workspace, "tier": tier, "reason": reason.strip()[:300],
                  "pinned_by": acting_member(actor), "pinned_at": timezone.now()},
    )
    _record_tier_today(account, tier, pinned=True)
    record_audit(workspace=account.workspace, actor=actor, action="tier.pinned", obj=account,
                 changes={"tier": tier, "reason": pin.reason})
    return pin


@transaction.atomic
def unpin_tier(*, account, actor):
    authorize(actor, "coverage.manage", account)
    deleted, _details = TierPin.objects.for_workspace(account.workspace).filter(account=account).delete()
    if deleted and account.is_active:
        touch_model = touch_model_of(workspace=account.workspace)
        _record_tier_today(account, touch_model.tier_for_arr(account.arr), pinned=False)
    if deleted:
        record_audit(workspace=account.workspace, actor=actor, action="tier.unpinned", obj=account)
    return bool(deleted)


# --- Cadence policies -----------------------------------------------------------------------------


def _validate_channels(channels, field):
    if not isinstance(channels, list) or not channels:
        raise DomainError(_("Choose at least one channel."), field=field)
    bad = [c for c in channels if c not in Channel.values]
    if bad:
        raise DomainError(_("Unknown channel %(bad)s.") % {"bad": bad}, field=field)
    return [c for c in Channel.values if c in channels]  # canonical order, no duplicates


def _validate_days(value, field):
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 3650:
        raise DomainError(_("Give a whole number of days between 1 and 3650."), field=field)
    return value


@transaction.atomic
def save_cadence_policy(*, workspace, actor, policy=None, name, max_gap_days, channels, tier="", segment=None,
                        priority=100, rules=None):
    """Create or update a policy for a tier or a segment; `rules` (a list of dicts) replaces its rules."""
    authorize(actor, "coverage.manage")
    if policy is not None and policy.workspace_id != workspace.pk:
        raise DomainError(_("Not found in this workspace."), field="policy")
    if segment is not None and segment.workspace_id != workspace.pk:
        raise DomainError(_("Not found in this workspace."), field="segment")
    if bool(tier) == (segment is not None):
        raise DomainError(_("A cadence policy applies to either a tier or a segment."), field="segment")
    if tier and tier not in TouchTier.values:
        raise DomainError(_("Choose high, low or tech touch."), field="tier")
    if not (name or "").strip():
        raise DomainError(_("Give the policy a name."), field="name")
    clash = CadencePolicy.objects.for_workspace(workspace).filter(Q(tier=tier) if tier else Q(segment=segment))
    if policy is not None:
        clash = clash.exclude(pk=policy.pk)
    if clash.exists():
        raise DomainError(_("This tier or segment already has a cadence policy."), field="segment" if segment else "tier")
    created = policy is None
    policy = policy or CadencePolicy(workspace=workspace)
    policy.name = name.strip()
    policy.tier, policy.segment = tier or "", segment
    if isinstance(priority, bool) or not isinstance(priority, int) or not 0 <= priority <= 1000:
        raise DomainError(_("Give a priority between 0 and 1000 (lower wins)."), field="priority")
    policy.priority = priority
    policy.max_gap_days = _validate_days(max_gap_days, "max_gap_days")
    policy.channels = _validate_channels(channels, "channels")
    policy.full_clean(validate_constraints=False)
    policy.save()
    if rules is not None:
        cleaned = []
        for index, rule in enumerate(rules):
            field = f"rules[{index}]"
            if not isinstance(rule, dict):
                raise DomainError(_("A rule needs a name, channels and days."), field=field)
            role = rule.get("contact_role") or ""
            if role and role not in ContactRole.values:
                raise DomainError(_("Unknown contact role %(role)r.") % {"role": role}, field=f"{field}.contact_role")
            if not (rule.get("name") or "").strip():
                raise DomainError(_("Give the rule a name."), field=f"{field}.name")
            cleaned.append(CadenceRule(
                workspace=workspace, policy=policy, name=rule["name"].strip()[:120], contact_role=role,
                channels=_validate_channels(rule.get("channels"), f"{field}.channels"),
                max_gap_days=_validate_days(rule.get("max_gap_days"), f"{field}.max_gap_days"),
            ))
        policy.rules.all().delete()
        CadenceRule.objects.bulk_create(cleaned)
    record_audit(workspace=workspace, actor=actor, action="cadence_policy.created" if created else "cadence_policy.updated",
                 obj=policy)
    return policy


@transaction.atomic
def delete_cadence_policy(*, policy, actor):
    authorize(actor, "coverage.manage", policy)
    if policy.tier:
        raise DomainError(_("Every tier keeps a cadence policy; edit it instead."), field="tier")
    record_audit(workspace=policy.workspace, actor=actor, action="cadence_policy.deleted", obj=policy)
    policy.delete()
