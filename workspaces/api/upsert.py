"""Upsert by external ID, for CRM sync: the two routes any viewset of records with an external ID adds.

    GET|PUT …/by-external-id/{external_id}/   one record: 201 when created, 200 when it existed
    POST    …/bulk-upsert/                    up to MAX_BULK_ROWS records, all or nothing

A viewset declares `upsert_service` and `bulk_upsert_service` (the app's services, which check who
may and write) and gets both routes, documented, from `upsert_actions(serializer_class, read=, write=, bulk=)`:
the three summaries, each a whole translatable sentence naming the viewset's records (a noun put into
a sentence reads wrongly in Japanese).
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import MaxLengthValidator, ProhibitNullCharactersValidator
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response

from ..errors import RowErrors
from .schema import interpolate_lazy

MAX_BULK_ROWS = 1000


class BulkUpsertResultRowSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    id = serializers.IntegerField()
    external_id = serializers.CharField()
    created = serializers.BooleanField()


class BulkUpsertResultSerializer(serializers.Serializer):
    created = serializers.IntegerField(help_text=gettext_lazy("Rows that did not exist before."))
    updated = serializers.IntegerField(help_text=gettext_lazy("Rows that existed and were updated."))
    results = BulkUpsertResultRowSerializer(many=True)


class BulkUpsertRowErrorSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text=gettext_lazy("Position of the failing row in the request list."))
    external_id = serializers.CharField(allow_blank=True)
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text=gettext_lazy("Messages per field name."),
    )


class BulkUpsertErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    errors = BulkUpsertRowErrorSerializer(many=True)


EXTERNAL_ID_PARAMETER = OpenApiParameter(
    "external_id", OpenApiTypes.STR, OpenApiParameter.PATH, description=gettext_lazy("The CRM's ID of the record.")
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

    def get_object(self):
        # On the by-external-id route (e.g. its OPTIONS, which asks whether the caller could PUT it),
        # the object is the one with that external ID.
        if "external_id" not in self.kwargs:
            return super().get_object()
        if self.external_id_errors(self.kwargs["external_id"]):
            raise Http404
        obj = get_object_or_404(self.get_queryset(), external_id=self.kwargs["external_id"])
        self.check_object_permissions(self.request, obj)
        return obj

    def _upsert_serializer(self, instance, data, external_id):
        if not isinstance(data, dict):
            raise ValidationError({"non_field_errors": [_("Send an object.")]})
        sent = data.get("external_id")
        if sent not in (None, external_id):
            raise ValidationError({"external_id": [_("Differs from the external ID in the URL.")]})
        data = {key: value for key, value in data.items() if key != "external_id"}
        return self.get_serializer(instance, data=data, partial=instance is not None)

    def external_id_errors(self, external_id):
        """Why no row could have this external ID (too long, a NUL, which PostgreSQL refuses): [] if none."""
        max_length = self.get_queryset().model._meta.get_field("external_id").max_length
        errors = []
        for validator in (ProhibitNullCharactersValidator(), MaxLengthValidator(max_length)):
            try:
                validator(external_id)
            except DjangoValidationError as exc:
                errors.extend(exc.messages)
        return errors

    def upsert_one(self, request, external_id):
        problems = self.external_id_errors(external_id)
        if problems and request.method != "GET":
            raise ValidationError({"external_id": problems})
        instance = None if problems else self.get_queryset().filter(external_id=external_id).first()
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
            for obj in self.get_queryset().filter(external_id__in=[
                e for e in external_ids if e and isinstance(e, str) and not self.external_id_errors(e)])
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
        if problems := self.external_id_errors(external_id):
            return {"external_id": problems}
        if external_id in seen:
            return {"external_id": [_("Also at index %(index)d of this list.") % {"index": seen[external_id]}]}
        seen[external_id] = index
        instance = existing.get(external_id)
        serializer = self._upsert_serializer(instance, row, external_id)
        if not serializer.is_valid():
            return serializer.errors
        parsed.append({"external_id": external_id, **serializer.validated_data})
        return None


def upsert_actions(serializer_class, *, read, write, bulk):
    """The two CRM-sync routes of a viewset, documented for the OpenAPI schema.

    `read`, `write` and `bulk` are the summaries of GET and PUT by external ID and of bulk upsert, lazy
    translations (`bulk` has `%(max)d`, the row limit). Fresh functions per viewset: `action` and
    `extend_schema` annotate the function they wrap.
    """

    def by_external_id(self, request, external_id):
        return self.upsert_one(request, external_id)

    def bulk_upsert(self, request):
        return self.upsert_many(request)

    by_external_id = extend_schema(
        methods=["GET"], parameters=[EXTERNAL_ID_PARAMETER], responses={200: serializer_class}, summary=read,
    )(
        extend_schema(
            methods=["PUT"], parameters=[EXTERNAL_ID_PARAMETER], request=serializer_class,
            responses={200: serializer_class, 201: serializer_class},
            summary=write,
            description=gettext_lazy("201 when created, 200 when it existed. Fields left out keep their value."),
        )(
            action(detail=False, methods=["get", "put"], url_path=r"by-external-id/(?P<external_id>[^/]+)",
                   url_name="by-external-id")(by_external_id)
        )
    )
    bulk_upsert = extend_schema(
        request=serializer_class(many=True),
        responses={
            200: BulkUpsertResultSerializer,
            400: OpenApiResponse(BulkUpsertErrorSerializer, description=gettext_lazy("Nothing was saved.")),
        },
        summary=interpolate_lazy(bulk, {"max": MAX_BULK_ROWS}),
    )(action(detail=False, methods=["post"], url_path="bulk-upsert", url_name="bulk-upsert")(bulk_upsert))
    return by_external_id, bulk_upsert
