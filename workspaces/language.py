"""Which language a request is answered in: the user's saved one, else the browser's, else the deployment's.

Django's LocaleMiddleware picks the browser's language (Accept-Language, then the language cookie,
then settings.LANGUAGE_CODE). A signed-in user's saved language (UserPreference) then overrides it:
in UserLanguageMiddleware for session requests, and in ApiTokenAuthentication for API requests
authenticated by token (DRF authenticates in the view, after the middleware has run).
"""

from django.conf import settings
from django.utils import translation

from .models import UserPreference


def _offered(language):
    """`language` if the deployment offers it, else "" (follow the browser)."""
    return language if language in dict(settings.LANGUAGES) else ""


def saved_language(user):
    """The user's chosen language code, or "" (follow the browser)."""
    if user is None or not user.is_authenticated:
        return ""
    try:
        return _offered(user.preference.language)
    except UserPreference.DoesNotExist:
        return ""


# The saved language, kept in the session once read: a page costs no query for it. A choice made in
# this session updates it (remember_in_session); one made on another device applies here at the next
# sign-in.
SESSION_KEY = "_saved_language"


def session_language(request):
    """The signed-in user's saved language, read once per session."""
    if not request.user.is_authenticated:
        return ""
    if SESSION_KEY not in request.session:
        request.session[SESSION_KEY] = saved_language(request.user)
    return request.session[SESSION_KEY]


def remember_in_session(request, language):
    request.session[SESSION_KEY] = language


def read_at_sign_in(sender, request, user, **kwargs):
    """user_logged_in: read the saved language as the session starts (also when the same person
    signs in again without signing out, which keeps the session's data)."""
    if request is not None and hasattr(request, "session"):
        # Read from the table, not a preference the user object may have cached earlier.
        language = UserPreference.objects.filter(user=user).values_list("language", flat=True).first() or ""
        remember_in_session(request, _offered(language))


def activate_saved_language(request, user=None):
    """Answer this request in the user's saved language, if they saved one: `user` for a request
    authenticated by token, else the session's."""
    language = saved_language(user) if user is not None else session_language(request)
    if language:
        translation.activate(language)
        request.LANGUAGE_CODE = language
    return language


def remember_language(response, language):
    """The language cookie too ("" deletes it), so that the sign-in page after a log-out speaks the
    language the person chose."""
    if language:
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME, language, max_age=settings.LANGUAGE_COOKIE_AGE,
            path=settings.LANGUAGE_COOKIE_PATH, domain=settings.LANGUAGE_COOKIE_DOMAIN,
            secure=settings.LANGUAGE_COOKIE_SECURE, httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
            samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        )
    else:
        response.delete_cookie(settings.LANGUAGE_COOKIE_NAME, path=settings.LANGUAGE_COOKIE_PATH,
                               domain=settings.LANGUAGE_COOKIE_DOMAIN, samesite=settings.LANGUAGE_COOKIE_SAMESITE)
    return response
