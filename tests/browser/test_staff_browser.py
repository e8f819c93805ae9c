"""Staff tools in a real browser: sign in, create and open a campaign, a respondent answers, the monitor counts it.

axe-core checks every staff page against WCAG 2.1 A/AA.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from survey import services
from survey.models import Campaign, Response
from tests.support.definitions import mini_definition

pytestmark = pytest.mark.browser

WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": WCAG_21_AA}, "resultTypes": ["violations"]}
# Set STIMMEN_SCREENSHOTS=/some/dir to keep a picture of every staff page checked (to look at the layout).
SCREENSHOTS = os.environ.get("STIMMEN_SCREENSHOTS")
DESKTOP = {"viewport": {"width": 1280, "height": 900}, "is_mobile": False, "has_touch": False}


def assert_accessible(page: Page) -> None:
    if SCREENSHOTS:
        name = re.sub(r"\W+", "-", page.url.split("/staff/")[-1]).strip("-") or "home"
        page.screenshot(path=str(Path(SCREENSHOTS) / f"staff-{name}.png"), full_page=True)
    results = Axe().run(page, options=AXE_OPTIONS)
    assert results.violations_count == 0, f"{page.url}:\n{results.generate_report()}"


def sign_in(page: Page, base_url: str, username: str, password: str, next_path: str) -> None:
    page.goto(f"{base_url}/accounts/login/?next={next_path}")
    page.get_by_label(re.compile("Benutzername|Username", re.I)).fill(username)
    page.get_by_label(re.compile("Passwort|Password", re.I)).fill(password)
    with page.expect_navigation():
        page.locator("form button[type=submit]").click()
    expect(page).to_have_url(re.compile(re.escape(next_path) + "$"))


def test_staff_create_and_open_a_campaign_and_watch_a_response_arrive(demo, live_server, new_context):
    organisation = demo.organisation
    version, _created = services.survey_version_load(data=mini_definition(), organisation=organisation)
    base = live_server.url
    home = f"/staff/{organisation.slug}/"

    staff = new_context(**DESKTOP).new_page()
    sign_in(staff, base, "demo-staff", demo.password, home)
    assert_accessible(staff)

    # Surveys: list, preview (two languages), upload and import forms.
    staff.get_by_role("link", name=re.compile("Umfragen|Surveys")).first.click()
    expect(staff.get_by_role("heading", level=1)).to_be_visible()
    assert_accessible(staff)
    staff.goto(f"{base}{home}versions/{version.pk}/preview/?language=ar")
    expect(staff.locator(".preview-step")).to_have_attribute("dir", "rtl")
    assert_accessible(staff)
    staff.goto(f"{base}{home}versions/{version.pk}/preview/?language=en&step=about_step")
    expect(staff.get_by_role("heading", name="About you")).to_be_visible()
    assert_accessible(staff)
    for path in ("surveys/upload/", "surveys/import-limesurvey/"):
        staff.goto(f"{base}{home}{path}")
        assert_accessible(staff)

    # A new campaign of the mini survey, created as a draft and then opened.
    staff.goto(f"{base}{home}versions/{version.pk}/new-campaign/")
    assert_accessible(staff)
    staff.locator("#id_title").fill("Jugendzentrum Eving")
    staff.locator("#id_slug").fill("jz-eving")
    with staff.expect_navigation():
        staff.locator("form.staff-form button[type=submit]").click()
    campaign = Campaign.objects.get(slug="jz-eving")
    assert campaign.status == Campaign.Status.DRAFT
    assert_accessible(staff)
    with staff.expect_navigation():
        staff.locator('button[name="action"][value="open"]').click()
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.OPEN
    assert_accessible(staff)

    for path in ("edit/", "invites/", "jobs/"):
        staff.goto(f"{base}{home}campaigns/{campaign.pk}/{path}")
        assert_accessible(staff)

    # The monitor before any answer, polling in the background.
    staff.goto(f"{base}{home}campaigns/{campaign.pk}/monitor/")
    completed = staff.locator('#monitor [data-field="completed"]')
    expect(completed).to_have_text("0")
    assert_accessible(staff)

    # A respondent on a phone, in a separate context, answers the survey.
    phone = new_context().new_page()
    phone.goto(f"{base}/s/jz-eving/")
    phone.locator('input[name="age"]').fill("17")
    phone.locator('input[name="consent"]').check()
    phone.locator('input[name="parental_consent"]').check()
    with phone.expect_navigation():
        phone.locator(".start-form button[type=submit]").click()
    phone.locator('input[name="status_step-status"][value="school"]').check()
    with phone.expect_navigation():
        phone.locator("#wizard-form .actions button.primary").click()
    expect(phone).to_have_url(re.compile(r"/q/about_step/$"))
    with phone.expect_navigation():
        phone.locator("#wizard-form .actions button.primary").click()
    expect(phone).to_have_url(re.compile(r"/thanks/$"))
    assert Response.objects.filter(campaign=campaign).count() == 1

    # The monitor page updates itself (JSON every 15 s) without a reload.
    expect(completed).to_have_text("1", timeout=20_000)
    expect(staff.locator('#monitor [data-field="started"]')).to_have_text("1")
