"""Services for exports that are logged, and queued when large: every export is an :class:`ExportJob` row.

* :func:`export_file` — the ``export`` command: writes to a path now, logged as "command line".
* :func:`export_create` — a download (researcher pages, later): writes to ``MEDIA_ROOT/exports/``; small
  campaigns at once, large ones (:data:`LARGE_EXPORT_ROWS`) by the worker task ``worker.tasks.run_export``.
* :func:`export_run` — runs a queued job exactly once (status guard under a row lock).

The log records who, when, campaign, what, format, row count and the file's path — never contents. Who may
export what is decided by the caller (``docs/exports.md``, "Permissions"); these services do not check it.
"""

from __future__ import annotations

import datetime
import logging
import os
import shutil
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import InterfaceError, OperationalError, transaction
from django.utils import timezone

from analysis.exports import AVAILABLE, SUFFIXES, export_write
from analysis.models import AnonymisedResponse, ExportJob
from survey.models import Campaign

logger = logging.getLogger(__name__)

#: From this many records on, :func:`export_create` leaves the export to the worker.
LARGE_EXPORT_ROWS = 20_000
#: Sub-directory of ``MEDIA_ROOT`` for the files of :func:`export_create`.
EXPORT_DIR = "exports"

NOT_AVAILABLE = "Export of {what} as {fmt} is not available yet."
DIRECTORY_EXISTS = "{out} exists already: a data package is written into a new directory."
CAMPAIGN_DELETED = "CampaignDeleted"
JOB_ABANDONED = "The worker stopped during this export; it was started again."


class ExportNotAvailable(ValueError):
    """The combination of ``what`` and format cannot be exported (yet)."""


def _check(what: str, fmt: str) -> None:
    if (what, fmt) not in AVAILABLE:
        raise ExportNotAvailable(NOT_AVAILABLE.format(what=what, fmt=fmt))


def _job_new(*, campaign: Campaign, what: str, fmt: str, user: Any, status: str) -> ExportJob:
    return ExportJob.objects.create(
        campaign=campaign,
        campaign_slug=campaign.slug,
        what=what,
        format=fmt,
        requested_by=user if user is not None else None,
        requested_via=ExportJob.Via.WEB if user is not None else ExportJob.Via.COMMAND_LINE,
        status=status,
        started_at=timezone.now() if status == ExportJob.Status.RUNNING else None,
    )


def _job_finish(job: ExportJob, *, status: str, rows: int | None = None, path: str = "", reason: str = "") -> None:
    ExportJob.objects.filter(pk=job.pk).update(
        status=status, rows=rows, path=path, reason=reason, finished_at=timezone.now()
    )
    job.refresh_from_db()


def _write_logged(job: ExportJob, campaign: Campaign, out: Path, *, retryable: bool = False) -> None:
    """Write the file for a running ``job``; a half-written file is never left under ``out``.

    On a database error a ``retryable`` job (run by the task) goes back to ``queued`` for the task's retry;
    every other failure marks it ``failed`` with the kind of error. The error is raised again.
    """
    partial = out.with_name(out.name + ".partial")
    try:
        rows = export_write(campaign=campaign, what=job.what, fmt=job.format, out=partial)
        os.replace(partial, out)
    except Exception as error:
        if partial.is_dir():  # a data package
            shutil.rmtree(partial)
        partial.unlink(missing_ok=True)
        if retryable and isinstance(error, OperationalError | InterfaceError):
            ExportJob.objects.filter(pk=job.pk).update(status=ExportJob.Status.QUEUED, started_at=None)
        else:
            _job_finish(job, status=ExportJob.Status.FAILED, reason=type(error).__name__)
        logger.error("Export %s of %s failed (%s)", job.pk, job.campaign_slug, type(error).__name__)
        raise
    _job_finish(job, status=ExportJob.Status.DONE, rows=rows, path=str(out))


def export_file(*, campaign: Campaign, what: str, fmt: str, out: Path, user: Any = None) -> ExportJob:
    """Write an export of ``campaign`` to ``out`` now, logged; ``user=None`` logs it as "command line".

    Raises :class:`ExportNotAvailable` (nothing logged) for a combination that cannot be exported.
    """
    _check(what, fmt)
    if fmt == "dir" and Path(out).exists():
        raise FileExistsError(DIRECTORY_EXISTS.format(out=out))
    job = _job_new(campaign=campaign, what=what, fmt=fmt, user=user, status=ExportJob.Status.RUNNING)
    _write_logged(job, campaign, Path(out))
    return job


def export_path(job: ExportJob) -> Path:
    """Where :func:`export_create` puts a job's file: ``MEDIA_ROOT/exports/<campaign>-<what>-<id>.<ext>``."""
    return Path(settings.MEDIA_ROOT) / EXPORT_DIR / f"{job.campaign_slug}-{job.what}-{job.pk}{SUFFIXES[job.format]}"


def export_create(*, campaign: Campaign, what: str, fmt: str, user: Any = None) -> ExportJob:
    """Log an export of ``campaign`` and produce its file under ``MEDIA_ROOT/exports/``.

    Below :data:`LARGE_EXPORT_ROWS` records the file is written before this returns (status ``done``; a
    failure is logged as ``failed`` and raised); otherwise the job stays ``queued`` and
    ``worker.tasks.run_export`` is sent once the surrounding transaction commits. Raises
    :class:`ExportNotAvailable` (nothing logged) for a combination that cannot be exported.
    """
    _check(what, fmt)
    job = _job_new(campaign=campaign, what=what, fmt=fmt, user=user, status=ExportJob.Status.QUEUED)
    if AnonymisedResponse.objects.filter(campaign=campaign).count() < LARGE_EXPORT_ROWS:
        export_run(job_id=job.pk)
    else:
        from worker.tasks import run_export

        job_id = job.pk
        transaction.on_commit(lambda: run_export.delay(job_id))
    job.refresh_from_db()
    return job


def export_run(*, job_id: int) -> bool:
    """Run a queued export job; ``False`` if it is done, failed, running elsewhere or unknown.

    The row is locked while its status moves from ``queued`` to ``running``, so of two deliveries of the same
    job only one writes. A job still ``running`` after the task's hard time limit died with its worker and
    is run again.
    """
    limit = datetime.timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)
    with transaction.atomic():
        job = ExportJob.objects.select_for_update(of=("self",)).select_related("campaign").filter(pk=job_id).first()
        if job is None:
            return False
        if job.campaign is None:  # deleted since the job was queued
            if job.status == ExportJob.Status.QUEUED:
                _job_finish(job, status=ExportJob.Status.FAILED, reason=CAMPAIGN_DELETED)
            return False
        abandoned = job.status == ExportJob.Status.RUNNING and job.started_at < timezone.now() - limit
        if job.status != ExportJob.Status.QUEUED and not abandoned:
            return False
        if abandoned:
            logger.warning("Export %s: %s", job.pk, JOB_ABANDONED)
        job.status = ExportJob.Status.RUNNING
        job.started_at = timezone.now()
        job.save(update_fields=["status", "started_at"])
    out = export_path(job)
    out.parent.mkdir(parents=True, exist_ok=True)
    _write_logged(job, job.campaign, out, retryable=True)
    return True
