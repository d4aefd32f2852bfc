"""Segments: rule-based sets of accounts, with their membership history.

Membership changes over time and keeps its history (`SegmentMembershipEvent`, written forward only
by the nightly step), so that what was true on a past day can be read back (see selectors).
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import Account
from workspaces.models import Membership, WorkspaceOwned


class Segment(WorkspaceOwned):
    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    rules = models.JSONField(_("rules"), default=dict)
    created_by = models.ForeignKey(Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # The last day membership was materialized for; membership only moves forward in time.
    computed_on = models.DateField(null=True, blank=True)
    member_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "name"],
                name="segment_unique_name_per_workspace",
                violation_error_message=_("A segment with this name already exists."),
            )
        ]

    def __str__(self):
        return self.name


class SegmentMembership(WorkspaceOwned):
    """Current members of a segment, as of `Segment.computed_on`."""

    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="memberships")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="segment_memberships")
    since = models.DateField()

    class Meta:
        ordering = ["segment_id", "account_id"]
        constraints = [
            models.UniqueConstraint(fields=["segment", "account"], name="segment_membership_unique")
        ]

    def __str__(self):
        return f"{self.account_id} in {self.segment_id}"


class MembershipEventKind(models.TextChoices):
    ENTERED = "entered", _("Entered")
    LEFT = "left", _("Left")


class SegmentMembershipEvent(WorkspaceOwned):
    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="events")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="segment_events")
    day = models.DateField()
    kind = models.CharField(max_length=10, choices=MembershipEventKind.choices)

    class Meta:
        ordering = ["-day", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["segment", "account", "day"], name="segment_event_unique_per_day")
        ]
        indexes = [models.Index(fields=["workspace", "day"])]

    def __str__(self):
        return f"{self.account_id} {self.kind} {self.segment_id} on {self.day}"


class AdditionSource(models.TextChoices):
    HAND = "hand", _("By hand")
    PLAYBOOK = "playbook", _("By a playbook")


class SegmentAddition(WorkspaceOwned):
    """An account put into a segment by hand or by a playbook step, rather than selected by a rule.

    A segment counts its additions only where its rules say so (the condition "Added by hand or by a
    playbook"), so that the rules stay the one place that says who is a member: "renewal watch" can
    be "added, and ARR over 1M", or "added, or red".
    """

    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="additions")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="segment_additions")
    source = models.CharField(_("added"), max_length=10, choices=AdditionSource.choices, default=AdditionSource.HAND)
    added_by = models.ForeignKey(Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-added_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["segment", "account"], name="segment_addition_unique")
        ]

    def __str__(self):
        return f"{self.account_id} added to {self.segment_id}"
