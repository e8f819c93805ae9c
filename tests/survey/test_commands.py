"""The command-line interface staff and other parts of the platform rely on."""

import json
from io import StringIO
from pathlib import Path

import pytest
import yaml
from django.core.management import CommandError, call_command
from django.test import Client

from survey.models import Campaign, Organisation, SurveyVersion
from tests.support.definitions import mini_definition
from tests.support.journey import answer_step, start

pytestmark = pytest.mark.django_db

DEMO = Path(__file__).resolve().parents[2] / "survey" / "definitions" / "ausbildung-arbeit-2023.yaml"


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_seed_demo_is_idempotent_and_prints_logins_and_the_campaign_link():
    first = run("seed_demo")
    second = run("seed_demo")
    assert "demo-staff" in first and "demo-researcher" in first
    assert "/s/demo/" in first
    assert Organisation.objects.count() == 1
    assert SurveyVersion.objects.count() == 1
    assert Campaign.objects.get(slug="demo").is_accepting_answers()
    assert first == second


def test_seeded_demo_logins_work():
    run("seed_demo", "--password", "a-long-demo-password-42")
    client = Client()
    assert client.login(username="demo-staff", password="a-long-demo-password-42")


def test_open_campaign_opens_the_latest_version_with_the_given_limits(tmp_path):
    path = tmp_path / "mini.yaml"
    path.write_text(yaml.safe_dump(mini_definition()), encoding="utf-8")
    run("load_survey", str(path))
    changed = mini_definition(estimated_minutes=4)
    path.write_text(yaml.safe_dump(changed), encoding="utf-8")
    run("load_survey", str(path))
    output = run("open_campaign", "mini", "schule-nord", "--languages", "de,ar", "--min-age", "16", "--k", "7")
    campaign = Campaign.objects.get(slug="schule-nord")
    assert "/s/schule-nord/" in output
    assert campaign.survey_version.number == 2
    assert (campaign.languages, campaign.min_age, campaign.k) == (["de", "ar"], 16, 7)
    assert campaign.is_accepting_answers()


def test_open_campaign_refuses_unknown_surveys_and_languages(tmp_path):
    with pytest.raises(CommandError, match="No survey 'nope'"):
        run("open_campaign", "nope", "x")
    path = tmp_path / "mini.yaml"
    path.write_text(yaml.safe_dump(mini_definition()), encoding="utf-8")
    run("load_survey", str(path))
    with pytest.raises(CommandError, match="fr"):
        run("open_campaign", "mini", "x", "--languages", "de,fr")
    assert not Campaign.objects.exists()


def test_campaign_status_json_counts_started_completed_drafts_and_steps(tmp_path):
    path = tmp_path / "mini.yaml"
    path.write_text(yaml.safe_dump(mini_definition()), encoding="utf-8")
    run("load_survey", str(path))
    run("open_campaign", "mini", "mini")
    campaign = Campaign.objects.get(slug="mini")
    for status in ("school", "school", "job_seeking"):
        client = Client()
        start(client, campaign)
        answer_step(client, campaign, "status_step", {"status": status})
    status = json.loads(run("campaign_status", "mini", "--json"))
    assert status["started"] == 3
    assert status["completed"] == 0
    assert status["drafts"] == 3
    assert {step["step"]: step["reached"] for step in status["steps"]} == {
        "status_step": 3,
        "training_step": 0,
        "search_step": 1,
        "about_step": 2,
    }
    with pytest.raises(CommandError, match="No campaign"):
        run("campaign_status", "unknown")


def test_demo_survey_loads_and_its_campaign_starts():
    run("seed_demo")
    client = Client()
    assert start(client, Campaign.objects.get(slug="demo"))["Location"] == "/s/demo/q/"
    assert client.get("/s/demo/q/")["Location"] == "/s/demo/q/start/"
    assert DEMO.exists()
