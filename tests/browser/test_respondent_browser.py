"""The respondent's journey in a real browser (Chromium on a 360 px phone): German, Arabic, axe-core, no JavaScript."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from survey import services
from survey.models import Campaign, Draft, Response
from tests.browser.respondent import PHONE_WIDTH, Respondent

pytestmark = pytest.mark.browser

WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": [*WCAG_21_AA, "best-practice"]}, "resultTypes": ["violations"]}
# Set STIMMEN_SCREENSHOTS=/some/dir to keep a picture of a step page per language (to look at the layout).
SCREENSHOTS = os.environ.get("STIMMEN_SCREENSHOTS")

WISH = {
    "de": "Mehr Praktikumsplätze in der Nordstadt und Beratung auf Arabisch.",
    "ar": "أتمنى المزيد من أماكن التدريب والاستشارة باللغة العربية.",
}


def begin(person: Respondent, *, age: str = "19") -> None:
    """On the start page: type the age, tick the consent, start."""
    page = person.page
    age_field = page.locator('input[name="age"]')
    age_field.tap()
    age_field.press_sequentially(age)
    page.locator('input[name="consent"]').tap()
    expect(page.locator('input[name="consent"]')).to_be_checked()
    person.press(page.locator(".start-form button[type=submit]"))


def switch_language_on_start_page(person: Respondent, language: str) -> None:
    person.press(person.page.locator(f'nav.language-switch a[hreflang="{language}"]'))
    expect(person.page.locator("html")).to_have_attribute("lang", language)


def complete_demo_survey(person: Respondent, *, lang: str, direction: str, back: str) -> None:
    """A job seeker's way through the demo survey, checking every page for language, direction and width."""
    page = person.page

    def arrived(step: str) -> None:
        person.expect_step(step)
        person.assert_page_fits(lang=lang, direction=direction)

    title = person.text(person.definition.title)
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    person.assert_page_fits(lang=lang, direction=direction)
    begin(person)

    arrived("start")
    expect(page.get_by_role("progressbar")).to_be_visible()
    # "Other, namely:" belongs to the question it explains: it is inside the question's group.
    expect(person.question("status").get_by_role("textbox")).to_have_count(1)
    person.choose("status", "job_seeking")
    person.next()

    arrived("school_language")
    person.choose("school_qualification", "msa")
    person.choose("qualification_abroad", "yes")
    person.next()
    # The answer "yes" opened two more questions on this page: they are shown before moving on.
    arrived("school_language")
    expect(page.locator(".error-summary")).to_be_visible()
    person.choose("foreign_qualification_types", "school_certificate", "vocational_qualification")
    person.next()  # recognition_status stays unanswered: it is optional

    arrived("job_search")
    person.choose("looking_for", "ausbildung_place", "internship")
    person.choose("search_duration", "months_6_to_12")
    person.type("applications_last_year", "12")
    person.next()
    arrived("job_search")  # twelve applications: how many interviews?
    person.choose("interview_invitations", "one_to_two")
    if SCREENSHOTS:
        page.screenshot(path=str(Path(SCREENSHOTS) / f"step-{lang}.png"))
        page.locator("#wizard-form .actions").scroll_into_view_if_needed()
        page.screenshot(path=str(Path(SCREENSHOTS) / f"step-{lang}-buttons.png"))
    person.next()

    arrived("support")
    person.press(page.get_by_role("button", name=back, exact=True))
    arrived("job_search")
    expect(person.question("applications_last_year")).to_have_value("12")
    expect(person.option("looking_for", "ausbildung_place")).to_be_checked()
    expect(person.option("looking_for", "internship")).to_be_checked()
    expect(person.option("interview_invitations", "one_to_two")).to_be_checked()
    person.next()

    arrived("support")
    person.next()  # nothing answered: every question here is optional
    arrived("obstacles")
    person.next()
    arrived("discrimination")
    person.choose("discrimination_frequency", "never")
    person.next()
    arrived("trust")
    person.choose("trust_jobcenter", 2)
    person.choose("future_confidence", 5)
    person.next()
    arrived("wishes")
    person.choose("city_priorities", "more_training_places", "counselling_languages")
    person.type("wishes_city", WISH[lang])
    person.next()
    arrived("about_you")
    person.type("birth_year", "2005")
    person.choose("district", "Hörde")
    person.next()

    expect(page).to_have_url(re.compile(r"/s/demo/thanks/$"))
    person.assert_page_fits(lang=lang, direction=direction)


def assert_stored_answers(lang: str) -> None:
    response = Response.objects.get()
    answers = response.answers
    assert response.language == lang
    assert answers["status"] == "job_seeking"
    assert answers["qualification_abroad"] == "yes"
    assert answers["foreign_qualification_types"] == ["school_certificate", "vocational_qualification"]
    assert "recognition_status" not in answers
    assert answers["looking_for"] == ["ausbildung_place", "internship"]
    assert answers["applications_last_year"] == 12
    assert answers["interview_invitations"] == "one_to_two"
    assert answers["trust_jobcenter"] == 2
    assert answers["wishes_city"] == WISH[lang]
    assert answers["birth_year"] == 2005
    assert answers["district"] == "hoerde"
    assert "support_used" not in answers


def test_respondent_completes_the_demo_survey_in_german_on_a_small_phone(demo, demo_url, phone: Page):
    """A job seeker aged 19 takes the whole demo survey in German on a 360 px touch phone.

    They tap answers and type like a person, skip optional questions, go back once and find their answers
    still there, and reach the thank-you page. Exactly one response is stored, with the answers given; no page
    scrolls sideways at 360 px.
    """
    person = Respondent(phone, demo.campaign.definition, "de")
    phone.goto(demo_url)
    complete_demo_survey(person, lang="de", direction="ltr", back="Zurück")
    assert_stored_answers("de")


def test_respondent_completes_the_demo_survey_in_arabic_right_to_left(demo, demo_url, phone: Page):
    """The same journey in Arabic, chosen with the language switch on the start page.

    Every page is ``<html dir="rtl" lang="ar">``, fits the 360 px phone, and the response is stored as Arabic.
    """
    person = Respondent(phone, demo.campaign.definition, "ar")
    phone.goto(demo_url)
    switch_language_on_start_page(person, "ar")
    complete_demo_survey(person, lang="ar", direction="rtl", back="رجوع")
    assert_stored_answers("ar")


class AxeScan:
    """Runs axe-core (WCAG 2.1 A/AA and best-practice rules) on the page as it is now; keeps every problem."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.axe = Axe()
        self.scanned: list[str] = []
        self.failures: list[str] = []

    def __call__(self, name: str) -> None:
        results = self.axe.run(self.page, options=AXE_OPTIONS)
        self.scanned.append(name)
        if results.violations_count:
            self.failures.append(f"=== {name} ({self.page.url})\n{results.generate_report()}")
        width = self.page.evaluate("document.documentElement.scrollWidth")
        if width > PHONE_WIDTH:
            self.failures.append(f"=== {name} ({self.page.url})\n{width}px wide: scrolls sideways (WCAG 1.4.10)")


@pytest.mark.parametrize("language", ["de", "ar"])
def test_every_page_a_respondent_sees_passes_axe(demo, demo_url, phone: Page, language):
    """axe-core finds no WCAG 2.1 A/AA violation on any page of the respondent's journey, in German and Arabic.

    axe's best-practice rules (landmarks, heading order, ...) run too, and no page scrolls sideways at 360 px.

    Scanned: the start page (plain, with errors, with an open draft), every step of the demo survey on every
    branch (with the follow-up questions that answers open), a step with validation errors, the continue-later
    page, the resume page with a wrong code, the thank-you page, the age-gate page and the closed-campaign page.
    """
    page = phone
    person = Respondent(page, demo.campaign.definition, language)
    scan = AxeScan(page)
    step_url = f"{demo_url}q/{{}}/"

    page.goto(demo_url)
    if language != "de":
        switch_language_on_start_page(person, language)
    scan("start page")
    person.press(page.locator(".start-form button[type=submit]"))
    expect(page.locator(".error-summary")).to_be_visible()
    scan("start page with errors")
    page.locator('input[name="age"]').fill("")
    begin(person, age="12")
    expect(page).to_have_url(re.compile(r"/s/demo/stopped/$"))
    scan("age gate (stopped)")

    page.goto(demo_url)
    begin(person)
    person.expect_step("start")
    scan("step start")
    person.next()
    expect(page.locator(".error-summary")).to_be_visible()
    expect(person.question("status")).to_have_attribute("aria-describedby", re.compile("error"))
    scan("step start with the required question left empty")
    person.choose("status", "school")
    person.next()

    person.expect_step("school_language")
    scan("step school_language")
    person.choose("qualification_abroad", "yes")
    person.choose("german_level", person.definition.question("german_level").options[1].value)
    person.next()
    person.expect_step("school_language")
    expect(person.question("recognition_status")).to_be_visible()
    expect(person.question("german_certificate")).to_be_visible()
    scan("step school_language with follow-up questions")
    person.next()

    person.expect_step("school_pupils")
    scan("step school_pupils")
    person.next()
    person.expect_step("support")
    person.choose("support_used", "jugendmigrationsdienst")
    person.next()
    expect(person.question("support_helpful")).to_be_visible()
    scan("step support with follow-up question")
    person.next()
    person.expect_step("obstacles")
    person.choose("barriers", "residence_status")
    person.next()
    expect(person.question("residence_problems")).to_be_visible()
    scan("step obstacles with follow-up question")
    person.next()
    person.expect_step("discrimination")
    person.choose("discrimination_frequency", "often")
    person.next()
    expect(person.question("discrimination_where")).to_be_visible()
    scan("step discrimination with follow-up questions")
    person.next()
    person.expect_step("trust")
    scan("step trust")
    person.next()
    person.expect_step("wishes")
    person.choose("city_priorities", "more_training_places", "fair_applications", "one_stop", "mentoring")
    person.next()
    expect(page.locator(".error-summary")).to_be_visible()
    scan("step wishes with too many choices")
    person.question("city_priorities").get_by_label(person.option_label("city_priorities", "mentoring")).uncheck()
    person.next()
    person.expect_step("about_you")
    scan("step about_you")
    person.continue_later()
    expect(page).to_have_url(re.compile(r"/s/demo/later/$"))
    scan("continue-later page")
    page.goto(demo_url)
    expect(page.locator(".notice a")).to_be_visible()
    scan("start page with an open draft")

    page.goto(f"{demo_url}resume/")
    code = page.locator('input[name="code"]')
    code.tap()
    code.press_sequentially("ABCD-EFGH-JKLM")
    person.press(page.locator("main form button[type=submit]"))
    expect(page.locator(".error-summary")).to_be_visible()
    scan("resume page with a wrong code")

    # The other branches: set the status through the service (fast), then scan the branch's step as rendered.
    draft = Draft.objects.get()
    for status, step in [
        ("ausbildung", "ausbildung"),
        ("job_seeking", "job_search"),
        ("not_in_education_work", "job_search"),
        ("job", "work_study"),
    ]:
        services.draft_save_step(
            draft_id=draft.pk, step_key="start", step_answers={"status": status}, language=language
        )
        page.goto(step_url.format(step))
        person.expect_step(step)
        scan(f"step {step} (status {status})")

    # The last branch the way a respondent takes it, then on to the end.
    page.goto(step_url.format("start"))
    person.choose("status", "university")
    person.next()
    page.goto(step_url.format("work_study"))
    person.expect_step("work_study")
    scan("step work_study (status university)")
    person.next()
    page.goto(step_url.format("about_you"))
    person.expect_step("about_you")
    person.next()
    expect(page).to_have_url(re.compile(r"/s/demo/thanks/$"))
    scan("thank-you page")

    Campaign.objects.filter(pk=demo.campaign.pk).update(status=Campaign.Status.CLOSED)
    page.goto(demo_url)
    expect(page.locator("form")).to_have_count(0)
    scan("closed campaign")

    assert Response.objects.count() == 1
    assert not scan.failures, f"axe found violations ({language}):\n\n" + "\n\n".join(scan.failures)


def test_the_survey_works_without_javascript(demo, demo_url, new_context):
    """With JavaScript switched off a respondent starts, answers two steps, goes back and switches language.

    Everything is plain links and form posts: errors take the focus (autofocus), Enter in a field means "Next",
    the Back button and the language buttons on a step page submit the wizard's form, and the answers typed so
    far are kept.
    """
    page = new_context(java_script_enabled=False).new_page()
    person = Respondent(page, demo.campaign.definition, "de")
    page.goto(demo_url)
    begin(person)
    person.expect_step("start")
    person.next()
    # Without a script, the problems still get the focus, and the page title says there are some.
    summary = page.locator(".error-summary")
    expect(summary).to_be_focused()
    expect(page).to_have_title(re.compile("^" + re.escape(summary.get_by_role("heading").inner_text()) + " – "))
    person.choose("status", "school")
    person.next()
    person.expect_step("school_language")
    person.choose("school_qualification", "none_yet_at_school")
    person.next()
    person.expect_step("school_pupils")
    person.assert_page_fits(lang="de", direction="ltr")
    person.type("school_grade", "9")
    with page.expect_navigation():
        person.question("school_grade").press("Enter")
    person.expect_step("support")  # Enter went on, in the same language
    expect(page.locator("html")).to_have_attribute("lang", "de")

    person.press(page.get_by_role("button", name="Zurück", exact=True))
    person.expect_step("school_pupils")
    expect(person.question("school_grade")).to_have_value("9")
    person.back()
    person.expect_step("school_language")
    expect(person.option("school_qualification", "none_yet_at_school")).to_be_checked()

    person.press(page.locator('button[name="wizard_switch_language"][value="ar"]'))
    person.language = "ar"
    person.expect_step("school_language")
    person.assert_page_fits(lang="ar", direction="rtl")
    expect(person.option("school_qualification", "none_yet_at_school")).to_be_checked()
