"""A per-key rate limit (API_RATE_LIMIT, e.g. "120/min") with its state on every answer.

Every response carries `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset`
(seconds until a slot frees, per the IETF draft); a 429 adds `Retry-After`. The counts
live in Django's cache: one shared cache (Redis) in production keeps them per key
across processes.
"""

from __future__ import annotations

import math

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle


class ApiKeyThrottle(SimpleRateThrottle):
    scope = "api_key"

    def get_rate(self) -> str:
        return settings.API_RATE_LIMIT

    def get_cache_key(self, request, view) -> str | None:
        key = getattr(request.user, "key", None)
        return None if key is None else f"api-throttle-{key.pk}"

    def allow_request(self, request, view) -> bool:
        self.key = None
        allowed = super().allow_request(request, view)
        if self.key:  # the history now holds this request if it was allowed
            request._request.rate_limit = {
                "RateLimit-Limit": str(self.num_requests),
                "RateLimit-Remaining": str(max(0, self.num_requests - len(self.history))),
                "RateLimit-Reset": str(self._reset_in()),
            }
        return allowed

    def _reset_in(self) -> int:
        """Seconds until the oldest request in the window leaves it (a slot frees)."""
        if not self.history:
            return 0
        return max(0, math.ceil(self.history[-1] + self.duration - self.now))


def rate_headers(request) -> dict[str, str]:
    return getattr(request, "rate_limit", None) or {}
