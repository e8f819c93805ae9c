"""The researchers' pages in a real browser (Chromium): sign in, overview, a question chart, the cross-tab explorer.

axe-core checks every page against WCAG 2.1 A/AA; the charts are SVG images with a name, next to their tables.
"""

from __future__ import annotations

import random
import re
from datetime import date
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from analysis.anonymisation import anonymised_answers
from analysis.models import AnonymisedResponse
from analysis.snapshots import snapshot_build
from survey import services
from survey.models import Campaign, DailyTally, Organisation, StepReach
from survey.synthetic import district_values, synthetic_answers
from tests.support.definitions import mini_definition

pytestmark = pytest.mark.browser

AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    "resultTypes": ["violations"],
}
DESKTOP = {"viewport": {"width": 1280, "height": 900}, "is_mobile": False, "has_touch": False}


def results_campaign(organisation: Organisation) -> Campaign:
    """A small campaign of the demo organisation (the mini survey, with themes) to publish results of.

    Not the 12-step demo survey: building its snapshot (dozens of questions by six quasi-identifiers, all
    suppressed jointly) takes minutes, which belongs in the aggregation's benchmarks, not in a page test.
    """
    data = mini_definition()
    data["steps"][0]["questions"][0]["theme"] = "bildung"
    version, _created = services.survey_version_load(data=data, organisation=organisation)
    return services.campaign_open(survey_version=version, slug="mini-results", title="Mini: Ergebnisse")


def publish_results(campaign: Campaign, count: int = 80) -> None:
    """Anonymised synthetic records of the campaign, its tallies, and a snapshot of them."""
    definition = campaign.definition
    rng = random.Random(7)
    districts = district_values(campaign.organisation.districts)
    records, reached = [], dict.fromkeys((step.key for step in definition.steps), 0)
    for _n in range(count):
        answers, steps = synthetic_answers(definition, rng, districts=districts)
        for step in steps:
            reached[step] += 1
        record = anonymised_answers(definition, answers, answered_on=date(2026, 11, 18))
        records.append(
            AnonymisedResponse(
                campaign=campaign,
                survey_version=campaign.survey_version,
                week=date(2026, 11, 16),
                answers=record,
                k_enforced=True,
            )
        )
    AnonymisedResponse.objects.bulk_create(records)
    DailyTally.objects.create(campaign=campaign, day=date(2026, 11, 18), started=count + 20, completed=count)
    StepReach.objects.bulk_create(StepReach(campaign=campaign, step_key=k, reached=v) for k, v in reached.items())
    snapshot_build(campaign=campaign, breakdowns=["status"])


def sign_in(page: Page, base_url: str, username: str, password: str) -> None:
    """Open the results, get sent to the sign-in form, sign in, and land on the results."""
    page.goto(f"{base_url}/analysis/")
    expect(page).to_have_url(f"{base_url}/accounts/login/?next=/analysis/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    with page.expect_navigation(wait_until="load"):
        page.locator("form[action='/accounts/login/'] button[type=submit]").click()
    expect(page).to_have_url(f"{base_url}/analysis/")


def check_axe(page: Page, failures: list[str], name: str) -> None:
    results = Axe().run(page, options=AXE_OPTIONS)
    if results.violations_count:
        failures.append(f"=== {name} ({page.url})\n{results.generate_report()}")


@pytest.mark.parametrize("device", ["phone", "desktop"])
def test_researcher_reads_results_and_axe_finds_no_violation(
    demo, live_server, new_context, device, settings, tmp_path
):
    """A researcher signs in, opens the overview, a question's chart (overall and by district), the
    cross-tab explorer and the exports page, exports and downloads the published tables; every page passes
    axe-core (WCAG 2.1 A/AA) and fits a phone without sideways scrolling.
    """
    settings.MEDIA_ROOT = tmp_path / "media"  # the export's file
    campaign = results_campaign(demo.organisation)
    publish_results(campaign)
    # The researcher's browser prefers English, the interface's source language that this test reads.
    page = new_context(locale="en-GB", **(DESKTOP if device == "desktop" else {})).new_page()
    failures: list[str] = []
    base = live_server.url

    sign_in(page, base, "demo-researcher", demo.password)
    check_axe(page, failures, "campaign list")
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("link", name=campaign.title).click()

    # Overview: key figures, funnel, districts — from the snapshot.
    expect(page.get_by_role("heading", level=1)).to_have_text(campaign.title)
    expect(page.get_by_role("img", name="Respondents who reached each step")).to_be_visible()
    expect(page.get_by_role("table", name="Respondents who reached each step")).to_be_visible()
    check_axe(page, failures, "overview")

    # A question: the chart is an image with a name, the table beside it has the same numbers.
    with page.expect_navigation(wait_until="load"):
        page.get_by_role(
            "link", name=campaign.definition.text(campaign.definition.question("status").label, "en")
        ).click()
    chart = page.locator("svg.bar-chart").first
    expect(chart).to_have_attribute("role", "img")
    expect(page.locator("table.results caption").first).to_be_visible()
    check_axe(page, failures, "question")
    page.get_by_label("Break down by").select_option("district")
    with page.expect_navigation(wait_until="load"):
        page.locator(".filter-form button[type=submit]").click()
    expect(page).to_have_url(f"{base}/analysis/{campaign.slug}/questions/status/?breakdown=district")
    expect(page.locator("table.results").first).to_be_visible()
    check_axe(page, failures, "question by district")

    # The cross-tab explorer, without JavaScript-only controls: a GET form.
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("link", name="Cross-tabs").click()
    page.locator("#id_question").select_option("happy_in_city")
    page.locator("#id_breakdown").select_option("status")
    with page.expect_navigation(wait_until="load"):
        page.locator(".filter-form button[type=submit]").click()
    expect(page.locator("table.results").first).to_be_visible()
    check_axe(page, failures, "cross-tab")

    if device == "phone":
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, f"the cross-tab page is {width}px wide on a 360px phone"

    # Exports: a button per export the researcher may make (the published tables), then the download.
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("link", name="Exports").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Exports")
    check_axe(page, failures, "exports")
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("button", name="Published tables (CSV)").click()
    row = page.get_by_role("row", name=re.compile("Published tables \\(CSV\\)"))
    expect(row).to_contain_text("Ready")
    check_axe(page, failures, "exports with a finished export")
    with page.expect_download() as download:
        row.get_by_role("link", name=re.compile("Download")).click()
    assert download.value.suggested_filename.startswith(f"{campaign.slug}-aggregates-")
    assert Path(download.value.path()).read_text(encoding="utf-8").startswith("table,question,breakdown,")
    if device == "phone":
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, f"the exports page is {width}px wide on a 360px phone"
    assert not failures, "\n".join(failures)
