"""One-to-many programmes: webinars, seminars, newsletters, in-app messages and community events.

A programme has sessions (one webinar, one issue of a newsletter); a session has attendance per
contact. An attended session is a touchpoint of the programme's channel on the contact's account,
written through the accounts write path, so that coverage counts it like any other touch (one-to-many
channels qualify for tech-touch accounts by default: see coverage).
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import Channel, Contact, Touchpoint
from workspaces.models import Membership, WorkspaceOwned


class ProgrammeKind(models.TextChoices):
    WEBINAR = "webinar", _("Webinar")
    SEMINAR = "seminar", _("Seminar")
    NEWSLETTER = "newsletter", _("Newsletter")
    IN_APP = "in_app", _("In-app message")
    COMMUNITY_EVENT = "community_event", _("Community event")


# The touchpoint channel each kind counts as (all of them one-to-many channels of accounts).
KIND_CHANNELS = {
    ProgrammeKind.WEBINAR: Channel.WEBINAR,
    ProgrammeKind.SEMINAR: Channel.SEMINAR,
    ProgrammeKind.NEWSLETTER: Channel.NEWSLETTER,
    ProgrammeKind.IN_APP: Channel.IN_APP,
    ProgrammeKind.COMMUNITY_EVENT: Channel.USER_EVENT,
}


class Programme(WorkspaceOwned):
    name = models.CharField(_("name"), max_length=150)
    kind = models.CharField(_("kind"), max_length=20, choices=ProgrammeKind.choices)
    description = models.TextField(_("description"), blank=True)
    created_by = models.ForeignKey(Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "name"],
                name="programme_unique_name_per_workspace",
                violation_error_message=_("A programme with this name already exists."),
            )
        ]

    def __str__(self):
        return self.name

    @property
    def channel(self):
        """The touchpoint channel an attended session of this programme counts as."""
        return KIND_CHANNELS[self.kind]


class ProgrammeSession(WorkspaceOwned):
    programme = models.ForeignKey(Programme, verbose_name=_("programme"), on_delete=models.CASCADE,
                                  related_name="sessions")
    title = models.CharField(_("title"), max_length=200)
    starts_at = models.DateTimeField(_("date and time"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_at", "-id"]
        indexes = [models.Index(fields=["workspace", "programme", "starts_at"])]

    def __str__(self):
        return f"{self.programme} · {self.title}"


class AttendanceStatus(models.TextChoices):
    REGISTERED = "registered", _("Registered")
    ATTENDED = "attended", _("Attended")


class Attendance(WorkspaceOwned):
    """One contact's registration or attendance of a session; an attended one has its touchpoint."""

    session = models.ForeignKey(ProgrammeSession, verbose_name=_("session"), on_delete=models.CASCADE,
                                related_name="attendances")
    contact = models.ForeignKey(Contact, verbose_name=_("contact"), on_delete=models.CASCADE,
                                related_name="programme_attendances")
    status = models.CharField(_("status"), max_length=12, choices=AttendanceStatus.choices)
    touchpoint = models.OneToOneField(Touchpoint, verbose_name=_("touchpoint"), null=True, blank=True,
                                      on_delete=models.SET_NULL, related_name="programme_attendance")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["session_id", "contact_id"]
        constraints = [
            models.UniqueConstraint(fields=["session", "contact"], name="attendance_unique_contact_per_session",
                                    violation_error_message=_("This contact is already on this session."))
        ]
        indexes = [models.Index(fields=["workspace", "status"])]

    def __str__(self):
        return f"{self.contact} · {self.session}"
