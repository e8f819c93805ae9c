"""The codebook: variables, names, codes and labels of the microdata, and its Markdown and HTML forms.

Pure: built from the demo survey's definition and Dortmund's districts, without a database.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from analysis.codebook import (
    HEADINGS,
    NO_ANSWER,
    SUPPRESSED_CODE,
    Kind,
    codebook_build,
    codebook_html,
    codebook_markdown,
    truncate,
    variable_names,
)
from analysis.privacy.kanonymity import SUPPRESSED
from survey.definition import QuestionType, load_definition_file
from survey.districts import DORTMUND_DISTRICTS

DEMO = Path(__file__).resolve().parents[2] / "survey" / "definitions" / "ausbildung-arbeit-2023.yaml"
NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,27}$")


@pytest.fixture(scope="module")
def definition():
    return load_definition_file(DEMO)[0]


@pytest.fixture(scope="module")
def codebook(definition):
    return codebook_build(definition=definition, districts=DORTMUND_DISTRICTS, k=5)


def test_every_answer_column_is_a_variable_with_its_question_step_theme_and_privacy(definition, codebook):
    questions = [question for question in definition.questions() if question.takes_answer]
    keys = {variable.question for variable in codebook.variables}
    assert keys - {""} == {question.key for question in questions}
    assert codebook.columns[:3] == ["id", "week", "survey_version"]
    status = codebook.variable("status")
    assert (status.label, status.step, status.step_title, status.theme, status.privacy) == (
        "Was machst du gerade hauptsächlich?",
        "start",
        "Los geht's",
        "bildung",
        "none",
    )
    assert codebook.variable("status_other").kind == Kind.STRING
    assert "gender_other" not in codebook.columns  # a quasi-identifier's free text is never kept
    option = codebook.variable("migration_background__both_parents")
    assert option.label == "Wer in deiner Familie ist außerhalb von Deutschland geboren?: Beide Eltern"
    assert option.value_labels() == {
        0: "not chosen",
        1: "chosen",
        NO_ANSWER: "no answer",
        SUPPRESSED_CODE: option.value_labels()[-2],
    }


def test_codes_follow_the_definition_order_with_missing_codes(codebook):
    status = codebook.variable("status")
    assert [value.value for value in status.values][:3] == ["school", "ausbildung", "university"]
    assert [value.code for value in status.values] == list(range(1, 11))
    assert status.code("school") == 1 and status.code("other") == 10
    assert status.code(None) == NO_ANSWER and status.code(SUPPRESSED) == SUPPRESSED_CODE
    assert codebook.variable("international_class").value_labels(with_missing=False) == {1: "Ja", 0: "Nein"}
    likert = codebook.variable("trust_city").value_labels(with_missing=False)
    assert list(likert) == [1, 2, 3, 4, 5] and likert[3] == "3" and likert[1] != "1" and likert[5] != "5"
    assert codebook.variable("trust_city").code(4) == 4


def test_generalised_quasi_identifiers_are_coded_in_band_and_region_order(codebook):
    age = codebook.variable("birth_year")
    assert [value.label for value in age.values] == ["under 14", "14-17", "18-20", "21-24", "25-27", "over 27"]
    assert age.code("18-20") == 3
    assert "age in the year of the response" in age.generalisation
    country = codebook.variable("country_of_birth")
    values = [value.value for value in country.values]
    assert values[:3] == ["germany", "turkey", "middle_east"]
    assert country.code("eastern_europe") == values.index("eastern_europe") + 1
    assert dict((v.value, v.label) for v in country.values)["germany"] == "Deutschland"
    district = codebook.variable("district")
    assert [value.label for value in district.values][:2] == ["Innenstadt-West", "Innenstadt-Nord"]
    assert district.values[-1].label == "Ich wohne nicht in dieser Stadt"


def test_values_missing_from_the_definition_get_the_next_codes():
    definition = load_definition_file(DEMO)[0]
    codebook = codebook_build(definition=definition, districts=DORTMUND_DISTRICTS, observed={"status": ["retired"]})
    assert codebook.variable("status").code("retired") == 11


def test_plain_numbers_stay_numbers_and_texts_strings(definition, codebook):
    numbers = [q.key for q in definition.questions() if q.type is QuestionType.NUMBER]
    assert numbers and all(codebook.variable(key).kind == Kind.NUMBER for key in numbers)
    assert codebook.variable("school_grade").code(None) != codebook.variable("school_grade").code(None)  # NaN
    assert codebook.variable("wishes_city").kind == Kind.STRING
    assert codebook.variable("wishes_city").code(None) == ""


def test_variable_names_are_valid_unique_short_and_stable():
    columns = [
        "status",
        "recognition_not_applied_reasons__too_expensive",
        "recognition_not_applied_reasons__too_expensive_x",
        "1st",
        "with",
        "Status",
        "a-b",
    ]
    names = variable_names(columns)
    assert names == variable_names(columns)
    assert all(NAME_RE.match(name) for name in names.values())
    assert len({name.lower() for name in names.values()}) == len(columns)
    assert names["status"] == "status"
    assert names["1st"] == "v_1st" and names["with"] == "v_with" and names["a-b"] == "a_b"
    assert names["Status"] == "Status_2"
    assert (
        names["recognition_not_applied_reasons__too_expensive"]
        != names["recognition_not_applied_reasons__too_expensive_x"]
    )


def test_the_demo_survey_names_are_valid(codebook):
    names = [variable.name for variable in codebook.variables]
    assert all(NAME_RE.match(name) for name in names)
    assert len({name.lower() for name in names}) == len(names)


def test_truncate_cuts_characters_and_bytes_and_marks_the_cut():
    assert truncate("kurz", chars=80) == "kurz"
    assert truncate("x" * 100, chars=80) == "x" * 79 + "…"
    cut = truncate("ü" * 100, utf8_bytes=120)
    assert len(cut.encode("utf-8")) <= 120 and cut.endswith("…")


def test_markdown_lists_every_variable_with_its_labels(codebook):
    text = codebook_markdown(codebook)
    for variable in codebook.variables:
        assert f"| {variable.name} | {variable.column} |" in text
    assert "1 = Ich gehe zur Schule; 2 = Ich mache eine Ausbildung" in text
    assert "-1 = no answer" in text and "-2 = suppressed" in text


class _Checker(HTMLParser):
    VOID = {"meta", "br", "img", "hr", "link", "input"}

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.doctype = ""

    def handle_decl(self, decl: str) -> None:
        self.doctype = decl

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes <{self.stack[-1] if self.stack else None}>"
        self.stack.pop()


def test_html_is_well_formed_and_accessible(codebook):
    checker = _Checker()
    checker.feed(codebook_html(codebook))
    checker.close()
    assert checker.doctype.lower() == "doctype html" and not checker.stack
    tags = checker.tags
    assert tags[0] == ("html", {"lang": "en"})
    assert [tag for tag, _attrs in tags].count("caption") == 1
    headers = [attrs.get("scope") for tag, attrs in tags if tag == "th"]
    assert headers.count("col") == len(HEADINGS)
    assert headers.count("row") == len(codebook.variables)
    assert all(scope in ("col", "row") for scope in headers)
    assert any(tag == "td" and attrs.get("lang") == "de" for tag, attrs in tags)
    assert "<title>" in codebook_html(codebook)
