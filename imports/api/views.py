"""`GET /api/v1/exports/{object_type}.csv|.xlsx`: the page export, for BI tools and scripts."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from accounts.filtersets import AccountFilterSet
from workspaces.api.schema import interpolate_lazy
from workspaces.api.viewsets import WorkspaceAPIViewSet

from .. import selectors
from ..columns import OBJECT_TYPES
from ..views import export_filename
from .renderers import CSVRenderer, ExportTable, XLSXRenderer

ACCOUNT_FILTER_PARAMETERS = [
    OpenApiParameter(name, OpenApiTypes.STR, OpenApiParameter.QUERY, required=False,
                     description=interpolate_lazy(_("%(filter)s (accounts only; the account list's filter)"),
                                                  {"filter": filter_.label}))
    for name, filter_ in AccountFilterSet.base_filters.items()
]


class ExportViewSet(WorkspaceAPIViewSet):
    """Exports of the caller's workspace in the canonical import columns (a file imports back as is)."""
    renderer_classes = [CSVRenderer, XLSXRenderer]
    lookup_field = "object_type"
    lookup_value_regex = "|".join(OBJECT_TYPES)
    pagination_class = None

    @extend_schema(
        operation_id="exports_retrieve",
        summary=_("Export accounts, contacts, touchpoints or contracts as CSV or XLSX"),
        description=_("Add `.csv` or `.xlsx` to the path (or send `Accept`). CSV is UTF-8 with a BOM. Account "
                      "exports take the same filters as `GET /api/v1/accounts/`; an invalid filter is a 400 "
                      "naming it."),
        parameters=[
            OpenApiParameter("object_type", OpenApiTypes.STR, OpenApiParameter.PATH, enum=list(OBJECT_TYPES)),
            *ACCOUNT_FILTER_PARAMETERS,
        ],
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.BINARY, description=_("The export")),
            (200, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"): OpenApiResponse(
                OpenApiTypes.BINARY, description=_("The export")),
            400: OpenApiResponse(description=_("An invalid filter, named")),
        },
    )
    def retrieve(self, request, object_type=None, format=None):
        filters = {key: value for key, value in request.query_params.items() if key != "format"}
        try:
            headers, rows = selectors.export_table(workspace=request.workspace, object_type=object_type,
                                                   filters=filters or None, request=request)
        except DjangoValidationError as exc:
            raise ValidationError(exc.message_dict) from None
        file_format = request.accepted_renderer.format
        name = export_filename(workspace=request.workspace, object_type=object_type, file_format=file_format)
        return Response(ExportTable(headers, rows, title=object_type),
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})
