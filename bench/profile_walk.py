"""Where a respondent's request spends its time: walk surveys in-process, measure, then profile.

``python -m bench.profile_walk --surveys 20`` (bench environment: see ``bench/run.py``) walks the demo survey
with Django's test client, the way :mod:`bench.http_load` does over HTTP. No server, no network.

It walks the surveys twice with the same answers:

1. measured, without a profiler: per request kind the wall time, the CPU time of this process
   (``time.process_time``: the Python side of a request; PostgreSQL's and Redis's work is in the wall time
   only), the SQL queries, the queries that fetch a survey version's whole definition, and the session
   writes. These figures are comparable before and after a change, also on a busy machine, because CPU time
   does not count the time spent waiting for the other processes.
2. under cProfile (unless ``--no-cprofile``): the functions with the most cumulative time.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import random
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import django

KINDS = ("start_get", "start_post", "step_get", "step_post", "thanks_get")


class Tally:
    """What the requests of each kind cost in total; printed as per-request averages."""

    def __init__(self) -> None:
        self.requests: Counter[str] = Counter()
        self.wall: Counter[str] = Counter()
        self.cpu: Counter[str] = Counter()
        self.queries: Counter[str] = Counter()
        # Queries that fetch a survey version's whole definition (about 114 kB of JSON for the demo survey).
        self.definitions: Counter[str] = Counter()
        self.session_writes: Counter[str] = Counter()

    def table(self) -> str:
        lines = [
            f"{'request kind':<12}{'requests':>9}{'wall ms':>9}{'CPU ms':>8}{'queries':>9}"
            f"{'definitions':>13}{'session writes':>16}"
        ]
        total_requests = sum(self.requests.values())
        for kind in [*KINDS, *(k for k in self.requests if k not in KINDS)]:
            n = self.requests[kind]
            if not n:
                continue
            lines.append(
                f"{kind:<12}{n:>9}{self.wall[kind] / n * 1000:>9.1f}{self.cpu[kind] / n * 1000:>8.1f}"
                f"{self.queries[kind] / n:>9.1f}{self.definitions[kind] / n:>13.1f}"
                f"{self.session_writes[kind] / n:>16.2f}"
            )
        if total_requests:
            lines.append(
                f"{'all':<12}{total_requests:>9}{sum(self.wall.values()) / total_requests * 1000:>9.1f}"
                f"{sum(self.cpu.values()) / total_requests * 1000:>8.1f}"
                f"{sum(self.queries.values()) / total_requests:>9.1f}"
                f"{sum(self.definitions.values()) / total_requests:>13.1f}"
                f"{sum(self.session_writes.values()) / total_requests:>16.2f}"
            )
        return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--campaign", default="demo")
    parser.add_argument("--surveys", type=int, default=20)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="measure the surveys this many times and print the round with the least CPU time, the one least "
        "disturbed by other processes on a shared machine",
    )
    parser.add_argument("--no-cprofile", action="store_true", help="only the measured walk, no profile")
    parser.add_argument("--profile-kind", choices=KINDS, help="profile only the requests of this kind")
    options = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("STIMMEN_MIN_COMPLETION_SECONDS", "0")  # as in bench/run.py
    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client

    from bench.http_load import _step_form
    from survey.models import Campaign
    from survey.synthetic import district_values, synthetic_answers

    # Not ``setup_test_environment``: it instruments every template render (and the test client then copies
    # each template's context), which would be measured as the product's cost.
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    campaign = Campaign.objects.select_related("organisation", "survey_version").get(slug=options.campaign)
    definition = campaign.definition
    districts = district_values(campaign.organisation.districts)
    tally = Tally()

    def count_queries(kind: str) -> Callable[..., Any]:
        def wrapper(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
            tally.queries[kind] += 1
            tally.definitions[kind] += '"survey_surveyversion"."definition"' in sql
            tally.session_writes[kind] += sql.startswith(('UPDATE "django_session"', 'INSERT INTO "django_session"'))
            return execute(sql, params, many, context)

        return wrapper

    profile: cProfile.Profile | None = None

    def call(client: Client, kind: str, method: str, path: str, data: Any = None) -> Any:
        profiled = profile is not None and options.profile_kind in (None, kind)
        with connection.execute_wrapper(count_queries(kind)):
            if profiled:
                profile.enable()
            wall, cpu = time.perf_counter(), time.process_time()
            reply = client.get(path) if method == "GET" else client.post(path, dict_of_lists(data))
            tally.cpu[kind] += time.process_time() - cpu
            tally.wall[kind] += time.perf_counter() - wall
            if profiled:
                profile.disable()
        tally.requests[kind] += 1
        return reply

    def dict_of_lists(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
        data: dict[str, list[str]] = {}
        for key, value in pairs:
            data.setdefault(key, []).append(value)
        return data

    def walk(rng: random.Random) -> None:
        answers, _steps = synthetic_answers(definition, rng, districts=districts)
        client = Client(REMOTE_ADDR=f"10.0.{rng.randrange(256)}.{rng.randrange(1, 255)}")
        base = f"/s/{campaign.slug}/"
        call(client, "start_get", "GET", base)
        reply = call(client, "start_post", "POST", base, [("age", "19"), ("consent", "on")])
        path = reply["Location"]
        for _hop in range(100):
            reply = call(client, "step_get", "GET", path)
            if reply.status_code == 302:
                path = reply["Location"]
                if path.endswith("/thanks/"):
                    call(client, "thanks_get", "GET", path)
                    return
                continue
            step = path.rstrip("/").rsplit("/", 1)[1]
            page = reply.content
            for _repost in range(3):
                reply = call(client, "step_post", "POST", path, _step_form(step, page, answers, definition))
                if reply.status_code == 302:
                    path = reply["Location"]
                    break
                page = reply.content
        raise RuntimeError("survey did not end")

    walk(random.Random(-1))  # warm caches (parsed definition, templates) outside the measurement
    rounds = []
    for _round in range(max(1, options.rounds)):
        tally = Tally()
        for n in range(options.surveys):
            walk(random.Random(n))
        rounds.append(tally)
    best = min(rounds, key=lambda measured: sum(measured.cpu.values()))
    print(
        f"Measured without a profiler ({options.surveys} surveys, best of {len(rounds)} rounds; "
        f"load average {os.getloadavg()[0]:.1f}). Queries: SQL statements, not counting BEGIN and COMMIT."
    )
    print(best.table())
    if options.no_cprofile:
        return
    profile = cProfile.Profile()
    for n in range(options.surveys):
        walk(random.Random(n))
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(options.top)
    which = f"the {options.profile_kind} requests of " if options.profile_kind else ""
    print(f"\nCProfile of {which}the same surveys:\n{out.getvalue()}")


if __name__ == "__main__":
    main()
