"""REST API rate limits (DRF throttles), so that no caller — a runaway integration, a scraper, someone
guessing tokens — can take the service from everyone else.

- `TokenRateThrottle`: per API token (per user for the signed-in pages' own calls), scope "token".
- `AnonRateThrottle`: per client address for callers without credentials, scope "anon".
- `FailedTokenThrottle`: per client address, counting only wrong tokens, scope "failed_auth"; checked
  by ApiTokenAuthentication before it looks a key up.

Rates are read from settings.API_THROTTLE_RATES at each request ("240/minute"; None switches a scope
off), so tests and deployments change them without a restart of the class. Over a limit the answer is
429 with Retry-After and {"detail": ...}. The counts live in the default cache: Redis when REDIS_URL is
set (shared by every worker), else each process's local memory (a limit per process).
"""

from django.conf import settings
from rest_framework import exceptions, throttling

from ..lockout import client_ip


class SettingsRateMixin:
    def get_rate(self):
        return settings.API_THROTTLE_RATES.get(self.scope)

    def get_ident(self, request):
        return client_ip(request)


class TokenRateThrottle(SettingsRateMixin, throttling.SimpleRateThrottle):
    scope = "token"

    def get_cache_key(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return None
        from ..models import ApiToken

        if isinstance(request.auth, ApiToken):
            # The hash, not the id: ids come back after a database is reset, the counts in Redis do not.
            ident = f"t{request.auth.key_hash[:32]}"
        else:
            ident = f"u{request.user.pk}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


class AnonRateThrottle(SettingsRateMixin, throttling.AnonRateThrottle):
    scope = "anon"


class FailedTokenThrottle(SettingsRateMixin, throttling.SimpleRateThrottle):
    """Counts wrong tokens per client address; over the limit, no key from there is looked up."""

    scope = "failed_auth"

    def get_cache_key(self, request, view=None):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

    def refuse_if_over(self, request):
        if self.rate is None:
            return
        self.key = self.get_cache_key(request)
        self.history = self.cache.get(self.key, [])
        self.now = self.timer()
        while self.history and self.history[-1] <= self.now - self.duration:
            self.history.pop()
        if len(self.history) >= self.num_requests:
            raise exceptions.Throttled(wait=self.wait())

    def record_failure(self, request):
        if self.rate is None:
            return
        self.refuse_if_over(request)  # loads the history; a failure that is over the limit says so
        self.throttle_success()
