"""Branching: evaluate ``show_if`` conditions against the answers given so far.

Pure functions; the wizard, the draft service and the anonymiser use them to agree on what a respondent saw.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from survey.definition.model import OTHER_VALUE, Condition, Question, Step, SurveyDefinition

LEAF_OPERATORS = ("equals", "in", "gte", "lte", "answered")


def is_answered(value: Any) -> bool:
    return value not in (None, "", [], ())


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, list | tuple | set | frozenset):
        return list(value)
    return [value]


def _same(left: Any, right: Any) -> bool:
    # Answers arrive as strings from forms and as numbers from YAML; compare them as text.
    return str(left) == str(right)


def evaluate(condition: Condition | None, answers: Mapping[str, Any]) -> bool:
    """Whether ``condition`` holds for ``answers`` (question key -> value). No condition always holds.

    For multi-choice answers ``equals``/``in`` hold when any chosen option matches. A comparison with an
    unanswered question is false (and ``answered: false`` is true).
    """
    if condition is None:
        return True
    if "all" in condition:
        return all(evaluate(part, answers) for part in condition["all"])
    if "any" in condition:
        return any(evaluate(part, answers) for part in condition["any"])
    if "not" in condition:
        return not evaluate(condition["not"], answers)

    value = answers.get(condition["question"])
    if "answered" in condition:
        return is_answered(value) == bool(condition["answered"])
    if not is_answered(value):
        return False
    chosen = _as_list(value)
    if "equals" in condition:
        return any(_same(item, condition["equals"]) for item in chosen)
    if "in" in condition:
        return any(_same(item, wanted) for item in chosen for wanted in condition["in"])
    try:
        number = float(chosen[0])
    except (TypeError, ValueError):
        return False
    if "gte" in condition:
        return number >= condition["gte"]
    if "lte" in condition:
        return number <= condition["lte"]
    raise ValueError(f"not a condition: {condition!r}")


def referenced_questions(condition: Condition | None) -> Iterator[tuple[str, Condition]]:
    """Every ``(question key, leaf condition)`` a condition refers to."""
    if condition is None:
        return
    for combinator in ("all", "any"):
        if combinator in condition:
            for part in condition[combinator]:
                yield from referenced_questions(part)
            return
    if "not" in condition:
        yield from referenced_questions(condition["not"])
        return
    yield condition["question"], condition


def visible_path(definition: SurveyDefinition, answers: Mapping[str, Any]) -> list[tuple[Step, list[Question]]]:
    """The steps a respondent with ``answers`` sees, each with its visible questions, in order.

    Conditions are evaluated against the answers of visible questions only, so an answer left behind on a
    branch the respondent later left cannot switch anything on further down.
    """
    kept: dict[str, Any] = {}
    path: list[tuple[Step, list[Question]]] = []
    for step in definition.steps:
        if not evaluate(step.show_if, kept):
            continue
        questions = []
        for question in step.questions:
            if not evaluate(question.show_if, kept):
                continue
            questions.append(question)
            if question.key in answers:
                kept[question.key] = answers[question.key]
        path.append((step, questions))
    return path


def prune_answers(definition: SurveyDefinition, answers: Mapping[str, Any]) -> dict[str, Any]:
    """Only the answers to questions the respondent can see; stale answers of hidden ones are dropped."""
    kept: dict[str, Any] = {}
    for _step, questions in visible_path(definition, answers):
        for question in questions:
            if question.takes_answer and question.key in answers and is_answered(answers[question.key]):
                kept[question.key] = answers[question.key]
            chose_other = evaluate({"question": question.key, "equals": OTHER_VALUE}, answers)
            if question.other and chose_other and is_answered(answers.get(question.other_key)):
                kept[question.other_key] = answers[question.other_key]
    return kept
