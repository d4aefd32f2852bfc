"""The error answers of every operation, in the OpenAPI schema (a drf-spectacular postprocessing hook).

DRF answers errors the same way everywhere (workspaces/api/exceptions.py): `{"detail": "..."}` for a
refusal of the whole request, messages per field name for a bad value. drf-spectacular documents only
the successes; this adds the error status codes each operation can really give, unless the operation
documents its own (bulk upsert's 400 lists the failing rows).
"""

from django.utils.functional import lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from drf_spectacular.openapi import AutoSchema


def _interpolate(text, values):
    return str(text) % values


# The schema is rendered in the reader's language (`?lang=ja`, or Accept-Language), so its texts are lazy
# translations. `lazy_text % values` would translate at once, at import, in the default language: this
# defers the whole, e.g. `interpolate_lazy(gettext_lazy("Up to %(max)d rows"), {"max": 1000})`.
interpolate_lazy = lazy(_interpolate, str)

# Texts DRF and drf-spectacular put into the schema that their Japanese catalogues lack: marked here so that
# ours, which Django consults first, translates them.
LIBRARY_SCHEMA_TEXTS = [
    gettext_noop("A {value_type} identifying this {name}."),
    gettext_noop("unique integer value"),
    gettext_noop("unique value"),
    gettext_noop("No response body"),
    gettext_noop('Token-based authentication with required prefix "%s"'),
]

DETAIL = "ErrorDetail"
FIELD_ERRORS = "FieldErrors"


def _components():
    return {
        DETAIL: {
            "type": "object",
            "description": _("One message about the request as a whole."),
            "properties": {"detail": {"type": "string"}},
            "required": ["detail"],
        },
        FIELD_ERRORS: {
            "type": "object",
            "description": _(
                "Messages per field name (`non_field_errors` for the object as a whole), or `detail` "
                "alone when the request could not be read."
            ),
            "properties": {"detail": {"type": "string"}},
            "additionalProperties": {},
        },
    }


def document_error_responses(result, generator, request, public):
    result.setdefault("components", {}).setdefault("schemas", {}).update(_components())
    for item in result.get("paths", {}).values():
        shared = item.get("parameters", [])
        for method, operation in item.items():
            if method not in ("get", "put", "post", "patch", "delete"):
                continue
            parameters = shared + operation.get("parameters", [])
            where = {parameter.get("in") for parameter in parameters}
            names = {parameter.get("name") for parameter in parameters}
            writes = method != "get"
            errors = {}
            if writes or "requestBody" in operation or "query" in where:
                errors["400"] = (FIELD_ERRORS, _("The request or one of its values is not valid."))
            errors["401"] = (DETAIL, _("No credentials, or a wrong or revoked token."))
            errors["403"] = (FIELD_ERRORS, _("The caller's role does not allow this (on this object, or on a value sent)."))
            if "path" in where or "page" in names:
                errors["404"] = (DETAIL, _("No such object in the caller's workspace, or no such page."))
            if writes:
                errors["409"] = (FIELD_ERRORS, _("A unique value is already taken."))
            errors["429"] = (DETAIL, _("Over the rate limit: retry after the Retry-After header's seconds."))
            files = _file_media_types(operation)
            responses = operation.setdefault("responses", {})
            for status, (component, description) in errors.items():
                response = responses.setdefault(status, {"description": description})
                content = response.setdefault("content", {})
                json_media = content.setdefault("application/json", {})
                ref = {"$ref": f"#/components/schemas/{component}"}
                if "schema" not in json_media:
                    json_media["schema"] = ref
                elif json_media["schema"] != ref:
                    # The operation's own answer (bulk upsert's failing rows) is given once the request
                    # was read; one that cannot be (not JSON, not a list) gets the usual field errors.
                    json_media["schema"] = {"anyOf": [json_media["schema"], ref]}
                for media_type in files:
                    # A file download answers its errors in the requested format too: a table of
                    # field and message (JSON when the path itself is unknown).
                    content.setdefault(media_type, {"schema": {"type": "string", "format": "binary"}})
    return result


def _file_media_types(operation):
    """The media types of an operation that answers files rather than JSON (none for JSON operations)."""
    types = [
        media_type
        for status, response in operation.get("responses", {}).items() if status.startswith("2")
        for media_type in response.get("content", {})
    ]
    return [] if not types or "application/json" in types else list(dict.fromkeys(types))


class SingleObjectListSchema(AutoSchema):
    """For a viewset whose `list` answers one object, not a page of them (`GET /me/`, a report)."""

    def _is_list_view(self, serializer=None):
        return False
