"""Reads of segments: lists, members, history, and membership as it was on a past day.

Other apps (coverage, health) read segments only through the functions here.
"""

from collections import defaultdict

from .filtersets import SegmentFilterSet
from .models import MembershipEventKind, Segment, SegmentAddition, SegmentMembership, SegmentMembershipEvent
from .rules import segment_accounts, uses_additions, validate_rules

CHUNK = 5000


def segment_list(*, workspace, filters=None, request=None):
    segments = Segment.objects.for_workspace(workspace)
    if filters is not None:
        segments = SegmentFilterSet(filters, queryset=segments, request=request).qs
    return segments


def segment_members(*, segment):
    return (
        SegmentMembership.objects.for_workspace(segment.workspace).filter(segment=segment)
        .select_related("account", "account__owner__user").order_by("account__name", "account_id")
    )


def segment_history(*, segment, limit=200):
    events = (
        SegmentMembershipEvent.objects.for_workspace(segment.workspace).filter(segment=segment)
        .select_related("account").order_by("-day", "-id")
    )
    return events[:limit] if limit else events




def segments_by_id(*, workspace, ids):
    """{id: Segment} of these segments of the workspace (a deleted one, or another workspace's, is missing)."""
    return Segment.objects.for_workspace(workspace).in_bulk(list(ids))


def segment_additions(*, segment):
    """The accounts added to the segment by hand or by a playbook, newest first."""
    return (SegmentAddition.objects.for_workspace(segment.workspace).filter(segment=segment)
            .select_related("account", "added_by__user").order_by("-added_at", "-id"))


def segments_taking_additions(*, workspace, ids=None):
    """{segment id: name} of the workspace's segments whose rules count accounts added by hand or by a
    playbook (the ones an "add to a segment" step may name)."""
    segments = Segment.objects.for_workspace(workspace)
    if ids is not None:
        segments = segments.filter(pk__in=list(ids))
    return {pk: name for pk, name, rules in segments.values_list("pk", "name", "rules") if uses_additions(rules)}


def segment_names(*, workspace, ids):
    """{segment id: name} of these segments of the workspace (a deleted one is simply missing)."""
    return dict(Segment.objects.for_workspace(workspace).filter(pk__in=list(ids)).values_list("pk", "name"))


def segments_of(*, workspace):
    """The workspace's segments (none without a workspace): choices of forms and filters elsewhere."""
    if workspace is None:
        return Segment.objects.none()
    return Segment.objects.for_workspace(workspace)


def segment_ids_as_of(*, workspace, day):
    """{account_id: [segment ids]} of the segments each account was a member of on `day`, from the
    forward-only membership history (the events up to and including that day)."""
    state = {}
    rows = (
        SegmentMembershipEvent.objects.for_workspace(workspace).filter(day__lte=day)
        .order_by("day", "id").values_list("segment_id", "account_id", "kind")
    )
    for segment_id, account_id, kind in rows.iterator(chunk_size=CHUNK):
        state[(segment_id, account_id)] = kind == MembershipEventKind.ENTERED
    members = defaultdict(list)
    for (segment_id, account_id), member in state.items():
        if member:
            members[account_id].append(segment_id)
    return {account_id: sorted(ids) for account_id, ids in members.items()}


def accounts_matching(*, workspace, rules, as_of):
    """The accounts of `workspace` matching segment `rules` on `as_of` (validated here first: a
    DomainError(field="rules") names a bad part). Other apps' conditions ("only accounts where…")
    are segment rules, compiled to one query by the same code as the segments themselves."""
    clean = validate_rules(rules, workspace=workspace)
    return segment_accounts(workspace=workspace, rules=clean, as_of=as_of)


def members_since(*, workspace, segment_id):
    """{account_id: the day it entered} of the current members of one segment (none when the
    segment is gone or belongs to another workspace). One query."""
    return dict(
        SegmentMembership.objects.for_workspace(workspace).filter(segment_id=segment_id)
        .values_list("account_id", "since")
    )
