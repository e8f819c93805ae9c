"""Branching: which questions a respondent sees, and which answers are kept, given the answers so far."""

import pytest

from survey.definition import evaluate, parse_definition, prune_answers, visible_path
from survey.definition.conditions import referenced_questions
from tests.support.definitions import mini_definition

STATUS_IS_TRAINING = {"question": "status", "equals": "training"}


@pytest.fixture
def mini():
    return parse_definition(mini_definition())


def seen(definition, answers):
    """``{step key: [question keys]}`` of what a respondent with ``answers`` sees."""
    return {step.key: [q.key for q in questions] for step, questions in visible_path(definition, answers)}


# --- Operators --------------------------------------------------------------------------------------------


def test_no_condition_always_shows():
    assert evaluate(None, {}) is True


def test_equals_shows_only_for_that_answer():
    assert evaluate(STATUS_IS_TRAINING, {"status": "training"}) is True
    assert evaluate(STATUS_IS_TRAINING, {"status": "school"}) is False


def test_equals_compares_numbers_and_text_alike():
    """A likert answer stored as 4 and one still typed as "4" in the form both match ``equals: 4``."""
    condition = {"question": "training_happy", "equals": 4}
    assert evaluate(condition, {"training_happy": 4}) is True
    assert evaluate(condition, {"training_happy": "4"}) is True
    assert evaluate({"question": "training_happy", "equals": "4"}, {"training_happy": 4}) is True


def test_in_shows_for_any_of_the_listed_answers():
    condition = {"question": "status", "in": ["training", "job_seeking"]}
    assert evaluate(condition, {"status": "job_seeking"}) is True
    assert evaluate(condition, {"status": "training"}) is True
    assert evaluate(condition, {"status": "school"}) is False


@pytest.mark.parametrize(("answer", "expected"), [(5, False), (6, True), (7, True), ("6", True)])
def test_gte_includes_the_limit(answer, expected):
    assert evaluate({"question": "months_searching", "gte": 6}, {"months_searching": answer}) is expected


@pytest.mark.parametrize(("answer", "expected"), [(2004, True), (2005, True), (2006, False), ("2004", True)])
def test_lte_includes_the_limit(answer, expected):
    assert evaluate({"question": "birth_year", "lte": 2005}, {"birth_year": answer}) is expected


def test_gte_on_an_answer_that_is_not_a_number_is_false():
    assert evaluate({"question": "months_searching", "gte": 0}, {"months_searching": "many"}) is False


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        ({"wishes": "Mehr Praktika"}, True),
        ({"barriers": ["language"]}, True),
        ({"months_searching": 0}, True),
        ({}, False),
        ({"wishes": ""}, False),
        ({"barriers": []}, False),
        ({"wishes": None}, False),
    ],
    ids=["text", "choices", "zero", "missing", "empty-text", "no-choice", "none"],
)
def test_answered_true_holds_for_any_real_answer_including_zero(answers, expected):
    key = next(iter(answers), "wishes")
    assert evaluate({"question": key, "answered": True}, answers) is expected
    assert evaluate({"question": key, "answered": False}, answers) is (not expected)


def test_all_needs_every_part():
    condition = {"all": [STATUS_IS_TRAINING, {"question": "training_happy", "lte": 2}]}
    assert evaluate(condition, {"status": "training", "training_happy": 1}) is True
    assert evaluate(condition, {"status": "training", "training_happy": 4}) is False
    assert evaluate(condition, {"status": "school", "training_happy": 1}) is False


def test_any_needs_one_part():
    condition = {"any": [STATUS_IS_TRAINING, {"question": "months_searching", "gte": 12}]}
    assert evaluate(condition, {"status": "school", "months_searching": 12}) is True
    assert evaluate(condition, {"status": "training"}) is True
    assert evaluate(condition, {"status": "school", "months_searching": 3}) is False


def test_not_reverses_its_part():
    condition = {"not": STATUS_IS_TRAINING}
    assert evaluate(condition, {"status": "school"}) is True
    assert evaluate(condition, {"status": "training"}) is False


def test_not_equals_holds_when_the_question_was_skipped():
    """``not: {equals}`` shows a question to someone who skipped the one it depends on."""
    assert evaluate({"not": STATUS_IS_TRAINING}, {}) is True


def test_combinators_nest():
    condition = {
        "any": [
            {"all": [STATUS_IS_TRAINING, {"not": {"question": "training_happy", "gte": 3}}]},
            {"question": "barriers", "equals": "recognition"},
        ]
    }
    assert evaluate(condition, {"status": "training", "training_happy": 2}) is True
    assert evaluate(condition, {"status": "training", "training_happy": 5}) is False
    assert evaluate(condition, {"status": "school", "barriers": ["language", "recognition"]}) is True


def test_referenced_questions_lists_every_question_a_condition_uses():
    condition = {"all": [STATUS_IS_TRAINING, {"not": {"any": [{"question": "birth_year", "lte": 2000}]}}]}
    assert [key for key, _leaf in referenced_questions(condition)] == ["status", "birth_year"]
    assert list(referenced_questions(None)) == []


# --- Multi choice -----------------------------------------------------------------------------------------


def test_equals_on_multi_choice_holds_when_any_chosen_option_matches():
    condition = {"question": "barriers", "equals": "language"}
    assert evaluate(condition, {"barriers": ["recognition", "language"]}) is True
    assert evaluate(condition, {"barriers": ["recognition"]}) is False


def test_in_on_multi_choice_holds_when_any_chosen_option_is_listed():
    condition = {"question": "barriers", "in": ["language", "recognition"]}
    assert evaluate(condition, {"barriers": ["none"]}) is False
    assert evaluate(condition, {"barriers": ["other", "recognition"]}) is True


def test_no_option_chosen_matches_nothing():
    assert evaluate({"question": "barriers", "in": ["language"]}, {"barriers": []}) is False


# --- Unanswered questions ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "condition",
    [
        STATUS_IS_TRAINING,
        {"question": "status", "in": ["training", "school"]},
        {"question": "months_searching", "gte": 0},
        {"question": "months_searching", "lte": 120},
    ],
    ids=["equals", "in", "gte", "lte"],
)
@pytest.mark.parametrize("answers", [{}, {"status": "", "months_searching": None}], ids=["missing", "empty"])
def test_a_comparison_with_a_skipped_question_is_false(condition, answers):
    """Skipping a question never opens the questions that depend on its answer."""
    assert evaluate(condition, answers) is False


# --- What a respondent sees -------------------------------------------------------------------------------


def test_without_answers_only_unconditional_steps_are_seen(mini):
    assert seen(mini, {}) == {
        "status_step": ["status", "hint"],
        "about_step": ["birth_year", "district", "happy_in_city", "wishes"],
    }


def test_choosing_training_opens_the_training_step(mini):
    assert list(seen(mini, {"status": "training"})) == ["status_step", "training_step", "about_step"]


def test_a_question_inside_a_step_opens_on_an_earlier_answer_in_that_step(mini):
    searching = {"status": "job_seeking"}
    assert seen(mini, searching)["search_step"] == ["months_searching", "barriers"]
    assert seen(mini, {**searching, "barriers": ["none"]})["search_step"] == ["months_searching", "barriers"]
    assert seen(mini, {**searching, "barriers": ["language"]})["search_step"] == [
        "months_searching",
        "barriers",
        "barriers_detail",
    ]


def test_changing_status_to_job_seeking_drops_the_training_answers(mini):
    """A respondent who answered the training questions and then went back to say they are looking for
    work has only the answers of the path they finally took stored."""
    answers = {
        "status": "job_seeking",
        "training_field": "Mechatroniker",
        "training_happy": 4,
        "months_searching": 3,
        "birth_year": 2004,
    }

    assert list(seen(mini, answers)) == ["status_step", "search_step", "about_step"]
    assert prune_answers(mini, answers) == {"status": "job_seeking", "months_searching": 3, "birth_year": 2004}


def test_an_answer_on_a_hidden_branch_cannot_open_a_later_question():
    """A stale answer left on a branch the respondent left does not switch on anything further down."""
    data = mini_definition()
    data["steps"][3]["questions"][3]["show_if"] = {"question": "months_searching", "gte": 6}  # wishes
    definition = parse_definition(data)
    answers = {"status": "training", "months_searching": 12, "wishes": "Mehr Praktika"}

    assert "wishes" not in seen(definition, answers)["about_step"]
    assert prune_answers(definition, answers) == {"status": "training"}
    assert "wishes" in seen(definition, {**answers, "status": "job_seeking"})["about_step"]


def test_stale_answers_of_a_hidden_question_inside_a_visible_step_are_dropped(mini):
    answers = {"status": "job_seeking", "barriers": ["none"], "barriers_detail": "Die Sprache"}
    assert prune_answers(mini, answers) == {"status": "job_seeking", "barriers": ["none"]}


def test_skipped_questions_and_unknown_keys_are_not_kept(mini):
    answers = {"status": "school", "wishes": "", "district": None, "nonsense": 1}
    assert prune_answers(mini, answers) == {"status": "school"}


# --- "Other, namely" ----------------------------------------------------------------------------------------


def test_other_text_is_kept_when_other_is_chosen(mini):
    answers = {"status": "other", "status_other": "Freiwilligendienst"}
    assert prune_answers(mini, answers) == answers


def test_other_text_is_dropped_when_another_option_is_chosen(mini):
    """Someone who first chose "other" and typed a text, then picked "school", keeps no "other" text."""
    assert prune_answers(mini, {"status": "school", "status_other": "Freiwilligendienst"}) == {"status": "school"}


def test_other_text_on_multi_choice_is_kept_when_other_is_among_the_chosen(mini):
    answers = {"status": "job_seeking", "barriers": ["language", "other"], "barriers_other": "Wohnung"}
    assert prune_answers(mini, answers) == answers
    without_other = {**answers, "barriers": ["language"]}
    assert prune_answers(mini, without_other) == {"status": "job_seeking", "barriers": ["language"]}


def test_empty_other_text_is_not_kept(mini):
    assert prune_answers(mini, {"status": "other", "status_other": ""}) == {"status": "other"}
