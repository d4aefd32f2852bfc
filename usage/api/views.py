"""`/api/v1/usage/history/`: load historical usage events from a file, rebuild rollups, follow the jobs.

A file is sent as the raw body (`Content-Type: text/csv` or `application/x-ndjson`, read as a stream,
never whole in memory) or as a multipart form field `file`. It is checked in full before anything is
written: a bad row is a 400 naming its line and field, and nothing is stored (send the file again
once fixed; events already stored are deduplicated by message id).
"""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import BaseParser, FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from workspaces.api.viewsets import WorkspaceReadOnlyViewSet

from ..forms import RebuildForm
from ..models import HistoryImport
from ..services.history import HistoryError, start_import, start_rebuild

CHUNK = 1024 * 1024


class StreamParser(BaseParser):
    """Accepts the raw body's media types; the view reads the stream itself (request.data stays unused)."""

    media_type = "*/*"

    def parse(self, stream, media_type=None, parser_context=None):
        return {}


class HistoryImportSerializer(serializers.ModelSerializer):
    class Meta:
        model = HistoryImport
        fields = ["id", "kind", "filename", "rows", "first_day", "last_day", "status", "summary", "failure",
                  "created_at", "finished_at"]
        read_only_fields = fields


@extend_schema_view(
    list=extend_schema(summary=gettext_lazy("List the usage-history loads and rebuilds"),
                       description=gettext_lazy("Newest first; managers and admins.")),
    retrieve=extend_schema(summary=gettext_lazy("Read one usage-history load or rebuild"),
                           description=gettext_lazy("Its status and, once done, its outcome: events new and "
                                                    "already stored, days rebuilt, days whose raw events are gone.")),
)
class UsageHistoryViewSet(WorkspaceReadOnlyViewSet):
    # Loads of usage history and rebuilds of daily rollups (managers and admins). A comment, not a
    # docstring: the API schema would show a docstring as the description, untranslated.

    queryset = HistoryImport.objects.all()
    serializer_class = HistoryImportSerializer
    parser_classes = [JSONParser, MultiPartParser, FormParser, StreamParser]
    filter_backends = []
    policy_actions = {"list": "usage.import_history", "retrieve": "usage.import_history",
                      "create": "usage.import_history", "rebuild": "usage.import_history"}

    @extend_schema(
        summary=gettext_lazy("Load historical usage events (CSV or NDJSON)"),
        description=gettext_lazy("The raw body (text/csv or application/x-ndjson) or the multipart field "
                                 "“file”. The whole file is checked first: a bad row is a 400 naming its line "
                                 "and field, and nothing is stored."),
        request={"text/csv": OpenApiTypes.BINARY, "application/x-ndjson": OpenApiTypes.BINARY,
                 "multipart/form-data": {"type": "object", "properties": {"file": {"type": "string",
                                                                                   "format": "binary"}}}},
        responses={202: HistoryImportSerializer,
                   400: OpenApiResponse(description=gettext_lazy("Bad rows, each with its line and field; "
                                                                 "nothing stored"))},
    )
    def create(self, request):
        django_request = request._request
        content_type = (request.content_type or "").split(";")[0].strip().lower()
        if content_type.startswith("multipart/"):
            upload = request.FILES.get("file")
            if upload is None:
                return self._bad([{"line": 0, "field": "file", "message": _("Send the file in the field “file”.")}])
            chunks, name = upload.chunks(), upload.name
        else:
            fmt = "ndjson" if "json" in content_type else "csv"
            chunks = iter(lambda: django_request.read(CHUNK), b"")
            name = request.query_params.get("filename") or f"upload.{fmt}"
        try:
            job = start_import(workspace=request.workspace, actor=request.actor, chunks=chunks, filename=name)
        except HistoryError as exc:
            return self._bad(exc.errors)
        job.refresh_from_db()
        return Response(HistoryImportSerializer(job).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(summary=gettext_lazy("Rebuild the daily rollups of a range of days"),
                   description=gettext_lazy("first_day and last_day (YYYY-MM-DD). Days whose raw events are "
                                            "gone are listed in summary.days_without_events and left as they "
                                            "were."),
                   request=OpenApiTypes.OBJECT,
                   responses={202: HistoryImportSerializer})
    @action(detail=False, methods=["post"])
    def rebuild(self, request):
        data = request.data
        if not hasattr(data, "get"):  # a JSON body that is no object: `true`, a list…
            return Response({"code": "invalid", "message": _("Send an object with first_day and last_day.")},
                            status=status.HTTP_400_BAD_REQUEST)
        form = RebuildForm(data)
        if not form.is_valid():
            return Response({"code": "invalid", "message": _("Invalid range."), **form.errors.get_json_data()},
                            status=status.HTTP_400_BAD_REQUEST)
        job = start_rebuild(workspace=request.workspace, actor=request.actor, first=form.cleaned_data["first_day"],
                            last=form.cleaned_data["last_day"])
        job.refresh_from_db()
        return Response(HistoryImportSerializer(job).data, status=status.HTTP_202_ACCEPTED)

    def _bad(self, errors):
        first = errors[0]
        return Response({"code": "invalid_rows",
                         "message": _("Line %(line)s, %(field)s: %(message)s Nothing was stored.") % first,
                         "errors": errors}, status=status.HTTP_400_BAD_REQUEST)
