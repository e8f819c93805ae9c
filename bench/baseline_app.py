"""The baseline of the throughput benchmark: the least a request can do that still counts a respondent.

One session write (database sessions, as the product uses) and one INSERT per request, behind the product's
full middleware stack. A wizard step does more (the draft row, tallies, form rendering); the ratio of the
two tells how much more, independent of how fast the machine happens to be today.
"""

from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

TABLE = "bench_baseline_hit"
CREATE_TABLE = f"CREATE TABLE IF NOT EXISTS {TABLE} (id bigserial PRIMARY KEY, n integer NOT NULL, at date NOT NULL)"
PAGE = "<!doctype html><title>baseline</title><p>{n}</p>"


@csrf_exempt
@never_cache
def hit(request: HttpRequest) -> HttpResponse:
    n = request.session.get("n", 0) + 1
    request.session["n"] = n
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {TABLE} (n, at) VALUES (%s, CURRENT_DATE)", [n])
    return HttpResponse(PAGE.format(n=n))


urlpatterns = [path("baseline/", hit)]
