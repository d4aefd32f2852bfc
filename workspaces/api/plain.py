"""Fast reads for serializers of many rows: the same JSON as DRF, without its per-field generic walk."""

import copy
from collections.abc import Mapping

from django.core.exceptions import FieldDoesNotExist, ObjectDoesNotExist
from django.utils.functional import cached_property
from rest_framework import serializers
from rest_framework.fields import SkipField


class PlainReadMixin:
    # Reading a row, DRF walks every field's `source` through its generic `get_attribute` (dotted
    # paths, dict keys, callables) — per field, per row. For a page of 50 accounts that walk cost
    # more than the database. A field that reads one concrete column or foreign key is plain
    # `getattr`, so the read plan below does just that, once worked out per serializer; each field
    # still formats its value with its own `to_representation`, so the JSON is DRF's exactly.
    # Anything else (properties, many-to-many, `source="*"`) takes DRF's own path.

    # ModelSerializer works out its fields from the model anew for every serializer, i.e. every
    # request: three times what copying them costs. They depend on the class alone, so they are
    # built once per class and copied (as DRF copies declared fields).
    _fields_by_class = {}

    def get_fields(self):
        cls = type(self)
        if cls not in PlainReadMixin._fields_by_class:
            PlainReadMixin._fields_by_class[cls] = super().get_fields()
        return copy.deepcopy(PlainReadMixin._fields_by_class[cls])

    @cached_property
    def _read_plan(self):
        model = self.Meta.model
        plan = []
        for field in self._readable_fields:
            if isinstance(field, serializers.DateTimeField) and not hasattr(field, "timezone"):
                # What DRF would look up for every value: the time zone active for this request.
                field.timezone = field.default_timezone()
            plan.append((field.field_name, _plain_attribute(model, field), field))
        return plan

    def to_representation(self, instance):
        if isinstance(instance, Mapping):
            # A plain row (e.g. accounts.selectors.account_rows): each field reads its own key, and a
            # missing key is an error rather than a field silently left out.
            return {
                name: None if (value := instance[field.source]) is None else field.to_representation(value)
                for name, _attribute, field in self._read_plan
            }
        if not isinstance(instance, self.Meta.model):
            return super().to_representation(instance)
        row = {}
        for name, attribute, field in self._read_plan:
            if attribute is None:
                try:
                    value = field.get_attribute(instance)
                except SkipField:
                    continue
            else:
                try:
                    value = getattr(instance, attribute)
                except ObjectDoesNotExist:
                    value = None
            row[name] = None if value is None else field.to_representation(value)
        return row


def _plain_attribute(model, field):
    """The attribute name when DRF's `field.get_attribute(obj)` is exactly `getattr(obj, name)`."""
    if len(field.source_attrs) != 1:
        return None
    name = field.source_attrs[0]
    try:
        model_field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return None
    if not model_field.concrete or model_field.many_to_many:
        return None
    getter = type(field).get_attribute
    if getter is serializers.Field.get_attribute:
        return name
    if getter is serializers.RelatedField.get_attribute and not field.use_pk_only_optimization():
        return name
    return None
