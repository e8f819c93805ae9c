"""The in-memory form of a survey definition: frozen dataclasses built by ``parse_definition``.

Everything here is pure: no database, no request. Forms, the wizard, the anonymiser and the aggregation all
read a survey through these classes, so the definition format has exactly one interpretation.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

LocalisedText = Mapping[str, str]
Condition = Mapping[str, Any]

#: Suffix of the answer key holding an "other, namely" text for a choice question with ``other: true``.
OTHER_SUFFIX = "_other"
#: The option value a choice question gets when it has ``other: true``.
OTHER_VALUE = "other"
YES, NO = "yes", "no"


class QuestionType(StrEnum):
    SINGLE_CHOICE = "single_choice"
    MULTI_CHOICE = "multi_choice"
    LIKERT = "likert"
    TEXT = "text"
    LONG_TEXT = "long_text"
    NUMBER = "number"
    YEAR = "year"
    DISTRICT = "district"
    YES_NO = "yes_no"
    INFO = "info"


CHOICE_TYPES = frozenset({QuestionType.SINGLE_CHOICE, QuestionType.MULTI_CHOICE})
NUMERIC_TYPES = frozenset({QuestionType.NUMBER, QuestionType.YEAR})
TEXT_TYPES = frozenset({QuestionType.TEXT, QuestionType.LONG_TEXT})
DEFAULT_MAX_LENGTH = {QuestionType.TEXT: 200, QuestionType.LONG_TEXT: 2000}


class Privacy(StrEnum):
    QUASI_IDENTIFIER = "quasi_identifier"
    FREE_TEXT = "free_text"
    NONE = "none"


def localise(text: LocalisedText | None, language: str, fallback: str) -> str:
    """The text in ``language``; the survey's default language if that one is missing."""
    if not text:
        return ""
    return text.get(language) or text.get(fallback) or next(iter(text.values()))


@dataclass(frozen=True)
class Option:
    value: str
    label: LocalisedText
    exclusive: bool = False


@dataclass(frozen=True)
class Scale:
    points: int
    low: LocalisedText | None = None
    high: LocalisedText | None = None


@dataclass(frozen=True)
class Question:
    key: str
    type: QuestionType
    label: LocalisedText
    help: LocalisedText | None = None
    required: bool = False
    min: int | None = None
    max: int | None = None
    max_length: int | None = None
    options: tuple[Option, ...] = ()
    other: bool = False
    max_choices: int | None = None
    scale: Scale | None = None
    privacy: Privacy = Privacy.NONE
    theme: str | None = None
    generalise: Mapping[str, Any] | None = None
    show_if: Condition | None = None

    @property
    def takes_answer(self) -> bool:
        return self.type is not QuestionType.INFO

    @property
    def other_key(self) -> str:
        return self.key + OTHER_SUFFIX

    def option_values(self) -> list[str]:
        """The values a respondent may choose; ``other`` included when the question offers it."""
        if self.type is QuestionType.YES_NO:
            return [YES, NO]
        if self.type is QuestionType.LIKERT and self.scale:
            return [str(point) for point in range(1, self.scale.points + 1)]
        values = [option.value for option in self.options]
        if self.other:
            values.append(OTHER_VALUE)
        return values

    @property
    def effective_max_length(self) -> int:
        return self.max_length or DEFAULT_MAX_LENGTH.get(self.type, DEFAULT_MAX_LENGTH[QuestionType.TEXT])


@dataclass(frozen=True)
class Step:
    key: str
    title: LocalisedText
    questions: tuple[Question, ...]
    intro: LocalisedText | None = None
    show_if: Condition | None = None


@dataclass(frozen=True)
class SurveyDefinition:
    slug: str
    title: LocalisedText
    languages: tuple[str, ...]
    steps: tuple[Step, ...]
    description: LocalisedText | None = None
    estimated_minutes: int | None = None
    translation_status: Mapping[str, str] = field(default_factory=dict)

    @property
    def default_language(self) -> str:
        return self.languages[0]

    def questions(self) -> Iterator[Question]:
        for step in self.steps:
            yield from step.questions

    def question(self, key: str) -> Question:
        for question in self.questions():
            if question.key == key:
                return question
        raise KeyError(key)

    def step(self, key: str) -> Step:
        for step in self.steps:
            if step.key == key:
                return step
        raise KeyError(key)

    def text(self, text: LocalisedText | None, language: str) -> str:
        return localise(text, language, self.default_language)
