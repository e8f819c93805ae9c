"""Services for exports that are logged, and queued when large: every export is an :class:`ExportJob` row.

* :func:`export_file` — the ``export`` command: writes to a path now, logged as "command line".
* :func:`export_create` — a download: writes to ``MEDIA_ROOT/exports/``; small campaigns at once, large ones
  (:data:`LARGE_EXPORT_ROWS`) by the worker task ``worker.tasks.run_export``. :func:`export_request` is the
  same for the researchers' exports page, which shows a failure on the job instead of raising it.
* :func:`export_run` — runs a queued job exactly once (status guard under a row lock).
* :func:`export_download` — the file of a finished download; :func:`export_files_expire` deletes files older
  than ``STIMMEN_EXPORT_FILE_DAYS`` (the daily purge) and keeps their rows.

The log records who, when, campaign, what, format, row count and the file's path — never contents; each
export is also an entry of the organisation's audit log. Who may export what (``docs/exports.md``,
"Permissions") is :func:`export_allowed`: the caller asks it, the services that write do not.
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
from survey.audit import audit_record
from survey.models import AuditEvent, Campaign
from survey.rules import EXPORT_MICRODATA, VIEW_AGGREGATES

logger = logging.getLogger(__name__)

#: From this many records on, :func:`export_create` leaves the export to the worker.
LARGE_EXPORT_ROWS = 20_000
#: Sub-directory of ``MEDIA_ROOT`` for the files of :func:`export_create`.
EXPORT_DIR = "exports"

NOT_AVAILABLE = "Export of {what} as {fmt} is not available yet."
DIRECTORY_EXISTS = "{out} exists already: a data package is written into a new directory."
CAMPAIGN_DELETED = "CampaignDeleted"
JOB_ABANDONED = "The worker stopped during this export; it was started again."

#: The permission each kind of export needs. The codebook goes with the microdata: it lists every variable
#: and code of the microdata files, which only those who may have them need.
EXPORT_PERMISSIONS = {
    "aggregates": VIEW_AGGREGATES,
    "datapackage": VIEW_AGGREGATES,
    "microdata": EXPORT_MICRODATA,
    "codebook": EXPORT_MICRODATA,
}
#: The order in which the exports page offers them: published tables first, then the microdata.
OFFER_ORDER = (
    ("aggregates", "csv"),
    ("aggregates", "xlsx"),
    ("datapackage", "dir"),
    ("microdata", "csv"),
    ("microdata", "xlsx"),
    ("microdata", "sav"),
    ("microdata", "dta"),
    ("codebook", "html"),
    ("codebook", "md"),
)
#: What a download is sent as; a data package (a directory) is sent as one ``.zip``.
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "sav": "application/x-spss-sav",
    "dta": "application/x-stata-dta",
    "md": "text/markdown; charset=utf-8",
    "html": "text/html; charset=utf-8",
    "dir": "application/zip",
}


class ExportNotAvailable(ValueError):
    """The combination of ``what`` and format cannot be exported (yet)."""


def _check(what: str, fmt: str) -> None:
    if (what, fmt) not in AVAILABLE:
        raise ExportNotAvailable(NOT_AVAILABLE.format(what=what, fmt=fmt))


def export_allowed(*, user: Any, campaign: Campaign, what: str) -> bool:
    """May ``user`` export ``what`` of ``campaign``? (:data:`EXPORT_PERMISSIONS`; unknown kinds: never.)"""
    permission = EXPORT_PERMISSIONS.get(what)
    return permission is not None and user.has_perm(permission, campaign)


def exports_offered(*, user: Any, campaign: Campaign) -> list[tuple[str, str]]:
    """The ``(what, format)`` pairs ``user`` may export of ``campaign``, in :data:`OFFER_ORDER`."""
    return [
        (what, fmt)
        for what, fmt in OFFER_ORDER
        if (what, fmt) in AVAILABLE and export_allowed(user=user, campaign=campaign, what=what)
    ]


def _job_new(*, campaign: Campaign, what: str, fmt: str, user: Any, status: str) -> ExportJob:
    """The job's row and its audit entry, together (a command-line export is logged with no actor)."""
    via = ExportJob.Via.WEB if user is not None else ExportJob.Via.COMMAND_LINE
    with transaction.atomic():
        job = ExportJob.objects.create(
            campaign=campaign,
            campaign_slug=campaign.slug,
            what=what,
            format=fmt,
            requested_by=user if user is not None else None,
            requested_via=via,
            status=status,
            started_at=timezone.now() if status == ExportJob.Status.RUNNING else None,
        )
        audit_record(
            actor=user,
            organisation=campaign.organisation,
            action=AuditEvent.Action.EXPORT_CREATED,
            target=campaign,
            details={"export": job.pk, "what": what, "format": fmt, "via": via.value},
        )
    return job


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
    _job_start(job)
    job.refresh_from_db()
    return job


def export_request(*, campaign: Campaign, what: str, fmt: str, user: Any) -> ExportJob:
    """:func:`export_create` for the exports page: a failed small export comes back as the ``failed`` job.

    The page shows the job's status and reason, so the failure (already logged on the job and in the server
    log) is not raised. Raises :class:`ExportNotAvailable` (nothing logged) as :func:`export_create` does.
    The caller checks :func:`export_allowed` first.
    """
    _check(what, fmt)
    job = _job_new(campaign=campaign, what=what, fmt=fmt, user=user, status=ExportJob.Status.QUEUED)
    try:
        _job_start(job)
    except Exception as error:
        # Mostly marked failed already; a database error leaves it queued for a task retry that no task will make.
        unfinished = (ExportJob.Status.QUEUED, ExportJob.Status.RUNNING)
        ExportJob.objects.filter(pk=job.pk, status__in=unfinished).update(
            status=ExportJob.Status.FAILED, reason=type(error).__name__, finished_at=timezone.now()
        )
    job.refresh_from_db()
    return job


def _job_start(job: ExportJob) -> None:
    """Write a new job's file now, or queue it for the worker once the transaction commits (large campaigns)."""
    if AnonymisedResponse.objects.filter(campaign_id=job.campaign_id).count() < LARGE_EXPORT_ROWS:
        export_run(job_id=job.pk)
    else:
        from worker.tasks import run_export

        job_id = job.pk
        transaction.on_commit(lambda: run_export.delay(job_id))


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


def export_download(job: ExportJob) -> Path | None:
    """The file of a finished download job, or ``None`` if it has none (any more).

    The file is looked up where :func:`export_run` writes it (never at a path read from the row), so a job
    can only ever serve a file under ``MEDIA_ROOT/exports/``. An expired file's job keeps its row with an
    empty ``path`` (:func:`export_files_expire`).
    """
    if job.status != ExportJob.Status.DONE or job.requested_via != ExportJob.Via.WEB or not job.path:
        return None
    path = export_path(job)
    return path if path.exists() else None


def download_name(job: ExportJob) -> str:
    """The file name a download is saved under: ``<campaign>-<what>-<id>.<ext>``, ``.zip`` for a data package."""
    return export_path(job).name + (".zip" if job.format == "dir" else "")


def expired_exports(*, now: datetime.datetime | None = None) -> Any:
    """Download jobs whose file is older than ``STIMMEN_EXPORT_FILE_DAYS`` and not yet deleted."""
    cutoff = (now or timezone.now()) - datetime.timedelta(days=settings.STIMMEN_EXPORT_FILE_DAYS)
    return ExportJob.objects.filter(
        requested_via=ExportJob.Via.WEB, status=ExportJob.Status.DONE, finished_at__lt=cutoff
    ).exclude(path="")


def export_files_expire(*, now: datetime.datetime | None = None) -> int:
    """Delete the files of downloads older than ``STIMMEN_EXPORT_FILE_DAYS``; returns how many went.

    Each job stays in the log (who, when, what, rows) with an empty ``path``, which the exports page and
    :func:`export_download` read as "file deleted". Files the command line wrote elsewhere are never touched.
    """
    deleted = 0
    for job in expired_exports(now=now):
        path = export_path(job)
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
        ExportJob.objects.filter(pk=job.pk).update(path="")
        deleted += 1
    if deleted:
        logger.info("Deleted %s export files older than %s days", deleted, settings.STIMMEN_EXPORT_FILE_DAYS)
    return deleted
