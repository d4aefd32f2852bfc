"""Health pages: overview, the account panel's forms, My alerts, scorecards with what-if, back-test."""

import datetime as dt
import json

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views import View

from accounts.models import Account, AccountStatus
from segments.selectors import segments_of
from workspaces import owners
from workspaces.errors import DomainError
from workspaces.owners import choose_owner
from workspaces.pages import WorkspaceMixin
from workspaces.policy import allows
from workspaces.selectors import workspace_members

from . import services
from .backtest import (
    HORIZON_DAYS,
    HORIZONS,
    MONTHLY,
    default_period,
    measure_labels,
    parse_horizon,
    parse_step,
    report,
    what_if,
)
from .calibration import calibrate
from .definition import MEASURE_KINDS, describe_rule, measure_label
from .forms import HealthSettingsForm, NewScorecardForm, SentimentForm, definition_from_post
from .learning import MIN_CHURNS, suggest_weights
from .models import HealthAlert, Scorecard
from .selectors import (
    alert_precision,
    alerts,
    default_scorecard,
    group_labels,
    health_overview,
    health_settings,
    latest_version,
    open_alerts,
    scorecards,
    sentiment_disagreements,
)


class HealthOverviewView(WorkspaceMixin, View):
    template_name = "healthscore/overview.html"

    def get(self, request):
        ws = self.workspace
        accounts = Account.objects.for_workspace(ws).filter(status=AccountStatus.ACTIVE).select_related("owner__user")
        settings = health_settings(workspace=ws)
        context = {
            "bands": health_overview(workspace=ws),
            "lowest": accounts.filter(health_score__isnull=False).order_by("health_score", "id")[:15],
            "falling": accounts.filter(health_change_30d__lt=0).order_by("health_change_30d", "id")[:15],
            "disagreements": sentiment_disagreements(workspace=ws)[:30],
            "scorecards": _scorecard_rows(ws),
            "settings": settings,
            "settings_form": HealthSettingsForm(initial={
                "key_features": ", ".join(settings.key_features), "sentiment_stale_days": settings.sentiment_stale_days,
                "alert_drop_points": settings.alert_drop_points, "alert_weekly_budget": settings.alert_weekly_budget,
            }),
            "new_scorecard_form": NewScorecardForm(segment_choices=_segment_choices(ws)),
        }
        return render(request, self.template_name, context)


def _scorecard_rows(workspace):
    rows = []
    for card in scorecards(workspace=workspace):
        versions = sorted(card.versions.all(), key=lambda v: v.number)
        rows.append({"card": card, "version": versions[-1] if versions else None})
    return rows


def _segment_choices(workspace):
    return [(str(s.pk), s.name) for s in segments_of(workspace=workspace)]


class HealthSettingsView(WorkspaceMixin, View):
    required_action = "health.manage"

    def post(self, request):
        form = HealthSettingsForm(request.POST)
        if form.is_valid():
            try:
                services.update_settings(workspace=self.workspace, actor=self.actor, **form.cleaned_data)
                messages.success(request, _("Health settings saved."))
            except DomainError as error:
                messages.error(request, error.message)
        else:
            messages.error(request, _("Check the settings: %(errors)s") % {
                "errors": "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items())})
        return redirect("health:overview")


class RateSentimentView(WorkspaceMixin, View):
    model = Account
    required_action = "health.rate_sentiment"

    def post(self, request, pk):
        account = self.get_object()
        form = SentimentForm(request.POST)
        if form.is_valid():
            try:
                services.rate_sentiment(account=account, actor=self.actor, **form.cleaned_data)
                messages.success(request, _("Sentiment recorded."))
            except DomainError as error:
                messages.error(request, error.message)
        else:
            messages.error(request, _("Choose a rating from 1 to 5."))
        return redirect("accounts:detail", pk=account.pk)


class MyAlertsView(WorkspaceMixin, View):
    template_name = "healthscore/alerts.html"

    def get(self, request):
        # A manager sees the whole team's by default, or "Unassigned", or one member's (workspaces.owners).
        may_see_any = allows(self.actor, "health.see_any_alerts")
        choice = choose_owner(request.GET.get("owner"), membership=self.membership, may_see_any=may_see_any)
        pushed, digest, week = open_alerts(workspace=self.workspace, owner=choice.owner)
        # The budget counts accounts pushed this week (open or since closed), as _apply_budget does.
        this_week = alerts(workspace=self.workspace).filter(week=week, pushed=True)
        if choice.owner != owners.ALL:
            this_week = this_week.filter(owner=choice.owner)
        pushed_this_week = this_week.values("account_id", "owner_id").distinct().count()
        context = {"owner": choice.member, "owner_choice": choice, "pushed": pushed, "digest": digest, "week": week,
                   "week_end": week + dt.timedelta(days=6), "pushed_this_week": pushed_this_week,
                   "digest_count": digest.count(), "group_labels": group_labels(workspace=self.workspace),
                   "budget": health_settings(workspace=self.workspace).alert_weekly_budget}
        if may_see_any:
            rows, totals = alert_precision(workspace=self.workspace)
            context.update({
                "precision": rows, "totals": totals, "members": workspace_members(workspace=self.workspace),
                "unassigned": alerts(workspace=self.workspace).filter(owner__isnull=True, status="open")[:50],
            })
        return render(request, self.template_name, context)


class AlertOutcomeView(WorkspaceMixin, View):
    model = HealthAlert
    required_action = "health.record_outcome"

    def post(self, request, pk):
        alert = self.get_object(self.get_queryset().select_related("account"))
        try:
            services.record_alert_outcome(alert=alert, actor=self.actor, outcome=request.POST.get("outcome", ""),
                                          reason=request.POST.get("outcome_reason", ""))
            messages.success(request, _("Outcome recorded."))
        except DomainError as error:
            messages.error(request, error.message)
        return self.redirect_back("health:alerts")


class NewScorecardView(WorkspaceMixin, View):
    required_action = "health.manage"

    def post(self, request):
        form = NewScorecardForm(request.POST, segment_choices=_segment_choices(self.workspace))
        if not form.is_valid():
            messages.error(request, _("Check the scorecard: %(errors)s") % {
                "errors": "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items())})
            return redirect("health:overview")
        data = form.cleaned_data
        try:
            card, _v = services.save_scorecard(
                workspace=self.workspace, actor=self.actor, name=data["name"], priority=data["priority"],
                tiers=data["tiers"], segments=[int(s) for s in data["segments"]], note=_("Copied from the default"))
        except DomainError as error:
            messages.error(request, error.message)
            return redirect("health:overview")
        return redirect("health:scorecard", pk=card.pk)


class ScorecardView(WorkspaceMixin, View):
    """Managers edit weights and rules; "preview" shows the effect (what-if) without saving."""

    model = Scorecard
    policy_actions = {"post": "health.manage"}
    template_name = "healthscore/scorecard.html"

    def get_card(self, pk):
        return self.get_object(self.get_queryset().prefetch_related("versions"))

    def get(self, request, pk):
        card = self.get_card(pk)
        version = latest_version(card)
        return self.render(card, version, version.definition, errors={}, preview=None)

    def post(self, request, pk):
        card = self.get_card(pk)
        version = latest_version(card)
        definition, errors = definition_from_post(request.POST, version.definition)
        preview = calibration = None
        if not errors:
            try:
                if request.POST.get("action") == "calibrate":
                    # Proposed usage thresholds replace the edited rules in the form, shown with their
                    # what-if preview; nothing is saved until the manager saves them as a version.
                    calibration = calibrate(workspace=self.workspace, definition=definition)
                    definition = calibration["definition"]
                if request.POST.get("action") == "save":
                    _card, new_version = services.save_scorecard(
                        workspace=self.workspace, actor=self.actor, scorecard=card, definition=definition,
                        note=request.POST.get("note", ""))
                    if new_version.pk != version.pk:
                        messages.success(request, _("Saved as version %(n)s.") % {"n": new_version.number})
                    else:
                        messages.info(request, _("Nothing changed."))
                    return redirect("health:scorecard", pk=card.pk)
                start, end = default_period(workspace=self.workspace)
                preview = what_if(workspace=self.workspace, definition=definition, start=start, end=end,
                                  scorecard=card)
                # Before and after are drawn on one scale, so that their bars compare by height.
                preview["chart_max"] = max(
                    [b["value"] or 0 for b in preview["current_distribution"] + preview["new_distribution"]],
                    default=0)
            except DomainError as error:
                errors[error.field or "definition"] = error.message
        status = 400 if errors else 200
        return self.render(card, version, definition, errors=errors, preview=preview, status=status,
                           calibration=calibration)

    def render(self, card, version, definition, *, errors, preview, status=200, calibration=None):
        groups = []
        for group in definition["groups"]:
            rows = []
            for m in group["measures"]:
                rule = m["rule"]
                rows.append({
                    "m": m, "label": measure_label(m), "describe": describe_rule(rule),
                    "steps": ", ".join(f"{s['at']:g}:{s['points']:g}" for s in rule.get("steps", [])),
                    "otherwise": rule.get("below", rule.get("above", 0)),
                })
            groups.append({"g": group, "measures": rows})
        context = {
            "card": card, "version": version, "definition": definition, "groups": groups, "errors": errors,
            "preview": preview, "kinds": [(k, v[0]) for k, v in MEASURE_KINDS.items()],
            "versions": sorted(card.versions.all(), key=lambda v: -v.number),
            "can_manage": allows(self.actor, "health.manage"),
            "min_share": round(definition.get("min_available_weight", 0.5) * 100),
            "calibration": _calibration_rows(calibration),
        }
        return render(self.request, self.template_name, context, status=status)


def _calibration_rows(calibration):
    if not calibration:
        return None
    rows = [{**row, "current_text": describe_rule(row["current"]),
             "proposed_text": describe_rule(row["proposed"]) if row["proposed"] else None}
            for row in calibration["rows"]]
    return {"rows": rows, "days": calibration["days"], "changed": calibration["changed"]}


def backtest_options(query):
    """(options, {field: error}) from the page's query string: start, end, horizon_days, step."""
    errors = {}
    options = {"start": _date(query.get("start")), "end": _date(query.get("end")), "horizon_days": HORIZON_DAYS,
               "step": MONTHLY}
    for field in ("start", "end"):
        if query.get(field) and options[field] is None:
            errors[field] = _("Enter a date as YYYY-MM-DD.")
    try:
        options["horizon_days"] = parse_horizon(query.get("horizon_days"))
    except ValueError:
        errors["horizon_days"] = _("Choose 30, 60 or 90 days.")
    kind = query.get("step") or ("days" if query.get("step_days") else MONTHLY)
    try:
        if kind == "days":
            options["step"] = parse_step(query.get("step_days") or "")
            if options["step"] == MONTHLY:
                raise ValueError("empty")
        elif kind != MONTHLY:
            options["step"] = parse_step(kind)
    except ValueError:
        errors["step_days"] = _("Give a whole number of days from 1 to 365.")
    if options["start"] and options["end"] and options["start"] > options["end"]:
        errors["start"] = _("The start is after the end.")
    return options, errors


class BacktestView(WorkspaceMixin, View):
    required_action = "health.backtest"
    template_name = "healthscore/backtest.html"

    def get(self, request):
        options, errors = backtest_options(request.GET)
        start, end = default_period(workspace=self.workspace, start=options["start"], end=options["end"],
                                    horizon_days=options["horizon_days"])
        if start > end:
            start = end
        labels = {}
        for _card, version in _latest_versions(self.workspace):
            labels.update(measure_labels(version.definition))
        result = report(workspace=self.workspace, start=start, end=end, step=options["step"],
                        horizon_days=options["horizon_days"], labels=labels)
        for band in result["bands"]:
            band["rate_pct"] = None if band["rate"] is None else band["rate"] * 100
        context = {"result": result, "start": start, "end": end, "options": options, "errors": errors,
                   "horizons": HORIZONS, "scorecards": scorecards(workspace=self.workspace),
                   "min_churns": MIN_CHURNS, "can_manage": allows(self.actor, "health.manage")}
        return render(request, self.template_name, context, status=400 if errors else 200)


class SuggestWeightsView(WorkspaceMixin, View):
    """POST: fit weights to the workspace's churn history and show the proposal (nothing is saved)."""

    required_action = "health.backtest"
    template_name = "healthscore/suggest_weights.html"

    def post(self, request):
        options, errors = backtest_options(request.POST)
        card = _chosen_scorecard(self.workspace, request.POST.get("scorecard"))
        if card is None:
            errors["scorecard"] = _("Choose a scorecard of this workspace.")
        proposal = None
        version = None
        if not errors:
            version = latest_version(card)
            start, end = default_period(workspace=self.workspace, start=options["start"], end=options["end"],
                                        horizon_days=options["horizon_days"])
            proposal = suggest_weights(workspace=self.workspace, definition=version.definition, start=start,
                                       end=end, step=options["step"], horizon_days=options["horizon_days"])
            if not proposal["refused"]:
                for auc_result in (proposal["current"], proposal["suggested"]):
                    low_high = auc_result["ci"]
                    auc_result["ci_text"] = f"{low_high[0]:.2f}–{low_high[1]:.2f}" if low_high else "—"
                proposal["definition_json"] = json.dumps(proposal["definition"], ensure_ascii=False)
        context = {"card": card, "version": version, "proposal": proposal, "errors": errors, "options": options,
                   "min_churns": MIN_CHURNS, "can_manage": allows(self.actor, "health.manage")}
        return render(request, self.template_name, context, status=400 if errors else 200)


class AcceptWeightsView(WorkspaceMixin, View):
    """POST: the suggested weights as a new version of the scorecard (managers)."""

    required_action = "health.manage"

    def post(self, request):
        card = _chosen_scorecard(self.workspace, request.POST.get("scorecard"))
        if card is None:
            messages.error(request, _("Choose a scorecard of this workspace."))
            return redirect("health:backtest")
        try:
            definition = json.loads(request.POST.get("definition") or "")
        except ValueError:
            messages.error(request, _("The suggested weights were not readable: suggest them again."))
            return redirect("health:scorecard", pk=card.pk)
        summary = {}
        for field in ("current_auc", "suggested_auc", "churns"):
            try:
                number = float(request.POST.get(field, ""))
                summary[field] = int(number) if field == "churns" else round(number, 4)
            except ValueError:
                summary[field] = None
        try:
            version = services.accept_suggested_weights(
                workspace=self.workspace, actor=self.actor, scorecard=card, definition=definition, summary=summary)
            messages.success(request, _("Suggested weights saved as version %(n)s.") % {"n": version.number})
        except DomainError as error:
            messages.error(request, error.message)
        return redirect("health:scorecard", pk=card.pk)


def _chosen_scorecard(workspace, value):
    if not value:
        return default_scorecard(workspace=workspace)
    try:
        pk = int(value)
    except (TypeError, ValueError):
        return None
    return scorecards(workspace=workspace).filter(pk=pk).first()


def _latest_versions(workspace):
    from .selectors import active_scorecards

    return active_scorecards(workspace=workspace)


def _date(value):
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None

