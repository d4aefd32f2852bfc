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

When the cache cannot be reached, the throttles let requests through and log it: a limit exists to
protect the service, and refusing every call because Redis restarted would be the outage it prevents.
"""

import logging

from django.conf import settings
from rest_framework import exceptions, throttling

from ..lockout import client_ip

logger = logging.getLogger(__name__)


class SettingsRateMixin:
    def get_rate(self):
        return settings.API_THROTTLE_RATES.get(self.scope)

    def get_ident(self, request):
        return client_ip(request)

    def allow_request(self, request, view):
        try:
            return super().allow_request(request, view)
        except Exception:  # the cache backend's connection errors (redis.exceptions.*) vary by client
            logger.warning("API throttle %s not checked: the cache is unreachable", self.scope, exc_info=True)
            return True


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
        """Raise Throttled when this address is over its count of wrong tokens; True when the count
        could be read (False: no limit set, or the cache is unreachable and the check fails open)."""
        if self.rate is None:
            return False
        self.key = self.get_cache_key(request)
        try:
            self.history = self.cache.get(self.key, [])
        except Exception:  # the cache backend's connection errors vary by client
            logger.warning("API throttle failed_auth not checked: the cache is unreachable", exc_info=True)
            return False
        self.now = self.timer()
        while self.history and self.history[-1] <= self.now - self.duration:
            self.history.pop()
        if len(self.history) >= self.num_requests:
            raise exceptions.Throttled(wait=self.wait())
        return True

    def record_failure(self, request):
        # Loading the history first: a failure that is itself over the limit says so (429).
        if not self.refuse_if_over(request):
            return
        try:
            self.throttle_success()
        except Exception:
            logger.warning("API throttle failed_auth not counted: the cache is unreachable", exc_info=True)
