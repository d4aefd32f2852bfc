"""Which language a request is answered in: the user's saved one, else the browser's, else the deployment's.

Django's LocaleMiddleware picks the browser's language (Accept-Language, then the language cookie,
then settings.LANGUAGE_CODE). A signed-in user's saved language (UserPreference) then overrides it:
in UserLanguageMiddleware for session requests, and in ApiTokenAuthentication for API requests
authenticated by token (DRF authenticates in the view, after the middleware has run).
"""

from django.conf import settings
from django.utils import translation

from .models import UserPreference


def saved_language(user):
    """The user's chosen language code, or "" (follow the browser)."""
    if user is None or not user.is_authenticated:
        return ""
    try:
        language = user.preference.language
    except UserPreference.DoesNotExist:
        return ""
    return language if language in dict(settings.LANGUAGES) else ""


def activate_saved_language(request, user):
    """Answer this request in the user's saved language, if they saved one."""
    language = saved_language(user)
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
