"""Creating, editing, opening, pausing and closing campaigns from the staff pages."""

from __future__ import annotations

import datetime

from django.utils import timezone

from survey import services
from survey.forms_staff import AGES_REVERSED, CLOSES_BEFORE_OPENS, NO_LANGUAGE
from survey.models import Campaign, Draft
from tests.staff.conftest import staff_url
from tests.staff.support import audit_actions, text_in
from tests.support import journey


def local(value: datetime.datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M")


def settings_data(campaign: Campaign, **changes) -> dict:
    data = {
        "title": campaign.title,
        "opens_at": local(campaign.opens_at),
        "closes_at": local(campaign.closes_at),
        "languages": list(campaign.languages),
        "min_age": campaign.min_age,
        "max_age": campaign.max_age,
        "parental_consent_below": campaign.parental_consent_below,
        "k": campaign.k,
        "retention_days": campaign.retention_days,
        "target_responses": campaign.target_responses or "",
    }
    if campaign.invite_code_required:
        data["invite_code_required"] = "on"
    for language, text in campaign.consent_text.items():
        data[f"consent_{language}"] = text
    data.update(changes)
    return data


def test_staff_create_a_campaign_as_a_draft_and_open_it(staff_client, version, organisation):
    now = timezone.now()
    data = {
        "title": "Schule Nord",
        "slug": "schule-nord",
        "opens_at": local(now - datetime.timedelta(hours=1)),
        "closes_at": local(now + datetime.timedelta(days=30)),
        "languages": ["de", "ar"],
        "min_age": 14,
        "max_age": 21,
        "parental_consent_below": 16,
        "k": 5,
        "retention_days": 60,
        "target_responses": 40,
    }
    response = staff_client.post(staff_url(organisation, f"versions/{version.pk}/new-campaign/"), data)
    assert response.status_code == 302
    campaign = Campaign.objects.get(slug="schule-nord")
    assert (campaign.status, campaign.languages, campaign.max_age) == ("draft", ["de", "ar"], 21)
    assert set(campaign.consent_text) == {"de", "en", "ar"}
    assert not campaign.is_accepting_answers()
    assert journey.start(staff_client, campaign).status_code == 403  # a draft takes no answers yet
    assert not Draft.objects.exists()

    detail = staff_url(campaign, f"campaigns/{campaign.pk}/")
    assert staff_client.post(detail + "status/", {"action": "open"}).status_code == 302
    campaign.refresh_from_db()
    assert campaign.status == "open" and campaign.is_accepting_answers()
    assert audit_actions(organisation)[-2:] == ["campaign_created", "campaign_opened"]


def test_an_invalid_campaign_is_refused_with_clear_errors(staff_client, version, organisation):
    now = timezone.now()
    data = {
        "title": "",
        "slug": "Not a slug!",
        "opens_at": local(now),
        "closes_at": local(now - datetime.timedelta(days=1)),
        "languages": [],
        "min_age": 20,
        "max_age": 15,
        "parental_consent_below": 16,
        "k": 1,
        "retention_days": 0,
    }
    response = staff_client.post(staff_url(organisation, f"versions/{version.pk}/new-campaign/"), data)
    assert response.status_code == 400
    for message in [CLOSES_BEFORE_OPENS, AGES_REVERSED, NO_LANGUAGE]:
        assert text_in(response, message)
    assert not Campaign.objects.exists()


def test_editing_the_consent_text_bumps_its_version_and_is_audited(staff_client, campaign, organisation):
    url = staff_url(campaign, f"campaigns/{campaign.pk}/edit/")
    data = settings_data(campaign, consent_de="Ich mache freiwillig mit.", k=7, target_responses=100)
    response = staff_client.post(url, data)
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.consent_version == 2
    assert campaign.consent_text["de"] == "Ich mache freiwillig mit."
    assert (campaign.k, campaign.target_responses) == (7, 100)
    assert audit_actions(organisation)[-1] == "campaign_changed"
    # The respondent's start page shows the new text (to a German-speaking respondent).
    page = staff_client.get(f"/s/{campaign.slug}/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Ich mache freiwillig mit." in page


def test_changing_only_other_settings_keeps_the_consent_version(staff_client, campaign):
    url = staff_url(campaign, f"campaigns/{campaign.pk}/edit/")
    assert staff_client.post(url, settings_data(campaign, min_age=15)).status_code == 302
    campaign.refresh_from_db()
    assert (campaign.min_age, campaign.consent_version) == (15, 1)


def test_invalid_edits_change_nothing(staff_client, campaign, organisation):
    before = Campaign.objects.filter(pk=campaign.pk).values().get()
    url = staff_url(campaign, f"campaigns/{campaign.pk}/edit/")
    cases = [
        settings_data(campaign, closes_at=local(campaign.opens_at - datetime.timedelta(days=1))),
        settings_data(campaign, min_age=30, max_age=20),
        settings_data(campaign, k=1),
        settings_data(campaign, languages=["xx"]),
        settings_data(campaign, consent_de="", title="Neu"),
    ]
    for data in cases:
        response = staff_client.post(url, data)
        assert response.status_code == 400, data
        assert "error-summary" in response.content.decode()
    assert Campaign.objects.filter(pk=campaign.pk).values().get() == before
    assert "campaign_changed" not in audit_actions(organisation)


def test_pause_and_close_with_audit_records_and_a_polite_closed_page(staff_client, campaign, organisation):
    status_url = staff_url(campaign, f"campaigns/{campaign.pk}/status/")
    staff_client.post(status_url, {"action": "pause"})
    campaign.refresh_from_db()
    assert campaign.status == "paused"
    staff_client.post(status_url, {"action": "open"})
    staff_client.post(status_url, {"action": "close"})
    campaign.refresh_from_db()
    assert campaign.status == "closed"
    assert audit_actions(organisation)[-3:] == ["campaign_paused", "campaign_opened", "campaign_closed"]

    # A closed campaign accepts no answers and says so.
    page = staff_client.get(f"/s/{campaign.slug}/")
    assert page.status_code == 200
    assert 'name="consent"' not in page.content.decode()
    assert journey.start(staff_client, campaign).status_code == 403
    # It can be neither reopened nor edited.
    response = staff_client.post(status_url, {"action": "open"}, follow=True)
    assert text_in(response, services.CAMPAIGN_CANNOT_OPEN)
    campaign.refresh_from_db()
    assert campaign.status == "closed"
    assert staff_client.get(staff_url(campaign, f"campaigns/{campaign.pk}/edit/")).status_code == 302


def test_an_unknown_status_action_is_a_bad_request(staff_client, campaign):
    response = staff_client.post(staff_url(campaign, f"campaigns/{campaign.pk}/status/"), {"action": "delete"})
    assert response.status_code == 400
