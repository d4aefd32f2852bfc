"""Every REST API v1 route, registered on one router. Each app adds its viewsets here."""

from rest_framework.routers import DefaultRouter

from accounts.api import views as accounts_api
from coverage.api import views as coverage_api
from expansion.api import views as expansion_api
from healthscore.api import views as health_api
from imports.api import views as imports_api
from lifecycle.api import views as lifecycle_api
from onboarding.api import views as onboarding_api
from playbooks.api import playbooks as playbooks_api
from playbooks.api import reports as playbook_reports_api
from playbooks.api import tasks as tasks_api
from programmes.api import views as programmes_api
from renewals.api import views as renewals_api
from revenue.api import views as revenue_api
from segments.api import views as segments_api
from success.api import views as success_api
from usage.api import views as usage_api
from voice.api import views as voice_api
from webhooks.api import views as webhooks_api
from workspaces.api import audit as workspaces_audit_api
from workspaces.api import views as workspaces_api

router = DefaultRouter()
router.register("accounts", accounts_api.AccountViewSet, basename="account")
router.register("contacts", accounts_api.ContactViewSet, basename="contact")
router.register("touchpoints", accounts_api.TouchpointViewSet, basename="touchpoint")
router.register("contracts", accounts_api.ContractViewSet, basename="contract")
router.register("stages", accounts_api.LifecycleStageViewSet, basename="stage")
router.register("tags", accounts_api.TagViewSet, basename="tag")
router.register("churn-reasons", accounts_api.ChurnReasonViewSet, basename="churn-reason")
router.register("members", workspaces_api.MemberViewSet, basename="member")
router.register("me", workspaces_api.MeViewSet, basename="me")
router.register("audit-events", workspaces_audit_api.AuditEventViewSet, basename="audit-event")

router.register("exports", imports_api.ExportViewSet, basename="export")
router.register("segments", segments_api.SegmentViewSet, basename="segment")
router.register("usage/history", usage_api.UsageHistoryViewSet, basename="usage-history")
router.register("cadence-policies", coverage_api.CadencePolicyViewSet, basename="cadence-policy")
router.register("tier-pins", coverage_api.TierPinViewSet, basename="tier-pin")
router.register("touch-model", coverage_api.TouchModelViewSet, basename="touch-model")
router.register("coverage", coverage_api.CoverageViewSet, basename="coverage")
router.register("health/settings", health_api.HealthSettingsViewSet, basename="health-settings")
router.register("health/scorecards", health_api.ScorecardViewSet, basename="health-scorecard")
router.register("health/snapshots", health_api.HealthSnapshotViewSet, basename="health-snapshot")
router.register("health/sentiment", health_api.SentimentRatingViewSet, basename="health-sentiment")
router.register("health/alerts", health_api.HealthAlertViewSet, basename="health-alert")
router.register("health/accounts", health_api.AccountHealthViewSet, basename="health-account")
router.register("health/backtest", health_api.BacktestViewSet, basename="health-backtest")
router.register("webhooks", webhooks_api.WebhookEndpointViewSet, basename="webhook")
router.register("webhook-deliveries", webhooks_api.WebhookDeliveryViewSet, basename="webhook-delivery")
router.register("playbook-report", playbook_reports_api.PlaybookReportViewSet, basename="playbook-report")
router.register("tasks", tasks_api.TaskViewSet, basename="task")
router.register("playbooks", playbooks_api.PlaybookViewSet, basename="playbook")
router.register("playbook-runs", playbooks_api.PlaybookRunViewSet, basename="playbook-run")
router.register("renewals", renewals_api.RenewalViewSet, basename="renewal")
router.register("renewal-outcomes", renewals_api.RenewalOutcomeViewSet, basename="renewal-outcome")
router.register("opportunities", expansion_api.OpportunityViewSet, basename="opportunity")
router.register("revenue/metrics", revenue_api.MetricsViewSet, basename="revenue-metrics")
router.register("revenue/movements", revenue_api.MovementsViewSet, basename="revenue-movements")
router.register("revenue/churn-reasons", revenue_api.ChurnReasonsViewSet, basename="revenue-churn-reasons")

router.register("feature-requests", voice_api.FeatureRequestViewSet, basename="feature-request")
router.register("feature-request-evidence", voice_api.FeatureRequestEvidenceViewSet, basename="feature-request-evidence")
router.register("survey-responses", voice_api.SurveyResponseViewSet, basename="survey-response")
router.register("nps", voice_api.NpsViewSet, basename="nps")
router.register("programmes", programmes_api.ProgrammeViewSet, basename="programme")
router.register("handoffs", onboarding_api.HandoffViewSet, basename="handoff")
router.register("onboarding/milestones", onboarding_api.MilestoneViewSet, basename="onboarding-milestone")
router.register("onboarding/report", onboarding_api.OnboardingReportViewSet, basename="onboarding-report")
router.register("onboarding/settings", onboarding_api.OnboardingSettingsViewSet, basename="onboarding-settings")
router.register("onboarding/milestone-plan", onboarding_api.MilestoneTemplateViewSet,
                basename="onboarding-milestone-plan")
router.register("programme-sessions", programmes_api.ProgrammeSessionViewSet, basename="programme-session")
router.register("programme-attendance", programmes_api.AttendanceViewSet, basename="programme-attendance")
router.register("success-plans", success_api.SuccessPlanViewSet, basename="success-plan")
router.register("success-objectives", success_api.ObjectiveViewSet, basename="success-objective")
router.register("success-levels", success_api.LevelDefinitionViewSet, basename="success-level")
router.register("kpt-notes", success_api.KptNoteViewSet, basename="kpt-note")

router.register("lifecycle/stage-distribution", lifecycle_api.StageDistributionViewSet,
                basename="lifecycle-stage-distribution")
router.register("lifecycle/stuck", lifecycle_api.StuckViewSet, basename="lifecycle-stuck")
router.register("lifecycle/levels", lifecycle_api.UsageLevelViewSet, basename="lifecycle-levels")
router.register("lifecycle/level-report", lifecycle_api.LevelReportViewSet, basename="lifecycle-level-report")
urlpatterns = router.urls
