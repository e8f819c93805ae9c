"""Who may open the staff pages: staff of the organisation; researchers get 403; other organisations get 404."""

from __future__ import annotations

import pytest

from tests.staff.conftest import staff_url


def page_paths(campaign) -> list[str]:
    version = campaign.survey_version
    return [
        "",
        "surveys/",
        "surveys/upload/",
        "surveys/import-limesurvey/",
        f"versions/{version.pk}/preview/",
        f"versions/{version.pk}/new-campaign/",
        f"campaigns/{campaign.pk}/",
        f"campaigns/{campaign.pk}/edit/",
        f"campaigns/{campaign.pk}/invites/",
        f"campaigns/{campaign.pk}/monitor/",
        f"campaigns/{campaign.pk}/monitor.json",
        f"campaigns/{campaign.pk}/jobs/",
    ]


POST_ONLY = ["campaigns/{campaign}/status/"]


def test_staff_can_open_every_staff_page(staff_client, campaign):
    """Every page answers 200 to a member of staff of the campaign's organisation."""
    for path in page_paths(campaign):
        response = staff_client.get(staff_url(campaign, path))
        assert response.status_code == 200, path


def test_researchers_get_403_on_every_staff_page(client, researcher, campaign):
    """Researchers see aggregates only: every staff page and action is forbidden to them."""
    client.force_login(researcher)
    for path in page_paths(campaign):
        assert client.get(staff_url(campaign, path)).status_code == 403, path
    for path in [*POST_ONLY, "campaigns/{campaign}/jobs/", "campaigns/{campaign}/invites/", "surveys/upload/"]:
        url = staff_url(campaign, path.format(campaign=campaign.pk))
        assert client.post(url, {"action": "close"}).status_code == 403, path
    campaign.refresh_from_db()
    assert campaign.status == "open"
    assert campaign.invite_codes.count() == 0


def test_signed_out_visitors_are_sent_to_the_login(client, campaign):
    response = client.get(staff_url(campaign, f"campaigns/{campaign.pk}/"))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_staff_of_another_organisation_get_404_on_its_pages(client, other_staff, campaign):
    """Not a member: the organisation's pages are not even confirmed to exist."""
    client.force_login(other_staff)
    for path in page_paths(campaign):
        assert client.get(staff_url(campaign, path)).status_code == 404, path


def test_staff_of_another_organisation_get_404_for_its_ids(client, other_staff, other_organisation, campaign):
    """Changing an id in the URL of one's own organisation does not reach another organisation's objects."""
    client.force_login(other_staff)
    for path in page_paths(campaign):
        if "campaigns/" not in path and "versions/" not in path:
            continue
        assert client.get(staff_url(other_organisation, path)).status_code == 404, path
    close = staff_url(other_organisation, f"campaigns/{campaign.pk}/status/")
    assert client.post(close, {"action": "close"}).status_code == 404
    campaign.refresh_from_db()
    assert campaign.status == "open"


@pytest.mark.parametrize("slug", ["nowhere"])
def test_an_unknown_organisation_is_404(staff_client, slug):
    assert staff_client.get(f"/staff/{slug}/").status_code == 404
