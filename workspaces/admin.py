"""Django admin, scoped like everything else: staff see the workspaces they administer.

`WorkspaceScopedAdmin` is the base of every ModelAdmin of a workspace-owned model. A staff user
who is an active *admin member* of workspaces A and C sees, counts, edits and picks (in foreign-key
choices and list filters) only rows of A and C, and cannot save a row into any other workspace.
Superusers see everything.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .audit import record_audit
from .models import ApiToken, AuditEvent, Membership, Role, Workspace, WorkspaceOwned
from .policy import SystemActor
from .services import revoke_token


def administered_workspace_ids(request):
    """Ids of the workspaces the user administers; None means all (a superuser). Cached per request."""
    if request.user.is_superuser:
        return None
    if not hasattr(request, "_administered_workspace_ids"):
        request._administered_workspace_ids = set(
            Membership.all_workspaces.filter(user=request.user, role=Role.ADMIN, is_active=True).values_list(
                "workspace_id", flat=True
            )
        )
    return request._administered_workspace_ids


def _workspace_path(model):
    """The lookup from `model` to its workspace, or None when the model is not workspace-bound."""
    if model is Workspace:
        return "pk"
    if issubclass(model, WorkspaceOwned):
        return "workspace"
    if model is ApiToken:
        return "membership__workspace"
    return None


def _workspace_id_of(obj):
    if isinstance(obj, Workspace):
        return obj.pk
    if isinstance(obj, ApiToken):
        return obj.membership.workspace_id if obj.membership_id else None
    return getattr(obj, "workspace_id", None)


def admin_actor(request, workspace_id):
    """Who the audit names for a change made in the admin: the staff user's membership in the row's
    workspace, or (a superuser outside it) the site itself with the user's name."""
    member = Membership.all_workspaces.filter(workspace_id=workspace_id, user=request.user,
                                              is_active=True).select_related("user").first()
    return member or SystemActor(f"admin site ({request.user.get_username()})")


def audit_admin_change(request, obj, verb, changes=None):
    """One audit row per row the admin creates, changes or deletes (the admin bypasses the services)."""
    workspace_id = _workspace_id_of(obj)
    if workspace_id is None or isinstance(obj, AuditEvent) or (isinstance(obj, Workspace) and verb == "deleted"):
        return  # (a deleted workspace takes its audit log with it: offboarding)
    record_audit(workspace=Workspace(pk=workspace_id), actor=admin_actor(request, workspace_id),
                 action=f"{obj._meta.model_name}.{verb}", obj=obj, changes={"source": "admin", **(changes or {})})


def form_changes(form):
    """{field: [before, after]} of what an admin form changed, as text."""
    if form is None:
        return {}
    changes = {}
    for name in form.changed_data:
        before, after = form.initial.get(name), form.cleaned_data.get(name)
        changes[name] = [None if before is None else str(before), None if after is None else str(after)]
    return changes


def scope(queryset, request):
    allowed = administered_workspace_ids(request)
    path = _workspace_path(queryset.model)
    if allowed is None or path is None:
        return queryset
    return queryset.filter(**{f"{path}__in": allowed})


# List filters on relations must use this: it offers only related objects that appear in the
# (scoped) changelist, where Django's default filter would list every workspace's names.
RelatedOnly = admin.RelatedOnlyFieldListFilter


class WorkspaceScopedAdmin(admin.ModelAdmin):
    # Where the row's workspace is; "workspace" for WorkspaceOwned models.
    workspace_field = "workspace"

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        allowed = administered_workspace_ids(request)
        if allowed is None:
            return queryset
        return queryset.filter(**{f"{self.workspace_field}__in": allowed})

    # Permissions: being an admin member of a workspace is what grants admin access to its rows.
    def _is_workspace_admin(self, request):
        return request.user.is_active and request.user.is_staff and bool(administered_workspace_ids(request))

    def _may(self, request, obj=None):
        if request.user.is_superuser:
            return True
        if not self._is_workspace_admin(request):
            return False
        return obj is None or _workspace_id_of(obj) in administered_workspace_ids(request)

    def has_module_permission(self, request):
        return request.user.is_superuser or self._is_workspace_admin(request)

    def has_view_permission(self, request, obj=None):
        return self._may(request, obj)

    def has_add_permission(self, request):
        return self._may(request)

    def has_change_permission(self, request, obj=None):
        return self._may(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._may(request, obj)

    # Choices: foreign keys and many-to-many offer only rows of administered workspaces.
    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if _workspace_path(db_field.related_model) is not None:
            kwargs["queryset"] = scope(
                kwargs.get("queryset") or db_field.related_model._default_manager.all(), request
            )
        elif db_field.related_model is get_user_model() and not request.user.is_superuser:
            # Users: only those already in a workspace the staff user administers.
            kwargs["queryset"] = db_field.related_model._default_manager.filter(
                memberships__workspace_id__in=administered_workspace_ids(request)
            ).distinct()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if _workspace_path(db_field.related_model) is not None:
            kwargs["queryset"] = scope(
                kwargs.get("queryset") or db_field.related_model._default_manager.all(), request
            )
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (SameWorkspaceFormMixin, form), {"admin_request": request})

    def save_formset(self, request, form, formset, change):
        # Inline rows (an account's contacts) belong to their parent's workspace.
        instances = formset.save(commit=False)
        for obj in formset.deleted_objects:
            audit_admin_change(request, obj, "deleted")
            obj.delete()
        for obj in instances:
            if isinstance(obj, WorkspaceOwned) and not obj.workspace_id:
                obj.workspace_id = _workspace_id_of(form.instance)
            created = obj.pk is None
            obj.save()
            audit_admin_change(request, obj, "created" if created else "updated")
        formset.save_m2m()

    def save_model(self, request, obj, form, change):
        # Last line of defence behind the form checks: never write into a foreign workspace.
        if not self._may(request, obj):
            raise PermissionDenied(_("You do not administer this workspace."))
        super().save_model(request, obj, form, change)
        audit_admin_change(request, obj, "updated" if change else "created", form_changes(form) if change else None)

    # Every write of the admin is audited like a service's (who: the staff user's membership).
    def delete_model(self, request, obj):
        audit_admin_change(request, obj, "deleted")
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            audit_admin_change(request, obj, "deleted")
        super().delete_queryset(request, queryset)


class SameWorkspaceFormMixin:
    """Every related object picked in the form must live in the row's own workspace."""

    admin_request = None

    def clean(self):
        cleaned = super().clean()
        instance_workspace = cleaned.get("workspace") if "workspace" in cleaned else None
        workspace_id = instance_workspace.pk if instance_workspace else _workspace_id_of(self.instance)
        allowed = administered_workspace_ids(self.admin_request)
        if allowed is not None and workspace_id is not None and workspace_id not in allowed:
            self.add_error(None, _("You do not administer this workspace."))
        if workspace_id is None:
            return cleaned
        for name, value in list(cleaned.items()):
            field = self.fields.get(name)
            values = value if isinstance(field, forms.ModelMultipleChoiceField) and value is not None else [value]
            for related in values:
                if isinstance(related, models.Model) and not isinstance(related, Workspace):
                    related_ws = _workspace_id_of(related)
                    if related_ws is not None and related_ws != workspace_id:
                        self.add_error(name, _("Must belong to the same workspace."))
                        break
        return cleaned


class ReadOnlyScopedAdmin(WorkspaceScopedAdmin):
    """For records written by the system (audit, usage): look, delete if you must, never edit."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class WorkspaceAdmin(WorkspaceScopedAdmin):
    """Registered by cs_platform.admin, which gives a new workspace its defaults (provisioning)."""

    workspace_field = "pk"
    list_display = ["name", "slug", "time_zone", "currency", "language", "created_at"]
    search_fields = ["name", "slug"]

    # Creating and deleting whole tenants is for superusers.
    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


@admin.register(Membership)
class MembershipAdmin(WorkspaceScopedAdmin):
    list_display = ["display_name", "user", "workspace", "role", "is_active", "created_at"]
    list_filter = ["role", "is_active", ("workspace", RelatedOnly)]
    search_fields = ["user__username", "user__email", "user__first_name", "user__last_name"]
    list_select_related = ["user", "workspace"]


@admin.register(ApiToken)
class ApiTokenAdmin(WorkspaceScopedAdmin):
    """Tokens are issued in the app (the key is shown once); here they are listed and revoked."""

    workspace_field = "membership__workspace"
    list_display = ["name", "key_hint", "membership", "created_at", "last_used_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "key_hint", "membership__user__username"]
    list_select_related = ["membership__user", "membership__workspace"]
    # Never the hash: it is useless to a person and should not travel further than it must.
    fields = ["name", "key_hint", "membership", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["key_hint", "membership", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    @admin.action(description=gettext_lazy("Revoke selected tokens"))
    def revoke(self, request, queryset):
        count = 0
        for token in queryset.filter(revoked_at__isnull=True).select_related("membership__workspace"):
            # A staff user acts as their admin membership; a superuser outside the workspace as the site.
            actor = Membership.objects.for_workspace(token.membership.workspace_id).filter(
                user=request.user, is_active=True
            ).first() or SystemActor(f"admin site ({request.user.get_username()})")
            revoke_token(token=token, actor=actor)
            count += 1
        self.message_user(request, _("%(count)d tokens revoked.") % {"count": count}, messages.SUCCESS)


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyScopedAdmin):
    """History is append-only: the admin shows it and offers no change, no delete, no action."""

    list_display = ["at", "workspace", "actor_label", "action", "object_type", "object_repr"]
    list_filter = ["action", "object_type", ("workspace", RelatedOnly)]
    search_fields = ["object_repr", "object_id", "action"]
    list_select_related = ["workspace", "actor__user", "token"]
    date_hierarchy = "at"
    actions = None

    def has_delete_permission(self, request, obj=None):
        return False
