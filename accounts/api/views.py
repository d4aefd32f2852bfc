"""REST API v1 for accounts and what hangs off them. Declarations on the workspace-scoped bases.

Every write goes through `accounts.services`, which also decide who may do what (workspaces.policy):
the viewsets parse, call and answer.
"""

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from workspaces.api.viewsets import WorkspaceReadOnlyViewSet, WorkspaceViewSet
from workspaces.errors import RowErrors

from .. import services
from ..filtersets import AccountFilterSet, ContactFilterSet, ContractFilterSet, TouchpointFilterSet
from ..models import Account, Contact, Contract, LifecycleStage, Tag, Touchpoint
from ..selectors import ACCOUNT_ORDERINGS, account_rows
from .serializers import (
    MAX_BULK_ROWS,
    AccountSerializer,
    BulkUpsertErrorSerializer,
    BulkUpsertResultSerializer,
    ContactSerializer,
    ContractSerializer,
    LifecycleStageSerializer,
    TagSerializer,
    TouchpointSerializer,
)

EXTERNAL_ID_PARAMETER = OpenApiParameter(
    "external_id", OpenApiTypes.STR, OpenApiParameter.PATH, description="The CRM's ID of the record."
)


class ExternalIdUpsertMixin:
    # `GET|PUT …/by-external-id/{external_id}/` and `POST …/bulk-upsert/` for CRM sync.
    # PUT creates (201) or updates (200) the row with that external_id; fields left out keep their
    # value. Bulk upsert takes a list of up to MAX_BULK_ROWS rows and saves all or none: a 400 lists
    # every failing row by index with messages per field. The same payload twice gives one row.
    # (Comments, not a docstring, which the schema would show on every operation of the viewsets.)

    upsert_service = None  # (workspace, actor, external_id, **fields) -> (obj, created)
    bulk_upsert_service = None  # (workspace, actor, rows) -> {"created", "updated", "rows": [(obj, created)]}

    lookup_cache = None

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if self.lookup_cache is not None:
            context["lookup_cache"] = self.lookup_cache
        return context

    def _upsert_serializer(self, instance, data, external_id):
        if not isinstance(data, dict):
            raise ValidationError({"non_field_errors": [_("Send an object.")]})
        sent = data.get("external_id")
        if sent not in (None, external_id):
            raise ValidationError({"external_id": [_("Differs from the external ID in the URL.")]})
        data = {key: value for key, value in data.items() if key != "external_id"}
        return self.get_serializer(instance, data=data, partial=instance is not None)

    def upsert_one(self, request, external_id):
        instance = self.get_queryset().filter(external_id=external_id).first()
        if request.method == "GET":
            if instance is None:
                return Response({"detail": _("No such record.")}, status=status.HTTP_404_NOT_FOUND)
            return Response(self.get_serializer(instance).data)
        serializer = self._upsert_serializer(instance, request.data, external_id)
        serializer.is_valid(raise_exception=True)
        obj, created = type(self).upsert_service(
            workspace=request.workspace, actor=request.actor, external_id=external_id,
            **serializer.validated_data,
        )
        obj = self.get_queryset().get(pk=obj.pk)
        return Response(
            self.get_serializer(obj).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )

    def upsert_many(self, request):
        rows = request.data
        if not isinstance(rows, list):
            raise ValidationError({"non_field_errors": [_("Send a list of rows.")]})
        if len(rows) > MAX_BULK_ROWS:
            raise ValidationError(
                {"non_field_errors": [_("At most %(max)d rows per call.") % {"max": MAX_BULK_ROWS}]}
            )
        external_ids = [row.get("external_id") if isinstance(row, dict) else None for row in rows]
        existing = {
            obj.external_id: obj
            for obj in self.get_queryset().filter(external_id__in=[e for e in external_ids if e])
        }
        self.lookup_cache = {}
        errors, parsed, seen = [], [], {}
        for index, (row, external_id) in enumerate(zip(rows, external_ids, strict=True)):
            row_errors = self._bulk_row_errors(index, row, external_id, seen, existing, parsed)
            if row_errors:
                errors.append({"index": index, "external_id": external_id or "", "errors": row_errors})
        if not errors:
            try:
                result = type(self).bulk_upsert_service(
                    workspace=request.workspace, actor=request.actor, rows=parsed
                )
            except RowErrors as exc:
                errors = [{**error, "external_id": external_ids[error["index"]]} for error in exc.errors]
        if errors:
            return Response(
                {
                    "detail": _("%(failed)d of %(total)d rows failed; nothing was saved.")
                    % {"failed": len(errors), "total": len(rows)},
                    "errors": errors,
                },
                status=status.HTTP_400_BAD_REQUEST,
            )
        return Response({
            "created": result["created"],
            "updated": result["updated"],
            "results": [
                {"index": index, "id": obj.pk, "external_id": obj.external_id, "created": created}
                for index, (obj, created) in enumerate(result["rows"])
            ],
        })

    def _bulk_row_errors(self, index, row, external_id, seen, existing, parsed):
        """Validate one row; returns its errors by field, or None after appending it to `parsed`."""
        if not isinstance(row, dict):
            return {"non_field_errors": [_("Each row must be an object.")]}
        if not external_id or not isinstance(external_id, str):
            return {"external_id": [_("This field is required to upsert.")]}
        if external_id in seen:
            return {"external_id": [_("Also at index %(index)d of this list.") % {"index": seen[external_id]}]}
        seen[external_id] = index
        instance = existing.get(external_id)
        serializer = self._upsert_serializer(instance, row, external_id)
        if not serializer.is_valid():
            return serializer.errors
        parsed.append({"external_id": external_id, **serializer.validated_data})
        return None


def upsert_actions(serializer_class, noun):
    """The two CRM-sync routes of a viewset, documented for the OpenAPI schema.

    Fresh functions per viewset: `action` and `extend_schema` annotate the function they wrap.
    """

    def by_external_id(self, request, external_id):
        return self.upsert_one(request, external_id)

    def bulk_upsert(self, request):
        return self.upsert_many(request)

    by_external_id = extend_schema(
        methods=["GET"], parameters=[EXTERNAL_ID_PARAMETER], responses={200: serializer_class},
        summary=_("Read the %(noun)s with this external ID") % {"noun": noun},
    )(
        extend_schema(
            methods=["PUT"], parameters=[EXTERNAL_ID_PARAMETER], request=serializer_class,
            responses={200: serializer_class, 201: serializer_class},
            summary=_("Create or update the %(noun)s with this external ID") % {"noun": noun},
            description=_("201 when created, 200 when it existed. Fields left out keep their value."),
        )(
            action(detail=False, methods=["get", "put"], url_path=r"by-external-id/(?P<external_id>[^/]+)",
                   url_name="by-external-id")(by_external_id)
        )
    )
    bulk_upsert = extend_schema(
        request=serializer_class(many=True),
        responses={
            200: BulkUpsertResultSerializer,
            400: OpenApiResponse(BulkUpsertErrorSerializer, description=_("Nothing was saved.")),
        },
        summary=_("Create or update up to %(max)d %(noun)ss by external ID, all or nothing")
        % {"max": MAX_BULK_ROWS, "noun": noun},
    )(action(detail=False, methods=["post"], url_path="bulk-upsert", url_name="bulk-upsert")(bulk_upsert))
    return by_external_id, bulk_upsert


class AccountViewSet(ExternalIdUpsertMixin, WorkspaceViewSet):
    """Customer accounts. Filters are those of the account list page; `ordering` sorts."""

    queryset = Account.objects.select_related("owner__user", "stage").prefetch_related("tags")
    serializer_class = AccountSerializer
    filterset_class = AccountFilterSet
    ordering_fields = sorted({key.lstrip("-") for key in ACCOUNT_ORDERINGS} | {"created_at", "id"})
    ordering = ["name"]
    upsert_service = services.upsert_account
    bulk_upsert_service = services.bulk_upsert_accounts
    by_external_id, bulk_upsert = upsert_actions(AccountSerializer, "account")

    def list(self, request, *args, **kwargs):
        # Count and page through ids alone (an index-only scan), then read that page as plain rows:
        # building model instances of 50 accounts, their owners, users, stages and tags cost several
        # times the SQL. The JSON is the detail's, row for row (tests/test_account_queries.py).
        accounts = self.filter_queryset(self.get_queryset())
        ids = self.paginate_queryset(accounts.values_list("pk", flat=True))
        rows = account_rows(workspace=request.workspace, ids=ids)
        return self.get_paginated_response(self.get_serializer(rows, many=True).data)

    def perform_create(self, serializer):
        serializer.instance = services.create_account(
            workspace=self.request.workspace, actor=self.request.actor, **serializer.validated_data
        )

    def perform_update(self, serializer):
        services.update_account(account=serializer.instance, actor=self.request.actor, **serializer.validated_data)
        serializer.instance = self.get_queryset().get(pk=serializer.instance.pk)

    def perform_destroy(self, instance):
        services.delete_account(account=instance, actor=self.request.actor)


class AccountChildWritesMixin:
    # Contacts and contracts hang off an account (a CSM writes them on accounts they own: the
    # services decide). Each viewset names its write services: save_service(workspace=, actor=, <model>=, account=, …)
    # and delete_service(<model>=, actor=).
    save_service = None
    delete_service = None

    def _model_name(self):
        return self.queryset.model._meta.model_name

    def perform_create(self, serializer):
        serializer.instance = type(self).save_service(
            workspace=self.request.workspace, actor=self.request.actor, **serializer.validated_data
        )

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        instance = serializer.instance
        data.setdefault("account", instance.account)
        serializer.instance = type(self).save_service(
            workspace=self.request.workspace, actor=self.request.actor, **{self._model_name(): instance}, **data
        )

    def perform_destroy(self, instance):
        type(self).delete_service(**{self._model_name(): instance}, actor=self.request.actor)


class ContactViewSet(AccountChildWritesMixin, ExternalIdUpsertMixin, WorkspaceViewSet):
    """Contacts of the workspace's accounts. CSMs write them on accounts they own."""

    queryset = Contact.objects.select_related("account")
    serializer_class = ContactSerializer
    filterset_class = ContactFilterSet
    ordering_fields = ["name", "email", "is_key_person", "created_at", "updated_at", "id"]
    ordering = ["-is_key_person", "name"]
    upsert_service = services.upsert_contact
    bulk_upsert_service = services.bulk_upsert_contacts
    by_external_id, bulk_upsert = upsert_actions(ContactSerializer, "contact")
    save_service = services.save_contact
    delete_service = services.delete_contact


class ContractViewSet(AccountChildWritesMixin, ExternalIdUpsertMixin, WorkspaceViewSet):
    """Contracts of the workspace's accounts. CSMs write them on accounts they own."""

    queryset = Contract.objects.select_related("account")
    serializer_class = ContractSerializer
    filterset_class = ContractFilterSet
    ordering_fields = ["start_date", "end_date", "mrr", "product", "created_at", "id"]
    ordering = ["-start_date"]
    upsert_service = services.upsert_contract
    bulk_upsert_service = services.bulk_upsert_contracts
    by_external_id, bulk_upsert = upsert_actions(ContractSerializer, "contract")
    save_service = services.save_contract
    delete_service = services.delete_contract


class TouchpointViewSet(ExternalIdUpsertMixin, WorkspaceViewSet):
    """CSMs log and edit touchpoints on any account of the workspace, not only their own."""

    queryset = Touchpoint.objects.select_related("account", "author__user").prefetch_related("contacts")
    serializer_class = TouchpointSerializer
    filterset_class = TouchpointFilterSet
    ordering_fields = ["occurred_at", "created_at", "id"]
    ordering = ["-occurred_at"]
    upsert_service = services.upsert_touchpoint
    bulk_upsert_service = services.bulk_upsert_touchpoints
    by_external_id, bulk_upsert = upsert_actions(TouchpointSerializer, "touchpoint")

    def perform_create(self, serializer):
        touchpoint = services.log_touchpoint(actor=self.request.actor, **serializer.validated_data)
        serializer.instance = self.get_queryset().get(pk=touchpoint.pk)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        services.update_touchpoint(touchpoint=serializer.instance, actor=self.request.actor, **data)
        serializer.instance = self.get_queryset().get(pk=serializer.instance.pk)

    def perform_destroy(self, instance):
        services.delete_touchpoint(touchpoint=instance, actor=self.request.actor)


class LifecycleStageViewSet(WorkspaceViewSet):
    """The workspace's ordered stages. Managers edit them; stages in use cannot be deleted here."""

    queryset = LifecycleStage.objects.all()
    serializer_class = LifecycleStageSerializer
    http_method_names = ["get", "post", "put", "patch", "head", "options"]
    ordering_fields = ["position", "name", "id"]
    ordering = ["position"]
    filterset_fields = ["name"]

    def perform_create(self, serializer):
        serializer.instance = services.save_stage(
            workspace=self.request.workspace, actor=self.request.actor, **serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = services.save_stage(
            workspace=self.request.workspace, actor=self.request.actor, stage=serializer.instance,
            **serializer.validated_data,
        )


class TagViewSet(WorkspaceReadOnlyViewSet):
    """Tags are created by naming them on an account."""

    queryset = Tag.objects.all()
    serializer_class = TagSerializer
    ordering_fields = ["name", "id"]
    ordering = ["name"]
    filterset_fields = ["name"]
