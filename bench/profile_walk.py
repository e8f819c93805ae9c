"""Where a respondent's request spends its time: walk surveys in-process under cProfile.

``python -m bench.profile_walk --surveys 20`` (bench environment: see ``bench/run.py``) walks the demo survey
with Django's test client, the way :mod:`bench.http_load` does over HTTP, counts the SQL queries per request
kind and prints the functions with the most cumulative time. No server, no network.
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

import django


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--campaign", default="demo")
    parser.add_argument("--surveys", type=int, default=20)
    parser.add_argument("--top", type=int, default=30)
    options = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("STIMMEN_MIN_COMPLETION_SECONDS", "0")  # as in bench/run.py
    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment

    from bench.http_load import _step_form
    from survey.models import Campaign
    from survey.synthetic import district_values, synthetic_answers

    setup_test_environment()
    campaign = Campaign.objects.select_related("organisation", "survey_version").get(slug=options.campaign)
    definition = campaign.definition
    districts = district_values(campaign.organisation.districts)
    queries: Counter[str] = Counter()
    requests: Counter[str] = Counter()
    seconds: Counter[str] = Counter()
    # Queries that fetch a survey version's whole definition (about 114 kB of JSON for the demo survey).
    definitions: Counter[str] = Counter()

    def call(client: Client, kind: str, method: str, path: str, data=None):
        started = time.perf_counter()
        with CaptureQueriesContext(connection) as captured:
            reply = client.get(path) if method == "GET" else client.post(path, dict_of_lists(data))
        seconds[kind] += time.perf_counter() - started
        queries[kind] += len(captured.captured_queries)
        definitions[kind] += sum('"survey_surveyversion"."definition"' in q["sql"] for q in captured.captured_queries)
        requests[kind] += 1
        return reply

    def dict_of_lists(pairs):
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

    walk(random.Random(-1))  # warm caches (parsed definition, templates) outside the profile
    for counter in (queries, requests, seconds, definitions):
        counter.clear()
    profile = cProfile.Profile()
    profile.enable()
    for n in range(options.surveys):
        walk(random.Random(n))
    profile.disable()
    print(f"{'request kind':<12}{'requests':>9}{'ms each':>9}{'queries each':>14}{'definitions each':>18}")
    for kind in requests:
        print(
            f"{kind:<12}{requests[kind]:>9}{seconds[kind] / requests[kind] * 1000:>9.1f}"
            f"{queries[kind] / requests[kind]:>14.1f}{definitions[kind] / requests[kind]:>18.1f}"
        )
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(options.top)
    print(out.getvalue())


if __name__ == "__main__":
    main()
