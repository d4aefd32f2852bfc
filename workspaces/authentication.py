from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from .api.throttles import FailedTokenThrottle
from .language import activate_saved_language
from .models import ApiToken


class ApiTokenAuthentication(authentication.TokenAuthentication):
    """`Authorization: Token <key>`. The token is bound to one membership, hence one workspace.

    Wrong keys are counted per client address (FailedTokenThrottle): past the limit, keys from that
    address are not even looked up — a 429 — until the window has passed.
    """

    keyword = "Token"

    def authenticate(self, request):
        self._request = request
        result = super().authenticate(request)
        if result is not None:
            # The token owner's saved language, else the Accept-Language LocaleMiddleware chose.
            activate_saved_language(request._request, result[0])
        return result

    def authenticate_credentials(self, key):
        failures = FailedTokenThrottle()
        failures.refuse_if_over(self._request)
        token = (
            ApiToken.objects.active()
            .select_related("membership__user__preference", "membership__workspace")
            .filter(key_hash=ApiToken.hash_key(key))
            .first()
        )
        if token is None or not token.membership.user.is_active:
            failures.record_failure(self._request)
            raise exceptions.AuthenticationFailed(_("Invalid or revoked token."))
        # Touch last_used_at at most once a minute: an integration may call many times a second.
        now = timezone.now()
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.membership.user, token

    def authenticate_header(self, request):
        return self.keyword
