"""The survey definition loader: what loads, and the located message a survey author sees for each mistake.

Plain unit tests, no database. The property tests at the end feed the loader random definitions, plausible and
broken, and check that it never fails in any other way than a ``DefinitionError`` listing located problems.
"""

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from survey.definition import DefinitionError, QuestionType, load_definition_file, parse_definition
from survey.definition.loader import read_definition_file, read_definition_text
from tests.support.definitions import mini_definition, t

REPO = Path(__file__).resolve().parents[2]
DEMO_FILE = REPO / "survey" / "definitions" / "ausbildung-arbeit-2023.yaml"


def problems_of(data: Any) -> list[str]:
    with pytest.raises(DefinitionError) as caught:
        parse_definition(data)
    return caught.value.problems


def question(data: dict[str, Any], step: int, index: int) -> dict[str, Any]:
    return data["steps"][step]["questions"][index]


# --- What loads -----------------------------------------------------------------------------------------


def test_mini_definition_loads_with_its_steps_questions_and_branching():
    definition = parse_definition(mini_definition())

    assert definition.slug == "mini"
    assert definition.languages == ("de", "en", "ar")
    assert definition.default_language == "de"
    assert [step.key for step in definition.steps] == ["status_step", "training_step", "search_step", "about_step"]
    assert definition.step("training_step").show_if == {"question": "status", "equals": "training"}
    status = definition.question("status")
    assert status.type is QuestionType.SINGLE_CHOICE
    assert status.option_values() == ["school", "training", "job_seeking", "other"]
    assert definition.question("training_happy").scale.points == 5
    assert definition.question("hint").takes_answer is False


def test_demo_survey_file_loads_with_all_languages_and_branching():
    """The demo survey shipped with the platform loads; a missing file fails this test, it is not skipped."""
    assert DEMO_FILE.is_file(), f"the demo survey {DEMO_FILE} is missing"

    definition, data = load_definition_file(DEMO_FILE)

    assert data["slug"] == definition.slug == "ausbildung-arbeit-2023"
    assert len(definition.steps) >= 6
    assert sum(1 for q in definition.questions() if q.takes_answer) >= 25
    assert definition.languages == ("de", "en", "tr", "ar", "uk")
    assert any(step.show_if for step in definition.steps)


def test_the_complete_example_in_the_documentation_loads():
    text = (REPO / "docs" / "survey-definition.md").read_text(encoding="utf-8")
    example = text.split("## Complete example", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]

    definition = parse_definition(read_definition_text(example, name="example.yaml"))

    assert definition.slug == "kurz-umfrage"
    assert definition.step("training").show_if == {"question": "status", "equals": "training"}


def test_json_and_yaml_text_give_the_same_definition():
    as_json = read_definition_text(json.dumps(mini_definition()), name="mini.json")
    as_yaml = read_definition_text(json.dumps(mini_definition(), indent=2), name="mini.yaml")  # JSON is YAML
    assert parse_definition(as_json) == parse_definition(as_yaml) == parse_definition(mini_definition())


def test_whole_numbers_written_as_decimals_are_read_as_integers():
    """JSON tools may write ``5.0``; JSON Schema accepts it as an integer, and the scale still has 5 points."""
    data = mini_definition(estimated_minutes=3.0)
    question(data, 1, 1)["scale"]["points"] = 5.0
    definition = parse_definition(data)
    assert definition.estimated_minutes == 3
    assert definition.question("training_happy").option_values() == ["1", "2", "3", "4", "5"]


# --- Each mistake and its message -----------------------------------------------------------------------


def test_condition_on_unknown_question():
    data = mini_definition()
    data["steps"][1]["show_if"] = {"question": "statuss", "equals": "training"}
    assert problems_of(data) == ["steps[1].show_if: unknown question 'statuss'"]


def test_condition_on_a_later_question():
    """Conditions only look back: the respondent has not answered a later question yet."""
    data = mini_definition()
    question(data, 0, 1)["show_if"] = {"question": "birth_year", "gte": 2000}
    assert problems_of(data) == [
        "steps[0].questions[1].show_if: question 'birth_year' comes later; a condition may only use earlier ones"
    ]


def test_condition_on_the_question_itself():
    data = mini_definition()
    question(data, 3, 2)["show_if"] = {"question": "happy_in_city", "equals": "yes"}
    assert problems_of(data) == [
        "steps[3].questions[2].show_if: a question's condition cannot use its own answer ('happy_in_city')"
    ]


def test_condition_on_an_info_item():
    data = mini_definition()
    data["steps"][1]["show_if"] = {"question": "hint", "answered": True}
    assert problems_of(data) == ["steps[1].show_if: 'hint' is an info item and has no answer"]


def test_condition_with_unknown_option_in_equals():
    data = mini_definition()
    data["steps"][1]["show_if"] = {"question": "status", "equals": "trainee"}
    assert problems_of(data) == ["steps[1].show_if: unknown option 'trainee' of question 'status'"]


def test_condition_with_unknown_option_in_in():
    data = mini_definition()
    data["steps"][2]["show_if"] = {"question": "status", "in": ["job_seeking", "jobseeking"]}
    assert problems_of(data) == ["steps[2].show_if: unknown option 'jobseeking' of question 'status'"]


def test_condition_may_compare_with_other_when_the_question_offers_it():
    data = mini_definition()
    data["steps"][1]["show_if"] = {"question": "status", "in": ["training", "other"]}
    assert parse_definition(data).step("training_step").show_if["in"] == ["training", "other"]


def test_condition_with_unquoted_yes_in_yaml_explains_the_yaml_trap():
    """YAML reads ``equals: yes`` as true; the message says to quote it."""
    data = mini_definition()
    question(data, 3, 3)["show_if"] = read_definition_text("{question: happy_in_city, equals: yes}")
    assert problems_of(data) == [
        "steps[3].questions[3].show_if: unknown option 'True' of question 'happy_in_city' "
        "(YAML reads unquoted yes/no/on/off as true/false: put the value in quotes)"
    ]


def test_condition_with_gte_on_a_choice_question():
    data = mini_definition()
    data["steps"][1]["show_if"] = {"question": "status", "gte": 2}
    assert problems_of(data) == [
        "steps[1].show_if: gte/lte need a number, year or likert question, 'status' is single_choice"
    ]


def test_problems_inside_all_any_not_are_all_reported():
    data = mini_definition()
    data["steps"][1]["show_if"] = {
        "all": [{"question": "statuss", "answered": True}, {"not": {"question": "status", "lte": 1}}]
    }
    assert problems_of(data) == [
        "steps[1].show_if: unknown question 'statuss'",
        "steps[1].show_if: gte/lte need a number, year or likert question, 'status' is single_choice",
    ]


def test_label_missing_a_language():
    data = mini_definition()
    del question(data, 0, 0)["label"]["ar"]
    assert problems_of(data) == ["steps[0].questions[0].label: missing language 'ar'"]


def test_option_label_missing_a_language():
    data = mini_definition()
    del question(data, 0, 0)["options"][1]["label"]["en"]
    assert problems_of(data) == ["steps[0].questions[0].options[1].label: missing language 'en'"]


def test_scale_end_missing_a_language():
    data = mini_definition()
    del question(data, 1, 1)["scale"]["high"]["de"]
    assert problems_of(data) == ["steps[1].questions[1].scale.high: missing language 'de'"]


def test_text_in_a_language_the_survey_does_not_have():
    data = mini_definition()
    data["title"]["tr"] = "Mini anket"
    assert problems_of(data) == ["title: language 'tr' is not in the survey's languages"]


def test_translation_status_for_a_language_the_survey_does_not_have():
    data = mini_definition(translation_status={"de": "reviewed", "uk": "machine"})
    assert problems_of(data) == ["translation_status: language 'uk' is not in the survey's languages"]


def test_duplicate_step_key():
    data = mini_definition()
    data["steps"][3]["key"] = "status_step"
    assert problems_of(data) == ["steps[3].key: duplicate step key 'status_step'"]


def test_duplicate_question_key_across_steps():
    data = mini_definition()
    question(data, 3, 1)["key"] = "training_field"
    assert problems_of(data) == ["steps[3].questions[1].key: duplicate question key 'training_field'"]


def test_options_on_a_text_question():
    data = mini_definition()
    question(data, 1, 0)["options"] = [{"value": "a", "label": t("A")}]
    assert problems_of(data) == [
        "steps[1].questions[0].options: only single_choice and multi_choice questions take 'options'"
    ]


def test_choice_question_without_options():
    """Only the question is reported, not every condition that names one of its (missing) options."""
    data = mini_definition()
    del question(data, 0, 0)["options"]
    assert problems_of(data) == ["steps[0].questions[0].options: a single_choice question needs options"]


def test_likert_without_scale():
    data = mini_definition()
    del question(data, 1, 1)["scale"]
    assert problems_of(data) == ["steps[1].questions[1].scale: a likert question needs a scale"]


def test_min_greater_than_max():
    data = mini_definition()
    question(data, 3, 0)["min"] = 2020
    assert problems_of(data) == ["steps[3].questions[0].min: min 2020 is greater than max 2012"]


def test_info_item_marked_required():
    data = mini_definition()
    question(data, 0, 1)["required"] = True
    assert problems_of(data) == ["steps[0].questions[1].required: an info item cannot be required"]


def test_option_valued_other_when_the_question_has_other():
    data = mini_definition()
    question(data, 0, 0)["options"].append({"value": "other", "label": t("Etwas anderes")})
    assert problems_of(data) == [
        "steps[0].questions[0].options[3].value: 'other' is reserved when the question has other: true"
    ]


def test_invalid_question_type():
    data = mini_definition()
    question(data, 0, 0)["type"] = "dropdown"
    assert problems_of(data) == [
        "steps[0].questions[0].type: 'dropdown' is not one of ['single_choice', 'multi_choice', 'likert', "
        "'text', 'long_text', 'number', 'year', 'district', 'yes_no', 'info']"
    ]


def test_key_not_in_lower_case_with_underscores():
    data = mini_definition()
    question(data, 3, 0)["key"] = "Birth-Year"
    assert problems_of(data) == ["steps[3].questions[0].key: 'Birth-Year' does not match '^[a-z][a-z0-9_]*$'"]


NOT_A_CONDITION = (
    "not a valid condition; expected {question: KEY, equals|in|gte|lte|answered: …} or {all: […]}, {any: […]}, {not: …}"
)


@pytest.mark.parametrize(
    "condition",
    [
        {"question": "status", "foo": 1},
        {"question": "status"},
        {"question": "status", "equals": "training", "in": ["school"]},
        {"status": "training"},
        "status == training",
    ],
    ids=["unknown-operator", "no-operator", "two-operators", "no-question", "text"],
)
def test_malformed_condition(condition):
    data = mini_definition()
    data["steps"][1]["show_if"] = condition
    assert problems_of(data) == [f"steps[1].show_if: {NOT_A_CONDITION}"]


def test_malformed_condition_inside_all_is_located_where_it_is():
    data = mini_definition()
    data["steps"][1]["show_if"] = {
        "all": [{"question": "status", "equals": "training"}, {"any": [{"question": "status", "foo": 1}]}]
    }
    assert problems_of(data) == [f"steps[1].show_if.all[1].any[0]: {NOT_A_CONDITION}"]


def test_condition_with_a_wrongly_typed_value_names_the_value():
    data = mini_definition()
    data["steps"][1]["show_if"] = {"question": "status", "in": []}
    assert problems_of(data) == ["steps[1].show_if.in: [] should be non-empty"]


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        ([1, 2], "a list"),
        ("slug: mini", "a piece of text"),
        (None, "an empty document (is the file empty?)"),
        (42, "a number"),
    ],
    ids=["list", "string", "empty", "number"],
)
def test_top_level_that_is_not_a_mapping(data, kind):
    assert problems_of(data) == [
        f"(top level): a survey definition must be a mapping with slug, title, languages and steps, not {kind}"
    ]


def test_missing_top_level_keys_are_each_reported():
    assert problems_of({"slug": "mini"}) == [
        "(top level): 'title' is a required property",
        "(top level): 'languages' is a required property",
        "(top level): 'steps' is a required property",
    ]


def test_problems_are_listed_in_document_order():
    """``steps[2]`` comes before ``steps[10]``, as in the file."""
    data = mini_definition()
    data["steps"] = [copy.deepcopy(data["steps"][3]) for _ in range(11)]
    for number, step in enumerate(data["steps"]):
        step["key"] = f"step_{number}"
        for q in step["questions"]:
            q["key"] = f"{q['key']}_{number}"
    data["steps"][10]["title"] = {}
    data["steps"][2]["title"] = {}
    assert problems_of(data) == ["steps[2].title: {} should be non-empty", "steps[10].title: {} should be non-empty"]


def test_invalid_yaml_text_names_line_and_column():
    with pytest.raises(DefinitionError) as caught:
        read_definition_text("slug: mini\nlanguages: [de, en\ntitle: x\n", name="mini.yaml")
    assert caught.value.problems == ["mini.yaml: not valid YAML (line 3, column 6: expected ',' or ']', but got ':')"]


def test_invalid_json_text_names_line_and_column():
    with pytest.raises(DefinitionError) as caught:
        read_definition_text('{"slug": "mini",\n "title" {}}', name="mini.json")
    assert caught.value.problems == ["mini.json: not valid JSON (line 2, column 10: Expecting ':' delimiter)"]


def test_a_key_written_twice_in_yaml_is_an_error_not_silently_the_last_one():
    text = "slug: mini\ntitle:\n  de: Mini\n  de: Klein\n"
    with pytest.raises(DefinitionError) as caught:
        read_definition_text(text, name="mini.yaml")
    assert caught.value.problems == ["mini.yaml: not valid YAML (line 4, column 3: duplicate key 'de')"]


def test_a_key_written_twice_in_json_is_an_error():
    with pytest.raises(DefinitionError) as caught:
        read_definition_text('{"slug": "mini", "slug": "maxi"}', name="mini.json")
    assert caught.value.problems == ["mini.json: not valid JSON (duplicate key 'slug')"]


def test_unreadable_file_names_the_file(tmp_path):
    missing = tmp_path / "missing.yaml"
    with pytest.raises(DefinitionError) as caught:
        read_definition_file(missing)
    [problem] = caught.value.problems
    assert problem.startswith(f"{missing}: cannot read the file (")


def test_every_problem_is_reported_at_once():
    data = mini_definition()
    data["steps"][3]["key"] = "status_step"
    question(data, 0, 1)["required"] = True
    data["steps"][1]["show_if"] = {"question": "statuss", "equals": "training"}
    assert problems_of(data) == [
        "steps[0].questions[1].required: an info item cannot be required",
        "steps[1].show_if: unknown question 'statuss'",
        "steps[3].key: duplicate step key 'status_step'",
    ]


# --- Property tests ---------------------------------------------------------------------------------------

LANGUAGES = ["de", "en", "tr", "ar", "uk", "fa-af"]
TOP_LEVEL_KEYS = ("slug", "title", "description", "estimated_minutes", "languages", "translation_status", "steps")
TYPES = [kind.value for kind in QuestionType]
OPTION_VALUES = ["a", "b", "c", "none", "other", "yes", "no"]

# Words a definition is made of, so random values often look almost right and reach the semantic checks.
VOCABULARY = [
    *TOP_LEVEL_KEYS,
    *TYPES,
    *OPTION_VALUES,
    *LANGUAGES,
    "key",
    "type",
    "label",
    "help",
    "required",
    "questions",
    "intro",
    "show_if",
    "options",
    "value",
    "exclusive",
    "other",
    "scale",
    "points",
    "low",
    "high",
    "min",
    "max",
    "max_length",
    "max_choices",
    "privacy",
    "theme",
    "generalise",
    "bands",
    "groups",
    "question",
    "equals",
    "in",
    "gte",
    "lte",
    "answered",
    "all",
    "any",
    "not",
    "q0",
    "q1",
    "q2",
    "q0_other",
    "s0",
    "s1",
    "reviewed",
]
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**40), max_value=2**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from(VOCABULARY)
    | st.text(max_size=12)
)
# YAML allows keys other than text (``1: x``, ``yes: x``), so garbage mappings have some.
mapping_keys = st.sampled_from(VOCABULARY) | st.text(max_size=8) | st.integers(-3, 3) | st.booleans()
json_like = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(mapping_keys, children, max_size=4),
    max_leaves=12,
)


# The loader only needs texts to be non-empty strings; a few fixed words keep generation fast. The helpers
# below take ``draw`` instead of building strategies per example, which would make Hypothesis slow.
WORDS = st.sampled_from(["Ja", "Schule", "Okul", "تدريب", "Навчання", "x", "Was machst du gerade?"])
BOOLEANS = st.booleans()


def draw_text(draw: st.DrawFn, languages: list[str]) -> dict[str, str]:
    return {language: draw(WORDS) for language in languages}


def draw_leaf_condition(draw: st.DrawFn, answerable: list[dict[str, Any]]) -> dict[str, Any]:
    target = draw(st.sampled_from(answerable))
    kind = QuestionType(target["type"])
    operators = ["answered", "equals", "in"]
    if kind in (QuestionType.SINGLE_CHOICE, QuestionType.MULTI_CHOICE):
        values = [option["value"] for option in target["options"]] + (["other"] if target.get("other") else [])
    elif kind is QuestionType.YES_NO:
        values = ["yes", "no"]
    elif kind in (QuestionType.NUMBER, QuestionType.YEAR, QuestionType.LIKERT):
        operators = ["answered", "gte", "lte"]
    else:  # text, long_text, district: any value may be compared
        values = ["Mechatroniker", "innenstadt_west", "", 3, True]
    operator = draw(st.sampled_from(operators))
    if operator == "answered":
        operand: Any = draw(BOOLEANS)
    elif operator == "equals":
        operand = draw(st.sampled_from(values))
    elif operator == "in":
        operand = draw(st.lists(st.sampled_from(values), min_size=1, max_size=3))
    else:
        operand = draw(st.integers(-5, 3000) | st.floats(-5, 3000))
    return {"question": target["key"], operator: operand}


def draw_condition(draw: st.DrawFn, answerable: list[dict[str, Any]], depth: int = 2) -> dict[str, Any]:
    """A condition on earlier answerable questions: a leaf, or all/any/not of smaller conditions."""
    kind = draw(st.sampled_from(["leaf", "leaf", "all", "any", "not"])) if depth else "leaf"
    if kind == "leaf":
        return draw_leaf_condition(draw, answerable)
    if kind == "not":
        return {"not": draw_condition(draw, answerable, depth - 1)}
    return {kind: [draw_condition(draw, answerable, depth - 1) for _ in range(draw(st.integers(1, 3)))]}


def draw_question(draw: st.DrawFn, key: str, languages: list[str]) -> dict[str, Any]:
    kind = QuestionType(draw(st.sampled_from(TYPES)))
    data: dict[str, Any] = {"key": key, "type": kind.value, "label": draw_text(draw, languages)}
    if draw(BOOLEANS):
        data["help"] = draw_text(draw, languages)
    if kind is not QuestionType.INFO and draw(BOOLEANS):
        data["required"] = draw(BOOLEANS)
    if draw(BOOLEANS):
        data["privacy"] = draw(st.sampled_from(["quasi_identifier", "free_text", "none"]))
    if draw(BOOLEANS):
        data["theme"] = draw(st.sampled_from(["bildung", "arbeit", "wohnen"]))
    if kind in (QuestionType.SINGLE_CHOICE, QuestionType.MULTI_CHOICE):
        other = draw(BOOLEANS)
        allowed = [value for value in OPTION_VALUES if not (other and value == "other")]
        values = draw(st.lists(st.sampled_from(allowed), min_size=1, max_size=4, unique=True))
        data["options"] = [{"value": value, "label": draw_text(draw, languages)} for value in values]
        for option in data["options"]:
            if draw(BOOLEANS):
                option["exclusive"] = draw(BOOLEANS)
        if other or draw(BOOLEANS):
            data["other"] = other
        if kind is QuestionType.MULTI_CHOICE and draw(BOOLEANS):
            data["max_choices"] = draw(st.integers(1, len(values)))
        if kind is QuestionType.SINGLE_CHOICE and draw(BOOLEANS):
            grouped = draw(st.lists(st.sampled_from([*values, "other"]), unique=True))
            data["generalise"] = {"groups": {value: draw(st.sampled_from(["group_a", "group_b"])) for value in grouped}}
    elif kind is QuestionType.LIKERT:
        data["scale"] = {"points": draw(st.integers(2, 11))}
        for end in ("low", "high"):
            if draw(BOOLEANS):
                data["scale"][end] = draw_text(draw, languages)
    elif kind in (QuestionType.NUMBER, QuestionType.YEAR):
        low, high = sorted([draw(st.integers(-100, 3000)), draw(st.integers(-100, 3000))])
        if draw(BOOLEANS):
            data["min"] = low
        if draw(BOOLEANS):
            data["max"] = high
        if draw(BOOLEANS):
            bands = [
                sorted([draw(st.integers(0, 100)), draw(st.integers(0, 100))]) for _ in range(draw(st.integers(1, 3)))
            ]
            data["generalise"] = {"bands": bands}
    elif kind in (QuestionType.TEXT, QuestionType.LONG_TEXT) and draw(BOOLEANS):
        data["max_length"] = draw(st.integers(1, 10000))
    return data


@st.composite
def valid_definitions(draw: st.DrawFn) -> dict[str, Any]:
    """A definition the loader must accept: random steps, question types, options and backward conditions."""
    languages = draw(st.lists(st.sampled_from(LANGUAGES), min_size=1, max_size=3, unique=True))
    data: dict[str, Any] = {
        "slug": draw(st.sampled_from(["mini", "ausbildung-arbeit-2023", "a", "x1-y2"])),
        "title": draw_text(draw, languages),
        "languages": languages,
        "steps": [],
    }
    if draw(BOOLEANS):
        data["description"] = draw_text(draw, languages)
    if draw(BOOLEANS):
        data["estimated_minutes"] = draw(st.integers(1, 120))
    if draw(BOOLEANS):
        statuses = st.sampled_from(["reviewed", "needs_review", "machine"])
        data["translation_status"] = {language: draw(statuses) for language in languages if draw(BOOLEANS)}
    answerable: list[dict[str, Any]] = []  # earlier questions that take an answer, in order
    number = 0
    for s in range(draw(st.integers(1, 4))):
        step: dict[str, Any] = {"key": f"s{s}", "title": draw_text(draw, languages), "questions": []}
        if draw(BOOLEANS):
            step["intro"] = draw_text(draw, languages)
        if answerable and draw(BOOLEANS):
            step["show_if"] = draw_condition(draw, answerable)
        for _ in range(draw(st.integers(1, 4))):
            item = draw_question(draw, f"q{number}", languages)
            number += 1
            if answerable and draw(BOOLEANS):
                item["show_if"] = draw_condition(draw, answerable)
            step["questions"].append(item)
            if item["type"] != QuestionType.INFO:
                answerable.append(item)
        data["steps"].append(step)
    return data


def containers_in(data: Any) -> list[Any]:
    """Every mapping and list in ``data``, the top level first."""
    found = [data]
    children = data.values() if isinstance(data, dict) else data
    for child in children:
        if isinstance(child, dict | list):
            found.extend(containers_in(child))
    return found


def scalars_in(data: Any) -> list[Any]:
    if isinstance(data, dict):
        return [*data, *(value for child in data.values() for value in scalars_in(child))]
    if isinstance(data, list):
        return [value for child in data for value in scalars_in(child)]
    return [data]


def mutate_once(draw: st.DrawFn, data: Any) -> Any:
    """Delete, replace or add one thing in a mapping or list somewhere in ``data``."""
    # sampled_from picks evenly; integers() would favour its bounds and replace the whole definition too often.
    if not isinstance(data, dict | list) or draw(st.sampled_from(range(40))) == 1:
        return draw(json_like)
    node = draw(st.sampled_from(containers_in(data)))
    keys = list(node) if isinstance(node, dict) else list(range(len(node)))
    action = draw(st.sampled_from(["delete", "replace", "add"] if keys else ["add"]))
    # A value from elsewhere in the definition (a key, an option value, a language) often looks almost right.
    replacement = draw(st.sampled_from(scalars_in(data) or VOCABULARY) | st.sampled_from(VOCABULARY) | json_like)
    if action == "delete":
        del node[draw(st.sampled_from(keys))]
    elif action == "replace":
        node[draw(st.sampled_from(keys))] = replacement
    elif isinstance(node, dict):
        node[draw(mapping_keys)] = replacement
    else:
        node.append(replacement)
    return data


def reshape_once(draw: st.DrawFn, data: dict[str, Any]) -> None:
    """A change that keeps the shape but may break a rule: order, type, key or languages."""
    steps = data["steps"]
    step = draw(st.sampled_from(steps))
    items = step["questions"]
    item = draw(st.sampled_from(items))
    change = draw(st.sampled_from(["swap_steps", "swap_questions", "move", "retype", "rekey", "languages"]))
    if change == "swap_steps":
        i, j = draw(st.integers(0, len(steps) - 1)), draw(st.integers(0, len(steps) - 1))
        steps[i], steps[j] = steps[j], steps[i]
    elif change == "swap_questions":
        i, j = draw(st.integers(0, len(items) - 1)), draw(st.integers(0, len(items) - 1))
        items[i], items[j] = items[j], items[i]
    elif change == "move" and len(items) > 1:
        items.remove(item)
        draw(st.sampled_from(steps))["questions"].insert(0, item)
    elif change == "retype":
        item["type"] = draw(st.sampled_from(TYPES))
    elif change == "rekey":
        item["key"] = draw(st.sampled_from([q["key"] for s in steps for q in s["questions"]] + ["q0_other"]))
    elif change == "languages":
        if len(data["languages"]) > 1 and draw(st.booleans()):
            data["languages"].pop()
        else:
            data["languages"].append(draw(st.sampled_from([x for x in LANGUAGES if x not in data["languages"]])))


@st.composite
def mutated_definitions(draw: st.DrawFn) -> Any:
    """A valid definition with a few plausible changes and a few random deletions and replacements."""
    data = copy.deepcopy(draw(valid_definitions()))
    reshapes = draw(st.integers(0, 2))
    for _ in range(reshapes):
        reshape_once(draw, data)
    for _ in range(draw(st.integers(0 if reshapes else 1, 2))):
        data = mutate_once(draw, data)
    return data


LOCATION_START = re.compile(rf"\(top level\)$|(?:{'|'.join(TOP_LEVEL_KEYS)})(?:$|[.\[])")


def assert_located(problem: Any) -> None:
    assert isinstance(problem, str), problem
    assert "\n" not in problem, problem
    location, separator, message = problem.partition(": ")
    assert separator and message.strip(), problem
    assert LOCATION_START.match(location), problem


def outcome(data: Any) -> Any:
    """Parse ``data``; a ``DefinitionError`` is an outcome too, any other exception fails the test."""
    try:
        return parse_definition(data)
    except DefinitionError as error:
        assert error.problems, "a DefinitionError without problems"
        for problem in error.problems:
            assert_located(problem)
        return error


FAST = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(valid_definitions())
def test_generated_valid_definitions_load_parse_the_same_twice_and_survive_storage_as_json(data):
    """Keeps the generator honest (everything it calls valid does load); what is stored reads back the same."""
    first = parse_definition(data)
    assert parse_definition(copy.deepcopy(data)) == first
    assert parse_definition(json.loads(json.dumps(data))) == first
    assert [q.key for q in first.questions()] == [q["key"] for s in data["steps"] for q in s["questions"]]


@FAST
@given(mutated_definitions())
def test_mutated_definitions_load_or_list_located_problems(data):
    """A broken definition never crashes the loader: the author gets every problem with its location."""
    result = outcome(data)
    if not isinstance(result, DefinitionError):
        assert parse_definition(data) == result
        assert json.loads(json.dumps(data)) == data  # stored as JSON, it comes back the same


@FAST
@given(json_like)
def test_garbage_loads_never_and_lists_located_problems(data):
    """Any JSON- or YAML-like value that is not a definition is refused with located problems."""
    result = outcome(data)
    assert isinstance(result, DefinitionError)


@FAST
@given(
    st.text(max_size=80)
    | st.sampled_from(["a: 1\na: 2\n", "- [", "{x: 1", "? [1]\n: 2\n", "!!binary x", "a: 2023-02-30"])
)
def test_any_text_reads_as_data_or_a_single_problem_naming_the_file(text):
    """Whatever text a file holds, the author sees data or one problem line naming the file."""
    try:
        data = read_definition_text(text, name="survey.yaml")
    except DefinitionError as error:
        [problem] = error.problems
        assert problem.startswith("survey.yaml: not valid YAML (") and "\n" not in problem
    else:
        outcome(data)
