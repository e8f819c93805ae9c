"""Thin tasks: each takes ids (or nothing), calls one service, and retries itself on transient errors.

The services are idempotent (status guards and row locks in ``analysis.anonymisation``), so a task delivered
twice, retried, or re-run after a worker died does no harm. Tasks return counts only, never answers.
"""

from __future__ import annotations

from django.db import InterfaceError, OperationalError
from kombu.exceptions import OperationalError as BrokerError

from worker.celery import app

#: Errors that pass on their own (a database restart, a broker blip): the task retries with backoff.
TRANSIENT_ERRORS = (OperationalError, InterfaceError, BrokerError, ConnectionError)

_RETRYING = {
    "acks_late": True,
    "autoretry_for": TRANSIENT_ERRORS,
    "retry_backoff": True,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 8,
}


@app.task(**_RETRYING, soft_time_limit=60, time_limit=90, ignore_result=True)
def anonymise_response(response_id: str) -> bool:
    """Anonymise one raw response (enqueued after each submission); ``False`` if it was done already."""
    from analysis.anonymisation import response_anonymise

    return response_anonymise(response_id=response_id)


@app.task(**_RETRYING, soft_time_limit=25 * 60, time_limit=30 * 60)
def anonymise_pending() -> dict[str, dict[str, int]]:
    """The sweep (every five minutes): pending responses of every campaign, then k-anonymity."""
    from analysis.anonymisation import anonymise_pending as sweep

    return {slug: {"anonymised": r.anonymised, "suppressed_values": r.suppressed_values} for slug, r in sweep().items()}


@app.task(**_RETRYING, soft_time_limit=25 * 60, time_limit=30 * 60)
def purge_expired() -> dict[str, int]:
    """Daily: delete raw responses past retention, old drafts and old export files; how many of each kind."""
    from analysis.export_jobs import export_files_expire
    from analysis.models import DeletionRecord
    from analysis.retention import purge_expired as purge

    result = purge()
    return {kind.value: result.total(kind) for kind in DeletionRecord.Kind} | {"export_file": export_files_expire()}


@app.task(**_RETRYING, soft_time_limit=25 * 60, time_limit=30 * 60, ignore_result=True)
def run_export(job_id: int) -> bool:
    """Write a queued export (``analysis.models.ExportJob``); ``False`` if it was done or taken already."""
    from analysis.export_jobs import export_run

    return export_run(job_id=job_id)


@app.task(**_RETRYING, soft_time_limit=25 * 60, time_limit=30 * 60, ignore_result=True)
def aggregate_campaign(campaign_id: int) -> int:
    """Build (or keep, if nothing changed) the campaign's aggregate snapshot; returns the snapshot id."""
    from analysis.snapshots import snapshot_build
    from survey.models import Campaign

    return snapshot_build(campaign=Campaign.objects.select_related("survey_version").get(pk=campaign_id)).pk


@app.task(**_RETRYING, soft_time_limit=60, time_limit=90)
def aggregate_campaigns(open_only: bool = True) -> int:
    """Beat: queue :func:`aggregate_campaign` for open campaigns (hourly) or every campaign (daily)."""
    from survey.models import Campaign

    campaigns = Campaign.objects.filter(status=Campaign.Status.OPEN) if open_only else Campaign.objects.all()
    ids = list(campaigns.values_list("pk", flat=True))
    for campaign_id in ids:
        aggregate_campaign.delay(campaign_id)
    return len(ids)
