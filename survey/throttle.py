"""Rate limits for survey starts and resume-code attempts, without storing IP addresses.

A client is counted under a keyed hash of its address: HMAC-SHA256 with a key derived from ``SECRET_KEY`` and
the current day. The key rotates daily, so yesterday's counters cannot be linked to today's, and without the
secret the hash cannot be turned back into an address. Counters live in the cache (Redis in production) and
expire with their window; nothing is written to the database.

If the cache is unreachable the limits are not applied ("fail open"): respondents, most of them young people
on a phone in a class room, must never be locked out by an outage, and the limits only slow down guessing and
floods, which the reverse proxy's own rate limit also does. After a failure this process leaves the cache alone
for ``CACHE_RETRY_SECONDS``: a Redis that does not answer (the cache's socket timeout is one second, see
``CACHES`` in the settings) then costs one request per process that long, not every request, and the warning is
logged once per outage and process, not per request.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
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

#: After the cache failed, how long this process applies no limits before trying the cache again.
CACHE_RETRY_SECONDS = 10.0
_cache_unavailable_until = 0.0


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


def _cache_available() -> bool:
    return time.monotonic() >= _cache_unavailable_until


def _cache_failed(what: str, error: Exception) -> None:
    global _cache_unavailable_until
    _cache_unavailable_until = time.monotonic() + CACHE_RETRY_SECONDS
    logger.warning(
        "Rate limit cache unavailable (%s); %s, no limits for %.0f s", type(error).__name__, what, CACHE_RETRY_SECONDS
    )


def is_limited(limit: Limit, request: HttpRequest) -> bool:
    """Whether this client has used up ``limit`` in the current window (checking does not count).

    ``False`` while the cache is unavailable: the limits fail open (see the module docstring).
    """
    if not _cache_available():
        return False
    try:
        return (cache.get(_cache_key(limit, request)) or 0) >= limit.count
    except Exception as error:  # any cache failure: an outage must not lock respondents out
        _cache_failed(f"{limit.bucket} limit not applied", error)
        return False


def count(limit: Limit, request: HttpRequest) -> None:
    """Count one use against ``limit`` for this client (nothing is counted while the cache is unavailable)."""
    if not _cache_available():
        return
    key = _cache_key(limit, request)
    try:
        if not cache.add(key, 1, timeout=limit.window_seconds):
            cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=limit.window_seconds)
    except Exception as error:  # any cache failure, see is_limited
        _cache_failed(f"{limit.bucket} not counted", error)
