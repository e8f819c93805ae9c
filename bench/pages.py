"""Render time of the researchers' pages, through Django's test client, after ``manage.py aggregate``.

``python -m bench.pages --campaign demo`` logs in as the demo researcher, renders the overview and a cross-tab
(``gender`` by ``status``, or the first published pair) once to warm up and then ``--repeat`` times, and prints
the medians in milliseconds as one JSON object. The pages read the latest snapshot, so their time should not
grow with the number of responses.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

import django


def timed(client, url: str, repeat: int) -> tuple[float, int]:
    response = client.get(url)
    if response.status_code != 200:
        raise SystemExit(f"{url}: HTTP {response.status_code}")
    times = []
    for _n in range(repeat):
        started = time.perf_counter()
        response = client.get(url)
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000, len(response.content)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--campaign", default="demo")
    parser.add_argument("--repeat", type=int, default=5)
    options = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.test.utils import setup_test_environment

    from analysis.models import AggregateSnapshot

    setup_test_environment()
    client = Client()
    client.force_login(get_user_model().objects.get(username="demo-researcher"))
    snapshot = AggregateSnapshot.objects.filter(campaign__slug=options.campaign).order_by("-created_at").first()
    overview_ms, overview_bytes = timed(client, f"/analysis/{options.campaign}/", options.repeat)
    breakdowns = list(snapshot.tables.get("breakdowns", {})) if snapshot else []
    breakdown = "status" if "status" in breakdowns else (breakdowns[0] if breakdowns else "status")
    question = "gender" if breakdown != "gender" else "german_level"
    crosstab_url = f"/analysis/{options.campaign}/crosstab/?question={question}&breakdown={breakdown}"
    crosstab_ms, crosstab_bytes = timed(client, crosstab_url, options.repeat)
    json.dump(
        {
            "overview_ms": round(overview_ms, 1),
            "overview_bytes": overview_bytes,
            "crosstab_ms": round(crosstab_ms, 1),
            "crosstab_bytes": crosstab_bytes,
            "crosstab_url": crosstab_url,
            "snapshot_responses": snapshot.response_count if snapshot else 0,
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
