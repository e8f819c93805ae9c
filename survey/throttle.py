"""Rate limits for survey starts and resume-code attempts, without storing IP addresses.

A client is counted under a keyed hash of its address: HMAC-SHA256 with a key derived from ``SECRET_KEY`` and
the current day. The key rotates daily, so yesterday's counters cannot be linked to today's, and without the
secret the hash cannot be turned back into an address. Counters live in the cache (Redis in production) and
expire with their window; nothing is written to the database.

If the cache is unreachable the limits are not applied: respondents must never be locked out by an outage.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django.utils import timezone

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limit:
    bucket: str
    count: int
    window_seconds: int


# A whole school class may start at once from one address behind the school's router: starts are generous.
SURVEY_STARTS = Limit("start", count=300, window_seconds=10 * 60)
# Only failed attempts count. See docs/security.md for why 10 per 10 minutes makes guessing futile.
RESUME_FAILURES = Limit("resume", count=10, window_seconds=10 * 60)


def client_key(request: HttpRequest) -> str:
    """A daily-rotating keyed hash of the client's address; the address itself is never kept."""
    address = _client_address(request)
    day_key = hmac.new(settings.SECRET_KEY.encode(), f"throttle:{timezone.localdate()}".encode(), hashlib.sha256)
    return hmac.new(day_key.digest(), address.encode(), hashlib.sha256).hexdigest()[:32]


def _client_address(request: HttpRequest) -> str:
    hops = settings.STIMMEN_TRUSTED_PROXY_HOPS
    if hops:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= hops:
            return forwarded[-hops]
    return request.META.get("REMOTE_ADDR", "")


def _cache_key(limit: Limit, request: HttpRequest) -> str:
    return f"throttle:{limit.bucket}:{client_key(request)}"


def is_limited(limit: Limit, request: HttpRequest) -> bool:
    """Whether this client has used up ``limit`` in the current window (checking does not count)."""
    try:
        return (cache.get(_cache_key(limit, request)) or 0) >= limit.count
    except Exception:  # any cache failure: an outage must not lock respondents out
        logger.warning("Rate limit cache unavailable; %s limit not applied", limit.bucket)
        return False


def count(limit: Limit, request: HttpRequest) -> None:
    """Count one use against ``limit`` for this client."""
    key = _cache_key(limit, request)
    try:
        if not cache.add(key, 1, timeout=limit.window_seconds):
            cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=limit.window_seconds)
    except Exception:  # any cache failure, see is_limited
        logger.warning("Rate limit cache unavailable; %s not counted", limit.bucket)
