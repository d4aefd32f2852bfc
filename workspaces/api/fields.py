"""Serializer fields shared by every app's API: related objects scoped to the caller's workspace."""

from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import build_basic_type
from drf_spectacular.types import OpenApiTypes
from rest_framework import serializers


class WorkspaceRelatedField(serializers.PrimaryKeyRelatedField):
    """Written as an id of the caller's workspace, read in the related object's brief form.

    An id of another workspace is "not found", exactly like an id that does not exist, so a
    caller cannot even learn that it exists.
    """

    default_error_messages = {
        "does_not_exist": _("Not found in this workspace (id {pk_value})."),
        "incorrect_type": _("Expected an id (a number), got {data_type}."),
    }

    def __init__(self, *, brief_serializer, choices_of=None, reads_null=False, **kwargs):
        """`queryset` is narrowed to the caller's workspace; or `choices_of(workspace=)` gives the
        workspace's choices, for another app's rows that are read through its selectors.
        `reads_null`: null in answers (the related row was deleted) though a write may not send it."""
        self.brief_serializer = brief_serializer
        self.choices_of = choices_of
        self.reads_null = reads_null or kwargs.get("allow_null", False)
        super().__init__(**kwargs)

    def get_queryset(self):
        workspace = self.context.get("workspace")
        if self.choices_of is not None:
            return self.choices_of(workspace=workspace)
        queryset = super().get_queryset()
        return queryset.for_workspace(workspace) if workspace is not None else queryset.none()

    def to_internal_value(self, data):
        # A bulk upsert names the same owner or stage in many rows: look each up once per request.
        cache = self.context.get("lookup_cache")
        if cache is None or not isinstance(data, int | str):
            return super().to_internal_value(data)
        key = (self.get_queryset().model, str(data))
        if key not in cache:
            cache[key] = super().to_internal_value(data)
        return cache[key]

    def use_pk_only_optimization(self):
        return False

    @cached_property
    def brief(self):
        # One brief serializer per bound field, reused for every row: building a serializer binds
        # its fields anew, which cost more than the rest of a 50-row list page put together.
        return self.brief_serializer(context=self.context)

    def to_representation(self, value):
        return self.brief.to_representation(value)


def no_null_characters(value):
    """A validator of free JSON (attributes, rules, definitions): no NUL in any key or text, which
    PostgreSQL cannot store in JSON (a 500 there, stored on SQLite)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                raise serializers.ValidationError(_("Null characters are not allowed."))
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


MAX_ID = 2**63 - 1  # ids are 64-bit (DEFAULT_AUTO_FIELD); a bigger number would overflow the database


class IdField(serializers.IntegerField):
    """An id in a list of ids: a positive number the database can hold (a larger one is a 400, not a 500)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)


class WorkspaceRelatedFieldSchema(OpenApiSerializerFieldExtension):
    """Documents the two faces of WorkspaceRelatedField: an integer in, the brief object out."""

    target_class = WorkspaceRelatedField

    def map_serializer_field(self, auto_schema, direction):
        if direction == "request":
            schema, nullable = build_basic_type(OpenApiTypes.INT), self.target.allow_null
        else:
            component = auto_schema.resolve_serializer(self.target.brief_serializer, direction)
            schema, nullable = component.ref, self.target.reads_null
            if nullable:
                schema = {"allOf": [schema]}
        if nullable:
            schema["nullable"] = True
        return schema


class SaneDateTimeField(serializers.DateTimeField):
    """A moment a real clock could show: years 1970–2999 and a UTC offset within ±14:00.

    The offset is checked as sent, before DRF converts the value to the server's zone (a validator
    would only see the converted value), so `+21:43` is refused here as it is in the filters.
    """

    def enforce_timezone(self, value):
        from ..filtersets import sane_moment

        sane_moment(value)
        return super().enforce_timezone(value)
