"""``GET /healthz``: is this web process able to serve respondents?"""

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from worker.broker import broker_state


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Report database and broker state as JSON; answers 503 if the database is down.

    A broker outage is reported but is not fatal: submissions are stored in the database and a periodic
    sweep hands them to the worker once the broker is back.
    """
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        database = "ok"
    except DatabaseError:
        database = "down"
    body = {"database": database, "broker": broker_state(), "version": settings.STIMMEN_VERSION}
    return JsonResponse(body, status=200 if database == "ok" else 503)
