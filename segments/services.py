"""Writes of segments: their definition, and their membership materialized day by day.

Only managers (and admins) change segments; every write here checks the actor.
"""

import logging

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import Account
from workspaces.audit import record_audit
from workspaces.errors import DomainError
from workspaces.policy import acting_member, authorize

from .models import (
    AdditionSource,
    MembershipEventKind,
    Segment,
    SegmentAddition,
    SegmentMembership,
    SegmentMembershipEvent,
)
from .rules import segment_accounts, uses_additions, validate_rules

logger = logging.getLogger(__name__)
BATCH = 2000


def _chunks(items, size=BATCH):
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start:start + size]


# --- Segments -------------------------------------------------------------------------------------


@transaction.atomic
def save_segment(*, workspace, actor, segment=None, name, rules, description="", materialize=True):
    """Create or edit a segment, then (unless told not to) bring its membership to what the rules
    select today, so that the pages show its members at once rather than after the night."""
    authorize(actor, "segments.manage", segment)
    name = (name or "").strip()
    if not name:
        raise DomainError(_("Give the segment a name."), field="name")
    rules = validate_rules(rules, workspace=workspace)
    created = segment is None
    if created:
        segment = Segment(workspace=workspace, created_by=acting_member(actor))
    elif segment.workspace_id != workspace.pk:
        raise DomainError(_("Not found in this workspace."), field="segment")
    duplicate = Segment.objects.for_workspace(workspace).filter(name=name)
    if segment.pk:
        duplicate = duplicate.exclude(pk=segment.pk)
    if duplicate.exists():
        raise DomainError(_("A segment with this name already exists."), field="name")
    changes = {} if created else {k: [str(getattr(segment, k)), str(v)] for k, v in
                                  {"name": name, "description": description, "rules": rules}.items()
                                  if getattr(segment, k) != v}
    segment.name, segment.description, segment.rules = name, description or "", rules
    segment.full_clean()
    segment.save()
    record_audit(workspace=workspace, actor=actor, action="segment.created" if created else "segment.updated",
                 obj=segment, changes=changes)
    if materialize:
        materialize_segment(segment=segment, as_of=workspace.today())
    return segment


@transaction.atomic
def delete_segment(*, segment, actor):
    authorize(actor, "segments.manage", segment)
    record_audit(workspace=segment.workspace, actor=actor, action="segment.deleted", obj=segment)
    segment.delete()


def preview_segment(*, workspace, actor, rules, as_of=None, sample=10):
    """Count and first names of the accounts the (unsaved) rules would select today."""
    authorize(actor, "segments.manage")
    rules = validate_rules(rules, workspace=workspace)
    accounts = segment_accounts(workspace=workspace, rules=rules, as_of=as_of or workspace.today())
    return {
        "count": accounts.count(),
        "sample": [{"id": pk, "name": name} for pk, name in accounts.order_by("name", "id").values_list("pk", "name")[:sample]],
    }


def materialize_segment(*, segment, as_of):
    """Bring the segment's members to what its rules select on `as_of`, recording who entered and left.

    Idempotent for a day; forward only (a day before `computed_on` is skipped, history stays).
    """
    workspace = segment.workspace
    with transaction.atomic():
        # The first statement writes: it locks the segment so two runs cannot interleave.
        Segment.objects.for_workspace(workspace).filter(pk=segment.pk).update(updated_at=segment.updated_at)
        segment.refresh_from_db(fields=["computed_on", "rules"])
        if segment.computed_on and as_of < segment.computed_on:
            return {"segment": segment.pk, "skipped": True}
        rules = validate_rules(segment.rules, workspace=workspace)
        target = set(segment_accounts(workspace=workspace, rules=rules, as_of=as_of, segment_id=segment.pk)
                     .values_list("pk", flat=True))
        current = set(SegmentMembership.objects.for_workspace(workspace).filter(segment=segment).values_list("account_id", flat=True))
        entered, left = sorted(target - current), sorted(current - target)
        for chunk in _chunks(left):
            SegmentMembership.objects.for_workspace(workspace).filter(segment=segment, account_id__in=chunk).delete()
        for chunk in _chunks(entered):
            SegmentMembership.objects.bulk_create(
                [SegmentMembership(workspace=workspace, segment=segment, account_id=pk, since=as_of) for pk in chunk],
                ignore_conflicts=True,
            )
        events = [(pk, MembershipEventKind.ENTERED) for pk in entered] + [(pk, MembershipEventKind.LEFT) for pk in left]
        for chunk in _chunks(events):
            SegmentMembershipEvent.objects.bulk_create(
                [SegmentMembershipEvent(workspace=workspace, segment=segment, account_id=pk, day=as_of, kind=kind)
                 for pk, kind in chunk],
                update_conflicts=True, unique_fields=["segment", "account", "day"], update_fields=["kind"],
            )
        Segment.objects.for_workspace(workspace).filter(pk=segment.pk).update(computed_on=as_of, member_count=len(target))
    segment.computed_on, segment.member_count = as_of, len(target)
    return {"segment": segment.pk, "entered": len(entered), "left": len(left), "members": len(target)}


# --- Accounts added by hand or by a playbook ------------------------------------------------------


def _accounts_of(workspace, account_ids):
    wanted = {int(pk) for pk in account_ids}
    found = set(Account.objects.for_workspace(workspace).filter(pk__in=wanted).values_list("pk", flat=True))
    missing = sorted(wanted - found)
    if missing:  # another workspace's account reads exactly like one that does not exist
        raise DomainError(_("No such account in this workspace: %(ids)s.") % {"ids": ", ".join(map(str, missing))},
                          field="accounts")
    return sorted(found)


@transaction.atomic
def add_to_segment(*, segment, account_ids, actor, source=AdditionSource.HAND):
    """Put accounts into a segment whose rules count additions, and make them members today.

    Adding twice is adding once (the unique pair). A segment whose rules have no "added" condition
    would not take them in: refused, with what to change, rather than done in vain."""
    authorize(actor, "segments.manage", segment)
    workspace = segment.workspace
    if not uses_additions(segment.rules):
        raise DomainError(_("The segment “%(name)s” selects by its rules only. Add the condition “Added by hand or "
                            "by a playbook: yes” to its rules first.") % {"name": segment.name}, field="segment")
    ids = _accounts_of(workspace, account_ids)
    existing = set(SegmentAddition.objects.for_workspace(workspace).filter(segment=segment, account_id__in=ids)
                   .values_list("account_id", flat=True))
    new = [pk for pk in ids if pk not in existing]
    SegmentAddition.objects.bulk_create(
        [SegmentAddition(workspace=workspace, segment=segment, account_id=pk, source=source,
                         added_by=acting_member(actor)) for pk in new],
        ignore_conflicts=True, batch_size=BATCH)
    if new:
        record_audit(workspace=workspace, actor=actor, action="segment.accounts_added", obj=segment,
                     changes={"accounts": new, "source": source})
    result = materialize_segment(segment=segment, as_of=workspace.today())
    return {"added": len(new), "already": len(existing), "members": result.get("members", segment.member_count)}


@transaction.atomic
def remove_from_segment(*, segment, account_ids, actor):
    """Take hand or playbook additions back out; membership follows today (a rule may still hold them)."""
    authorize(actor, "segments.manage", segment)
    workspace = segment.workspace
    ids = _accounts_of(workspace, account_ids)
    removed, _kinds = SegmentAddition.objects.for_workspace(workspace).filter(segment=segment, account_id__in=ids).delete()
    if removed:
        record_audit(workspace=workspace, actor=actor, action="segment.accounts_removed", obj=segment,
                     changes={"accounts": ids})
    result = materialize_segment(segment=segment, as_of=workspace.today())
    return {"removed": removed, "members": result.get("members", segment.member_count)}


def recompute_segment(*, segment, actor):
    """Membership as of today now, rather than at the next night."""
    authorize(actor, "segments.manage", segment)
    with transaction.atomic():
        result = materialize_segment(segment=segment, as_of=segment.workspace.today())
        record_audit(workspace=segment.workspace, actor=actor, action="segment.recomputed", obj=segment,
                     changes={"entered": result.get("entered", 0), "left": result.get("left", 0)})
    return result


def materialize_segments(*, workspace, as_of):
    return [materialize_segment(segment=s, as_of=as_of) for s in Segment.objects.for_workspace(workspace)]
