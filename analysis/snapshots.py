"""Building aggregate snapshots (services): read the anonymised rows once, aggregate, suppress, store.

The hard parts are pure (:mod:`analysis.aggregation`, :mod:`analysis.disclosure`); this module only wires
them to the database. ``docs/aggregation.md`` describes the stored JSON.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from functools import cache
from pathlib import Path

from django.conf import settings
from django.db import transaction

from analysis import aggregation
from analysis.exports import microdata_frame
from analysis.models import AggregateSnapshot
from survey.models import Campaign
from survey.selectors import campaign_status


@cache
def code_version() -> str:
    """``STIMMEN_VERSION`` plus a hash of the aggregation and disclosure sources: a change means a rebuild."""
    digest = hashlib.sha256()
    for module in ("aggregation.py", "disclosure.py"):
        digest.update((Path(__file__).resolve().parent / module).read_bytes())
    return f"{settings.STIMMEN_VERSION}+{digest.hexdigest()[:16]}"


def snapshot_build(*, campaign: Campaign, breakdowns: Sequence[str] | None = None) -> AggregateSnapshot:
    """Aggregate the campaign's anonymised responses into a new snapshot, or return the latest if unchanged.

    ``breakdowns``: single-choice questions to break every question down by, besides the quasi-identifiers;
    ``None`` keeps the choice of the latest snapshot (none for the first). Idempotent: when the input hash
    (SHA-256 over the sorted anonymised rows as exported, plus k, the breakdowns and the tallies) and the
    code version equal those of the latest snapshot, that snapshot is returned and nothing is written.
    Runs under a lock on the campaign row, so two builds of one campaign never interleave.
    """
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().select_related("survey_version").get(pk=campaign.pk)
        latest = AggregateSnapshot.objects.filter(campaign=campaign).order_by("-created_at", "-pk").first()
        chosen = list(breakdowns) if breakdowns is not None else (latest.breakdowns if latest else [])
        frame = microdata_frame(campaign=campaign)  # sorted by the random id; k-anonymous quasi-identifiers
        status = campaign_status(campaign=campaign)
        steps = [
            (step["step"], step["reached"], campaign.definition.step(step["step"]).show_if is not None)
            for step in status["steps"]
        ]
        digest = hashlib.sha256(frame.to_csv(index=False).encode())
        parameters = {"k": campaign.k, "breakdowns": chosen, "started": status["started"]}
        parameters.update(completed=status["completed"], steps=steps)
        digest.update(json.dumps(parameters, sort_keys=True).encode())
        input_hash, version = digest.hexdigest(), code_version()
        if latest and latest.input_hash == input_hash and latest.code_version == version:
            return latest
        counts = aggregation.count_campaign(frame, campaign.definition, breakdowns=chosen)
        funnel = aggregation.funnel_publish(
            started=status["started"], completed=status["completed"], steps=steps, k=campaign.k
        )
        tables = aggregation.publish(counts, k=campaign.k, funnel=funnel) if len(frame) else _empty(campaign.k, funnel)
        return AggregateSnapshot.objects.create(
            campaign=campaign,
            response_count=len(frame),
            survey_version=campaign.survey_version,
            input_hash=input_hash,
            code_version=version,
            breakdowns=chosen,
            tables=tables,
        )


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
