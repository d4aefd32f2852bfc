"""Writes of the health capability: defaults, settings, scorecards and their versions, sentiment
ratings and alert outcomes. The nightly scoring is in nightly.py, alert evaluation in alerts.py."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from segments.selectors import segment_names
from workspaces.audit import record_audit
from workspaces.errors import DomainError
from workspaces.policy import acting_member, authorize

from .definition import default_definition, validate_definition
from .models import (
    AlertOutcome,
    AlertStatus,
    HealthSettings,
    HealthSnapshot,
    Scorecard,
    ScorecardVersion,
    SentimentRating,
    SentimentReason,
)
from .selectors import default_scorecard, health_settings, latest_version


# --- defaults, settings and scorecards -----------------------------------------------------------
@transaction.atomic
def ensure_defaults(*, workspace):
    """The settings and the default scorecard (version 1) of a new workspace; idempotent. Called by
    provisioning, so that everything else only reads them."""
    HealthSettings.objects.for_workspace(workspace).get_or_create(workspace=workspace)
    card, created = Scorecard.objects.for_workspace(workspace).get_or_create(
        workspace=workspace, is_default=True, defaults={"name": _("Default scorecard"), "priority": 1000}
    )
    if created:
        ScorecardVersion.objects.create(
            workspace=workspace, scorecard=card, number=1, definition=validate_definition(default_definition()),
            note=_("Default measures and weights"),
        )


@transaction.atomic
def update_settings(*, workspace, actor, **fields):
    authorize(actor, "health.manage")
    settings = health_settings(workspace=workspace)
    if "key_features" in fields:
        features = fields["key_features"]
        if isinstance(features, str):
            features = [f.strip() for f in features.replace("\n", ",").split(",")]
        if not isinstance(features, list) or not all(isinstance(f, str) for f in features):
            raise DomainError(_("Key features are a list of event names."), field="key_features")
        fields["key_features"] = sorted({f.strip() for f in features if f.strip()})
    for field, value in fields.items():
        setattr(settings, field, value)
    settings.full_clean()
    settings.save()
    record_audit(workspace=workspace, actor=actor, action="health.settings_updated", obj=settings,
                 changes={k: str(v) for k, v in fields.items()})
    return settings


@transaction.atomic
def save_scorecard(*, workspace, actor, scorecard=None, definition=None, note="", **fields):
    """Create or edit a scorecard. A changed definition becomes a new immutable version.

    `fields` may hold name, priority, tiers and segments (list of ids); the default scorecard
    always applies last and to everyone else.
    """
    authorize(actor, "health.manage")
    created = scorecard is None
    if created:
        base = latest_version(default_scorecard(workspace=workspace)).definition
        scorecard = Scorecard(workspace=workspace)
        definition = definition if definition is not None else base
    if scorecard.workspace_id != workspace.pk:
        raise DomainError(_("Not found in this workspace."), field="scorecard")
    tiers = fields.get("tiers")
    if tiers is not None:
        from accounts.models import TouchTier

        if not isinstance(tiers, list) or any(t not in TouchTier.values for t in tiers):
            raise DomainError(_("Tiers are a list of high, low and tech."), field="tiers")
    segments = fields.get("segments")
    if segments is not None:
        if not isinstance(segments, list) or not all(isinstance(s, int) and not isinstance(s, bool) for s in segments):
            raise DomainError(_("Segments are a list of segment IDs."), field="segments")
        _check_segments(workspace, segments)
    before = {name: getattr(scorecard, name) for name in fields}
    for field, value in fields.items():
        setattr(scorecard, field, value)
    if not created and scorecard.is_default and (scorecard.tiers or scorecard.segments):
        raise DomainError(_("The default scorecard applies to every account no other scorecard takes."),
                          field="tiers")
    scorecard.full_clean()
    scorecard.save()
    changed = {name: [str(before[name]), str(getattr(scorecard, name))] for name in fields
               if before[name] != getattr(scorecard, name)}
    if created or changed:
        record_audit(workspace=workspace, actor=actor, obj=scorecard,
                     action="health.scorecard_created" if created else "health.scorecard_updated",
                     changes={} if created else changed)
    version = latest_version(scorecard)
    if definition is not None:
        clean = validate_definition(definition)
        if version is None or version.definition != clean:
            version = ScorecardVersion.objects.create(
                workspace=workspace, scorecard=scorecard, number=(version.number + 1) if version else 1,
                definition=clean, note=note[:300], created_by=acting_member(actor),
            )
            record_audit(workspace=workspace, actor=actor, action="health.scorecard_version", obj=scorecard,
                         changes={"version": version.number, "note": note[:300]})
    return scorecard, version


def _check_segments(workspace, segment_ids):
    if segment_ids and set(segment_names(workspace=workspace, ids=segment_ids)) != set(segment_ids):
        raise DomainError(_("Not found in this workspace."), field="segments")


@transaction.atomic
def delete_scorecard(*, scorecard, actor):
    authorize(actor, "health.manage", scorecard)
    if scorecard.is_default:
        raise DomainError(_("The default scorecard cannot be deleted."), field="scorecard")
    if HealthSnapshot.objects.for_workspace(scorecard.workspace).filter(version__scorecard=scorecard).exists():
        raise DomainError(_("Snapshots were computed with this scorecard; keep it for their history."),
                          field="scorecard")
    record_audit(workspace=scorecard.workspace, actor=actor, action="health.scorecard_deleted", obj=scorecard)
    scorecard.delete()


# --- sentiment -----------------------------------------------------------------------------------
@transaction.atomic
def rate_sentiment(*, account, actor, rating, reasons=(), note="", rated_at=None):
    authorize(actor, "health.rate_sentiment", account)
    try:
        rating = int(rating)
    except (TypeError, ValueError):
        raise DomainError(_("A rating is between 1 and 5."), field="rating") from None
    if not 1 <= rating <= 5:
        raise DomainError(_("A rating is between 1 and 5."), field="rating")
    reasons = list(reasons or [])
    unknown = [r for r in reasons if r not in SentimentReason.values]
    if unknown:
        raise DomainError(_("Unknown reason code: %(code)s.") % {"code": unknown[0]}, field="reasons")
    entry = SentimentRating(
        workspace=account.workspace, account=account, rating=rating, reasons=sorted(set(reasons)), note=note,
        rated_by=acting_member(actor), rated_at=rated_at or timezone.now(),
    )
    entry.full_clean()
    entry.save()
    record_audit(workspace=account.workspace, actor=actor, action="health.sentiment_rated", obj=entry,
                 changes={"account": account.name, "rating": rating, "reasons": ", ".join(entry.reasons)})
    return entry


# --- alerts --------------------------------------------------------------------------------------
@transaction.atomic
def record_alert_outcome(*, alert, actor, outcome, reason=""):
    authorize(actor, "health.record_outcome", alert)
    if outcome not in (AlertOutcome.ACTED_ON, AlertOutcome.DISMISSED):
        raise DomainError(_("Choose acted on or dismissed."), field="outcome")
    reason = (reason or "").strip()
    if outcome == AlertOutcome.DISMISSED and not reason:
        raise DomainError(_("Say why the alert is dismissed."), field="outcome_reason")
    alert.outcome, alert.outcome_reason = outcome, reason[:300]
    alert.outcome_at, alert.outcome_by = timezone.now(), acting_member(actor)
    alert.status = AlertStatus.CLOSED
    alert.save(update_fields=["outcome", "outcome_reason", "outcome_at", "outcome_by", "status"])
    record_audit(workspace=alert.workspace, actor=actor, action="health.alert_outcome", obj=alert,
                 changes={"outcome": outcome, "reason": reason[:300]})
    return alert


def _shape(definition):
    """A definition without its weights: what suggested weights may not change."""
    return {**{k: v for k, v in definition.items() if k != "groups"},
            "groups": [{**{k: v for k, v in g.items() if k not in ("weight", "measures")},
                        "measures": [{k: v for k, v in m.items() if k != "weight"} for m in g["measures"]]}
                       for g in definition["groups"]]}


@transaction.atomic
def accept_suggested_weights(*, workspace, actor, scorecard, definition, summary=None):
    """Save suggested weights (healthscore.learning) as a new version of `scorecard`.

    Only the weights may differ from the latest version: the rules, groups and bands stay. `summary`
    (current and suggested out-of-time AUC, churns) goes into the audit trail.
    """
    authorize(actor, "health.manage")
    if scorecard.workspace_id != workspace.pk:
        raise DomainError(_("Not found in this workspace."), field="scorecard")
    clean = validate_definition(definition)
    current = latest_version(scorecard)
    if _shape(clean) != _shape(current.definition):
        raise DomainError(_("The scorecard changed since the weights were suggested: suggest them again."),
                          field="definition")
    if clean == current.definition:
        raise DomainError(_("The suggested weights are the current ones."), field="definition")
    summary = {k: v for k, v in (summary or {}).items() if isinstance(v, int | float | str) or v is None}
    note = _("Suggested weights (out-of-time AUC %(current)s → %(suggested)s)") % {
        "current": _fmt_auc(summary.get("current_auc")), "suggested": _fmt_auc(summary.get("suggested_auc"))}
    _card, version = save_scorecard(workspace=workspace, actor=actor, scorecard=scorecard, definition=clean,
                                    note=note)
    record_audit(workspace=workspace, actor=actor, action="health.suggested_weights_accepted", obj=scorecard,
                 changes={"version": version.number, **summary})
    return version


def _fmt_auc(value):
    return f"{value:.2f}" if isinstance(value, int | float) else "—"
