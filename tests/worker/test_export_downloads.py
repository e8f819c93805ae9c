"""A large export from the researchers' exports page, queued and made by the real worker, then downloaded."""

from __future__ import annotations

import pyreadstat
import pytest

from analysis import export_jobs
from analysis.models import ExportJob
from survey.models import Membership, Organisation
from tests.analysis.test_downloads import (
    MICRODATA,
    _campaign,
    _member,
    download_url,
    exports_url,
    plant_records,
    post_export,
)
from tests.worker.conftest import QUEUE, wait_for
from worker.celery import app

Role = Membership.Role


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_large_export_is_queued_made_by_the_worker_and_then_offered(
    celery_worker, client, monkeypatch, settings, tmp_path
):
    """Above ``LARGE_EXPORT_ROWS`` the page says the export is being prepared; the worker writes it; a reload
    offers the download. The worker shares ``MEDIA_ROOT`` with the web process, as in production."""
    settings.LANGUAGE_CODE = "en"  # the page is read in English, the source language
    monkeypatch.setattr(export_jobs, "LARGE_EXPORT_ROWS", 10)
    monkeypatch.setitem(app.conf, "task_default_queue", QUEUE)  # this session's worker listens there
    organisation = Organisation.objects.create(slug="dortmund", name="Integrationszentrum Dortmund")
    campaign = _campaign(organisation, "large")
    plant_records(campaign, 30)
    client.force_login(_member(organisation, Role.STAFF, "staff"))

    response = post_export(client, campaign, *MICRODATA)
    job = ExportJob.objects.get()
    try:
        assert response.status_code == 302
        page = client.get(response.url).content.decode()
        assert "Being prepared" in page and "Refresh this page" in page
        assert 'http-equiv="refresh"' not in page

        wait_for(lambda: ExportJob.objects.get(pk=job.pk).status == ExportJob.Status.DONE, what="the worker's export")

        page = client.get(exports_url(campaign)).content.decode()
        assert download_url(campaign, job) in page and "Being prepared" not in page
        download = client.get(download_url(campaign, job))
        assert download.status_code == 200
        saved = tmp_path / "large.sav"
        saved.write_bytes(b"".join(download.streaming_content))
        frame, _meta = pyreadstat.read_sav(str(saved))
        assert len(frame) == 30
    finally:
        export_jobs.export_path(ExportJob.objects.get(pk=job.pk)).unlink(missing_ok=True)
