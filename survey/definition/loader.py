"""Read, validate and parse survey definitions (JSON or YAML).

Validation happens in two passes: the JSON Schema (``schema.json``) checks the shape, then
``_semantic_problems`` checks what a schema cannot say (unique keys, every text in every language,
conditions that refer to earlier questions and existing options). Each problem names its location,
e.g. ``steps[2].questions[0].show_if: unknown question 'statuss'``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from survey.definition.conditions import referenced_questions
from survey.definition.model import (
    CHOICE_TYPES,
    NO,
    NUMERIC_TYPES,
    OTHER_VALUE,
    TEXT_TYPES,
    YES,
    Option,
    Privacy,
    Question,
    QuestionType,
    Scale,
    Step,
    SurveyDefinition,
)

SCHEMA_PATH = Path(__file__).with_name("schema.json")
TEXT_FIELDS_OF_QUESTION = ("label", "help")


class DefinitionError(ValueError):
    """A definition that cannot be loaded; ``problems`` lists every located problem."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


@cache
def definition_schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def read_definition_file(path: str | Path) -> Any:
    """The raw data of a ``.json``, ``.yaml`` or ``.yml`` file; ``DefinitionError`` if it is unreadable."""
    path = Path(path)
    try:
        content = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise DefinitionError([f"{path}: cannot read the file ({error})"]) from error
    return read_definition_text(content, name=path.name)


def read_definition_text(content: str, *, name: str = "definition") -> Any:
    try:
        if name.endswith(".json"):
            return json.loads(content)
        return yaml.safe_load(content)
    except (json.JSONDecodeError, yaml.YAMLError) as error:
        raise DefinitionError([f"{name}: not valid JSON or YAML ({error})"]) from error


def format_location(path: Sequence[str | int]) -> str:
    """``['steps', 2, 'questions', 0]`` -> ``steps[2].questions[0]``."""
    location = ""
    for part in path:
        location += f"[{part}]" if isinstance(part, int) else (f".{part}" if location else str(part))
    return location or "(top level)"


def parse_definition(data: Any) -> SurveyDefinition:
    """The parsed definition, or a ``DefinitionError`` naming every problem with its location."""
    problems = list(_schema_problems(data))
    if not problems:
        problems = list(_semantic_problems(data))
    if problems:
        raise DefinitionError(problems)
    return _build(data)


def load_definition_file(path: str | Path) -> tuple[SurveyDefinition, dict[str, Any]]:
    """Parse a file; returns the definition and the raw data (which is what gets stored)."""
    data = read_definition_file(path)
    return parse_definition(data), data


def _schema_problems(data: Any) -> Iterator[str]:
    validator = jsonschema.Draft202012Validator(definition_schema())
    errors = sorted(validator.iter_errors(data), key=lambda error: list(map(str, error.absolute_path)))
    for error in errors:
        location = format_location(list(error.absolute_path))
        if error.validator == "oneOf" and "show_if" in map(str, error.absolute_path):
            yield (
                f"{location}: not a valid condition; expected "
                "{question: KEY, equals|in|gte|lte|answered: …} or {all: […]}, {any: […]}, {not: …}"
            )
        else:
            yield f"{location}: {error.message}"


def _semantic_problems(data: Mapping[str, Any]) -> Iterator[str]:
    languages = list(data["languages"])
    yield from _text_problems("title", data["title"], languages)
    if "description" in data:
        yield from _text_problems("description", data["description"], languages)

    seen_steps: set[str] = set()
    earlier: dict[str, Mapping[str, Any]] = {}  # question key -> raw question, in definition order
    all_keys = {q["key"] for step in data["steps"] for q in step["questions"]}
    for s, step in enumerate(data["steps"]):
        where = f"steps[{s}]"
        if step["key"] in seen_steps:
            yield f"{where}.key: duplicate step key '{step['key']}'"
        seen_steps.add(step["key"])
        yield from _text_problems(f"{where}.title", step["title"], languages)
        if "intro" in step:
            yield from _text_problems(f"{where}.intro", step["intro"], languages)
        if "show_if" in step:
            yield from _condition_problems(f"{where}.show_if", step["show_if"], earlier, all_keys)
        for q, question in enumerate(step["questions"]):
            at = f"{where}.questions[{q}]"
            if question["key"] in earlier:
                yield f"{at}.key: duplicate question key '{question['key']}'"
            yield from _question_problems(at, question, languages, all_keys)
            if "show_if" in question:
                yield from _condition_problems(f"{at}.show_if", question["show_if"], earlier, all_keys)
            earlier.setdefault(question["key"], question)


def _text_problems(location: str, text: Mapping[str, str], languages: list[str]) -> Iterator[str]:
    missing = [language for language in languages if language not in text]
    extra = [language for language in text if language not in languages]
    if missing:
        yield f"{location}: missing language {', '.join(repr(m) for m in missing)}"
    if extra:
        yield f"{location}: language {', '.join(repr(e) for e in extra)} is not in the survey's languages"


def _question_problems(at: str, question: Mapping[str, Any], languages: list[str], all_keys: set[str]) -> Iterator[str]:
    kind = QuestionType(question["type"])
    for name in TEXT_FIELDS_OF_QUESTION:
        if name in question:
            yield from _text_problems(f"{at}.{name}", question[name], languages)

    def only_for(name: str, allowed: frozenset[QuestionType] | set[QuestionType], what: str) -> Iterator[str]:
        if name in question and kind not in allowed:
            yield f"{at}.{name}: only {what} questions take '{name}'"

    yield from only_for("options", CHOICE_TYPES, "single_choice and multi_choice")
    yield from only_for("other", CHOICE_TYPES, "single_choice and multi_choice")
    yield from only_for("min", NUMERIC_TYPES, "number and year")
    yield from only_for("max", NUMERIC_TYPES, "number and year")
    yield from only_for("max_length", TEXT_TYPES, "text and long_text")
    yield from only_for("scale", {QuestionType.LIKERT}, "likert")
    if kind is QuestionType.INFO and question.get("required"):
        yield f"{at}.required: an info item cannot be required"
    if kind in CHOICE_TYPES:
        options = question.get("options", [])
        if not options:
            yield f"{at}.options: a {kind} question needs options"
        values = [option["value"] for option in options]
        for o, value in enumerate(values):
            if value in values[:o]:
                yield f"{at}.options[{o}].value: duplicate option value '{value}'"
            if question.get("other") and value == OTHER_VALUE:
                yield f"{at}.options[{o}].value: 'other' is reserved when the question has other: true"
            yield from _text_problems(f"{at}.options[{o}].label", options[o]["label"], languages)
        if question.get("other") and question["key"] + "_other" in all_keys:
            yield f"{at}.other: the answer key '{question['key']}_other' collides with a question key"
    if kind is QuestionType.LIKERT:
        if "scale" not in question:
            yield f"{at}.scale: a likert question needs a scale"
        else:
            for end in ("low", "high"):
                if end in question["scale"]:
                    yield from _text_problems(f"{at}.scale.{end}", question["scale"][end], languages)
    if "min" in question and "max" in question and question["min"] > question["max"]:
        yield f"{at}.min: min {question['min']} is greater than max {question['max']}"
    generalise = question.get("generalise", {})
    if "bands" in generalise:
        if kind not in NUMERIC_TYPES:
            yield f"{at}.generalise.bands: only number and year questions take bands"
        for b, (low, high) in enumerate(generalise["bands"]):
            if low > high:
                yield f"{at}.generalise.bands[{b}]: {low} is greater than {high}"
    if "groups" in generalise:
        if kind is not QuestionType.SINGLE_CHOICE:
            yield f"{at}.generalise.groups: only single_choice questions take groups"
        values = {option["value"] for option in question.get("options", [])} | {OTHER_VALUE}
        for value in generalise["groups"]:
            if value not in values:
                yield f"{at}.generalise.groups: unknown option '{value}'"


def _condition_problems(
    location: str,
    condition: Mapping[str, Any],
    earlier: Mapping[str, Mapping[str, Any]],
    all_keys: set[str],
) -> Iterator[str]:
    for key, leaf in referenced_questions(condition):
        if key not in earlier:
            if key in all_keys:
                yield (f"{location}: question '{key}' comes later; a condition may only use earlier ones")
            else:
                yield f"{location}: unknown question '{key}'"
            continue
        target = earlier[key]
        kind = QuestionType(target["type"])
        if kind is QuestionType.INFO:
            yield f"{location}: '{key}' is an info item and has no answer"
            continue
        compared = [leaf["equals"]] if "equals" in leaf else list(leaf.get("in", []))
        allowed: set[str] | None = None
        if kind in CHOICE_TYPES:
            allowed = {option["value"] for option in target.get("options", [])}
            if target.get("other"):
                allowed.add(OTHER_VALUE)
        elif kind is QuestionType.YES_NO:
            allowed = {YES, NO}
        for value in compared:
            if allowed is not None and str(value) not in allowed:
                yield f"{location}: unknown option '{value}' of question '{key}'"
        if ("gte" in leaf or "lte" in leaf) and kind not in NUMERIC_TYPES | {QuestionType.LIKERT}:
            yield f"{location}: gte/lte need a number, year or likert question, '{key}' is {kind}"


def _build(data: Mapping[str, Any]) -> SurveyDefinition:
    return SurveyDefinition(
        slug=data["slug"],
        title=data["title"],
        languages=tuple(data["languages"]),
        description=data.get("description"),
        estimated_minutes=data.get("estimated_minutes"),
        translation_status=data.get("translation_status", {}),
        steps=tuple(
            Step(
                key=step["key"],
                title=step["title"],
                intro=step.get("intro"),
                show_if=step.get("show_if"),
                questions=tuple(_build_question(question) for question in step["questions"]),
            )
            for step in data["steps"]
        ),
    )


def _build_question(question: Mapping[str, Any]) -> Question:
    scale = question.get("scale")
    return Question(
        key=question["key"],
        type=QuestionType(question["type"]),
        label=question["label"],
        help=question.get("help"),
        required=question.get("required", False),
        min=question.get("min"),
        max=question.get("max"),
        max_length=question.get("max_length"),
        options=tuple(
            Option(value=o["value"], label=o["label"], exclusive=o.get("exclusive", False))
            for o in question.get("options", [])
        ),
        other=question.get("other", False),
        scale=Scale(points=scale["points"], low=scale.get("low"), high=scale.get("high")) if scale else None,
        privacy=Privacy(question.get("privacy", Privacy.NONE)),
        theme=question.get("theme"),
        generalise=question.get("generalise"),
        show_if=question.get("show_if"),
    )
