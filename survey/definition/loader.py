"""Read, validate and parse survey definitions (JSON or YAML).

Validation happens in two passes: the JSON Schema (``schema.json``) checks the shape, then
``_semantic_problems`` checks what a schema cannot say (unique keys, every text in every language,
conditions that refer to earlier questions and existing options). Each problem names its location,
e.g. ``steps[2].questions[0].show_if: unknown question 'statuss'``.
"""

from __future__ import annotations

import json
import re
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
#: YAML 1.1 reads unquoted yes/no/on/off as booleans; a condition comparing with True almost always meant "yes".
YAML_BOOLEAN_HINT = " (YAML reads unquoted yes/no/on/off as true/false: put the value in quotes)"
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
    """The raw data of JSON (when ``name`` ends in ``.json``) or YAML text; ``DefinitionError`` if it is invalid.

    A key written twice in one mapping is an error: YAML and JSON readers silently keep the last one, which
    in a long file quietly drops a label or a condition.
    """
    if name.endswith(".json"):
        try:
            return json.loads(content, object_pairs_hook=_json_object_without_duplicates)
        except json.JSONDecodeError as error:
            raise DefinitionError(
                [f"{name}: not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})"]
            ) from error
        except _DuplicateKeyError as error:
            raise DefinitionError([f"{name}: not valid JSON ({error})"]) from error
    try:
        return yaml.load(content, Loader=_StrictSafeLoader)  # noqa: S506 - a SafeLoader subclass  # nosec B506
    except yaml.YAMLError as error:
        raise DefinitionError([f"{name}: not valid YAML ({_describe_yaml_error(error)})"]) from error


class _DuplicateKeyError(ValueError):
    pass


def _json_object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKeyError(f"duplicate key {key!r}")
        result[key] = value
    return result


class _StrictSafeLoader(yaml.SafeLoader):
    """``yaml.safe_load`` that refuses a mapping with the same key twice."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=deep)
            try:
                duplicate = key in seen
            except TypeError:  # an unhashable key; the base class reports it
                break
            if duplicate:
                raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_timestamp(self, node: yaml.ScalarNode) -> Any:
        # PyYAML raises a bare ValueError for an impossible date such as 2023-02-30.
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError as error:
            raise yaml.constructor.ConstructorError(
                None, None, f"{node.value!r} is not a valid date ({error})", node.start_mark
            ) from error


_StrictSafeLoader.add_constructor("tag:yaml.org,2002:timestamp", _StrictSafeLoader.construct_yaml_timestamp)


def _describe_yaml_error(error: yaml.YAMLError) -> str:
    """One line naming where and what, e.g. ``line 3, column 8: expected ',' or ']', but got ':'``."""
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None)
    if mark is None or not problem:
        return " ".join(str(error).split())
    return f"line {mark.line + 1}, column {mark.column + 1}: {problem}"


def format_location(path: Sequence[Any]) -> str:
    """``['steps', 2, 'questions', 0]`` -> ``steps[2].questions[0]``; an odd key is quoted: ``title['de ']``."""
    location = ""
    for part in path:
        if isinstance(part, int):
            location += f"[{part}]"
        elif isinstance(part, str) and _PLAIN_KEY.fullmatch(part):
            location += f".{part}" if location else part
        else:
            location += f"[{part!r}]"
    return location or "(top level)"


_PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]+")


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


NOT_A_MAPPING = "a survey definition must be a mapping with slug, title, languages and steps, not {kind}"
NOT_A_CONDITION = (
    "not a valid condition; expected {question: KEY, equals|in|gte|lte|answered: …} or {all: […]}, {any: […]}, {not: …}"
)
#: The branches of ``$defs/condition`` in schema.json, in order; the leaf ``{question: …}`` is branch 0.
CONDITION_COMBINATORS = ("all", "any", "not")


def _schema_problems(data: Any) -> Iterator[str]:
    if not isinstance(data, dict):
        yield f"(top level): {NOT_A_MAPPING.format(kind=_kind_of(data))}"
        return
    validator = jsonschema.Draft202012Validator(definition_schema())
    located: list[tuple[list[Any], str]] = []
    for error in validator.iter_errors(data):
        if error.validator == "oneOf" and "show_if" in error.absolute_path:
            located.extend(_condition_shape_problems(error))
        else:
            located.append((list(error.absolute_path), error.message))
    # Document order: steps[2] before steps[10].
    located.sort(key=lambda item: [(0, part) if isinstance(part, int) else (1, str(part)) for part in item[0]])
    for path, message in located:
        yield f"{format_location(path)}: {message}"


def _condition_shape_problems(error: jsonschema.ValidationError) -> Iterator[tuple[list[Any], str]]:
    """Locate a malformed condition at its innermost wrong part (``show_if.all[1]``, not just ``show_if``)."""
    condition = error.instance
    path = list(error.absolute_path)
    if isinstance(condition, dict):
        branch = next((b for b, name in enumerate(CONDITION_COMBINATORS, start=1) if name in condition), 0)
        inner = [e for e in error.context if e.relative_schema_path[0] == branch]
        # The keys are right (one combinator, or question plus one operator) but something inside is wrong.
        if inner and all(len(e.absolute_path) > len(path) for e in inner):
            for sub in inner:
                if sub.validator == "oneOf":
                    yield from _condition_shape_problems(sub)
                else:
                    yield list(sub.absolute_path), sub.message
            return
    yield path, NOT_A_CONDITION


def _kind_of(data: Any) -> str:
    if data is None:
        return "an empty document (is the file empty?)"
    if isinstance(data, str):
        return "a piece of text"
    if isinstance(data, list | tuple):
        return "a list"
    if isinstance(data, bool):
        return "true/false"
    if isinstance(data, int | float):
        return "a number"
    return f"a {type(data).__name__}"


def _semantic_problems(data: Mapping[str, Any]) -> Iterator[str]:
    languages = list(data["languages"])
    yield from _text_problems("title", data["title"], languages)
    if "description" in data:
        yield from _text_problems("description", data["description"], languages)
    for language in data.get("translation_status", {}):
        if language not in languages:
            yield f"translation_status: language {language!r} is not in the survey's languages"

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
            yield from _condition_problems(f"{where}.show_if", step["show_if"], earlier, all_keys, own_key=None)
        for q, question in enumerate(step["questions"]):
            at = f"{where}.questions[{q}]"
            if question["key"] in earlier:
                yield f"{at}.key: duplicate question key '{question['key']}'"
            yield from _question_problems(at, question, languages, all_keys)
            if "show_if" in question:
                yield from _condition_problems(
                    f"{at}.show_if", question["show_if"], earlier, all_keys, own_key=question["key"]
                )
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
    yield from only_for("max_choices", {QuestionType.MULTI_CHOICE}, "multi_choice")
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
    *,
    own_key: str | None,
) -> Iterator[str]:
    for key, leaf in referenced_questions(condition):
        if key == own_key:
            yield f"{location}: a question's condition cannot use its own answer ('{key}')"
            continue
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
        if kind in CHOICE_TYPES and not target.get("options"):
            pass  # the question itself is reported as lacking options; every value here would be "unknown"
        elif kind in CHOICE_TYPES:
            allowed = {option["value"] for option in target.get("options", [])}
            if target.get("other"):
                allowed.add(OTHER_VALUE)
        elif kind is QuestionType.YES_NO:
            allowed = {YES, NO}
        for value in compared:
            if allowed is not None and str(value) not in allowed:
                hint = YAML_BOOLEAN_HINT if isinstance(value, bool) else ""
                yield f"{location}: unknown option {str(value)!r} of question '{key}'{hint}"
        if ("gte" in leaf or "lte" in leaf) and kind not in NUMERIC_TYPES | {QuestionType.LIKERT}:
            yield f"{location}: gte/lte need a number, year or likert question, '{key}' is {kind}"


def _build(data: Mapping[str, Any]) -> SurveyDefinition:
    return SurveyDefinition(
        slug=data["slug"],
        title=data["title"],
        languages=tuple(data["languages"]),
        description=data.get("description"),
        estimated_minutes=_whole(data.get("estimated_minutes")),
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
        min=_whole(question.get("min")),
        max=_whole(question.get("max")),
        max_length=_whole(question.get("max_length")),
        options=tuple(
            Option(value=o["value"], label=o["label"], exclusive=o.get("exclusive", False))
            for o in question.get("options", [])
        ),
        other=question.get("other", False),
        max_choices=question.get("max_choices"),
        scale=Scale(points=int(scale["points"]), low=scale.get("low"), high=scale.get("high")) if scale else None,
        privacy=Privacy(question.get("privacy", Privacy.NONE)),
        theme=question.get("theme"),
        generalise=question.get("generalise"),
        show_if=question.get("show_if"),
    )


def _whole(number: float | None) -> int | None:
    """JSON Schema's ``integer`` accepts ``5.0``; the model holds ``5``."""
    return None if number is None else int(number)
