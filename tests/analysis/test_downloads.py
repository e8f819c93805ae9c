"""The exports page and its downloads: who may export what, what the files hold, the log, queued and old files.

A campaign of the mini survey with planted responses and a published snapshot; files are made by posting the
page's buttons as a browser would, and read back (CSV, SPSS with value labels, the data package's ZIP).
A large export made by the real worker is in ``tests/worker/test_export_downloads.py``, where the suite's
worker fixtures live (a second copy of them here would start a second worker on the same queue).
"""

from __future__ import annotations

import datetime
import io
import random
import re
import zipfile
from pathlib import Path

import pandas as pd
import pyreadstat
import pytest
from django.urls import reverse
from django.utils import timezone

from analysis import export_jobs
from analysis.anonymisation import anonymised_answers, campaign_enforce_k, week_of
from analysis.exports import AGGREGATE_COLUMNS
from analysis.models import AnonymisedResponse, ExportJob
from analysis.snapshots import snapshot_build
from survey import services
from survey.models import AuditEvent, Campaign, Membership, Organisation
from survey.synthetic import district_values, synthetic_answers
from tests.support.definitions import mini_definition
from tests.support.people import member
from worker import tasks

Role = Membership.Role
RESPONSES = 40
ANSWERED_ON = datetime.date(2026, 11, 18)
AGGREGATES = ("aggregates", "csv")
DATAPACKAGE = ("datapackage", "dir")
MICRODATA = ("microdata", "sav")
CODEBOOK = ("codebook", "html")


# --------------------------------------------------------------------------------------------------
# Set-up
# --------------------------------------------------------------------------------------------------


def _campaign(organisation: Organisation, slug: str) -> Campaign:
    version, _created = services.survey_version_load(data=mini_definition(), organisation=organisation)
    return services.campaign_open(survey_version=version, slug=slug, title=f"Campaign {slug}")


def plant_records(campaign: Campaign, count: int, *, seed: int = 1) -> None:
    """Anonymised records of synthetic respondents, k-anonymous as after the sweep (no raw responses)."""
    definition = campaign.definition
    rng = random.Random(seed)
    districts = district_values(campaign.organisation.districts)
    AnonymisedResponse.objects.bulk_create(
        AnonymisedResponse(
            campaign=campaign,
            survey_version=campaign.survey_version,
            week=week_of(ANSWERED_ON),
            answers=anonymised_answers(
                definition, synthetic_answers(definition, rng, districts=districts)[0], answered_on=ANSWERED_ON
            ),
        )
        for _ in range(count)
    )
    campaign_enforce_k(campaign=campaign)


@pytest.fixture
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def campaign(organisation, media) -> Campaign:
    """The mini campaign with planted responses and a published snapshot."""
    campaign = _campaign(organisation, "mini")
    plant_records(campaign, RESPONSES)
    snapshot_build(campaign=campaign)
    return campaign


def _member(organisation: Organisation, role: str, name: str, *, microdata: bool = False):
    user = member(organisation, name, role)
    Membership.objects.filter(user=user).update(microdata_access=microdata)
    return user


@pytest.fixture
def researcher(organisation):
    return _member(organisation, Role.RESEARCHER, "researcher")


@pytest.fixture
def trusted_researcher(organisation):
    """A researcher whom an admin gave microdata access."""
    return _member(organisation, Role.RESEARCHER, "trusted", microdata=True)


@pytest.fixture
def staff(organisation):
    return _member(organisation, Role.STAFF, "staff")


def exports_url(campaign: Campaign) -> str:
    return reverse("analysis:exports", kwargs={"campaign": campaign.slug})


def create_url(campaign: Campaign) -> str:
    return reverse("analysis:export_create", kwargs={"campaign": campaign.slug})


def download_url(campaign: Campaign, job: ExportJob | int) -> str:
    return reverse("analysis:export_download", kwargs={"campaign": campaign.slug, "job": getattr(job, "pk", job)})


def post_export(client, campaign: Campaign, what: str, fmt: str):
    return client.post(create_url(campaign), {"what": what, "format": fmt})


def offered(page: str) -> set[tuple[str, str]]:
    """The (what, format) of every export button on the page."""
    return set(re.findall(r'name="what" value="([^"]+)">\s*<input type="hidden" name="format" value="([^"]+)"', page))


def download(client, campaign: Campaign, what: str, fmt: str):
    """Post the button, then follow the page's download link of the new job."""
    assert post_export(client, campaign, what, fmt).status_code == 302
    job = ExportJob.objects.latest("pk")
    assert job.status == ExportJob.Status.DONE, job.reason
    page = client.get(exports_url(campaign)).content.decode()
    assert download_url(campaign, job) in page
    return client.get(download_url(campaign, job))


# --------------------------------------------------------------------------------------------------
# Who may export what
# --------------------------------------------------------------------------------------------------

ALL = {*export_jobs.OFFER_ORDER}
TABLES = {pair for pair in ALL if pair[0] in ("aggregates", "datapackage")}


@pytest.mark.parametrize(
    ("user", "expected"),
    [("researcher", TABLES), ("trusted_researcher", ALL), ("staff", ALL)],
)
def test_the_page_offers_each_role_exactly_the_exports_it_may_make(client, campaign, request, user, expected):
    """Researchers see buttons for the published tables only; with microdata access, and staff, see all."""
    client.force_login(request.getfixturevalue(user))

    page = client.get(exports_url(campaign)).content.decode()

    assert offered(page) == expected


@pytest.mark.parametrize(
    ("user", "export", "status"),
    [
        ("researcher", AGGREGATES, 302),
        ("researcher", DATAPACKAGE, 302),
        ("researcher", MICRODATA, 403),
        ("researcher", ("microdata", "csv"), 403),
        ("researcher", CODEBOOK, 403),
        ("trusted_researcher", MICRODATA, 302),
        ("trusted_researcher", CODEBOOK, 302),
        ("staff", MICRODATA, 302),
        ("staff", ("microdata", "dta"), 302),
        ("staff", ("codebook", "md"), 302),
        ("staff", ("aggregates", "xlsx"), 302),
    ],
)
def test_posting_an_export_makes_it_only_with_the_permission(client, campaign, request, user, export, status):
    """A forbidden export posted anyway is a 403 and leaves no job and no audit entry."""
    client.force_login(request.getfixturevalue(user))

    response = post_export(client, campaign, *export)

    assert response.status_code == status
    if status == 403:
        assert not ExportJob.objects.exists() and not AuditEvent.objects.exists()
    else:
        assert response.url == exports_url(campaign)
        job = ExportJob.objects.get()
        assert (job.what, job.format, job.status) == (*export, ExportJob.Status.DONE)


def test_another_organisations_campaign_is_not_found(client, campaign, other_organisation):
    """Page, button and download of a campaign of another organisation answer 404, as the other pages do."""
    staff = _member(organisation=campaign.organisation, role=Role.STAFF, name="staff")
    client.force_login(staff)
    post_export(client, campaign, *AGGREGATES)
    job = ExportJob.objects.get()
    client.force_login(_member(other_organisation, Role.ADMIN, "outsider"))

    assert client.get(exports_url(campaign)).status_code == 404
    assert post_export(client, campaign, *AGGREGATES).status_code == 404
    assert client.get(download_url(campaign, job)).status_code == 404
    assert ExportJob.objects.count() == 1


def test_anonymous_visitors_are_sent_to_the_login(client, campaign):
    for response in (
        client.get(exports_url(campaign)),
        post_export(client, campaign, *AGGREGATES),
        client.get(download_url(campaign, 1)),
    ):
        assert response.status_code == 302
        assert response.url.startswith(reverse("login") + "?next=")
    assert not ExportJob.objects.exists()


def test_the_overview_links_to_the_exports_page(client, campaign, researcher):
    client.force_login(researcher)

    page = client.get(reverse("analysis:overview", kwargs={"campaign": campaign.slug})).content.decode()

    assert f'href="{exports_url(campaign)}"' in page


# --------------------------------------------------------------------------------------------------
# What the downloads hold
# --------------------------------------------------------------------------------------------------


def test_aggregates_download_as_csv_with_the_long_form_header(client, campaign, researcher):
    client.force_login(researcher)

    response = download(client, campaign, *AGGREGATES)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    job = ExportJob.objects.get()
    assert response["Content-Disposition"] == f'attachment; filename="mini-aggregates-{job.pk}.csv"'
    frame = pd.read_csv(io.BytesIO(b"".join(response.streaming_content)), dtype=str, keep_default_na=False)
    assert list(frame.columns) == list(AGGREGATE_COLUMNS)
    assert len(frame) > 0


def test_microdata_download_as_spss_with_value_labels(client, campaign, trusted_researcher, tmp_path):
    client.force_login(trusted_researcher)

    response = download(client, campaign, *MICRODATA)

    assert response["Content-Type"] == "application/x-spss-sav"
    assert response["Content-Disposition"].startswith("attachment; ")
    saved = tmp_path / "download.sav"
    saved.write_bytes(b"".join(response.streaming_content))
    frame, meta = pyreadstat.read_sav(str(saved))
    assert len(frame) == RESPONSES
    assert meta.variable_value_labels["status"]  # codes with their option texts
    assert set(frame["status"].dropna()) <= set(meta.variable_value_labels["status"])


def test_the_data_package_downloads_as_a_zip_with_its_descriptor(client, campaign, researcher):
    client.force_login(researcher)

    response = download(client, campaign, *DATAPACKAGE)

    assert response["Content-Type"] == "application/zip"
    job = ExportJob.objects.get()
    assert response["Content-Disposition"] == f'attachment; filename="mini-datapackage-{job.pk}.zip"'
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    names = archive.namelist()
    assert "datapackage.json" in names and any(name.endswith(".csv") for name in names)
    assert archive.testzip() is None


def test_the_codebook_downloads_as_html(client, campaign, staff):
    client.force_login(staff)

    response = download(client, campaign, *CODEBOOK)

    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment; ")
    assert b"<table" in b"".join(response.streaming_content)


# --------------------------------------------------------------------------------------------------
# Whose download
# --------------------------------------------------------------------------------------------------


def test_another_users_export_is_not_found(client, campaign, researcher, staff):
    """Even a colleague with more rights cannot download someone else's file: it is the requester's."""
    client.force_login(researcher)
    post_export(client, campaign, *AGGREGATES)
    job = ExportJob.objects.get()
    client.force_login(staff)

    assert client.get(download_url(campaign, job)).status_code == 404
    assert download_url(campaign, job) not in client.get(exports_url(campaign)).content.decode()
    assert client.get(download_url(campaign, job.pk + 1000)).status_code == 404
    assert client.get(download_url(campaign, 2**70)).status_code == 404


def test_a_job_of_another_campaign_is_not_found_under_this_one(client, campaign, organisation, researcher):
    second = _campaign(organisation, "second")
    client.force_login(researcher)
    post_export(client, campaign, *AGGREGATES)

    assert client.get(download_url(second, ExportJob.objects.get())).status_code == 404


def test_a_download_needs_the_permission_still(client, campaign, trusted_researcher):
    """Once an admin takes microdata access away, the researcher's earlier microdata file is refused."""
    client.force_login(trusted_researcher)
    post_export(client, campaign, *MICRODATA)
    job = ExportJob.objects.get()
    Membership.objects.filter(user=trusted_researcher).update(microdata_access=False)

    assert client.get(download_url(campaign, job)).status_code == 403
    assert download_url(campaign, job) not in client.get(exports_url(campaign)).content.decode()


# --------------------------------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        {"what": "microdata", "format": "parquet"},
        {"what": "responses", "format": "csv"},
        {"what": "aggregates", "format": "sav"},
        {"what": "datapackage", "format": "csv"},
        {"what": "aggregates"},
        {},
        {"what": "aggregates\x00", "format": "csv"},
    ],
)
def test_an_unknown_or_tampered_export_is_a_clear_400_and_changes_nothing(client, campaign, staff, data):
    client.force_login(staff)

    response = client.post(create_url(campaign), data)

    assert response.status_code == 400
    assert "This export does not exist." in response.content.decode()
    assert not ExportJob.objects.exists() and not AuditEvent.objects.exists()


def test_get_on_the_button_url_is_refused(client, campaign, staff):
    client.force_login(staff)

    assert client.get(create_url(campaign), {"what": "microdata", "format": "csv"}).status_code == 405
    assert client.post(download_url(campaign, 1)).status_code == 405
    assert not ExportJob.objects.exists()


def test_a_failed_export_is_listed_with_its_reason(client, organisation, media, researcher):
    """Aggregates of a campaign without published results: the job fails, the page says why, no 500."""
    campaign = _campaign(organisation, "unpublished")
    plant_records(campaign, 10)
    client.force_login(researcher)

    page = client.get(exports_url(campaign)).content.decode()
    assert offered(page) == set()  # no published tables: nothing to offer yet
    response = post_export(client, campaign, *AGGREGATES)

    assert response.status_code == 302
    job = ExportJob.objects.get()
    assert (job.status, job.reason) == (ExportJob.Status.FAILED, "NoSnapshot")
    page = client.get(exports_url(campaign)).content.decode()
    assert "Failed" in page and "No results have been published for this campaign yet." in page
    assert client.get(download_url(campaign, job)).status_code == 409


# --------------------------------------------------------------------------------------------------
# The log
# --------------------------------------------------------------------------------------------------


def test_every_export_is_a_job_row_and_an_audit_event(client, campaign, trusted_researcher):
    client.force_login(trusted_researcher)
    for export in (AGGREGATES, MICRODATA, CODEBOOK):
        post_export(client, campaign, *export)

    jobs = list(ExportJob.objects.order_by("pk"))
    events = list(AuditEvent.objects.order_by("pk"))
    assert [(j.what, j.format, j.requester, j.requested_via) for j in jobs] == [
        (*export, str(trusted_researcher.pk), "web") for export in (AGGREGATES, MICRODATA, CODEBOOK)
    ]
    assert [(e.action, e.actor, e.organisation, e.details) for e in events] == [
        (
            "export_created",
            trusted_researcher,
            campaign.organisation,
            {"export": job.pk, "what": job.what, "format": job.format, "via": "web"},
        )
        for job in jobs
    ]
    assert all(str(campaign.pk) in event.target for event in events)


def test_a_command_line_export_is_an_audit_event_without_an_actor(campaign, tmp_path):
    job = export_jobs.export_file(campaign=campaign, what="microdata", fmt="csv", out=tmp_path / "m.csv")

    event = AuditEvent.objects.get()
    assert (event.action, event.actor, event.actor_username) == ("export_created", None, "")
    assert event.details == {"export": job.pk, "what": "microdata", "format": "csv", "via": "command_line"}


def test_the_page_lists_only_the_users_own_exports(client, campaign, researcher, staff):
    client.force_login(staff)
    post_export(client, campaign, *MICRODATA)
    client.force_login(researcher)
    post_export(client, campaign, *AGGREGATES)

    page = client.get(exports_url(campaign)).content.decode()

    assert "Published tables (CSV)</th>" in page
    assert "Anonymised microdata (SPSS .sav)</th>" not in page


# --------------------------------------------------------------------------------------------------
# Old files
# --------------------------------------------------------------------------------------------------


def test_files_older_than_the_setting_are_deleted_by_the_daily_purge_and_answer_410(
    client, campaign, researcher, settings, tmp_path
):
    settings.STIMMEN_EXPORT_FILE_DAYS = 7
    client.force_login(researcher)
    post_export(client, campaign, *AGGREGATES)
    post_export(client, campaign, *DATAPACKAGE)
    post_export(client, campaign, "aggregates", "xlsx")
    old_csv, old_package, fresh = ExportJob.objects.order_by("pk")
    eight_days_ago = timezone.now() - datetime.timedelta(days=8)
    ExportJob.objects.filter(pk__in=[old_csv.pk, old_package.pk]).update(finished_at=eight_days_ago)
    command_line = export_jobs.export_file(campaign=campaign, what="aggregates", fmt="csv", out=tmp_path / "op.csv")
    ExportJob.objects.filter(pk=command_line.pk).update(finished_at=eight_days_ago)

    result = tasks.purge_expired()

    assert result["export_file"] == 2
    assert not export_jobs.export_path(old_csv).exists() and not export_jobs.export_path(old_package).exists()
    assert export_jobs.export_path(fresh).exists()
    assert (tmp_path / "op.csv").exists()  # the operator's own file is not the platform's to delete
    assert ExportJob.objects.count() == 4  # the log keeps every export
    gone = client.get(download_url(campaign, old_csv))
    assert gone.status_code == 410
    assert "was deleted 7 days after it was made" in gone.content.decode()
    assert client.get(download_url(campaign, fresh)).status_code == 200
    page = client.get(exports_url(campaign)).content.decode()
    assert page.count("File deleted") == 2
    assert tasks.purge_expired()["export_file"] == 0
