"""Generalisation of quasi-identifiers: exact values never pass, bands and groups do."""

import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from analysis.privacy.generalise import COUNTRY_REGIONS, age_at, band_label, generalise_answer
from survey.definition.model import Option, Question, QuestionType

ON = datetime.date(2026, 5, 4)


def question(kind: QuestionType, *, generalise=None, options=(), other=False) -> Question:
    return Question(
        key="q",
        type=kind,
        label={"de": "Frage"},
        options=tuple(Option(value=value, label={"de": value}) for value in options),
        other=other,
        generalise=generalise,
    )


@pytest.mark.parametrize(
    ("birth_year", "band"),
    [
        (2012, "14-17"),
        (2009, "14-17"),
        (2008, "18-20"),
        (2006, "18-20"),
        (2005, "21-24"),
        (2002, "21-24"),
        (2001, "25-27"),
        (1999, "25-27"),
        (1998, "over_27"),
        (2013, "under_14"),
    ],
)
def test_birth_year_becomes_the_default_age_band_at_the_date_of_the_response(birth_year, band):
    assert generalise_answer(question(QuestionType.YEAR), birth_year, answered_on=ON) == band


def test_the_age_band_depends_on_when_the_response_was_given_not_on_today():
    year = question(QuestionType.YEAR)
    assert generalise_answer(year, 2008, answered_on=datetime.date(2025, 12, 1)) == "14-17"
    assert generalise_answer(year, 2008, answered_on=datetime.date(2026, 1, 2)) == "18-20"
    assert age_at(birth_year=2008, on=datetime.date(2026, 1, 2)) == 18


def test_year_bands_from_the_definition_are_ages():
    year = question(QuestionType.YEAR, generalise={"bands": [[14, 20], [21, 27]]})
    assert generalise_answer(year, 2010, answered_on=ON) == "14-20"
    assert generalise_answer(year, 2000, answered_on=ON) == "21-27"
    assert generalise_answer(year, 1990, answered_on=ON) == "over_27"


def test_number_questions_use_their_bands_and_fall_back_to_bands_of_ten():
    banded = question(QuestionType.NUMBER, generalise={"bands": [[0, 1], [2, 5], [6, 10]]})
    assert [generalise_answer(banded, n, answered_on=ON) for n in (0, 3, 10, 11)] == ["0-1", "2-5", "6-10", "over_10"]
    plain = question(QuestionType.NUMBER)
    assert [generalise_answer(plain, n, answered_on=ON) for n in (0, 9, 10, 37)] == ["0-9", "0-9", "10-19", "30-39"]


def test_a_value_in_a_gap_between_bands_gets_the_gap_never_itself():
    assert band_label(21, [[14, 17], [25, 27]]) == "18-24"
    assert band_label(18, [[14, 17], [19, 27]]) == "18"  # a one-value gap is as fine as the bands allow


@given(st.integers(min_value=-1000, max_value=3000))
def test_a_banded_label_is_never_the_exact_value_unless_the_band_is_that_one_value(value):
    bands = [[14, 17], [18, 20], [21, 24], [25, 27]]
    label = band_label(value, bands)
    assert label != str(value)


def test_groups_from_the_definition_replace_the_option():
    country = question(
        QuestionType.SINGLE_CHOICE,
        options=["germany", "syria", "iraq"],
        generalise={"groups": {"syria": "mena", "iraq": "mena"}},
    )
    assert generalise_answer(country, "iraq", answered_on=ON) == "mena"
    assert generalise_answer(country, "germany", answered_on=ON) == "germany"


def test_countries_without_groups_become_world_regions_from_the_built_in_table():
    country = question(
        QuestionType.SINGLE_CHOICE, options=["germany", "syria", "kazakhstan", "prefer_not_to_say"], other=True
    )
    assert generalise_answer(country, "syria", answered_on=ON) == "middle_east"
    assert generalise_answer(country, "kazakhstan", answered_on=ON) == "south_central_asia"
    assert generalise_answer(country, "germany", answered_on=ON) == "germany"
    assert generalise_answer(country, "prefer_not_to_say", answered_on=ON) == "prefer_not_to_say"
    assert generalise_answer(country, "other", answered_on=ON) == "other"


def test_every_country_of_the_demo_survey_has_a_region():
    demo = [
        "germany",
        "turkey",
        "syria",
        "ukraine",
        "poland",
        "romania",
        "bulgaria",
        "iraq",
        "afghanistan",
        "iran",
        "greece",
        "italy",
        "kosovo",
        "serbia",
        "russia",
        "kazakhstan",
    ]
    assert all(country in COUNTRY_REGIONS for country in demo)


def test_choices_that_are_not_countries_district_and_unanswered_stay():
    gender = question(QuestionType.SINGLE_CHOICE, options=["female", "male", "diverse"])
    assert generalise_answer(gender, "diverse", answered_on=ON) == "diverse"
    assert generalise_answer(question(QuestionType.DISTRICT), "eving", answered_on=ON) == "eving"
    assert generalise_answer(question(QuestionType.MULTI_CHOICE), ["b", "a"], answered_on=ON) == ["a", "b"]
    assert generalise_answer(question(QuestionType.YEAR), None, answered_on=ON) is None
