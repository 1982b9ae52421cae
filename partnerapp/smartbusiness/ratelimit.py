"""The provider's rate-limit state, as its `X-Rate-Limit-*` headers report it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class RateLimit:
    limit: int  # calls allowed per period
    remaining: int  # calls left in this period
    reset: int  # seconds until the period ends

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> RateLimit | None:
        try:
            return cls(
                limit=int(headers["X-Rate-Limit-Limit"]),
                remaining=int(headers["X-Rate-Limit-Remaining"]),
                reset=int(headers["X-Rate-Limit-Reset"]),
            )
        except (KeyError, ValueError):
            return None
