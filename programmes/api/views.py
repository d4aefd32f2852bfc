"""REST API v1 for programmes, their sessions and attendance.

Everyone in the workspace reads; managers manage programmes and sessions; attendance is imported by
managers (or a manager's API token: an integration of the webinar or newsletter tool).
"""

from django.db.models import Count, Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from workspaces.api.viewsets import WorkspaceReadOnlyViewSet, WorkspaceViewSet
from workspaces.errors import RowErrors

from .. import selectors, services
from ..filtersets import AttendanceFilterSet, ProgrammeFilterSet, ProgrammeSessionFilterSet
from ..models import Attendance, AttendanceStatus, Programme, ProgrammeSession
from .serializers import (
    AttendanceImportErrorSerializer,
    AttendanceImportResultSerializer,
    AttendanceImportSerializer,
    AttendanceRowSerializer,
    AttendanceSerializer,
    EffectReportSerializer,
    ProgrammeSerializer,
    ProgrammeSessionSerializer,
)

NOTE = gettext_lazy("A comparison of attendees' accounts with similar accounts that did not attend, not proof "
                    "that the programme caused the difference.")


def effect_payload(report):
    keys = ("accounts", "progressed", "progression_rate", "usage_accounts", "events_before", "events_after",
            "usage_change", "grew", "grew_share", "enough")
    return {
        "attendees": {k: report["attendees"][k] for k in keys},
        "comparison": {k: report["comparison"][k] for k in keys},
        "difference": report["difference"], "min_group": report["min_group"],
        "sessions_too_recent": [s.pk for s in report["too_recent"]], "note": str(NOTE),
    }


@extend_schema(description=gettext_lazy(
    "Programmes: webinars, seminars, newsletters, in-app messages and community events. Everyone reads; "
    "managers write."))
class ProgrammeViewSet(WorkspaceViewSet):
    queryset = Programme.objects.all()
    serializer_class = ProgrammeSerializer
    policy_actions = {action: "programmes.manage" for action in ("create", "update", "partial_update", "destroy")}
    filterset_class = ProgrammeFilterSet
    ordering_fields = ["name", "kind", "created_at"]

    def perform_create(self, serializer):
        serializer.instance = services.save_programme(
            workspace=self.request.workspace, actor=self.request.actor, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.save_programme(
            workspace=self.request.workspace, actor=self.request.actor, programme=serializer.instance,
            **serializer.validated_data)

    def perform_destroy(self, instance):
        services.delete_programme(programme=instance, actor=self.request.actor)

    @extend_schema(responses=EffectReportSerializer, description=gettext_lazy(
        "Attendees' accounts against comparable accounts that did not attend: stage progression within 60 "
        "days and usage change 60 days later (docs/programmes.md). Figures on fewer than min_group "
        "accounts are null."))
    @action(detail=True, methods=["get"])
    def effect(self, request, pk=None):
        programme = self.get_object()
        report = selectors.effect_report(workspace=request.workspace, today=request.workspace.today(),
                                         programme=programme)
        return Response(effect_payload(report))


@extend_schema(description=gettext_lazy("Sessions of programmes (one webinar, one newsletter issue)."))
class ProgrammeSessionViewSet(WorkspaceViewSet):
    queryset = ProgrammeSession.objects.select_related("programme").annotate(
        registered_count=Count("attendances", filter=Q(attendances__status=AttendanceStatus.REGISTERED)),
        attended_count=Count("attendances", filter=Q(attendances__status=AttendanceStatus.ATTENDED)))
    serializer_class = ProgrammeSessionSerializer
    policy_actions = {**{action: "programmes.manage" for action in (
        "create", "update", "partial_update", "destroy")}, "attendance": "programmes.import_attendance"}
    filterset_class = ProgrammeSessionFilterSet
    ordering_fields = ["starts_at", "title"]

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        serializer.instance = services.save_session(
            workspace=self.request.workspace, actor=self.request.actor, programme=data.pop("programme"), **data)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        programme = data.pop("programme", serializer.instance.programme)
        if programme.pk != serializer.instance.programme_id:
            raise ValidationError({"programme": [_("A session cannot move to another programme.")]})
        serializer.instance = services.save_session(
            workspace=self.request.workspace, actor=self.request.actor, programme=programme,
            session=serializer.instance, **data)

    def perform_destroy(self, instance):
        services.delete_session(session=instance, actor=self.request.actor)

    @extend_schema(request=AttendanceImportSerializer, responses={
        200: AttendanceImportResultSerializer,
        400: OpenApiResponse(AttendanceImportErrorSerializer, description=gettext_lazy(
            "Rows failed; nothing was saved. Each error names the row's index and the field."))},
        description=gettext_lazy(
            "Import attendance of this session, all or nothing: each row names a contact by email or "
            "contact_external_id, and a status (registered or attended; empty: attended). An attended "
            "contact gets a touchpoint of the programme's channel on their account. The same rows twice "
            "create nothing the second time."))
    @action(detail=True, methods=["post"])
    def attendance(self, request, pk=None):
        session = self.get_object()
        body = AttendanceImportSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        rows, errors = [], []
        for index, raw in enumerate(body.validated_data["rows"]):
            row = AttendanceRowSerializer(data=raw)
            if row.is_valid():
                rows.append((index, row.validated_data))
            else:
                errors.append({"index": index, "errors": row.errors})
        if errors:
            errors = sorted(errors + services.attendance_errors(session=session, rows=rows), key=lambda e: e["index"])
        else:
            try:
                result = services.import_attendance(session=session, actor=request.actor, rows=rows)
            except RowErrors as exc:
                errors = exc.errors
        if errors:
            return Response({
                "detail": _("%(failed)d of %(total)d rows failed; nothing was saved.")
                % {"failed": len(errors), "total": len(body.validated_data["rows"])},
                "errors": errors,
            }, status=status.HTTP_400_BAD_REQUEST)
        return Response(result)

    @extend_schema(responses=EffectReportSerializer, description=gettext_lazy(
        "The effect report for this session's attendees (see the programme's effect)."))
    @action(detail=True, methods=["get"])
    def effect(self, request, pk=None):
        session = self.get_object()
        report = selectors.effect_report(workspace=request.workspace, today=request.workspace.today(),
                                         session=session)
        return Response(effect_payload(report))


@extend_schema(description=gettext_lazy("Attendance of programme sessions (read only: import through a session)."))
class AttendanceViewSet(WorkspaceReadOnlyViewSet):
    queryset = Attendance.objects.select_related("session", "contact__account")
    serializer_class = AttendanceSerializer
    filterset_class = AttendanceFilterSet
    ordering_fields = ["created_at", "status"]
