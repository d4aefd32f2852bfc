"""Segment pages: the list, a segment's members and history, and the rule builder."""

import json

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from accounts.models import Account, HealthBand, TouchTier
from workspaces.errors import DomainError
from workspaces.pages import SERVICE_ERRORS, WorkspaceMixin, show_on_form
from workspaces.policy import allows

from . import selectors, services
from .describe import describe_rules, rule_names, rules_sentence
from .filtersets import SegmentMembershipFilterSet
from .forms import SegmentForm
from .models import Segment
from .rules import FIELDS, uses_additions


# --- Segments -------------------------------------------------------------------------------------
class SegmentListView(WorkspaceMixin, TemplateView):
    template_name = "segments/segment_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        segments = list(selectors.segment_list(workspace=self.workspace, filters=self.request.GET,
                                               request=self.request))
        names = rule_names(self.workspace) if segments else {}
        for segment in segments:
            segment.rules_sentence = rules_sentence(segment.rules, names=names)
        context.update(segments=segments, can_edit=allows(self.actor, "segments.manage"))
        return context


class SegmentDetailView(WorkspaceMixin, TemplateView):
    model = Segment
    template_name = "segments/segment_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        segment = self.get_object()
        members = SegmentMembershipFilterSet(
            self.request.GET, queryset=selectors.segment_members(segment=segment), request=self.request
        ).qs
        context.update(
            segment=segment, can_edit=allows(self.actor, "segments.manage"),
            page_obj=Paginator(members, 50).get_page(self.request.GET.get("page")),
            history=selectors.segment_history(segment=segment, limit=50),
            rules_tree=describe_rules(segment.rules, names=rule_names(self.workspace)),
            takes_additions=uses_additions(segment.rules),
            additions=selectors.segment_additions(segment=segment)[:100],
        )
        return context


def _editor_context(workspace):
    """What the rule builder needs to offer: fields with their operators and the workspace's choices."""
    from accounts.models import AccountStatus, LifecycleStage
    from workspaces.models import Membership

    choices = {
        "stage": [[s.pk, s.name] for s in LifecycleStage.objects.for_workspace(workspace)],
        "owner": [[m.pk, m.display_name] for m in Membership.objects.for_workspace(workspace).select_related("user")],
        "status": [[v, str(label)] for v, label in AccountStatus.choices],
        "health_band": [[v, str(label)] for v, label in HealthBand.choices],
        "tier": [[v, str(label)] for v, label in TouchTier.choices],
    }
    fields = [{"name": name, "kind": kind, "ops": ops, "label": _(label)} for name, (kind, ops, label) in FIELDS.items()]
    ops = {"eq": "=", "ne": "≠", "gt": ">", "gte": "≥", "lt": "<", "lte": "≤", "between": _("between"),
           "in": _("is one of"), "not_in": _("is none of"), "is_empty": _("is empty"),
           "is_not_empty": _("is not empty"), "any": _("has any of"), "all": _("has all of"),
           "none": _("has none of"), "yes": _("yes"), "no": _("no")}
    text = {"and": _("All of these (AND)"), "or": _("Any of these (OR)"), "add_condition": _("+ Condition"),
            "add_group": _("+ Group"), "remove": _("Remove"), "matches": _("accounts match"),
            "tags_hint": _("tag names, comma-separated"), "checking": _("Counting…")}
    return {"fields": fields, "choices": choices, "ops": ops, "text": text}


class SegmentFormView(WorkspaceMixin, View):
    model = Segment
    required_action = "segments.manage"
    template_name = "segments/segment_form.html"

    def render(self, form, segment, status=200):
        return render(self.request, self.template_name, {
            "form": form, "segment": segment, "editor": _editor_context(self.workspace),
        }, status=status)

    def get(self, request, pk=None):
        segment = self.get_object_or_none()
        form = SegmentForm(initial=SegmentForm.initial_for(segment) if segment else {
            "rules": json.dumps({"op": "and", "conditions": [{"field": "status", "op": "in", "value": ["active"]}]})
        })
        return self.render(form, segment)

    def post(self, request, pk=None):
        segment = self.get_object_or_none()
        form = SegmentForm(request.POST)
        if form.is_valid():
            try:
                segment = services.save_segment(
                    workspace=self.workspace, actor=self.actor, segment=segment, **form.cleaned_data
                )
            except SERVICE_ERRORS as exc:
                show_on_form(form, exc)
            else:
                messages.success(request, _("Segment saved: %(n)s accounts.") % {"n": segment.member_count})
                return redirect("segments:detail", pk=segment.pk)
        return self.render(form, segment, status=400)


class SegmentDeleteView(WorkspaceMixin, View):
    model = Segment
    required_action = "segments.manage"

    def post(self, request, pk):
        segment = self.get_object()
        services.delete_segment(segment=segment, actor=self.actor)
        messages.success(request, _("Segment deleted."))
        return redirect("segments:list")


class SegmentRecomputeView(WorkspaceMixin, View):
    model = Segment
    required_action = "segments.manage"

    def post(self, request, pk):
        segment = self.get_object()
        result = services.recompute_segment(segment=segment, actor=self.actor)
        if result.get("skipped"):
            messages.info(request, _("Membership was already computed for a later day."))
        else:
            messages.success(request, _("%(entered)s entered, %(left)s left; %(members)s members.") % result)
        return redirect("segments:detail", pk=segment.pk)


class SegmentPreviewView(WorkspaceMixin, View):
    """POST {"rules": …} → {"count": n, "sample": [...]}, or 400 naming the bad condition."""

    required_action = "segments.manage"

    def post(self, request):
        try:
            payload = json.loads(request.body or b"{}")
        except json.JSONDecodeError:
            return JsonResponse({"rules": [_("The request body is not valid JSON.")]}, status=400)
        try:
            return JsonResponse(services.preview_segment(workspace=self.workspace, actor=self.actor,
                                                         rules=payload.get("rules")))
        except DomainError as exc:
            return JsonResponse({exc.field or "rules": [exc.message]}, status=400)




class SegmentAddAccountView(WorkspaceMixin, View):
    """Add one account, named by its exact name or external ID, to a segment that counts additions."""

    model = Segment
    required_action = "segments.manage"

    def post(self, request, pk):
        segment = self.get_object()
        wanted = (request.POST.get("account") or "").strip()
        matches = list(Account.objects.for_workspace(self.workspace)
                       .filter(name=wanted).values_list("pk", flat=True)[:2]) if wanted else []
        if not matches and wanted:
            matches = list(Account.objects.for_workspace(self.workspace)
                           .filter(external_id=wanted).values_list("pk", flat=True)[:1])
        if not wanted:
            messages.error(request, _("Type an account's name or external ID."))
        elif not matches:
            messages.error(request, _("No account is named “%(name)s” and none has it as external ID.") % {"name": wanted})
        elif len(matches) > 1:
            messages.error(request, _("Several accounts are named “%(name)s”: use the external ID.") % {"name": wanted})
        else:
            try:
                result = services.add_to_segment(segment=segment, account_ids=matches, actor=self.actor)
            except DomainError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, _("Added; %(members)s members.") % result if result["added"]
                                 else _("This account was already added."))
        return redirect("segments:detail", pk=segment.pk)


class SegmentRemoveAccountView(WorkspaceMixin, View):
    model = Segment
    required_action = "segments.manage"

    def post(self, request, pk, account_pk):
        segment = self.get_object()
        try:
            result = services.remove_from_segment(segment=segment, account_ids=[account_pk], actor=self.actor)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Taken out; %(members)s members.") % result)
        return redirect("segments:detail", pk=segment.pk)
