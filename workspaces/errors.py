"""The errors a service raises, and what pages and the API make of them.

A service says no in one of two ways: the input breaks a business rule (`DomainError`: 400 in the
API, an error on the form's field on a page), or the actor may not do this at all (`NotAllowed`:
403 on both, because it is Django's own PermissionDenied).
"""

from django.core.exceptions import PermissionDenied


class DomainError(Exception):
    """A business rule said no. Pages show `message` (on `field` when the form has it); the API
    answers 400 naming `field`."""

    def __init__(self, message, *, field=None):
        super().__init__(message)
        self.message = message
        self.field = field


class NotAllowed(PermissionDenied):
    """The actor's role does not allow this (see workspaces.policy). 403 on pages and in the API."""

    def __init__(self, message, *, field=None):
        super().__init__(message)
        self.message = message
        self.field = field


class RowErrors(Exception):
    """Some rows of a batch failed; nothing of the batch was written.

    `errors` is a list of {"index": position in the batch, "errors": {field: [messages]}}.
    """

    def __init__(self, errors):
        super().__init__(f"{len(errors)} rows failed")
        self.errors = errors
