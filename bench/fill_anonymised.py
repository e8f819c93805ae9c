"""Bench-only: give the aggregation its input at sizes where the product's anonymiser would take hours.

``python -m bench.fill_anonymised --campaign demo`` turns every raw response that is not yet anonymised into
an anonymised record with the product's own pure function (:func:`analysis.anonymisation.anonymised_answers`:
generalisation of quasi-identifiers, week instead of day), but over the answers *without their free texts*,
so the scrubber is not run, codes them with the product's encoder (:func:`analysis.coding.encode_or_none`, as
the anonymiser does), and writes records and marks with ``COPY`` in one transaction. Aggregation
counts categorical answers only, so its input is the same as after the real anonymisation, minus texts.
The real anonymiser's speed is measured separately (``bench/run.py``, phase "anonymise").
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import uuid

import django


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--campaign", default="demo")
    options = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from django.db import connection, transaction
    from django.utils import timezone

    from analysis.anonymisation import anonymised_answers, campaign_layout, week_of
    from analysis.coding import encode_or_none
    from survey.definition.model import TEXT_TYPES
    from survey.models import Campaign

    campaign = Campaign.objects.select_related("survey_version", "organisation").get(slug=options.campaign)
    definition = campaign.definition
    layout = campaign_layout(campaign)
    text_keys = {q.key for q in definition.questions() if q.type in TEXT_TYPES}
    text_keys |= {q.other_key for q in definition.questions() if q.other}
    today = timezone.localdate().isoformat()
    started = time.perf_counter()
    written = 0
    select = (
        "SELECT r.id, r.answers::text, r.submitted_on FROM survey_response r WHERE r.campaign_id = %s "
        "AND NOT EXISTS (SELECT 1 FROM analysis_responseanonymisation m WHERE m.response_id = r.id)"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(select, [campaign.pk])
        rows = cursor.fetchall()
        records, marks = [], []
        for response_id, answers_text, submitted_on in rows:
            answers = {k: v for k, v in json.loads(answers_text).items() if k not in text_keys}
            anonymised = anonymised_answers(definition, answers, answered_on=submitted_on)
            payload = json.dumps(anonymised, ensure_ascii=False, separators=(",", ":")).replace("\\", "\\\\")
            codes = encode_or_none(layout, anonymised)
            codes_text = "\\N" if codes is None else "\\\\x" + codes.hex()  # bytea in COPY's text format
            records.append(
                f"{uuid.uuid4()}\t{campaign.pk}\t{campaign.survey_version_id}\t{week_of(submitted_on)}\t{payload}"
                f"\t{codes_text}\t{layout.fingerprint}\tf\n"
            )
            marks.append(f"{response_id}\t{today}\n")
            written += 1
        del rows
        columns = "id, campaign_id, survey_version_id, week, answers, codes, codes_layout, k_enforced"
        with cursor.copy(f"COPY analysis_anonymisedresponse ({columns}) FROM STDIN") as copy:
            for start in range(0, len(records), 10_000):
                copy.write("".join(records[start : start + 10_000]))
        with cursor.copy("COPY analysis_responseanonymisation (response_id, anonymised_on) FROM STDIN") as copy:
            for start in range(0, len(marks), 10_000):
                copy.write("".join(marks[start : start + 10_000]))
    json.dump({"filled": written, "seconds": time.perf_counter() - started}, sys.stdout)


if __name__ == "__main__":
    main()
