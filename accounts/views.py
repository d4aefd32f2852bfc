"""Account pages: list, account page with the quick touchpoint log, create/edit/delete, contacts and
lifecycle stages. Views parse input; reads go through selectors, writes through services, which
also decide who may do what (workspaces.policy).
"""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count
from django.forms import modelformset_factory
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import DetailView, ListView

from workspaces.models import Membership
from workspaces.pages import SERVICE_ERRORS, WorkspaceMixin, show_on_form
from workspaces.policy import allows
from workspaces.selectors import audit_events

from . import services
from .attributes import attribute_rows
from .filtersets import AccountFilterSet
from .forms import (
    AccountForm,
    ChurnReasonForm,
    ChurnReasonFormSet,
    ContactForm,
    StageForm,
    StageFormSet,
    TouchpointForm,
)
from .models import Account, ChurnReasonCategory, Contact, LifecycleStage
from .selectors import (
    ACCOUNT_ORDERINGS,
    account_contacts,
    account_list,
    account_timeline,
    churn_reason_names,
    churn_reasons,
    stages,
)

# Column key → (ascending ordering, first-click ordering). Money and health start with the biggest.
SORTABLE_COLUMNS = {
    "name": ("name", "name"),
    "arr": ("arr", "-arr"),
    "renewal_date": ("renewal_date", "renewal_date"),
    "health_score": ("health_score", "health_score"),
}

AUDIT_ACTIONS = {
    "account.created": gettext_lazy("created the account"),
    "account.updated": gettext_lazy("edited the account"),
    "account.stage_changed": gettext_lazy("moved the lifecycle stage"),
    "account.deleted": gettext_lazy("deleted the account"),
}


class AccountMixin(WorkspaceMixin):
    model = Account

    def get_queryset(self):
        return super().get_queryset().select_related("owner__user", "stage")

    def get_account(self):
        return self.get_object()

    def get_object(self, queryset=None):
        return self.with_workspace(super().get_object(queryset))

    def with_workspace(self, account):
        # The queryset is scoped to the request's workspace, so that is the account's: reuse it
        # rather than load it again for the selectors that read `account.workspace`.
        account.workspace = self.workspace
        return account


# --- List ----------------------------------------------------------------------------------------
class AccountListView(AccountMixin, ListView):
    template_name = "accounts/account_list.html"
    context_object_name = "accounts"
    paginate_by = 50

    def get_sort(self):
        sort = self.request.GET.get("sort", "name")
        return sort if sort in ACCOUNT_ORDERINGS else "name"

    def get_queryset(self):
        workspace = self.workspace
        rows = account_list(workspace=workspace, ordering=self.get_sort())
        self.filterset = AccountFilterSet(self.request.GET or None, queryset=rows, request=self.request)
        form = self.filterset.form
        # Owner names come with their users in one query, not one per option.
        form.fields["owner"].queryset = Membership.objects.for_workspace(workspace).select_related("user")
        form.fields["owner"].label_from_instance = lambda m: m.display_name
        for name in ("owner", "stage", "status", "touch_tier", "health_band"):
            form.fields[name].empty_label = _("Any")
        # Beside the owner: every account ("Any", the default), or only those nobody owns, or only owned ones.
        form.fields["unowned"].widget.choices = [("unknown", _("Any")), ("true", _("Unassigned")),
                                                 ("false", _("With an owner"))]
        for name in ("status", "touch_tier", "health_band"):
            form.fields[name].widget.choices = list(form.fields[name].choices)
        for name in ("arr_min", "arr_max"):
            form.fields[name].widget.attrs.update(min=0, step="any", **{"class": "width-9em"})
        if self.filterset.is_bound and not self.filterset.is_valid():
            # A filter that names something outside this workspace (or is malformed) is rejected,
            # not silently dropped: show the error and no rows.
            return rows.none()
        return self.filterset.qs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        sort = self.get_sort()
        columns = {}
        for key, (ascending, first) in SORTABLE_COLUMNS.items():
            if sort == ascending:
                columns[key] = {"next": "-" + ascending, "arrow": "▲"}
            elif sort == "-" + ascending:
                columns[key] = {"next": ascending, "arrow": "▼"}
            else:
                columns[key] = {"next": first, "arrow": ""}
        filter_keys = [k for k in self.filterset.form.fields if self.request.GET.get(k)]
        # Other apps' actions on this list (settings.ACCOUNT_LIST_ACTIONS: the export) get its filters,
        # without the page and the sort: imports.selectors applies them through the same FilterSet.
        export_query = self.request.GET.copy()
        for key in ("page", "sort"):
            export_query.pop(key, None)
        context["accounts"] = with_labels(context["accounts"], "status", "touch_tier")
        context.update(
            filterset=self.filterset,
            filter_form=self.filterset.form,
            sort=sort,
            columns=columns,
            is_filtered=bool(filter_keys),
            export_query=export_query.urlencode(),
            account_list_actions=settings.ACCOUNT_LIST_ACTIONS,
            total=context["paginator"].count if context.get("paginator") else len(context["accounts"]),
            can_create=allows(self.actor, "accounts.create", Account(workspace=self.workspace, owner=self.membership)),
            can_manage_stages=allows(self.actor, "accounts.manage_stages"),
            can_manage_churn_reasons=allows(self.actor, "accounts.manage_churn_reasons"),
        )
        return context


# --- Account page --------------------------------------------------------------------------------
def account_page_context(*, account, membership, touchpoint_form=None):
    """Everything the account page shows, shared by the page and the touchpoint form's error path."""
    can_log = allows(membership, "touchpoints.log", account)
    if can_log and touchpoint_form is None:
        touchpoint_form = TouchpointForm(account=account)
    return {
        "account": account,
        "contacts": with_labels(account_contacts(account=account), "role"),
        "timeline": with_labels(account_timeline(account=account), "channel", "sentiment"),
        "touchpoint_form": touchpoint_form if can_log else None,
        "can_edit": allows(membership, "accounts.change", account),
        "can_delete": allows(membership, "accounts.delete", account),
        "tags": [t.name for t in account.tags.all()],
        # An account that churned before reasons were required may name none; one whose reason has
        # no row (older data) shows its code.
        "churn_reason_name": (churn_reason_names(account.workspace).get(account.churn_reason, account.churn_reason)
                              if account.churn_reason else ""),
        "account_panels": settings.ACCOUNT_PAGE_PANELS,
        "attributes": attribute_rows(account.attributes),
        "audit_events": [
            {"event": e, "label": AUDIT_ACTIONS.get(e.action, e.action)}
            for e in audit_events(workspace=account.workspace, object_type="account", object_id=account.pk)[:15]
        ],
    }


def with_labels(objects, *fields):
    """Sets `<field>_label` on each object: what `get_<field>_display()` gives, worked out once.

    `get_FOO_display()` rebuilds and translates the field's whole choice list on every call; on a
    page of 50 accounts or a timeline of up to 100 touchpoints that added up to milliseconds.
    """
    objects = list(objects)
    if not objects:
        return objects
    meta = objects[0]._meta
    labels = {
        field: {value: str(label) for value, label in meta.get_field(field).flatchoices} for field in fields
    }
    for obj in objects:
        for field, by_value in labels.items():
            value = getattr(obj, field)
            setattr(obj, f"{field}_label", by_value.get(value, value))
    return objects


class AccountDetailView(AccountMixin, DetailView):
    template_name = "accounts/account_detail.html"
    context_object_name = "account"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(account_page_context(account=self.object, membership=self.membership))
        return context


class LogTouchpointView(AccountMixin, View):
    """The quick log form posts here; viewers are refused, CSMs may log on any account."""

    required_action = "touchpoints.log"

    def post(self, request, pk):
        account = self.get_account()
        form = TouchpointForm(request.POST, account=account)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.log_touchpoint(
                    account=account, actor=self.actor, channel=data["channel"],
                    occurred_at=data["occurred_at"], summary=data["summary"], sentiment=data["sentiment"],
                    contacts=list(data["contacts"]),
                )
            except SERVICE_ERRORS as exc:
                show_on_form(form, exc)
            else:
                messages.success(request, _("Touchpoint logged."))
                return redirect(reverse("accounts:detail", args=[account.pk]) + "#timeline")
        context = account_page_context(account=account, membership=self.membership, touchpoint_form=form)
        return render(request, "accounts/account_detail.html", context, status=400)


# --- Create / edit / delete ----------------------------------------------------------------------
class AccountFormView(AccountMixin, View):
    """Create (no pk) or edit (pk) an account through the services, which record stage changes."""

    template_name = "accounts/account_form.html"

    def get_form(self, account, data=None):
        return AccountForm(data, instance=account, workspace=self.workspace, membership=self.membership)

    def get_target(self):
        return self.get_account() if "pk" in self.kwargs else Account(workspace=self.workspace)

    def render_form(self, form, account, status=200):
        return render(self.request, self.template_name, {"form": form, "account": account}, status=status)

    def get(self, request, **kwargs):
        account = self.get_target()
        return self.render_form(self.get_form(account), account)

    def post(self, request, **kwargs):
        account = self.get_target()
        form = self.get_form(account, request.POST)
        if form.is_valid():
            data = form.service_kwargs()
            try:
                if account.pk:
                    services.update_account(account=account, actor=self.actor, **data)
                    messages.success(request, _("Account saved."))
                else:
                    account = services.create_account(workspace=self.workspace, actor=self.actor, **data)
                    messages.success(request, _("Account created."))
            except SERVICE_ERRORS as exc:
                show_on_form(form, exc)
            else:
                return redirect("accounts:detail", pk=account.pk)
        return self.render_form(form, account, status=400)


class AccountCreateView(AccountFormView):
    required_action = "accounts.create"

    def policy_object(self):
        # May this member create an account at all (of their own, at least)? The service checks the
        # owner the form names.
        return Account(workspace=self.workspace, owner=self.membership)


class AccountEditView(AccountFormView):
    required_action = "accounts.change"


class AccountDeleteView(AccountMixin, View):
    required_action = "accounts.delete"
    template_name = "accounts/account_confirm_delete.html"

    def get(self, request, pk):
        account = self.get_account()
        counts = {"contacts": account.contacts.count(), "touchpoints": account.touchpoints.count()}
        return render(request, self.template_name, {"account": account, "counts": counts})

    def post(self, request, pk):
        account = self.get_account()
        name = account.name
        services.delete_account(account=account, actor=self.actor)
        messages.success(request, _("Account “%(name)s” deleted.") % {"name": name})
        return redirect("accounts:list")


# --- Contacts ------------------------------------------------------------------------------------
class ContactFormView(AccountMixin, View):
    """Add or edit a contact of an account; same rule as editing the account itself."""

    required_action = "accounts.change"
    template_name = "accounts/contact_form.html"

    def get_target(self):
        account = self.get_account()
        if "contact_pk" in self.kwargs:
            contact = get_object_or_404(account_contacts(account=account), pk=self.kwargs["contact_pk"])
        else:
            contact = Contact(workspace=self.workspace, account=account)
        return account, contact

    def render_form(self, form, account, contact, status=200):
        context = {"form": form, "account": account, "contact": contact}
        return render(self.request, self.template_name, context, status=status)

    def get(self, request, **kwargs):
        account, contact = self.get_target()
        return self.render_form(ContactForm(instance=contact), account, contact)

    def post(self, request, **kwargs):
        account, contact = self.get_target()
        form = ContactForm(request.POST, instance=contact)
        if form.is_valid():
            try:
                services.save_contact(
                    workspace=self.workspace, actor=self.actor, contact=contact if contact.pk else None,
                    account=account, **form.cleaned_data,
                )
            except SERVICE_ERRORS as exc:
                show_on_form(form, exc)
            else:
                messages.success(request, _("Contact saved."))
                return redirect(reverse("accounts:detail", args=[account.pk]) + "#contacts")
        return self.render_form(form, account, contact, status=400)


# --- Lifecycle stages ----------------------------------------------------------------------------
StageFormSetFactory = modelformset_factory(LifecycleStage, form=StageForm, formset=StageFormSet, extra=1)


class StageListView(WorkspaceMixin, View):
    """Managers rename, reorder (by position), set target shares and add lifecycle stages."""

    model = LifecycleStage
    required_action = "accounts.manage_stages"
    template_name = "accounts/stage_list.html"

    def get_formset(self, data=None):
        return StageFormSetFactory(data, queryset=stages(workspace=self.workspace), prefix="stages")

    def render_formset(self, formset, status=200):
        counts = self.stage_counts()
        rows = [(form, counts.get(form.instance.pk, 0) if form.instance.pk else None) for form in formset.forms]
        context = {"formset": formset, "rows": rows, "total_active": sum(counts.values())}
        return render(self.request, self.template_name, context, status=status)

    def stage_counts(self):
        return dict(
            Account.objects.for_workspace(self.workspace).active()
            .values("stage").annotate(n=Count("id")).values_list("stage", "n")
        )

    def get(self, request):
        return self.render_formset(self.get_formset())

    def post(self, request):
        formset = self.get_formset(request.POST)
        if formset.is_valid():
            try:
                with transaction.atomic():
                    for form in formset.forms:
                        if not form.has_changed():
                            continue
                        fields = {k: form.cleaned_data[k] for k in ("name", "position", "target_share", "stuck_after_days")}
                        services.save_stage(
                            workspace=self.workspace, actor=self.actor,
                            stage=form.instance if form.instance.pk else None, **fields,
                        )
            except SERVICE_ERRORS as exc:
                formset._non_form_errors = formset.error_class(
                    exc.messages if isinstance(exc, ValidationError) else [exc.message]
                )
            else:
                messages.success(request, _("Lifecycle stages saved."))
                return redirect("accounts:stages")
        return self.render_formset(formset, status=400)


# --- Churn reasons -------------------------------------------------------------------------------
ChurnReasonFormSetFactory = modelformset_factory(ChurnReasonCategory, form=ChurnReasonForm,
                                                 formset=ChurnReasonFormSet, extra=1, can_delete=True)


class ChurnReasonListView(WorkspaceMixin, View):
    """Managers add, rename, describe, reorder (by position), archive and delete churn reasons."""

    model = ChurnReasonCategory
    required_action = "accounts.manage_churn_reasons"
    template_name = "accounts/churn_reason_list.html"

    def get_formset(self, data=None):
        return ChurnReasonFormSetFactory(data, queryset=churn_reasons(workspace=self.workspace), prefix="reasons")

    def render_formset(self, formset, status=200):
        counts = dict(
            Account.objects.for_workspace(self.workspace).exclude(churn_reason="")
            .values("churn_reason").annotate(n=Count("id")).values_list("churn_reason", "n")
        )
        rows = [(form, counts.get(form.instance.code, 0) if form.instance.pk else None) for form in formset.forms]
        context = {"formset": formset, "rows": rows, "total_churned": sum(counts.values()),
                   "can_manage_stages": allows(self.actor, "accounts.manage_stages")}
        return render(self.request, self.template_name, context, status=status)

    def get(self, request):
        return self.render_formset(self.get_formset())

    def post(self, request):
        formset = self.get_formset(request.POST)
        if formset.is_valid():
            try:
                with transaction.atomic():
                    for form in formset.forms:
                        if form in formset.deleted_forms:
                            if form.instance.pk:
                                services.delete_churn_reason(reason=form.instance, actor=self.actor)
                            continue
                        if not form.has_changed():
                            continue
                        fields = {k: form.cleaned_data[k] for k in
                                  ("name", "description", "counts_as_onboarding_failure", "position", "archived")}
                        if not form.instance.pk:
                            fields["code"] = form.cleaned_data.get("code") or ""
                        services.save_churn_reason(
                            workspace=self.workspace, actor=self.actor,
                            reason=form.instance if form.instance.pk else None, **fields,
                        )
            except SERVICE_ERRORS as exc:
                formset._non_form_errors = formset.error_class(
                    exc.messages if isinstance(exc, ValidationError) else [exc.message]
                )
            else:
                messages.success(request, _("Churn reasons saved."))
                return redirect("accounts:churn_reasons")
        return self.render_formset(formset, status=400)
