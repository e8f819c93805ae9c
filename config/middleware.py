"""A database or Redis outage answers 503 "please try again in a moment", never a 500 with a traceback.

Respondents' progress is saved step by step in the database, so when PostgreSQL is briefly away (a restart, a
failover) the honest answer is "come back in a moment, what you already sent is saved" with ``Retry-After``.

Two entry points share :func:`outage_response`, because Django turns an exception into a response where it is
raised: an error in a view reaches :class:`ServiceOutageMiddleware` (``process_exception``), but one raised by
another middleware (the session is loaded by the language middleware, saved by the session middleware; the
CSRF token lives in the session) only reaches the 500 handler, so :func:`server_error` is ``handler500`` in
``config/urls.py``. With ``DEBUG`` on, Django shows its debug page instead of the handler, as for any error.

Redis errors count as an outage only when they reach this far: the rate limiter (``survey/throttle.py``) and
the enqueueing after a submission (``analysis/anonymisation.py``) already carry on without Redis.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils import translation
from django.views import defaults
from kombu.exceptions import OperationalError as BrokerError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

#: Errors that mean "a service is away for now", not "the code is wrong".
OUTAGE_ERRORS = (OperationalError, InterfaceError, RedisConnectionError, RedisTimeoutError, BrokerError)
#: A PostgreSQL or Redis restart takes seconds; browsers and proxies may retry after this.
RETRY_AFTER_SECONDS = 30


def is_outage(error: BaseException | None) -> bool:
    return isinstance(error, OUTAGE_ERRORS)


def outage_response(request: HttpRequest) -> HttpResponse:
    """The 503 page, rendered without touching the database or the session.

    No request context: context processors would read the user from the session. The language is the one the
    language middleware activated, or else the browser's preference (``Accept-Language``), which needs no
    session either.
    """
    language = getattr(request, "LANGUAGE_CODE", None) or translation.get_language_from_request(request)
    with translation.override(language):
        body = render_to_string("503.html", {"retry_path": request.path if request.method == "GET" else ""})
        response = HttpResponse(body, status=503)
        response.headers["Content-Language"] = translation.get_language()
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response.headers["Cache-Control"] = "no-store"
    return response


class ServiceOutageMiddleware:
    """Turn an outage error raised in a view into the 503 page (see the module docstring for the rest)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_outage(exception):
            return None
        # The error type only: messages of connection errors can carry host names and user names.
        logger.warning("Service unavailable (%s), answered 503", type(exception).__name__)
        return outage_response(request)


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: the 503 page when the error being handled is an outage, else Django's 500 page."""
    if is_outage(sys.exc_info()[1]):
        return outage_response(request)
    return defaults.server_error(request)
