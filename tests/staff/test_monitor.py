"""The live monitor: tallies, drop-off per step, target, district counts with "< k", and the jobs page."""

from __future__ import annotations

import datetime

from django.test import Client

from analysis.models import AnonymisationRun, AnonymisedResponse
from survey.monitor import campaign_monitor
from tests.staff.conftest import staff_url
from tests.staff.support import audit_actions, text_in
from tests.support import journey


def complete(client, campaign, district: str) -> None:
    assert journey.start(client, campaign).status_code == 302
    journey.answer_step(client, campaign, "status_step", {"status": "school"})
    response = journey.answer_step(client, campaign, "about_step", {"district": district})
    assert response.status_code == 302
    assert client.get(response["Location"]).status_code == 302  # "done": the answers are sent


def test_the_monitor_shows_tallies_drop_off_target_and_small_districts_as_below_k(staff_client, campaign):
    campaign.target_responses = 10
    campaign.save()
    for _ in range(6):
        complete(Client(), campaign, "eving")
    complete(Client(), campaign, "hombruch")
    journey.start(Client(), campaign)  # started, not finished
    # District counts come from the anonymised records (as k-anonymity left them).
    for district in ["eving"] * 6 + ["hombruch"] * 2 + ["suppressed"]:
        AnonymisedResponse.objects.create(
            campaign=campaign,
            survey_version=campaign.survey_version,
            week=datetime.date(2026, 11, 23),
            answers={"status": "school", "district": district},
        )

    data = campaign_monitor(campaign=campaign)
    assert (data["started"], data["completed"], data["started_today"], data["completed_today"]) == (8, 7, 8, 7)
    assert data["completion_rate"] == 87.5
    assert data["target_percent"] == 70.0
    assert [(step["key"], step["reached"]) for step in data["steps"]] == [
        ("status_step", 8),
        ("training_step", 0),
        ("search_step", 0),
        ("about_step", 7),
    ]
    quotas = {quota["key"]: quota["shown"] for quota in data["quotas"]}
    assert quotas["hombruch"] == "< 5"  # 2 people: hidden, shown as below k
    assert quotas["mengede"] == "0"  # nobody: nothing to protect
    assert quotas["eving"] == "6"

    page = staff_client.get(staff_url(campaign, f"campaigns/{campaign.pk}/monitor/"))
    html = page.content.decode()
    assert 'aria-live="polite"' in html
    assert "&lt; 5" in html and "“&lt; 5” marks a hidden count" in html
    assert "<script>" not in html and "staff-monitor.js" in html  # no inline script: only the external file
    as_json = staff_client.get(staff_url(campaign, f"campaigns/{campaign.pk}/monitor.json")).json()
    assert as_json["completed"] == 7
    assert {quota["key"]: quota["shown"] for quota in as_json["quotas"]}["hombruch"] == "< 5"


def test_the_jobs_page_starts_anonymisation_and_lists_the_runs(staff_client, campaign, organisation):
    complete(Client(), campaign, "eving")
    url = staff_url(campaign, f"campaigns/{campaign.pk}/jobs/")
    response = staff_client.post(url, {"action": "anonymise"}, follow=True)
    assert response.status_code == 200
    assert "anonymisation_started" in audit_actions(organisation)
    run = AnonymisationRun.objects.get(campaign=campaign)
    assert (run.status, run.anonymised) == ("done", 1)
    assert text_in(response, run.get_status_display())


def test_the_jobs_page_shows_a_failed_run_with_its_reason(staff_client, campaign):
    AnonymisationRun.objects.create(campaign=campaign, status="failed", reason="2 responses could not be anonymised")
    page = staff_client.get(staff_url(campaign, f"campaigns/{campaign.pk}/jobs/"))
    assert "2 responses could not be anonymised" in page.content.decode()
    assert text_in(page, AnonymisationRun.Status.FAILED.label)


def test_the_jobs_page_calculates_results_and_lists_the_snapshot(staff_client, campaign, organisation):
    """ "Calculate results now" publishes a snapshot (in-process here) that the jobs page then lists."""
    from analysis.models import AggregateSnapshot

    complete(Client(), campaign, "eving")
    url = staff_url(campaign, f"campaigns/{campaign.pk}/jobs/")
    staff_client.post(url, {"action": "anonymise"})
    response = staff_client.post(url, {"action": "aggregate"}, follow=True)
    assert response.status_code == 200
    assert "aggregation_started" in audit_actions(organisation)
    snapshot = AggregateSnapshot.objects.get(campaign=campaign)
    assert snapshot.response_count == 1
    assert not text_in(response, "No results calculated yet.")
