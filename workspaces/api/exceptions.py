from django.core.exceptions import NON_FIELD_ERRORS, RequestDataTooBig, TooManyFieldsSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from ..errors import DomainError, NotAllowed

# DRF's messages that its Japanese catalogue leaves in English (the 429's wait) or says awkwardly: marked
# here so that our catalogue, which Django consults first, has them and the API answers in Japanese.
DRF_MESSAGES = [
    gettext_noop("Request was throttled."),
    gettext_noop("Expected available in {wait} second."),
    gettext_noop("Expected available in {wait} seconds."),
]


def api_exception_handler(exc, context):
    """Service errors become answers that name the field, never 500s: a broken rule or invalid value
    is a 400, a refusal of the policy a 403, a clash with a unique value a 409. Messages are in the
    request's language (Accept-Language)."""
    if isinstance(exc, Http404):
        # Django's get_object_or_404 says "No Account matches the given query.": English in every
        # language, and naming a class of ours. DRF's own "Not found." is translated.
        exc = exceptions.NotFound()
    elif isinstance(exc, NotAllowed):
        exc = exceptions.PermissionDenied(detail={exc.field: [exc.message]} if exc.field else exc.message)
    elif isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            # Model-wide rules (check constraints) come as "__all__"; DRF clients know non_field_errors.
            detail = {("non_field_errors" if f == NON_FIELD_ERRORS else f): m for f, m in exc.message_dict.items()}
        else:
            detail = {"non_field_errors": exc.messages}
        exc = exceptions.ValidationError(detail=detail)
    elif isinstance(exc, DomainError):
        exc = exceptions.ValidationError(detail={exc.field or "non_field_errors": [exc.message]})
    elif isinstance(exc, (TooManyFieldsSent, RequestDataTooBig)):
        # Django's own limits on a form body, met while the view reads request.data: a JSON 400 like any
        # other bad payload (not Django's HTML page).
        exc = exceptions.ParseError(detail=_("The request body is too large: send fewer fields or rows."))
    elif isinstance(exc, IntegrityError):
        return Response(
            {"non_field_errors": [_("This conflicts with existing data (a unique value is already taken).")]},
            status=status.HTTP_409_CONFLICT,
        )
    return exception_handler(exc, context)
