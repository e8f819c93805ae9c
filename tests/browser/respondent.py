"""A respondent in a browser: finds questions and answers by the words on the screen, taps and types."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Locator, Page, expect

from survey.definition import QuestionType, SurveyDefinition

CHOICE_TYPES = {QuestionType.SINGLE_CHOICE, QuestionType.MULTI_CHOICE, QuestionType.YES_NO, QuestionType.LIKERT}
CHOICE_TYPES |= {QuestionType.DISTRICT}
PHONE_WIDTH = 360


class Respondent:
    """Drives one page through the survey the way a person does: by labels, taps and typing."""

    def __init__(self, page: Page, definition: SurveyDefinition, language: str, campaign: str = "demo") -> None:
        self.page = page
        self.definition = definition
        self.language = language
        self.campaign = campaign

    # --- where am I ---------------------------------------------------------------------------------------

    @property
    def step(self) -> str:
        match = re.search(rf"/s/{self.campaign}/q/([\w-]+)/$", self.page.url)
        assert match, f"not on a step page: {self.page.url}"
        return match.group(1)

    def text(self, localised: Any) -> str:
        return self.definition.text(localised, self.language)

    def expect_step(self, step: str) -> None:
        expect(self.page).to_have_url(re.compile(rf"/s/{self.campaign}/q/{step}/$"))
        expect(self.page.get_by_role("heading", level=1)).to_have_text(self.text(self.definition.step(step).title))

    def assert_page_fits(self, *, lang: str, direction: str) -> None:
        """Right language and direction on <html>, and nothing wider than the phone (no sideways scrolling)."""
        html = self.page.locator("html")
        expect(html).to_have_attribute("lang", lang)
        expect(html).to_have_attribute("dir", direction)
        width = self.page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE_WIDTH, f"{self.page.url} is {width}px wide on a {PHONE_WIDTH}px phone"

    # --- moving -------------------------------------------------------------------------------------------

    def press(self, button: Locator) -> None:
        """Tap a button or link that loads a new page, and wait for that page."""
        with self.page.expect_navigation(wait_until="load"):
            button.tap()

    def next(self) -> None:
        self.press(self.page.locator("#wizard-form .actions button.primary"))

    def back(self) -> None:
        self.press(self.page.locator('#wizard-form button[name="wizard_goto_step"]'))

    def continue_later(self) -> None:
        self.press(self.page.locator('#wizard-form button[name="wizard_continue_later"]'))

    # --- answering ----------------------------------------------------------------------------------------

    def question(self, key: str) -> Locator:
        """The question as shown: the group of choices (named by its legend) or the text field (by its label)."""
        question = self.definition.question(key)
        label = self.text(question.label)
        if question.type in CHOICE_TYPES:
            return self.page.get_by_role("group", name=re.compile("^" + re.escape(label)))
        return self.page.get_by_label(label)

    def option_label(self, key: str, value: Any) -> str:
        question = self.definition.question(key)
        if question.type is QuestionType.LIKERT:
            assert question.scale is not None
            if value == 1 and question.scale.low:
                return f"1 – {self.text(question.scale.low)}"
            if value == question.scale.points and question.scale.high:
                return f"{value} – {self.text(question.scale.high)}"
            return str(value)
        if question.type is QuestionType.DISTRICT:
            return str(value)
        return next(self.text(option.label) for option in question.options if option.value == value)

    def option(self, key: str, value: Any) -> Locator:
        return self.question(key).get_by_label(self.option_label(key, value), exact=True)

    def choose(self, key: str, *values: Any) -> None:
        """Tap the label of each answer (as a thumb would) and see it selected."""
        group = self.question(key)
        for value in values:
            label = self.option_label(key, value)
            group.locator("label").filter(has_text=re.compile(f"^{re.escape(label)}$")).tap()
            expect(group.get_by_label(label, exact=True)).to_be_checked()

    def type(self, key: str, text: str) -> None:
        field = self.question(key)
        field.tap()
        field.press_sequentially(text)
