from django.conf import settings

from .language import activate_saved_language, remember_language
from .selectors import current_membership_for

SESSION_KEY = "workspace_id"  # also read in selectors.current_membership_for


class CurrentWorkspaceMiddleware:
    """Puts the signed-in user's current membership and workspace on the request.

    The choice is kept in the session (the workspace switcher writes it). API requests
    authenticated by token get theirs from the token instead (see workspaces.api.viewsets).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.membership = current_membership_for(request)
        request.workspace = request.membership.workspace if request.membership else None
        return self.get_response(request)


class UserLanguageMiddleware:
    """After AuthenticationMiddleware: a signed-in user's saved language wins over the browser's
    (which LocaleMiddleware activated). Without one, LocaleMiddleware's choice stands."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        language = activate_saved_language(request)
        response = self.get_response(request)
        cookie = settings.LANGUAGE_COOKIE_NAME
        if language and request.COOKIES.get(cookie) != language and cookie not in response.cookies:
            # Signed in on another browser: its sign-in page, after a log-out, follows the choice too.
            remember_language(response, language)
        return response
