"""The Content-Security-Policy in a real browser: respondents', staff's and researchers' pages break no rule of it.

Chromium reports every blocked script, style, image or connection as a ``securitypolicyviolation`` event and a
console error. A listener installed before any page script (Playwright's init scripts run outside the page's
policy) collects the events; the console is read too. The live monitor must still update itself under the policy.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from survey import services
from tests.browser.test_analysis_browser import publish_results, results_campaign
from tests.browser.test_analysis_browser import sign_in as sign_in_to_results
from tests.browser.test_staff_browser import sign_in as sign_in_to_staff
from tests.support.definitions import mini_definition

pytestmark = pytest.mark.browser

COLLECT_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  const blocked = event.blockedURI || "inline";
  window.__cspViolations.push(`${event.violatedDirective} blocked ${blocked} on ${location.pathname}`);
});
"""
POLICY_COMPLAINT = re.compile(r"Content Security Policy|Content-Security-Policy|Permissions-Policy|Refused to", re.I)


class PolicyWatch:
    """Violations and policy complaints of one page, over every document it loads."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.events: list[str] = []
        self.console: list[str] = []
        page.add_init_script(COLLECT_VIOLATIONS)
        page.on("console", self._on_console)

    def _on_console(self, message: Any) -> None:
        if POLICY_COMPLAINT.search(message.text):
            self.console.append(f"{self.page.url}: {message.text}")

    def collect(self) -> None:
        """Read the current document's violations (call before leaving a page)."""
        self.events.extend(self.page.evaluate("window.__cspViolations || []"))

    def assert_clean(self) -> None:
        self.collect()
        assert not self.events and not self.console, "\n".join(self.events + self.console)


def test_respondent_staff_and_results_pages_break_no_policy_rule(demo, live_server, new_context):
    """A respondent's start page and first steps, the staff live monitor (which still updates itself) and a
    researcher's chart page load and run without a single CSP violation or policy complaint."""
    base = live_server.url
    organisation = demo.organisation
    version, _created = services.survey_version_load(data=mini_definition(), organisation=organisation)
    campaign = services.campaign_open(survey_version=version, slug="csp-check", title="CSP check")

    # Staff: the monitor, with the browser's clock under the test's control so the 15-second poll runs at once.
    staff = new_context(locale="en-GB").new_page()
    staff_watch = PolicyWatch(staff)
    staff.clock.install()
    home = f"/staff/{organisation.slug}/"
    sign_in_to_staff(staff, base, "demo-staff", demo.password, home)
    staff_watch.collect()
    staff.goto(f"{base}{home}campaigns/{campaign.pk}/monitor/")
    started = staff.locator('#monitor [data-field="started"]')
    expect(started).to_have_text("0")
    expect(staff.locator("#monitor [data-updated]")).to_be_visible()  # the script ran

    # A respondent: start page, consent, the first step, the next one.
    phone = new_context().new_page()
    phone_watch = PolicyWatch(phone)
    phone.goto(f"{base}/s/{campaign.slug}/")
    expect(phone.locator(".start-form")).to_be_visible()
    phone_watch.collect()
    phone.locator('input[name="age"]').fill("19")
    phone.locator('input[name="consent"]').check()
    with phone.expect_navigation():
        phone.locator(".start-form button[type=submit]").click()
    expect(phone).to_have_url(re.compile(r"/q/status_step/$"))
    phone_watch.collect()
    phone.locator('input[name="status_step-status"][value="school"]').check()
    with phone.expect_navigation():
        phone.locator("#wizard-form .actions button.primary").click()
    expect(phone).to_have_url(re.compile(r"/q/about_step/$"))
    phone_watch.assert_clean()

    # The monitor polls its JSON (connect-src 'self') and shows the new start without a reload.
    staff.clock.run_for(16_000)
    expect(started).to_have_text("1")
    staff_watch.assert_clean()

    # A researcher: the results overview and a question's SVG chart.
    results = results_campaign(organisation)
    publish_results(results)
    researcher = new_context(locale="en-GB").new_page()
    researcher_watch = PolicyWatch(researcher)
    sign_in_to_results(researcher, base, "demo-researcher", demo.password)
    researcher_watch.collect()
    researcher.goto(f"{base}/analysis/{results.slug}/")
    expect(researcher.locator("svg.bar-chart").first).to_be_visible()
    researcher_watch.collect()
    researcher.goto(f"{base}/analysis/{results.slug}/questions/status/?breakdown=district")
    expect(researcher.locator("svg.bar-chart").first).to_be_visible()
    researcher_watch.assert_clean()

    # The watch sees violations: an inline style attribute, as a template might add one, is reported.
    researcher.evaluate("document.body.insertAdjacentHTML('beforeend', '<p style=\"color: red\">inline</p>')")
    researcher.wait_for_function("window.__cspViolations.some((text) => text.startsWith('style-src'))")
