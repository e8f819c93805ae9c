"""Baselines of the pipeline benchmark, run as their own process so that their memory is measured alone.

``python -m bench.floors --campaign demo`` prints one JSON object:

* ``copy_s``: ``COPY (SELECT answers FROM survey_response WHERE campaign_id=…) TO STDOUT`` read to the end,
  the floor for getting the raw answers out of PostgreSQL at all;
* ``decode_s``: ``json.loads`` of every row and coding the categorical answers as small integers (what any
  Python aggregator over JSON answers has to do at least once);
* ``bincount_s``: ``numpy.bincount`` over those coded columns, the floor for counting.

``python -m bench.floors --campaign demo --codes`` measures the same three floors on the stored codes of the
anonymised records (``analysis.coding``), which is what ``snapshot_build`` reads, after the records exist:

* ``codes_copy_s``: ``COPY (SELECT codes FROM analysis_anonymisedresponse WHERE campaign_id=…) TO STDOUT``
  (binary) read to the end;
* ``codes_decode_s``: the codes as one ``numpy.frombuffer`` matrix and the same categorical columns taken
  out of it;
* ``codes_bincount_s``: ``numpy.bincount`` over those columns.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import django
import numpy as np


def coded_questions(definition, limit: int) -> list:
    """Up to ``limit`` categorical questions (single choice, likert, yes/no, district), in definition order."""
    from survey.definition import QuestionType

    kinds = (QuestionType.SINGLE_CHOICE, QuestionType.LIKERT, QuestionType.YES_NO, QuestionType.DISTRICT)
    return [question for question in definition.questions() if question.type in kinds][:limit]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--campaign", default="demo")
    parser.add_argument("--columns", type=int, default=30)
    parser.add_argument("--codes", action="store_true", help="Floors of the stored codes instead of the answers.")
    options = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from django.db import connection

    from survey.models import Campaign
    from survey.synthetic import district_values

    campaign = Campaign.objects.select_related("survey_version", "organisation").get(slug=options.campaign)
    questions = coded_questions(campaign.definition, options.columns)
    if options.codes:
        json.dump(codes_floors(campaign, questions, connection), sys.stdout)
        return
    codes = []
    for question in questions:
        values = (
            district_values(campaign.organisation.districts)
            if question.type == "district"
            else question.option_values()
        )
        codes.append((question.key, {value: n for n, value in enumerate(values, start=1)}, len(values) + 1))

    started = time.perf_counter()
    chunks: list[bytes] = []
    with connection.cursor() as cursor:
        sql = f"COPY (SELECT answers FROM survey_response WHERE campaign_id = {int(campaign.pk)}) TO STDOUT"
        with cursor.copy(sql) as copy:
            for block in copy:
                chunks.append(bytes(block))
    copy_s = time.perf_counter() - started
    raw = b"".join(chunks)
    del chunks

    started = time.perf_counter()
    lines = raw.decode().split("\n")
    rows = len(lines) - 1
    matrix = np.zeros((len(codes), rows), dtype=np.int16)
    for n, line in enumerate(lines[:rows]):
        answers = json.loads(line.replace("\\\\", "\\"))
        for column, (key, table, _size) in enumerate(codes):
            value = answers.get(key)
            if value is not None:
                matrix[column, n] = table.get(str(value), 0)
    decode_s = time.perf_counter() - started
    del lines, raw

    started = time.perf_counter()
    counts = [np.bincount(matrix[column], minlength=size) for column, (_key, _table, size) in enumerate(codes)]
    bincount_s = time.perf_counter() - started

    json.dump(
        {
            "rows": rows,
            "columns": len(codes),
            "copy_s": copy_s,
            "decode_s": decode_s,
            "bincount_s": bincount_s,
            "answers_counted": int(sum(int(c[1:].sum()) for c in counts)),
        },
        sys.stdout,
    )


def codes_floors(campaign, questions: list, connection) -> dict:
    """COPY, decode and bincount floors over the stored codes (one fixed-width record per anonymised response)."""
    from analysis.anonymisation import campaign_layout
    from analysis.coding import column

    layout = campaign_layout(campaign)
    variables = [layout.variable(question.key) for question in questions]
    started = time.perf_counter()
    chunks: list[bytes] = []
    with connection.cursor() as cursor:
        sql = (
            "COPY (SELECT codes FROM analysis_anonymisedresponse WHERE campaign_id = "
            f"{int(campaign.pk)} AND codes IS NOT NULL) TO STDOUT (FORMAT binary)"
        )
        with cursor.copy(sql) as copy:
            for block in copy:
                chunks.append(bytes(block))
    codes_copy_s = time.perf_counter() - started
    raw = b"".join(chunks)
    del chunks

    started = time.perf_counter()
    # Binary COPY: 19-byte header, then per row a 2-byte field count and a 4-byte length before the codes.
    size = layout.record_size
    rows = (len(raw) - 19 - 2) // (6 + size)
    records = np.frombuffer(raw, dtype=np.uint8, offset=19, count=rows * (6 + size)).reshape(rows, 6 + size)
    matrix = records[:, 6:]
    columns = [column(matrix, variable) for variable in variables]
    codes_decode_s = time.perf_counter() - started

    started = time.perf_counter()
    counts = [np.bincount(codes, minlength=len(v.labels) + 2) for codes, v in zip(columns, variables, strict=True)]
    codes_bincount_s = time.perf_counter() - started
    return {
        "rows": rows,
        "columns": len(columns),
        "record_bytes": size,
        "codes_copy_s": codes_copy_s,
        "codes_decode_s": codes_decode_s,
        "codes_bincount_s": codes_bincount_s,
        "answers_counted": int(sum(int(c[1:].sum()) for c in counts)),
    }


if __name__ == "__main__":
    main()
