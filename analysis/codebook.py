"""The codebook of a campaign's microdata: every variable, what it asked, how it is coded and generalised.

Pure Python (no database, no request). :func:`codebook_build` is the one place that decides

* which columns the microdata has (``analysis.exports`` builds its frame in the same order),
* the SPSS/Stata variable name of each column (:func:`variable_names`: ≤ 32 characters, letters, digits and
  underscores, unique without regard to case; a shortened name ends in a hash of the column, so it is stable),
* the integer code and label of every value in ``.sav``/``.dta`` (:meth:`Variable.code`), and
* the missing-value codes :data:`NO_ANSWER` (-1) and :data:`SUPPRESSED_CODE` (-2).

Texts are in the survey's default language; ``docs/exports.md`` explains the codes for researchers.
"""

from __future__ import annotations

import hashlib
import html
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils import translation
from django.utils.translation import gettext

from analysis.privacy.generalise import DEFAULT_AGE_BANDS, DEFAULT_NUMBER_BAND_WIDTH, region_of
from analysis.privacy.kanonymity import SUPPRESSED
from survey.definition.model import (
    NO,
    OTHER_VALUE,
    YES,
    Privacy,
    Question,
    QuestionType,
    Step,
    SurveyDefinition,
)
from survey.districts import OUTSIDE_CITY, district_value

__all__ = [
    "NO_ANSWER",
    "SUPPRESSED_CODE",
    "Codebook",
    "ValueLabel",
    "Variable",
    "codebook_build",
    "codebook_html",
    "codebook_markdown",
    "truncate",
    "variable_names",
]

#: Code of an unanswered question (not asked, skipped, or "not shown") in ``.sav``/``.dta``.
NO_ANSWER = -1
#: Code of a quasi-identifier value suppressed for k-anonymity in ``.sav``/``.dta``.
SUPPRESSED_CODE = -2
NO_ANSWER_LABEL = "no answer"
SUPPRESSED_LABEL = "suppressed (k-anonymity)"
MISSING_LABELS = {NO_ANSWER: NO_ANSWER_LABEL, SUPPRESSED_CODE: SUPPRESSED_LABEL}

#: Longest variable name. Stata allows 32 characters and SPSS 64 bytes, but pyreadstat names a Stata value
#: label set "<variable><running number>" and Stata label names have at most 32 characters: 28 leaves room for
#: up to 9,999 labelled variables.
MAX_NAME = 28
# Reserved words of SPSS and Stata: never a variable name, whatever the case.
_RESERVED = frozenset(
    {"all", "and", "by", "eq", "ge", "gt", "le", "lt", "ne", "not", "or", "to", "with"}  # SPSS
    | {"_all", "_b", "byte", "_coef", "_cons", "double", "float", "if", "in", "int", "long", "_n", "_pi"}  # Stata
    | {"_pred", "_rc", "_skip", "str", "strl", "using"}
)
_INVALID = re.compile(r"[^A-Za-z0-9_]")


class Kind:
    """How a variable is stored: a categorical code with labels, a number, or a string."""

    CATEGORICAL = "categorical"
    NUMBER = "number"
    STRING = "string"


@dataclass(frozen=True)
class ValueLabel:
    code: int
    value: str
    label: str


@dataclass(frozen=True)
class Variable:
    """One column of the microdata, in every format."""

    column: str  # in CSV and XLSX
    name: str  # in SPSS and Stata
    label: str  # the question text (a multi-choice option: "question: option")
    kind: str
    question_type: str = ""
    question: str = ""  # the question key; empty for id, week and survey_version
    step: str = ""
    step_title: str = ""
    theme: str = ""
    privacy: str = ""
    generalisation: str = ""
    values: tuple[ValueLabel, ...] = ()

    @property
    def codes(self) -> dict[str, int]:
        return {value.value: value.code for value in self.values}

    def code(self, value: Any) -> Any:
        """The value as written to ``.sav``/``.dta``: a code, a float (numbers) or a string ("" if missing)."""
        missing = value is None or (isinstance(value, float) and math.isnan(value)) or value == ""
        if self.kind == Kind.STRING:
            return "" if missing else str(value)
        if missing:
            return NO_ANSWER if self.kind == Kind.CATEGORICAL else math.nan
        if value == SUPPRESSED:
            return SUPPRESSED_CODE
        if self.kind == Kind.NUMBER:
            return float(value)
        return self.codes[_text(value)]

    def value_labels(self, *, with_missing: bool = True) -> dict[int, str]:
        labels = {value.code: value.label for value in self.values}
        if with_missing and self.kind == Kind.CATEGORICAL:
            labels.update(MISSING_LABELS)
        return labels


@dataclass(frozen=True)
class Codebook:
    title: str
    language: str
    variables: tuple[Variable, ...]
    k: int | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    def variable(self, column: str) -> Variable:
        for variable in self.variables:
            if variable.column == column:
                return variable
        raise KeyError(column)

    @property
    def columns(self) -> list[str]:
        return [variable.column for variable in self.variables]


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def truncate(text: str, *, chars: int | None = None, utf8_bytes: int | None = None) -> str:
    """``text`` cut to a format's limit (characters or UTF-8 bytes), ending in "…" when it was cut."""
    text = " ".join(text.split())
    if chars is not None and len(text) > chars:
        text = text[: chars - 1].rstrip() + "…"
    if utf8_bytes is not None and len(text.encode("utf-8")) > utf8_bytes:
        budget = utf8_bytes - len("…".encode())
        text = text.encode("utf-8")[:budget].decode("utf-8", errors="ignore").rstrip() + "…"
    return text


def _short(column: str, length: int) -> str:
    """``<start>_<hash>``; for a multi-choice column ``<question start>_<option start>_<hash>``."""
    digest = hashlib.sha1(column.encode("utf-8"), usedforsecurity=False).hexdigest()[:5]
    budget = length - len(digest) - 1
    question, _sep, option = column.partition("__")
    if option:
        head = question[: max(budget // 2, budget - len(option) - 1)].rstrip("_")
        start = f"{head}_{option}"[:budget].rstrip("_")
    else:
        start = column[:budget].rstrip("_")
    return f"{start}_{digest}"


def variable_names(columns: Sequence[str]) -> dict[str, str]:
    """Column -> a name valid in SPSS and Stata: ≤ 28 characters, ``[A-Za-z][A-Za-z0-9_]*``, unique.

    Valid names stay as they are. Others get invalid characters replaced by ``_``, a ``v`` in front when they
    do not start with a letter or are reserved, and, when longer than 28 characters, the first characters
    (of a multi-choice column: of the question and of the option) plus ``_`` and five hex digits of the
    column's SHA-1 (28 in all): the same column always gets the same name. Names
    that would clash (SPSS ignores case) get ``_2``, ``_3``, ... in column order.
    """
    names: dict[str, str] = {}
    taken: set[str] = set()
    for column in columns:
        name = _INVALID.sub("_", column)
        if not name[:1].isalpha() or name.lower() in _RESERVED:
            name = "v" + (name if name.startswith("_") else "_" + name)
        if len(name) > MAX_NAME:
            name = _short(name, MAX_NAME)
        base, n = name, 1
        while name.lower() in taken:
            n += 1
            name = f"{base[: MAX_NAME - len(str(n)) - 1]}_{n}"
        taken.add(name.lower())
        names[column] = name
    return names


# --- Values of each question, in a stable order ----------------------------------------------------------


def _humanise(value: str) -> str:
    return value.replace("_", " ").capitalize()


def _bands(bands: Sequence[Sequence[int]]) -> list[tuple[str, str]]:
    """Every label :func:`analysis.privacy.generalise.band_label` can give for ``bands``, in band order."""
    ordered = sorted((int(low), int(high)) for low, high in bands)
    result = [(f"under_{ordered[0][0]}", f"under {ordered[0][0]}")]
    previous: int | None = None
    for low, high in ordered:
        if previous is not None and previous + 1 < low:
            result.append((_range(previous + 1, low - 1), _range(previous + 1, low - 1)))
        result.append((_range(low, high), _range(low, high)))
        previous = high if previous is None else max(previous, high)
    result.append((f"over_{ordered[-1][1]}", f"over {ordered[-1][1]}"))
    return result


def _range(low: int, high: int) -> str:
    return str(low) if low == high else f"{low}-{high}"


def _band_key(value: str) -> tuple[int, str]:
    match = re.match(r"-?\d+", value)
    return (int(match.group()) if match else 0, value)


class _Texts:
    """Labels in the survey's default language (options, scale ends; Yes/No/Other as the forms show them)."""

    def __init__(self, definition: SurveyDefinition) -> None:
        self.definition = definition
        with translation.override(definition.default_language):
            self.yes, self.no = gettext("Yes"), gettext("No")
            self.other = gettext("Other")
            self.outside_city = gettext("I don't live in this city")

    def __call__(self, text: Any) -> str:
        return self.definition.text(text, self.definition.default_language)


def _choice_values(question: Question, texts: _Texts) -> list[tuple[str, str]]:
    """(value, label) of a choice question as stored after generalisation, in the definition's option order."""
    labels = {option.value: texts(option.label) for option in question.options}
    if question.other:
        labels[OTHER_VALUE] = texts.other
    quasi = question.privacy is Privacy.QUASI_IDENTIFIER
    groups: Mapping[str, str] = (question.generalise or {}).get("groups") or {} if quasi else {}
    regions = quasi and not groups and any(region_of(option.value) for option in question.options)
    result: dict[str, str] = {}
    for value in question.option_values():
        stored = groups.get(value, value) if groups else value
        if regions and value != OTHER_VALUE:
            stored = region_of(value) or value
        result.setdefault(stored, labels.get(stored) or _humanise(stored))
    return list(result.items())


def _question_values(question: Question, texts: _Texts, districts: Sequence[str]) -> list[tuple[str, str]]:
    settings = question.generalise or {}
    quasi = question.privacy is Privacy.QUASI_IDENTIFIER
    if question.type is QuestionType.SINGLE_CHOICE:
        return _choice_values(question, texts)
    if question.type is QuestionType.DISTRICT:
        return [(district_value(name), name) for name in districts] + [(OUTSIDE_CITY, texts.outside_city)]
    if question.type is QuestionType.YEAR and quasi:
        return _bands(settings.get("bands") or DEFAULT_AGE_BANDS)
    if question.type is QuestionType.NUMBER and quasi and settings.get("bands"):
        return _bands(settings["bands"])
    if question.type is QuestionType.LIKERT and question.scale:
        points = question.scale.points
        ends = {1: texts(question.scale.low), points: texts(question.scale.high)}
        return [(str(n), ends.get(n) or str(n)) for n in range(1, points + 1)]
    return []


def _generalisation(question: Question) -> str:
    if question.privacy is not Privacy.QUASI_IDENTIFIER:
        if question.type in (QuestionType.TEXT, QuestionType.LONG_TEXT) or question.privacy is Privacy.FREE_TEXT:
            return "free text scrubbed (names, contacts and other identifiers replaced by placeholders)"
        return "none"
    settings = question.generalise or {}
    suppression = "; rare values suppressed for k-anonymity"
    if question.type is QuestionType.YEAR:
        bands = ", ".join(label for _value, label in _bands(settings.get("bands") or DEFAULT_AGE_BANDS))
        return f"age in the year of the response, in bands ({bands}){suppression}"
    if question.type is QuestionType.NUMBER:
        if settings.get("bands"):
            return "bands " + ", ".join(label for _value, label in _bands(settings["bands"])) + suppression
        return f"bands of {DEFAULT_NUMBER_BAND_WIDTH}{suppression}"
    if question.type is QuestionType.SINGLE_CHOICE:
        if settings.get("groups"):
            return f"options grouped ({', '.join(f'{k} → {v}' for k, v in settings['groups'].items())}){suppression}"
        if any(region_of(option.value) for option in question.options):
            return f"countries as world regions; 'other, namely' text dropped{suppression}"
        return f"none{suppression}"
    return f"none{suppression}"


# --- Building the codebook -------------------------------------------------------------------------------


def _question_columns(question: Question) -> list[tuple[str, str | None]]:
    """(column, option value) pairs of one question, in the order the microdata has them."""
    if question.type is QuestionType.MULTI_CHOICE:
        columns: list[tuple[str, str | None]] = [(f"{question.key}__{o}", o) for o in question.option_values()]
    else:
        columns = [(question.key, None)]
    if question.other and question.privacy is not Privacy.QUASI_IDENTIFIER:
        columns.append((question.other_key, None))
    return columns


def codebook_build(
    *,
    definition: SurveyDefinition,
    districts: Sequence[str],
    observed: Mapping[str, Iterable[Any]] | None = None,
    k: int | None = None,
) -> Codebook:
    """The codebook of microdata of ``definition``; ``districts`` are the organisation's, in display order.

    ``observed`` (column -> values in the data) adds values the definition does not list (a number
    quasi-identifier in bands of ten, answers from an older version): they get the next codes, sorted.
    """
    observed = observed or {}
    texts = _Texts(definition)
    specs: list[dict[str, Any]] = [
        {"column": "id", "label": "Random record id (not linked to anything)", "kind": Kind.STRING},
        {"column": "week", "label": "Week of the response (its Monday, ISO date)", "kind": Kind.STRING},
        {"column": "survey_version", "label": "Version of the survey definition", "kind": Kind.NUMBER},
    ]
    for step in definition.steps:
        for question in step.questions:
            if question.takes_answer:
                specs.extend(_question_specs(question, step, texts, districts, observed))
    names = variable_names([spec["column"] for spec in specs])
    variables = tuple(Variable(name=names[spec["column"]], **spec) for spec in specs)
    notes = (
        f"{NO_ANSWER} = {NO_ANSWER_LABEL}: the question was not shown, skipped or left empty.",
        f"{SUPPRESSED_CODE} = {SUPPRESSED_LABEL}: the value was hidden so that every combination of"
        f" quasi-identifiers is shared by at least k{f' = {k}' if k else ''} records.",
        "In SPSS both are user-missing; in Stata they are labelled negative codes. CSV and XLSX show the values"
        " themselves, 'suppressed' and an empty cell.",
    )
    title = definition.text(definition.title, definition.default_language)
    return Codebook(title=title, language=definition.default_language, variables=variables, k=k, notes=notes)


def _question_specs(
    question: Question, step: Step, texts: _Texts, districts: Sequence[str], observed: Mapping[str, Iterable[Any]]
) -> list[dict[str, Any]]:
    common = {
        "question_type": question.type.value,
        "question": question.key,
        "step": step.key,
        "step_title": texts(step.title),
        "theme": question.theme or "",
        "privacy": question.privacy.value,
        "generalisation": _generalisation(question),
    }
    label = texts(question.label)
    option_labels = dict(_choice_values(question, texts)) if question.type is QuestionType.MULTI_CHOICE else {}
    specs = []
    for column, option in _question_columns(question):
        if option is not None:
            chosen = (("0", "not chosen"), ("1", "chosen"))
            specs.append(
                {"column": column, "label": f"{label}: {option_labels[option]}", "kind": Kind.CATEGORICAL}
                | common
                | {"values": _coded(chosen, observed.get(column), first=0)}
            )
        elif column == question.other_key:
            other = {"label": f"{label}: {texts.other} (text)", "kind": Kind.STRING, "question_type": "text"}
            specs.append({"column": column} | common | other)
        elif question.type is QuestionType.YES_NO:
            values = ((YES, texts.yes), (NO, texts.no))
            specs.append(
                {"column": column, "label": label, "kind": Kind.CATEGORICAL} | common | {"values": _yes_no(values)}
            )
        elif question.type in (QuestionType.TEXT, QuestionType.LONG_TEXT):
            specs.append({"column": column, "label": label, "kind": Kind.STRING} | common)
        else:
            values = _question_values(question, texts, districts)
            quasi = question.privacy is Privacy.QUASI_IDENTIFIER
            if not values and not quasi:  # a plain number or year: kept as the number
                specs.append({"column": column, "label": label, "kind": Kind.NUMBER} | common)
                continue
            spec = {"column": column, "label": label, "kind": Kind.CATEGORICAL}
            specs.append(spec | common | {"values": _coded(values, observed.get(column))})
    return specs


def _yes_no(values: Sequence[tuple[str, str]]) -> tuple[ValueLabel, ...]:
    (yes, yes_label), (no, no_label) = values
    return (ValueLabel(1, yes, yes_label), ValueLabel(0, no, no_label))


def _coded(values: Sequence[tuple[str, str]], seen: Iterable[Any] | None, *, first: int = 1) -> tuple[ValueLabel, ...]:
    known = [ValueLabel(first + n, value, label) for n, (value, label) in enumerate(values)]
    listed = {value for value, _label in values}
    extra = {
        _text(value)
        for value in seen or ()
        if value is not None and not (isinstance(value, float) and math.isnan(value)) and value != ""
    }
    extra -= listed | {SUPPRESSED}
    start = first + len(known)
    known.extend(ValueLabel(start + n, value, value) for n, value in enumerate(sorted(extra, key=_band_key)))
    return tuple(known)


# --- Rendering -------------------------------------------------------------------------------------------

HEADINGS = (
    "Variable",
    "Column (CSV/XLSX)",
    "Label (question text)",
    "Type",
    "Values and labels",
    "Step",
    "Theme",
    "Privacy",
    "Generalisation",
)


def values_text(variable: Variable) -> str:
    """The values of a variable as one line: ``1 = Ja; 0 = Nein; -1 = no answer; -2 = suppressed ...``."""
    if variable.kind == Kind.STRING:
        return "text"
    if variable.kind == Kind.NUMBER:
        return "number; no answer = empty (system-missing)"
    return "; ".join(f"{code} = {label}" for code, label in variable.value_labels().items())


def _row(variable: Variable) -> list[str]:
    step = f"{variable.step_title} ({variable.step})" if variable.step else ""
    kind = variable.question_type or variable.kind
    return [
        variable.name,
        variable.column,
        variable.label,
        kind,
        values_text(variable),
        step,
        variable.theme,
        variable.privacy,
        variable.generalisation,
    ]


def codebook_rows(codebook: Codebook) -> list[list[str]]:
    """One row of :data:`HEADINGS` per variable (the XLSX "codebook" sheet and both renderings)."""
    return [_row(variable) for variable in codebook.variables]


def _md_cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def codebook_markdown(codebook: Codebook) -> str:
    lines = [
        f"# Codebook: {_md_cell(codebook.title)}",
        "",
        f"Texts in the survey's language ({codebook.language}).",
        "",
    ]
    lines += [f"- {_md_cell(note)}" for note in codebook.notes]
    lines += ["", "| " + " | ".join(HEADINGS) + " |", "|" + "---|" * len(HEADINGS)]
    lines += ["| " + " | ".join(_md_cell(cell) for cell in row) + " |" for row in codebook_rows(codebook)]
    return "\n".join(lines) + "\n"


def codebook_html(codebook: Codebook) -> str:
    """A standalone, valid HTML5 page: one table, a caption, column and row headers with ``scope``.

    The page is in English (``lang="en"``); question texts and labels carry the survey's language.
    """
    esc = html.escape
    lang = esc(codebook.language)
    head = "".join(f'<th scope="col">{esc(heading)}</th>' for heading in HEADINGS)
    body = []
    for row in codebook_rows(codebook):
        name, column, label, kind, values, step, theme, privacy, generalisation = (esc(cell) for cell in row)
        body.append(
            f'<tr><th scope="row"><code>{name}</code></th><td><code>{column}</code></td>'
            f'<td lang="{lang}">{label}</td><td>{kind}</td><td lang="{lang}">{values}</td>'
            f'<td lang="{lang}">{step}</td><td>{theme}</td><td>{privacy}</td><td>{generalisation}</td></tr>'
        )
    notes = "".join(f"<li>{esc(note)}</li>" for note in codebook.notes)
    title = esc(codebook.title)
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>Codebook: {title}</title>\n"
        "<style>table{border-collapse:collapse}th,td{border:1px solid #888;padding:.25em .5em;"
        "text-align:left;vertical-align:top}</style>\n</head>\n<body>\n<main>\n"
        f'<h1>Codebook: <span lang="{lang}">{title}</span></h1>\n<ul>{notes}</ul>\n'
        f'<table>\n<caption>Variables of the microdata export of <span lang="{lang}">{title}</span>,'
        " in file order</caption>\n"
        f"<thead><tr>{head}</tr></thead>\n<tbody>\n"
        + "\n".join(body)
        + "\n</tbody>\n</table>\n</main>\n</body>\n</html>\n"
    )
