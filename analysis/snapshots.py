"""Building aggregate snapshots (services): read the anonymised rows once, aggregate, suppress, store.

The hard parts are pure (:mod:`analysis.aggregation`, :mod:`analysis.disclosure`, :mod:`analysis.coding`);
this module only wires them to the database. ``docs/aggregation.md`` describes the stored JSON.

The input is the records' ``codes`` (:mod:`analysis.coding`), read with one binary ``COPY`` into one
(n × record size) byte matrix, sorted by the records' random ids; k-anonymity is enforced on its
quasi-identifier columns (:func:`analysis.privacy.kanonymity.enforce_coded`) and
:func:`analysis.aggregation.count_coded` counts it. Memory is the matrix, about twice over while it is
read (the COPY's bytes and the column-major matrix). A campaign with a record that cannot be coded (a value
the definition does not know) is read through the exports' microdata frame instead, which handles anything.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable, Sequence
from functools import cache
from pathlib import Path

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from psycopg import Copy, sql

from analysis import aggregation, coding
from analysis.anonymisation import campaign_layout, records_code
from analysis.exports import microdata_frame
from analysis.models import AggregateSnapshot, AnonymisedResponse
from analysis.privacy.kanonymity import SUPPRESSED, CodedColumn, enforce_coded
from survey.models import Campaign
from survey.selectors import campaign_status

_COPY_HEADER, _COPY_TRAILER = 19, 2  # PostgreSQL's binary COPY: signature, flags, extension; then -1
_TRAILER = b"\xff\xff"  # the trailer: a field count of -1
_TRANSPOSE_ROWS = 2048  # rows per block of the transpose: about half a MB
_COUNTED_COMBINATIONS = 1 << 20  # a multi-choice quasi-identifier with at most this many is counted, not sorted


@cache
def code_version() -> str:
    """``STIMMEN_VERSION`` plus a hash of the aggregation and disclosure sources: a change means a rebuild."""
    digest = hashlib.sha256()
    for module in ("aggregation.py", "disclosure.py", "coding.py", "privacy/kanonymity.py"):
        digest.update((Path(__file__).resolve().parent / module).read_bytes())
    return f"{settings.STIMMEN_VERSION}+{digest.hexdigest()[:16]}"


def snapshot_build(*, campaign: Campaign, breakdowns: Sequence[str] | None = None) -> AggregateSnapshot:
    """Aggregate the campaign's anonymised responses into a new snapshot, or return the latest if unchanged.

    ``breakdowns``: single-choice questions to break every question down by, besides the quasi-identifiers;
    ``None`` keeps the choice of the latest snapshot (none for the first). Idempotent: when the input hash
    (SHA-256 over the records' ids and codes in the order of their random ids — or, for a campaign read through
    the microdata frame, over that frame as CSV — plus k, the breakdowns and the tallies) and the code
    version equal those of the latest snapshot, that snapshot is returned and nothing is written.
    Runs under a lock on the campaign row, so two builds of one campaign never interleave.
    """
    with transaction.atomic():
        campaign = (
            Campaign.objects.select_for_update(of=("self",))
            .select_related("survey_version", "organisation")
            .get(pk=campaign.pk)
        )
        latest = AggregateSnapshot.objects.filter(campaign=campaign).order_by("-created_at", "-pk").first()
        chosen = list(breakdowns) if breakdowns is not None else (latest.breakdowns if latest else [])
        layout = campaign_layout(campaign)
        coded = coded_input(campaign=campaign, layout=layout) if layout.complete else None
        if coded is not None:
            matrix, digest = coded
            respondents = len(matrix)
        else:
            frame = microdata_frame(campaign=campaign)  # sorted by the random id; k-anonymous quasi-identifiers
            digest = hashlib.sha256(frame.to_csv(index=False).encode())
            respondents = len(frame)
        status = campaign_status(campaign=campaign)
        steps = [
            (step["step"], step["reached"], campaign.definition.step(step["step"]).show_if is not None)
            for step in status["steps"]
        ]
        parameters = {"k": campaign.k, "breakdowns": chosen, "started": status["started"]}
        parameters.update(completed=status["completed"], steps=steps)
        digest.update(json.dumps(parameters, sort_keys=True).encode())
        input_hash, version = digest.hexdigest(), code_version()
        if latest and latest.input_hash == input_hash and latest.code_version == version:
            return latest
        if coded is not None:
            enforce_k_on_codes(matrix, layout, k=campaign.k)
            counts = aggregation.count_coded(matrix, layout, campaign.definition, breakdowns=chosen)
        else:
            counts = aggregation.count_campaign(frame, campaign.definition, breakdowns=chosen)
        funnel = aggregation.funnel_publish(
            started=status["started"], completed=status["completed"], steps=steps, k=campaign.k
        )
        tables = aggregation.publish(counts, k=campaign.k, funnel=funnel) if respondents else _empty(campaign.k, funnel)
        return AggregateSnapshot.objects.create(
            campaign=campaign,
            response_count=respondents,
            survey_version=campaign.survey_version,
            input_hash=input_hash,
            code_version=version,
            breakdowns=chosen,
            tables=tables,
        )


def coded_input(*, campaign: Campaign, layout: coding.Layout) -> tuple[np.ndarray, hashlib._Hash] | None:
    """The codes of the campaign's records as an (n × record size) matrix in id order, and their hash.

    Records whose codes follow another layout are coded first (:func:`analysis.anonymisation.records_code`).
    ``None`` if a record cannot be coded: the caller then reads the microdata frame. The matrix is writable
    (k-anonymity suppresses in place); the hash covers the layout and the records (id, codes) as stored, in
    id order.
    """
    records = AnonymisedResponse.objects.filter(campaign=campaign)
    if records.exclude(codes_layout=layout.fingerprint).exists():
        records_code(campaign=campaign, layout=layout)
    # One COPY in the table's physical order (a walk in id order would visit the heap at random), binary:
    # per row a 2-byte field count, the 16-byte id and the codes, each after a 4-byte length.
    size = layout.record_size
    row_size = 2 + 4 + 16 + 4 + size
    raw = bytearray()
    if connection.vendor == "postgresql":
        statement = sql.SQL(
            "COPY (SELECT id, codes FROM analysis_anonymisedresponse WHERE campaign_id = {}) TO STDOUT (FORMAT binary)"
        ).format(sql.Literal(campaign.pk))
        with connection.cursor() as cursor, cursor.copy(statement) as copy:
            _copy_read_into(copy, raw)
    else:
        _copy_format_into(records.values_list("id", "codes").iterator(chunk_size=10_000), raw)
    body = len(raw) - _COPY_HEADER - _COPY_TRAILER
    if body % row_size:
        return None  # a record without codes (its length is -1) or with codes of another size
    n = body // row_size
    rows = np.frombuffer(raw, dtype=np.uint8, offset=_COPY_HEADER, count=body).reshape(n, row_size)
    lengths = np.ascontiguousarray(rows[:, 22:26]).view(">i4").ravel()
    if n and (lengths != size).any():
        return None
    # A UUID's bytes compare as two big-endian ints; random ids practically never share the first one, so
    # that one alone orders them (the second breaks ties if they ever do).
    ids = np.ascontiguousarray(rows[:, 6:22]).view(">u8")
    order = np.argsort(ids[:, 0])
    first = ids[order, 0]
    if (first[1:] == first[:-1]).any():
        order = np.lexsort((ids[:, 1], ids[:, 0]))
    # Column-major: the counting reads one question at a time, so each question's codes lie side by side.
    # The rows are taken in id order a block at a time (whole rows, one opaque item each), hashed and
    # transposed: a block stays in the CPU caches, where a transpose of the whole matrix would not.
    records = np.frombuffer(raw, dtype=f"V{row_size}", offset=_COPY_HEADER, count=n)
    columns = np.empty((size, n), dtype=np.uint8)
    digest = hashlib.sha256(f"codes {layout.fingerprint}\n".encode())
    for start in range(0, n, _TRANSPOSE_ROWS):
        block = np.take(records, order[start : start + _TRANSPOSE_ROWS]).view(np.uint8).reshape(-1, row_size)
        digest.update(block.data)  # the records (id, codes) in id order
        columns[:, start : start + len(block)] = block[:, 26:].T
    return columns.T, digest


def _copy_format_into(rows: Iterable[tuple[uuid.UUID, bytes | None]], buffer: bytearray) -> None:
    """What PostgreSQL's binary ``COPY`` of (id, codes) would send, for the embedded SQLite database.

    One reader of one format: the rest of :func:`coded_input` works on these bytes unchanged.
    """
    buffer += b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # signature, flags, header extension length
    for record_id, codes in rows:
        buffer += b"\x00\x02\x00\x00\x00\x10" + record_id.bytes
        buffer += b"\xff\xff\xff\xff" if codes is None else len(codes).to_bytes(4, "big") + bytes(codes)
    buffer += _TRAILER


def _copy_read_into(copy: Copy, buffer: bytearray) -> None:
    """Append the whole output of a binary ``COPY ... TO STDOUT`` to ``buffer``.

    The server sends one message per row (the header comes with the first). The rows libpq has already
    received are taken straight from it (``get_copy_data`` without waiting: one call per row instead of
    psycopg's wait machinery, half the client's time for a million rows); psycopg reads (and waits) only
    when none is buffered, and reads the end of the COPY after the trailer.
    """
    get_copy_data = copy.connection.pgconn.get_copy_data
    while True:
        nbytes, data = get_copy_data(1)  # 1: do not wait
        if nbytes <= 0:  # 0: nothing buffered; -1/-2 (end, error) cannot come before the trailer
            data = copy.read()
            if not data:
                return
        buffer += data
        # The trailer ends the last message: alone, or after the header if there is no row (a row is longer).
        if len(data) in (_COPY_TRAILER, _COPY_HEADER + _COPY_TRAILER) and bytes(data[-2:]) == _TRAILER:
            break
    while data := copy.read():  # the end of the COPY (no data follows the trailer)
        buffer += data


def enforce_k_on_codes(matrix: np.ndarray, layout: coding.Layout, *, k: int) -> int:
    """Suppress quasi-identifier codes in ``matrix`` (in place) until k-anonymity holds; cells suppressed now.

    The same rule as the exports' :func:`analysis.privacy.kanonymity.enforce` on the same records in the same
    order, so the aggregates and the microdata agree on what is suppressed.
    """
    columns: dict[str, CodedColumn] = {}
    variables = [variable for variable in layout.variables if variable.quasi_identifier]
    for variable in variables:
        columns[variable.key] = _qi_column(matrix, variable)
    if not columns:
        return 0
    masks, report = enforce_coded(columns, k)
    for variable in variables:
        coding.suppress(matrix, variable, masks[variable.key])
    return report.suppressed_values


def _qi_column(matrix: np.ndarray, variable: coding.Variable) -> CodedColumn:
    """One quasi-identifier as k-anonymity sees it: a multi choice is one value (ticked options joined by "+")."""
    if variable.kind is not coding.Kind.MULTI:
        texts = [None, *variable.labels, SUPPRESSED]
        return CodedColumn(coding.column(matrix, variable), texts)
    block = matrix[:, variable.offset : variable.offset + variable.slots].astype(np.int64)
    packed = block @ (4 ** np.arange(variable.slots, dtype=np.int64))  # each slot holds 0..3
    if 4**variable.slots <= _COUNTED_COMBINATIONS:  # np.unique(packed, return_inverse=True) without a sort
        combinations = np.flatnonzero(np.bincount(packed, minlength=1))
        rank = np.zeros(4**variable.slots, dtype=np.int64)
        rank[combinations] = np.arange(len(combinations))
        values = rank[packed]
    else:
        combinations, values = np.unique(packed, return_inverse=True)
    texts: list[str | None] = []
    for combination in combinations.tolist():
        slots = [(combination >> (2 * j)) & 3 for j in range(variable.slots)]
        if all(slot == coding.NO_ANSWER_CODE for slot in slots):
            texts.append(None)
        elif coding.MULTI_SUPPRESSED in slots:
            texts.append(SUPPRESSED)
        else:
            ticked = zip(variable.labels, slots, strict=True)
            texts.append("+".join(sorted(option for option, slot in ticked if slot == coding.MULTI_TICKED)))
    return CodedColumn(values.ravel(), texts)


def _empty(k: int, funnel: dict) -> dict:
    """The published form of a campaign without anonymised responses (nothing to suppress)."""
    return {
        "format": aggregation.FORMAT,
        "k": k,
        "respondents": 0,
        "suppressed_cells": 0,
        "note": "",
        "questions": {},
        "breakdowns": {},
        "multi_breakdowns": {},
        "themes": {},
        "tables": {},
        "funnel": funnel,
    }
