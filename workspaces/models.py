"""Workspaces are the tenants: one CS organisation each. Every domain row belongs to one.

Scoping lives in one place: `WorkspaceQuerySet.for_workspace()`. Page views get it through
`workspaces.views.WorkspaceMixin`, the API through `workspaces.api.viewsets.WorkspaceViewSet`,
the admin through `workspaces.admin.WorkspaceScopedAdmin`.
"""

import datetime as dt
import hashlib
import secrets
import zoneinfo
from contextlib import contextmanager

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, RegexValidator
from django.db import DEFAULT_DB_ALIAS, connections, models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def validate_time_zone(value):
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("%(value)s is not a known time zone, e.g. Asia/Tokyo."), params={"value": value})


currency_code_validator = RegexValidator(
    r"^[A-Z]{3}$", _("Use a three-letter ISO 4217 currency code such as JPY, USD or EUR.")
)


def default_language():
    """The deployment's language (settings.LANGUAGE_CODE), read when a workspace is created."""
    return settings.LANGUAGE_CODE


def language_choices():
    return settings.LANGUAGES


class WorkspaceManagerQuerySet(models.QuerySet):
    def delete(self):
        # Deleting a tenant is the one deletion that takes its audit log with it (offboarding).
        # Its rows are locked first: a load of usage events holds its workspace (FOR KEY SHARE) until
        # it commits, and those events must exist to be deleted with it (their table has no foreign key).
        with audit_erasure(using=self.db):
            list(self.select_for_update().values_list("pk", flat=True))
            return super().delete()

    delete.queryset_only = True


class Workspace(models.Model):
    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="Asia/Tokyo", validators=[validate_time_zone]
    )
    currency = models.CharField(_("currency"), max_length=3, default="JPY", validators=[currency_code_validator])
    # The language of what the platform writes for the workspace (default stage, policy and scorecard
    # names at provisioning). Pages follow each user's own language (UserPreference), not this.
    language = models.CharField(
        _("language"), max_length=10, default=default_language, choices=language_choices,
        help_text=_("Language of the names the platform writes for this workspace, such as its default "
                    "lifecycle stages and scorecard."),
    )
    nightly_hour = models.PositiveSmallIntegerField(
        _("nightly recomputation hour"), default=2, validators=[MaxValueValidator(23)],
        help_text=_("Local hour (0-23) after which the night's recomputation of the day starts."),
    )
    # The local date whose night was last queued, and when; the last local date whose night was done.
    # A night queued but not done a while later (its task lost with a restarted broker, its worker
    # killed) is queued again (see cs_platform.nightly.workspaces_due).
    nightly_queued_on = models.DateField(null=True, blank=True, editable=False)
    nightly_queued_at = models.DateTimeField(null=True, blank=True, editable=False)
    nightly_done_on = models.DateField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = WorkspaceManagerQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("workspace")

    def __str__(self):
        return self.name

    def delete(self, *args, **kwargs):
        """Offboarding a tenant: the workspace, every row of it and its audit log go together.
        The only way audit events are ever deleted (see AuditEvent)."""
        using = kwargs.get("using") or self._state.db
        with audit_erasure(using=using):
            # Locked first, as the queryset's delete does (usage events hold their workspace).
            list(type(self)._base_manager.using(using).select_for_update().filter(pk=self.pk).values_list("pk", flat=True))
            return super().delete(*args, **kwargs)

    @property
    def tz(self):
        return zoneinfo.ZoneInfo(self.time_zone)

    def today(self):
        """Today's date in the workspace's time zone: days are counted where the team works."""
        return timezone.now().astimezone(self.tz).date()

    def day_start(self, day):
        """The aware datetime at which `day` begins in the workspace's time zone."""
        return dt.datetime.combine(day, dt.time.min, tzinfo=self.tz)

    def local_day(self, moment):
        """The workspace's date of an aware `moment`: a touch at 23:30 UTC is the next day in Tokyo."""
        return moment.astimezone(self.tz).date()


class UnscopedQuery(Exception):
    """A query through `Model.objects` ran without naming its workspace."""


class WorkspaceQuerySet(models.QuerySet):
    """The one scoping point: every domain queryset inherits `for_workspace()`.

    A query started from `Model.objects` must be narrowed with `.for_workspace(workspace)` before it
    runs (is iterated, counted, updated, deleted or used as a subquery); otherwise it raises
    UnscopedQuery, so a forgotten scope fails loudly in tests instead of leaking in production.
    Work that really spans workspaces says so: `Model.all_workspaces` (nightly jobs that walk every
    workspace, the admin, which scopes to the workspaces a staff user administers).
    """

    _workspace_required = False

    def for_workspace(self, workspace):
        queryset = self.filter(workspace=workspace)
        queryset._workspace_required = False
        return queryset

    def _clone(self):
        clone = super()._clone()
        clone._workspace_required = self._workspace_required
        return clone

    def _require_workspace(self):
        if self._workspace_required and not self.query.is_empty():
            name = self.model.__name__
            raise UnscopedQuery(
                f"{name}.objects needs .for_workspace(workspace) before the query runs; "
                f"{name}.all_workspaces is for work that spans workspaces."
            )

    def _fetch_all(self):
        if self._result_cache is None:
            self._require_workspace()
        super()._fetch_all()

    def iterator(self, *args, **kwargs):
        self._require_workspace()
        return super().iterator(*args, **kwargs)

    def count(self):
        self._require_workspace()
        return super().count()

    def exists(self):
        self._require_workspace()
        return super().exists()

    def contains(self, obj):
        self._require_workspace()
        return super().contains(obj)

    def aggregate(self, *args, **kwargs):
        self._require_workspace()
        return super().aggregate(*args, **kwargs)

    def update(self, **kwargs):
        self._require_workspace()
        return super().update(**kwargs)

    def delete(self):
        self._require_workspace()
        return super().delete()

    def explain(self, **options):
        self._require_workspace()
        return super().explain(**options)

    def resolve_expression(self, *args, **kwargs):
        # Used inside another query (`pk__in=queryset`): the inner query must be scoped too.
        self._require_workspace()
        return super().resolve_expression(*args, **kwargs)


class WorkspaceScopedManager(models.Manager.from_queryset(WorkspaceQuerySet)):
    """`Model.objects`: its queries must name their workspace (see WorkspaceQuerySet).

    A model with its own queryset class declares `objects = WorkspaceScopedManager.from_queryset(Its)()`.
    """

    def get_queryset(self):
        queryset = super().get_queryset()
        queryset._workspace_required = True
        return queryset


class WorkspaceOwned(models.Model):
    """Base for every domain model: the row belongs to exactly one workspace.

    `all_workspaces` is declared first, so it is Django's default manager: related objects reached
    from a row already in scope, model validation, the admin and factories go through it. Code that
    starts a query goes through `objects`, which insists on `for_workspace()`.
    """

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")

    all_workspaces = WorkspaceQuerySet.as_manager()
    objects = WorkspaceScopedManager()

    class Meta:
        abstract = True


class Role(models.TextChoices):
    ADMIN = "admin", _("Admin")
    MANAGER = "manager", _("Manager")
    CSM = "csm", _("CSM")
    VIEWER = "viewer", _("Viewer")


class Membership(WorkspaceOwned):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=10, choices=Role.choices, default=Role.CSM)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["user__first_name", "user__last_name", "user__username"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "user"],
                name="membership_unique_user_per_workspace",
                violation_error_message=_("This user is already a member of the workspace."),
            )
        ]

    def __str__(self):
        return self.display_name

    @property
    def display_name(self):
        return self.user.get_full_name() or self.user.username

    # Set on a request's membership when it authenticated with an API token, so that what the
    # request changes is audited as done through that token (see workspaces.audit).
    api_token = None

    # The role tests the policy (workspaces.policy) is built from; everything else asks the policy.
    @property
    def can_edit(self):
        return self.role != Role.VIEWER

    @property
    def is_manager(self):
        return self.role in (Role.ADMIN, Role.MANAGER)

    @property
    def is_admin(self):
        return self.role == Role.ADMIN

    def can_edit_account(self, account):
        if self.is_manager:
            return True
        return self.role == Role.CSM and account.owner_id == self.pk

    @property
    def can_log_touchpoints(self):
        return self.role in (Role.ADMIN, Role.MANAGER, Role.CSM)


class ApiTokenQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True, membership__is_active=True)


class ApiToken(models.Model):
    """A personal API token. Only a SHA-256 of the key is stored; the key is shown once."""

    PREFIX = "csp_"

    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    key_hash = models.CharField(max_length=64, unique=True)
    key_hint = models.CharField(max_length=12, help_text=_("The first characters, to recognise the token."))
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.name} ({self.key_hint}…)"

    @staticmethod
    def hash_key(key):
        return hashlib.sha256(key.encode()).hexdigest()

    @classmethod
    def generate_key(cls):
        return cls.PREFIX + secrets.token_urlsafe(32)

    @property
    def is_active(self):
        return self.revoked_at is None

    @property
    def workspace_id(self):
        return self.membership.workspace_id


class AuditImmutable(Exception):
    """Something tried to change or delete an audit event: history is append-only."""


# The PostgreSQL trigger of migration 0005 refuses UPDATE and DELETE of audit rows unless this
# transaction-local setting is on. Only `audit_erasure` sets it: deleting a whole workspace.
AUDIT_ERASURE_SETTING = "cs_platform.erase_audit"


@contextmanager
def audit_erasure(using=None):
    """Within the block, the current transaction may delete audit rows (a workspace's offboarding,
    the demo's reset). The permission is transaction-local and switched off again at the block's
    end, so it cannot leak into the rest of a longer transaction."""
    conn = connections[using or DEFAULT_DB_ALIAS]
    with transaction.atomic(using=using):
        _set_audit_erasure(conn, "on")
        yield
        _set_audit_erasure(conn, "off")


def _set_audit_erasure(conn, value):
    if conn.vendor == "postgresql":
        with conn.cursor() as cursor:
            cursor.execute("SELECT set_config(%s, %s, true)", [AUDIT_ERASURE_SETTING, value])


class AuditEventQuerySet(WorkspaceQuerySet):
    """Audit events are written once and never changed or deleted through the application.

    `bulk_create` (services writing many records) is fine; `update`, `bulk_update` and `delete`
    raise AuditImmutable. A workspace's deletion removes its events through the database cascade
    (see Workspace.delete), which does not go through this queryset.
    """

    def update(self, **kwargs):
        raise AuditImmutable("Audit events cannot be changed.")

    def bulk_update(self, objs, fields, batch_size=None):
        raise AuditImmutable("Audit events cannot be changed.")

    def update_or_create(self, *args, **kwargs):
        raise AuditImmutable("Audit events cannot be changed.")

    def delete(self):
        raise AuditImmutable("Audit events cannot be deleted; deleting their workspace is the only way.")

    delete.queryset_only = True


class InvitationQuerySet(WorkspaceQuerySet):
    def pending(self):
        return self.filter(accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now())


class Invitation(WorkspaceOwned):
    """An admin's invitation of an e-mail address to the workspace, with a role; the invitee accepts it.

    The link carries a random token; only its SHA-256 is stored (like API tokens). It works once,
    until it expires or an admin revokes it.
    """

    PENDING, ACCEPTED, REVOKED, EXPIRED = "pending", "accepted", "revoked", "expired"

    email = models.EmailField(_("e-mail"))
    role = models.CharField(_("role"), max_length=10, choices=Role.choices, default=Role.CSM)
    invited_by = models.ForeignKey(Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"))
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)

    all_workspaces = InvitationQuerySet.as_manager()
    objects = WorkspaceScopedManager.from_queryset(InvitationQuerySet)()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("invitation")

    def __str__(self):
        return f"{self.email} ({self.get_role_display()})"

    @staticmethod
    def hash_token(token):
        return hashlib.sha256(token.encode()).hexdigest()

    @staticmethod
    def generate_token():
        return secrets.token_urlsafe(32)

    @property
    def status(self):
        if self.accepted_at:
            return self.ACCEPTED
        if self.revoked_at:
            return self.REVOKED
        if self.expires_at <= timezone.now():
            return self.EXPIRED
        return self.PENDING


class AuditEvent(WorkspaceOwned):
    """Who changed what, and when. Written by services (workspaces.audit), read by managers.

    Who acted is a member (`actor`), a member through one of their API tokens (`actor` and
    `token`), or the platform itself (`system_actor`: "nightly", a rule's name, a command).
    """

    # RESTRICT, not SET_NULL: deleting a member or a token who acted would rewrite history (and
    # the table refuses updates). Members are deactivated, tokens revoked; a workspace's deletion
    # cascades to both and to its audit events at once, which RESTRICT allows.
    actor = models.ForeignKey(Membership, null=True, blank=True, on_delete=models.RESTRICT, related_name="+")
    token = models.ForeignKey(ApiToken, null=True, blank=True, on_delete=models.RESTRICT, related_name="+")
    system_actor = models.CharField(max_length=80, blank=True)
    action = models.CharField(max_length=40)
    object_type = models.CharField(max_length=60)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=200, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    all_workspaces = AuditEventQuerySet.as_manager()
    objects = WorkspaceScopedManager.from_queryset(AuditEventQuerySet)()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["workspace", "object_type", "object_id"]),
                   models.Index(fields=["workspace", "-at"], name="audit_workspace_newest")]

    def __str__(self):
        return f"{self.action} {self.object_type} {self.object_repr}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AuditImmutable("Audit events cannot be changed.")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AuditImmutable("Audit events cannot be deleted; deleting their workspace is the only way.")

    @property
    def actor_kind(self):
        """"system", "token" or "member": who acted, as the filters and the export name it."""
        if self.system_actor:
            return "system"
        return "token" if self.token_id else "member"

    @property
    def actor_label(self):
        """"Aiko Tanaka", "Aiko Tanaka (API token “CRM sync”)", "system: nightly" or "—" (member removed)."""
        if self.system_actor:
            return _("system: %(name)s") % {"name": self.system_actor}
        if self.actor_id is None:
            return "—"
        if self.token_id:
            return _("%(member)s (API token “%(token)s”)") % {"member": self.actor.display_name,
                                                              "token": self.token.name}
        return self.actor.display_name


class UserPreference(models.Model):
    """A person's own settings, whatever workspaces they belong to: for now, the language of pages.

    An empty `language` follows the browser (Accept-Language), then settings.LANGUAGE_CODE.
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preference")
    language = models.CharField(
        _("language"), max_length=10, blank=True, choices=language_choices,
        help_text=_("Leave empty to follow your browser's language."),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("user preference")

    def __str__(self):
        return f"{self.user} ({self.language or '-'})"
