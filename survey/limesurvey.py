"""Import a LimeSurvey survey structure file (``.lss``) as a Stimmen survey definition.

``import_lss(content)`` is pure: bytes in, definition data (ready for ``parse_definition``) and a list of
human-readable notes out. Each note names the LimeSurvey question code (or group) it is about and says what
could not be converted, e.g. ``Q7 (type '*' equation): not supported, left out``.

Both .lss layouts are read: LimeSurvey 3 and older keep the texts of groups, questions and answers in the
same rows as the structure, one row per language; LimeSurvey 4 and newer (DBVersion >= 400) keep them in
separate ``group_l10ns``, ``question_l10ns`` and ``answer_l10ns`` tables. The files are uploaded by staff
and are untrusted XML, so they are parsed with defusedxml (no DTDs, no entities, no external references).
See docs/limesurvey-import.md for the type mapping.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from html import unescape
from html.parser import HTMLParser
from typing import Any

import defusedxml.ElementTree as SafeElementTree
from defusedxml import DefusedXmlException

Condition = dict[str, Any]

KEY_MAX = 60
SLUG_MAX = 80
LIKERT_MAX_POINTS = 11
TEXT_MAX_LENGTH = 10000

#: LimeSurvey question types, as named in LimeSurvey's own question type list.
TYPE_NAMES = {
    "1": "array dual scale",
    "5": "5 point choice",
    "A": "array 5 point choice",
    "B": "array 10 point choice",
    "C": "array yes/no/uncertain",
    "D": "date/time",
    "E": "array increase/same/decrease",
    "F": "array",
    "G": "gender",
    "H": "array by column",
    "I": "language switch",
    "K": "multiple numerical input",
    "L": "list (radio)",
    "M": "multiple choice",
    "N": "numerical input",
    "O": "list with comment",
    "P": "multiple choice with comments",
    "Q": "multiple short text",
    "R": "ranking",
    "S": "short free text",
    "T": "long free text",
    "U": "huge free text",
    "W": "list (flexible labels, dropdown)",
    "X": "text display",
    "Y": "yes/no",
    "Z": "list (flexible labels, radio)",
    "!": "list (dropdown)",
    ":": "array of numbers",
    ";": "array of texts",
    "|": "file upload",
    "*": "equation",
}
SINGLE_CHOICE_TYPES = frozenset("L!OWZ")
MULTI_CHOICE_TYPES = frozenset("MP")
#: Arrays whose rows (subquestions) become one Stimmen question each.
ROW_TYPES = frozenset("FHABECKQ")
LIKERT_POINTS = {"A": 5, "B": 10, "5": 5}
TEXT_TYPES = {"S": "text", "T": "long_text", "U": "long_text"}
#: Question themes that only change how LimeSurvey draws a question; anything else gets a note.
PLAIN_THEMES = frozenset(
    {
        "",
        "core",
        "5pointchoice",
        "arrays/10point",
        "arrays/5point",
        "arrays/array",
        "arrays/column",
        "arrays/increasesamedecrease",
        "arrays/yesnouncertain",
        "boilerplate",
        "bootstrap_buttons",
        "bootstrap_buttons_multi",
        "bootstrap_dropdown",
        "date",
        "gender",
        "hugefreetext",
        "list_dropdown",
        "list_with_comment",
        "listradio",
        "longfreetext",
        "multiplechoice",
        "multiplechoice_with_comments",
        "multiplenumeric",
        "multipleshorttext",
        "numerical",
        "shortfreetext",
        "yesno",
    }
)

#: Fixed answers LimeSurvey does not store in the file: LimeSurvey code -> (Stimmen value, labels).
FIXED_LABELS: dict[str, dict[str, str]] = {
    "female": {"en": "Female", "de": "Weiblich"},
    "male": {"en": "Male", "de": "Männlich"},
    "diverse": {"en": "Diverse", "de": "Divers"},
    "increase": {"en": "Increase", "de": "Zunahme"},
    "same": {"en": "Same", "de": "Gleich"},
    "decrease": {"en": "Decrease", "de": "Abnahme"},
    "yes": {"en": "Yes", "de": "Ja"},
    "no": {"en": "No", "de": "Nein"},
    "uncertain": {"en": "Uncertain", "de": "Unsicher"},
}
GENDER_CODES = {"F": "female", "M": "male", "D": "diverse"}
FIXED_CHOICES = {
    "G": GENDER_CODES,
    "E": {"I": "increase", "S": "same", "D": "decrease"},
    "C": {"Y": "yes", "N": "no", "U": "uncertain"},
}
YES_NO_CODES = {"Y": "yes", "N": "no"}
#: LimeSurvey's answer code for the "other" choice of a list question.
LS_OTHER_CODE = "-oth-"


class LimeSurveyImportError(ValueError):
    """The content is not a LimeSurvey survey structure file (or not readable XML)."""


@dataclass
class LimeSurveyImport:
    definition: dict[str, Any]
    unconverted: list[str] = field(default_factory=list)


def import_lss(content: bytes) -> LimeSurveyImport:
    """Convert a LimeSurvey survey structure export (.lss) into Stimmen definition data plus notes."""
    survey = _read_survey(_parse_xml(content))
    return _Converter(survey).convert()


# --------------------------------------------------------------------------------------------------- reading


def _parse_xml(content: bytes) -> Any:
    try:
        root = SafeElementTree.fromstring(content, forbid_dtd=True)
    except DefusedXmlException as error:
        raise LimeSurveyImportError(f"refused unsafe XML ({type(error).__name__})") from error
    except SafeElementTree.ParseError as error:
        raise LimeSurveyImportError(f"not readable XML ({error})") from error
    doc_type = (root.findtext("LimeSurveyDocType") or "").strip()
    if root.tag != "document" or not doc_type:
        raise LimeSurveyImportError("not a LimeSurvey export (no <document> with a LimeSurveyDocType)")
    if doc_type != "Survey":
        raise LimeSurveyImportError(
            f"a LimeSurvey {doc_type!r} export, not a survey structure (.lss); "
            "export it with Survey → Export → Survey structure (.lss)"
        )
    return root


@dataclass
class _Answer:
    code: str
    order: int
    texts: dict[str, str]


@dataclass
class _Question:
    qid: str
    parent: str
    gid: str
    type: str
    code: str
    other: bool
    mandatory: str
    order: int
    scale: int
    relevance: str
    preg: str
    theme: str
    texts: dict[str, str] = field(default_factory=dict)
    helps: dict[str, str] = field(default_factory=dict)
    attributes: dict[str, str] = field(default_factory=dict)
    rows: list[_Question] = field(default_factory=list)
    answers: dict[int, list[_Answer]] = field(default_factory=dict)


@dataclass
class _Group:
    gid: str
    order: int
    relevance: str
    names: dict[str, str]
    descriptions: dict[str, str]
    questions: list[_Question] = field(default_factory=list)


@dataclass
class _Survey:
    sid: str
    languages: list[str]  # LimeSurvey codes, base language first
    title: dict[str, str]
    description: dict[str, str]
    welcome: dict[str, str]
    end: dict[str, str]
    groups: list[_Group]
    codes: set[str]  # every question code in the file
    quotas: list[str]
    assessments: int
    conditions: set[str]  # qids with rows in the old conditions table
    orphans: list[_Question] = field(default_factory=list)  # questions of a group the file does not have


Row = dict[str, str]


def _tables(root: Any) -> dict[str, list[Row]]:
    tables: dict[str, list[Row]] = {}
    for child in root:
        rows = child.find("rows")
        if rows is None:
            continue
        tables[child.tag] = [{cell.tag: (cell.text or "") for cell in row} for row in rows.findall("row")]
    return tables


def _number(value: str, default: int = 0) -> int:
    try:
        return int(value.strip())
    except (AttributeError, ValueError):
        return default


def _read_survey(root: Any) -> _Survey:
    tables = _tables(root)
    settings = (tables.get("surveys") or [{}])[0]
    listed = [(element.text or "").strip() for element in root.findall("languages/language")]
    base = settings.get("language", "").strip() or next((code for code in listed if code), "")
    additional = settings.get("additional_languages", "").split() if settings else listed
    languages = list(dict.fromkeys(code for code in [base, *additional] if code))
    if not languages:
        raise LimeSurveyImportError("the file names no survey language")

    def by_language(rows: Iterable[Row], language_field: str, name: str) -> dict[str, str]:
        return {row.get(language_field, "").strip(): row.get(name, "") for row in rows if row.get(name)}

    survey_texts = tables.get("surveys_languagesettings", [])

    def survey_text(name: str) -> dict[str, str]:
        return by_language(survey_texts, "surveyls_language", name)

    # LimeSurvey >= 4 keeps texts in *_l10ns tables; older versions repeat the row once per language.
    def texts(main: Iterable[str], l10n: str, key: str) -> dict[str, list[Row]]:
        rows: dict[str, list[Row]] = {}
        for row in tables.get(l10n) or [row for table in main for row in tables.get(table, [])]:
            rows.setdefault(row.get(key, ""), []).append(row)
        return rows

    def structure(rows: Iterable[Row], key: str) -> dict[str, Row]:
        """One row per id: the base language's row where the table has one per language."""
        chosen: dict[str, Row] = {}
        for row in rows:
            ident = row.get(key, "")
            if ident not in chosen or row.get("language", "").strip() == base:
                chosen[ident] = row
        return chosen

    group_texts = texts(["groups"], "group_l10ns", "gid")
    groups = {
        gid: _Group(
            gid=gid,
            order=_number(row.get("group_order", "")),
            relevance=row.get("grelevance", ""),
            names=by_language(group_texts.get(gid, []), "language", "group_name"),
            descriptions=by_language(group_texts.get(gid, []), "language", "description"),
        )
        for gid, row in structure(tables.get("groups", []), "gid").items()
    }

    attributes: dict[str, dict[str, str]] = {}
    for row in tables.get("question_attributes", []):
        language = row.get("language", "").strip()
        if language and language != base:
            continue
        attributes.setdefault(row.get("qid", ""), {})[row.get("attribute", "")] = row.get("value", "")

    question_texts = texts(["questions", "subquestions"], "question_l10ns", "qid")
    question_rows = structure([*tables.get("questions", []), *tables.get("subquestions", [])], "qid")
    questions: dict[str, _Question] = {}
    for qid, row in question_rows.items():
        rows = question_texts.get(qid, [])
        questions[qid] = _Question(
            qid=qid,
            parent=row.get("parent_qid", "0").strip() or "0",
            gid=row.get("gid", "").strip(),
            type=row.get("type", "").strip(),
            code=row.get("title", "").strip(),
            other=row.get("other", "").strip().upper() == "Y",
            mandatory=row.get("mandatory", "").strip().upper(),
            order=_number(row.get("question_order", "")),
            scale=_number(row.get("scale_id", "")),
            relevance=row.get("relevance", ""),
            preg=row.get("preg", "").strip(),
            theme=row.get("question_theme_name", "").strip(),
            texts=by_language(rows, "language", "question"),
            helps=by_language(rows, "language", "help"),
            attributes=attributes.get(qid, {}),
        )

    _read_answers(tables, questions, base)

    orphans = []
    for question in sorted(questions.values(), key=lambda q: (q.order, _number(q.qid))):
        if question.parent != "0":
            if question.parent in questions:
                questions[question.parent].rows.append(question)
        elif question.gid in groups:
            groups[question.gid].questions.append(question)
        else:
            orphans.append(question)

    return _Survey(
        sid=settings.get("sid", "").strip(),
        languages=languages,
        title=survey_text("surveyls_title"),
        description=survey_text("surveyls_description"),
        welcome=survey_text("surveyls_welcometext"),
        end=survey_text("surveyls_endtext"),
        groups=sorted(groups.values(), key=lambda g: (g.order, _number(g.gid))),
        codes={q.code for q in questions.values() if q.parent == "0"},
        quotas=[row.get("name", "") for row in tables.get("quota", [])],
        assessments=len(tables.get("assessments", [])),
        conditions={row.get("qid", "") for row in tables.get("conditions", [])},
        orphans=orphans,
    )


def _read_answers(tables: Mapping[str, list[Row]], questions: dict[str, _Question], base: str) -> None:
    l10n_texts: dict[str, dict[str, str]] = {}
    for row in tables.get("answer_l10ns", []):
        l10n_texts.setdefault(row.get("aid", ""), {})[row.get("language", "").strip()] = row.get("answer", "")
    answers: dict[tuple[str, int, str], _Answer] = {}
    for row in tables.get("answers", []):
        qid, code, scale = row.get("qid", ""), row.get("code", "").strip(), _number(row.get("scale_id", ""))
        ident = (qid, scale, code)
        if "answer_l10ns" in tables:  # LimeSurvey >= 4: one row per answer, texts by aid
            answer_texts = l10n_texts.get(row.get("aid", ""), {})
        else:  # LimeSurvey <= 3: one row per answer and language
            answer_texts = {row.get("language", "").strip(): row.get("answer", "")}
        if ident in answers:
            answers[ident].texts.update(answer_texts)
            if row.get("language", "").strip() == base:
                answers[ident].order = _number(row.get("sortorder", ""))
            continue
        answers[ident] = _Answer(code=code, order=_number(row.get("sortorder", "")), texts=dict(answer_texts))
    for (qid, scale, _code), answer in answers.items():
        if qid in questions:
            questions[qid].answers.setdefault(scale, []).append(answer)
    for question in questions.values():
        for scale_answers in question.answers.values():
            scale_answers.sort(key=lambda a: a.order)


# ------------------------------------------------------------------------------------------------ plain text


class _TextExtractor(HTMLParser):
    BLOCKS = frozenset(
        {"p", "div", "ul", "ol", "table", "blockquote", "section", "article", "header", "footer", "pre", "hr"}
        | {f"h{level}" for level in range(1, 7)}
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.images: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skipping += 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag == "li":
            self.parts.append("\n- ")  # the next item or block starts a new line
        elif tag == "tr":
            self.parts.append("\n")
        elif tag in ("td", "th"):
            self.parts.append(" ")
        elif tag in self.BLOCKS:
            self.parts.append("\n\n")
        elif tag == "img":
            attributes = dict(attrs)
            source = (attributes.get("src") or "").strip()
            if source:
                self.images.append(source.rsplit("/", 1)[-1])
            if (attributes.get("alt") or "").strip():
                self.parts.append(attributes["alt"] or "")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ("script", "style"):
            self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skipping = max(0, self._skipping - 1)
        elif tag in self.BLOCKS:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(re.sub(r"\s+", " ", data))


_HTML_TAG = re.compile(r"</?[a-zA-Z][^>]*>|<!--")


def html_to_text(raw: str) -> str:
    """LimeSurvey's HTML as plain text: tags removed, entities decoded, paragraphs and ``<br>`` as line breaks."""
    return _html_to_text(raw)[0]


def _html_to_text(raw: str) -> tuple[str, list[str]]:
    """The plain text and the file names of the images it contained."""
    raw = (raw or "").replace("\r\n", "\n").replace("\r", "\n")
    if _HTML_TAG.search(raw):
        extractor = _TextExtractor()
        extractor.feed(raw)
        extractor.close()
        text, images = "".join(extractor.parts), extractor.images
    else:
        text, images = unescape(raw), []
    text = text.replace("\xa0", " ").replace("\u200b", "")
    lines = [re.sub(r"[ \t\f\v]+", " ", line).strip() for line in text.split("\n")]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    return text, images


# ------------------------------------------------------------------------------------------ keys and codes


_TRANSLITERATION = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"})


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.translate(_TRANSLITERATION))
    return folded.encode("ascii", "ignore").decode("ascii").lower()


def sanitise_key(raw: str, *, prefix: str = "q_", fallback: str = "q") -> str:
    """A Stimmen key (``^[a-z][a-z0-9_]*$``, at most 60 characters) from a LimeSurvey code.

    Lower-cased, umlauts transliterated, every run of other characters replaced by ``_``; ``prefix`` is put
    in front of a code that starts with a digit (``1a`` -> ``q_1a``).
    """
    key = re.sub(r"[^a-z0-9]+", "_", _ascii(raw)).strip("_")
    if not key:
        key = fallback
    if not key[0].isalpha():
        key = prefix + key
    return key[:KEY_MAX].rstrip("_")


def slugify(raw: str) -> str:
    """A survey slug (``^[a-z0-9]+(-[a-z0-9]+)*$``, at most 80 characters); empty if nothing is left."""
    return re.sub(r"[^a-z0-9]+", "-", _ascii(raw)).strip("-")[:SLUG_MAX].rstrip("-")


def stimmen_language(code: str) -> str | None:
    """Stimmen's code for a LimeSurvey language code: ``de-informal`` -> ``de``, ``pt-BR`` -> ``pt-br``.

    ``None`` when nothing usable is left.
    """
    parts = [part for part in re.split(r"[-_]", code.strip().lower()) if part]
    if not parts or not re.fullmatch(r"[a-z]{2,3}", parts[0]):
        return None
    variant = next((part for part in parts[1:] if part not in ("informal", "formal")), None)
    if variant and re.fullmatch(r"[a-z]{2,4}", variant):
        return f"{parts[0]}-{variant}"
    return parts[0]


def _unique(candidate: str, taken: set[str]) -> str:
    if candidate not in taken:
        return candidate
    number = 2
    while True:
        suffix = f"_{number}"
        unique = candidate[: KEY_MAX - len(suffix)].rstrip("_") + suffix
        if unique not in taken:
            return unique
        number += 1


# ----------------------------------------------------------------------------------------------- relevance


class Unsupported(Exception):
    """A relevance expression (or a part of one) that has no Stimmen condition."""


_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
      | (?P<number>-?\d+(?:\.\d+)?)(?![A-Za-z_])
      | (?P<op>==|!=|>=|<=|&&|\|\||[<>!(),])
      | (?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?)
    )""",
    re.VERBOSE,
)
_COMPARISONS = {
    "==": "eq",
    "eq": "eq",
    "!=": "ne",
    "ne": "ne",
    ">": "gt",
    "gt": "gt",
    ">=": "ge",
    "ge": "ge",
    "<": "lt",
    "lt": "lt",
    "<=": "le",
    "le": "le",
}
_MIRRORED = {"eq": "eq", "ne": "ne", "gt": "lt", "ge": "le", "lt": "gt", "le": "ge"}
_KEYWORDS = frozenset({"and", "or", "not", *(word for word in _COMPARISONS if word.isalpha())})


def _tokens(expression: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    expression = expression.rstrip()
    while position < len(expression):
        match = _TOKEN.match(expression, position)
        if not match or match.end() == position:
            raise Unsupported(f"cannot read {expression[position:].strip()[:30]!r}")
        kind = match.lastgroup or ""
        value = match.group(kind)
        if kind == "name" and value.lower() in _KEYWORDS:
            kind, value = "op", value.lower()
        tokens.append((kind, value))
        position = match.end()
    return tokens


class _RelevanceParser:
    """Reads the simple forms: comparisons of a question with a literal, is_empty(), and/or/not, parentheses.

    The tree: ``("all"|"any", [nodes])``, ``("not", node)``, ``("cmp", name, op, (kind, literal))``,
    ``("empty", name)``, ``("const", "1")``.
    """

    def __init__(self, expression: str) -> None:
        self.tokens = _tokens(expression)
        self.position = 0

    def parse(self) -> Any:
        node = self._any()
        if self.position != len(self.tokens):
            raise Unsupported(f"unexpected {self.tokens[self.position][1]!r}")
        return node

    def _peek(self, offset: int = 0) -> tuple[str, str]:
        index = self.position + offset
        return self.tokens[index] if index < len(self.tokens) else ("end", "")

    def _next(self) -> tuple[str, str]:
        token = self._peek()
        if token[0] == "end":
            raise Unsupported("the expression ends too early")
        self.position += 1
        return token

    def _expect(self, value: str) -> None:
        if self._next() != ("op", value):
            raise Unsupported(f"expected {value!r}")

    def _any(self) -> Any:
        parts = [self._all()]
        while self._peek() in (("op", "or"), ("op", "||")):
            self.position += 1
            parts.append(self._all())
        return ("any", parts) if len(parts) > 1 else parts[0]

    def _all(self) -> Any:
        parts = [self._unary()]
        while self._peek() in (("op", "and"), ("op", "&&")):
            self.position += 1
            parts.append(self._unary())
        return ("all", parts) if len(parts) > 1 else parts[0]

    def _unary(self) -> Any:
        if self._peek() in (("op", "!"), ("op", "not")):
            self.position += 1
            return ("not", self._unary())
        return self._primary()

    def _primary(self) -> Any:
        kind, value = self._next()
        if (kind, value) == ("op", "("):
            node = self._any()
            self._expect(")")
            return node
        following = self._peek()
        is_comparison = following[0] == "op" and following[1] in _COMPARISONS
        if kind == "name" and value.lower() == "is_empty" and following == ("op", "("):
            self.position += 1
            name_kind, name = self._next()
            if name_kind != "name":
                raise Unsupported("is_empty() of something other than a question")
            self._expect(")")
            return ("empty", name)
        if kind == "name" and is_comparison:
            op = _COMPARISONS[self._next()[1]]
            literal = self._next()
            if literal[0] not in ("string", "number"):
                raise Unsupported(f"comparison of {value} with {literal[1]!r}")
            return ("cmp", value, op, _literal(literal))
        if kind in ("string", "number") and is_comparison:
            op = _MIRRORED[_COMPARISONS[self._next()[1]]]
            name_kind, name = self._next()
            if name_kind != "name":
                raise Unsupported("comparison of two values")
            return ("cmp", name, op, _literal((kind, value)))
        if kind == "number" and following[0] in ("end", "op"):
            return ("const", value)
        if kind == "name" and following == ("op", "("):
            raise Unsupported(f"function {value}()")
        raise Unsupported(f"unexpected {value!r}")


def _literal(token: tuple[str, str]) -> tuple[str, str]:
    kind, value = token
    if kind == "string":
        return "string", re.sub(r"\\(.)", r"\1", value[1:-1])
    return "number", value


@dataclass
class _Symbol:
    """What a LimeSurvey variable became: a question (with answer code -> value) or one option of one."""

    key: str
    kind: str  # choice | likert | number | text | multi | option | info
    values: dict[str, Any] | None = None
    option: str | None = None
    points: int | None = None


def _as_number(literal: tuple[str, str]) -> float:
    try:
        return float(literal[1])
    except ValueError as error:
        raise Unsupported(f"{literal[1]!r} is not a number") from error


def _whole(number: float) -> int | float:
    return int(number) if number == int(number) else number


class _ConditionBuilder:
    def __init__(self, symbols: Mapping[str, _Symbol], known: set[str], skipped: set[str]) -> None:
        self.symbols = symbols
        self.known = known
        self.skipped = skipped

    def build(self, expression: str) -> Condition | None:
        """The Stimmen condition for a relevance expression; ``None`` for "always"; ``Unsupported`` otherwise."""
        text = unescape(expression or "").strip()
        if not text:
            return None
        result = self._node(_RelevanceParser(text).parse())
        if result is True:
            return None
        return result

    def _node(self, node: Any) -> Condition | bool:
        kind = node[0]
        if kind == "const":
            if _as_number(("number", node[1])) != 0:
                return True
            raise Unsupported("never shown (relevance 0)")
        if kind in ("all", "any"):
            parts = [self._node(part) for part in node[1]]
            if kind == "any" and True in parts:
                return True
            parts = [part for part in parts if part is not True]
            if not parts:
                return True
            return parts[0] if len(parts) == 1 else {kind: parts}
        if kind == "not":
            inner = self._node(node[1])
            if inner is True:
                raise Unsupported("never shown")
            if set(inner) == {"question", "answered"}:
                return {"question": inner["question"], "answered": not inner["answered"]}
            if set(inner) == {"not"}:
                return inner["not"]
            return {"not": inner}
        if kind == "empty":
            symbol = self._symbol(node[1])
            if symbol.kind == "option":
                return {"not": {"question": symbol.key, "equals": symbol.option}}
            return {"question": symbol.key, "answered": False}
        return self._comparison(self._symbol(node[1]), node[1], node[2], node[3])

    def _symbol(self, variable: str) -> _Symbol:
        name, _, suffix = variable.partition(".")
        if suffix and suffix.lower() not in ("naok", "value", "code"):
            raise Unsupported(f"'{variable}' (.{suffix} is not supported)")
        symbol = self.symbols.get(name)
        if symbol is None:
            matches = [value for code, value in self.symbols.items() if code.lower() == name.lower()]
            symbol = matches[0] if len(matches) == 1 else None
        if symbol is not None and symbol.kind == "info":
            raise Unsupported(f"it uses {name}, a text display without an answer")
        if symbol is not None:
            return symbol
        code = name.split("_", 1)[0]
        if name in self.skipped or code in self.skipped:
            raise Unsupported(f"it uses {name}, which was not converted")
        if name in self.known or code in self.known:
            raise Unsupported(f"it uses {name}, which does not come before it")
        raise Unsupported(f"unknown variable {name}")

    def _comparison(self, symbol: _Symbol, name: str, op: str, literal: tuple[str, str]) -> Condition:
        value = literal[1]
        key = symbol.key
        if symbol.kind == "option":
            chosen = {"question": key, "equals": symbol.option}
            if op not in ("eq", "ne") or value not in ("Y", ""):
                raise Unsupported(f"{name} compared with {value!r}")
            return chosen if (op == "eq") == (value == "Y") else {"not": chosen}
        if value == "" and literal[0] == "string":
            if op not in ("eq", "ne"):
                raise Unsupported(f"{name} compared with an empty text")
            return {"question": key, "answered": op == "ne"}
        if symbol.kind == "multi":
            raise Unsupported(f'{name} is a multiple choice; compare its options ({name}_CODE == "Y")')
        if op in ("eq", "ne"):
            leaf = {"question": key, "equals": self._value(symbol, name, literal)}
            return leaf if op == "eq" else {"not": leaf}
        if symbol.kind not in ("likert", "number"):
            raise Unsupported(f"{name} is not a number")
        number = _as_number(literal) if not symbol.values else float(self._value(symbol, name, literal))
        if op == "ge":
            return {"question": key, "gte": _whole(number)}
        if op == "le":
            return {"question": key, "lte": _whole(number)}
        if op == "gt":  # Stimmen numbers and scale points are whole numbers
            return {"question": key, "gte": math.floor(number) + 1}
        return {"question": key, "lte": math.ceil(number) - 1}

    def _value(self, symbol: _Symbol, name: str, literal: tuple[str, str]) -> Any:
        value = literal[1]
        if symbol.values is not None:
            if value in symbol.values:
                return symbol.values[value]
            folded = [v for code, v in symbol.values.items() if code.lower() == value.lower()]
            if len(folded) == 1:
                return folded[0]
            raise Unsupported(f"{name} has no answer {value!r}")
        if symbol.kind in ("likert", "number"):
            number = _as_number(literal)
            if number != int(number):
                raise Unsupported(f"{name} takes whole numbers, not {value}")
            if symbol.points and not 1 <= number <= symbol.points:
                raise Unsupported(f"{name} has no scale point {value}")
            return int(number)
        return value


# ---------------------------------------------------------------------------------------------- converting


class _Converter:
    def __init__(self, survey: _Survey) -> None:
        self.survey = survey
        self.notes: dict[str, list[str]] = {}
        self.missing: dict[str, dict[str, list[str]]] = {}
        self.languages: dict[str, str] = {}  # LimeSurvey code -> Stimmen code
        self.symbols: dict[str, _Symbol] = {}
        self.skipped: set[str] = set()
        self.question_keys: set[str] = set()
        self.step_keys: set[str] = set()
        self._map_languages()
        self.base = survey.languages[0]

    # ------------------------------------------------------------------ notes

    def note(self, owner: str, message: str) -> None:
        messages = self.notes.setdefault(owner, [])
        if message not in messages:
            messages.append(message)

    def _rendered_notes(self) -> list[str]:
        rendered = []
        for owner in dict.fromkeys([*self.notes, *self.missing]):
            rendered.extend(f"{owner}: {message}" for message in self.notes.get(owner, []))
            for language, fields in self.missing.get(owner, {}).items():
                rendered.append(
                    f"{owner}: no {language!r} text for {', '.join(dict.fromkeys(fields))}; "
                    f"the {self.base!r} text is used instead"
                )
        return rendered

    @staticmethod
    def owner(question: _Question) -> str:
        name = TYPE_NAMES.get(question.type, "unknown type")
        return f"{question.code or 'qid ' + question.qid} (type '{question.type}' {name})"

    # -------------------------------------------------------------- languages

    def _map_languages(self) -> None:
        for code in self.survey.languages:
            mapped = stimmen_language(code)
            if mapped is None:
                if code == self.survey.languages[0]:
                    raise LimeSurveyImportError(f"the survey language {code!r} has no Stimmen equivalent")
                self.note("Survey", f"language {code!r} has no Stimmen equivalent; left out")
                continue
            if mapped in self.languages.values():
                self.note("Survey", f"language {code!r} becomes {mapped!r}, which the survey already has; left out")
                continue
            if mapped != code.lower():
                self.note("Survey", f"language {code!r} is imported as {mapped!r}")
            self.languages[code] = mapped

    # ------------------------------------------------------------------ texts

    def text(
        self,
        owner: str,
        what: str,
        raw: Mapping[str, str],
        *,
        fallback: str | None = None,
    ) -> dict[str, str] | None:
        """A text in every survey language; missing translations fall back to the base language (noted).

        ``fallback`` is used (and noted) when there is no text in any language; without one the text is
        optional and ``None`` comes back.
        """
        plain: dict[str, str] = {}
        for code in self.languages:
            text, images = _html_to_text(raw.get(code, ""))
            if images and not text and fallback is not None:
                text = ", ".join(images)
                self.note(owner, f"{what} is an image ({text}); its file name is used as the text")
            elif images:
                self.note(owner, f"{what}: image {', '.join(images)} not imported")
            plain[code] = text
        present = [code for code in self.languages if plain[code]]
        if not present:
            if fallback is None:
                return None
            self.note(owner, f"{what} is empty in every language; {fallback!r} is used instead")
            return {self.languages[code]: fallback for code in self.languages}
        if re.search(r"\{[^}]*\}", plain[present[0]]):
            self.note(owner, f"{what} contains LimeSurvey expressions {{…}}, which are shown as written")
        base_text = plain[self.base] or plain[present[0]]
        result = {}
        for code, language in self.languages.items():
            if not plain[code]:
                self.missing.setdefault(owner, {}).setdefault(code, []).append(what)
            result[language] = plain[code] or base_text
        return result

    def fixed_labels(self, owner: str, values: Iterable[str]) -> dict[str, dict[str, str]]:
        """Built-in labels of answers LimeSurvey does not store in the file (gender, increase/same/decrease…)."""
        result: dict[str, dict[str, str]] = {}
        for value in values:
            labels = FIXED_LABELS[value]
            result[value] = {}
            for code, language in self.languages.items():
                label = labels.get(language) or labels.get(language.split("-")[0])
                if label is None:
                    self.note(owner, f"no built-in {code!r} labels for the fixed answers; the English ones are used")
                result[value][language] = label or labels["en"]
        return result

    # ---------------------------------------------------------------- convert

    def convert(self) -> LimeSurveyImport:
        survey = self.survey
        title = self.text("Survey", "title", survey.title, fallback=f"LimeSurvey {survey.sid}".strip())
        assert title is not None
        slug = slugify(next(iter(title.values()))) or (f"limesurvey-{survey.sid}" if survey.sid else "limesurvey")
        definition: dict[str, Any] = {"slug": slug, "title": title}
        description_source = survey.description
        if not any(_html_to_text(text)[0] for text in survey.description.values()):
            description_source = survey.welcome
        elif any(_html_to_text(text)[0] for text in survey.welcome.values()):
            self.note("Survey", "welcome text not converted (Stimmen shows the description)")
        description = self.text("Survey", "description", description_source)
        if description:
            definition["description"] = description
        if any(_html_to_text(text)[0] for text in survey.end.values()):
            self.note("Survey", "end text not converted (Stimmen shows its own thank-you page)")
        if survey.quotas:
            names = ", ".join(repr(name) for name in survey.quotas)
            self.note("Survey", f"quotas ({names}) not converted")
        if survey.assessments:
            self.note("Survey", "assessments not converted")
        definition["languages"] = list(self.languages.values())
        for orphan in survey.orphans:
            self.note(self.owner(orphan), f"belongs to group {orphan.gid}, which is not in the file, left out")
        definition["steps"] = [step for group in survey.groups if (step := self._step(group))]
        # Plain, unshared data: matrix rows share their scale and options, which YAML would write as aliases.
        plain = json.loads(json.dumps(definition, ensure_ascii=False))
        return LimeSurveyImport(definition=plain, unconverted=self._rendered_notes())

    def _step(self, group: _Group) -> dict[str, Any] | None:
        base_name = _html_to_text(group.names.get(self.base, ""))[0] or next(
            (_html_to_text(name)[0] for name in group.names.values() if _html_to_text(name)[0]), ""
        )
        owner = f"Group '{base_name}'" if base_name else f"Group gid {group.gid}"
        if not group.questions:
            self.note(owner, "has no questions, left out")
            return None
        condition = self.condition(owner, group.relevance, "step")  # before its own questions are known
        step: dict[str, Any] = {
            "key": self._step_key(base_name or f"group_{group.gid}"),
            "title": self.text(owner, "title", group.names, fallback=base_name or f"Group {group.gid}"),
        }
        intro = self.text(owner, "description", group.descriptions)
        if intro:
            step["intro"] = intro
        if condition:
            step["show_if"] = condition
        questions = []
        for question in group.questions:
            questions.extend(self._question(question))
        if not questions:
            self.note(owner, "none of its questions could be converted, left out")
            return None
        step["questions"] = questions
        return step

    def _step_key(self, name: str) -> str:
        key = _unique(sanitise_key(name, prefix="step_", fallback="step"), self.step_keys)
        self.step_keys.add(key)
        return key

    def _question_key(self, owner: str, code: str, *, other: bool = False) -> str:
        wanted = sanitise_key(code)
        key = wanted
        number = 1
        while key in self.question_keys or (other and f"{key}_other" in self.question_keys):
            number += 1
            suffix = f"_{number}"
            key = wanted[: KEY_MAX - len(suffix)].rstrip("_") + suffix
        if key != wanted:
            self.note(owner, f"key {wanted!r} is already taken; imported as {key!r}")
        self.question_keys.add(key)
        if other:
            self.question_keys.add(f"{key}_other")
        return key

    def condition(self, owner: str, relevance: str, what: str = "question") -> Condition | None:
        builder = _ConditionBuilder(self.symbols, self.survey.codes, self.skipped)
        try:
            return builder.build(relevance)
        except Unsupported as reason:
            shown = " ".join(relevance.split())
            self.note(owner, f"condition {shown!r} not converted ({reason}); the {what} is kept without condition")
            return None

    # ---------------------------------------------------------------- questions

    def _question(self, question: _Question) -> list[dict[str, Any]]:
        owner = self.owner(question)
        kind = question.type
        if question.qid in self.survey.conditions and (question.relevance or "").strip() in ("", "1"):
            self.note(owner, "LimeSurvey conditions (old conditions table) not converted")
        converters = {
            **dict.fromkeys(SINGLE_CHOICE_TYPES, self._single_choice),
            **dict.fromkeys(MULTI_CHOICE_TYPES, self._multi_choice),
            **dict.fromkeys("FHAB", self._likert_rows),
            **dict.fromkeys("EC", self._fixed_rows),
            **dict.fromkeys("KQ", self._input_rows),
            "5": self._five_point,
            "G": self._gender,
            "Y": self._yes_no,
            "N": self._number,
            "S": self._text,
            "T": self._text,
            "U": self._text,
            "D": self._date,
            "X": self._info,
        }
        converter = converters.get(kind)
        if converter is None:
            self.note(owner, "not supported, left out")
            self.skipped.add(question.code)
            return []
        if question.theme not in PLAIN_THEMES:
            message = f"question theme '{question.theme}' not converted; imported as a plain question"
            if question.theme.startswith("image_select"):
                message += " (the option texts are image paths and are shown as text)"
            self.note(owner, message)
        if question.attributes.get("hidden", "").strip() == "1":
            self.note(owner, "hidden in LimeSurvey; imported as a visible question")
        if question.preg:
            self.note(owner, "validation pattern not converted")
        if question.mandatory == "S":
            self.note(owner, "soft mandatory in LimeSurvey; imported as optional")
        converted = converter(question, owner)
        if not converted:
            self.skipped.add(question.code)
        return converted

    def _common(self, question: _Question, owner: str, kind: str, key: str | None = None) -> dict[str, Any]:
        condition = self.condition(owner, question.relevance)
        data: dict[str, Any] = {
            "key": key or self._question_key(owner, question.code or f"q_{question.qid}", other=question.other),
            "type": kind,
            "label": self.text(owner, "question text", question.texts, fallback=question.code or question.qid),
        }
        help_text = self.text(owner, "help text", question.helps)
        if help_text:
            data["help"] = help_text
        if question.mandatory == "Y" and kind != "info":
            data["required"] = True
        if condition:
            data["show_if"] = condition
        return data

    @staticmethod
    def _with_show_if_last(data: dict[str, Any]) -> dict[str, Any]:
        if "show_if" in data:
            data["show_if"] = data.pop("show_if")
        return data

    def _options(
        self, owner: str, items: list[tuple[str, Mapping[str, str]]], *, other: bool, what: str
    ) -> tuple[list[dict[str, Any]], dict[str, str]]:
        """Options from (code, texts) pairs; also the LimeSurvey code -> option value map."""
        options: list[dict[str, Any]] = []
        values: dict[str, str] = {}
        taken = {"other"} if other else set()
        for code, texts in items:
            wanted = sanitise_key(code, prefix="a_", fallback="option")
            value = _unique(wanted, taken)
            if value != wanted:
                self.note(owner, f"{what} {code!r}: value {wanted!r} is already taken; imported as {value!r}")
            taken.add(value)
            values[code] = value
            label = self.text(owner, f"{what} {code}", texts, fallback=code)
            options.append({"value": value, "label": label})
        return options, values

    def _single_choice(self, question: _Question, owner: str) -> list[dict[str, Any]]:
        answers = question.answers.get(0, [])
        if not answers:
            self.note(owner, "has no answer options, left out")
            return []
        data = self._common(question, owner, "single_choice")
        options, values = self._options(
            owner, [(a.code, a.texts) for a in answers], other=question.other, what="answer"
        )
        data["options"] = options
        if question.other:
            data["other"] = True
            values[LS_OTHER_CODE] = "other"
        if question.type == "O":
            self.note(owner, "converted to single_choice; the comment field is not converted")
        self.symbols[question.code] = _Symbol(data["key"], "choice", values)
        return [self._with_show_if_last(data)]

    def _multi_choice(self, question: _Question, owner: str) -> list[dict[str, Any]]:
        rows = [row for row in question.rows if row.scale == 0]
        if not rows:
            self.note(owner, "has no subquestions (options), left out")
            return []
        data = self._common(question, owner, "multi_choice")
        items = [(row.code, row.texts) for row in rows]
        options, values = self._options(owner, items, other=question.other, what="option")
        exclusive = {code.strip() for code in re.split(r"[;,]", question.attributes.get("exclude_all_others", ""))}
        for option, row in zip(options, rows, strict=True):
            if row.code in exclusive:
                option["exclusive"] = True
            if (row.relevance or "").strip() not in ("", "1"):
                self.note(owner, f"condition of option {row.code} not converted; the option is always shown")
        data["options"] = options
        if question.other:
            data["other"] = True
        max_answers = question.attributes.get("max_answers", "").strip()
        maximum = _number(max_answers, default=0)
        if 1 <= maximum < len(options) + int(question.other):
            data["max_choices"] = maximum
        elif max_answers and not max_answers.isdigit():
            self.note(owner, f"max_answers {max_answers!r} not converted")
        if question.attributes.get("min_answers", "").strip() not in ("", "0"):
            self.note(owner, f"min_answers {question.attributes['min_answers']} not converted (Stimmen has no minimum)")
        if question.type == "P":
            self.note(owner, "converted to multi_choice; the comment fields are not converted")
        for row in rows:
            self.symbols[f"{question.code}_{row.code}"] = _Symbol(data["key"], "option", option=values[row.code])
        self.symbols[question.code] = _Symbol(data["key"], "multi")  # only is_empty() / == "" make sense
        return [self._with_show_if_last(data)]

    def _rows(self, question: _Question, owner: str) -> list[_Question]:
        rows = [row for row in question.rows if row.scale == 0]
        if not rows:
            self.note(owner, "has no subquestions (rows), left out")
        return rows

    def _row_question(
        self, question: _Question, row: _Question, owner: str, kind: str, parent_condition: Condition | None
    ) -> tuple[dict[str, Any], Condition | None]:
        """One row of an array as a question; its condition is added (last) by ``_finish_row``."""
        key = self._question_key(owner, f"{question.code}_{row.code}")
        parent_text = self.text(owner, "question text", question.texts)
        row_text = self.text(owner, f"row {row.code}", row.texts, fallback=row.code)
        assert row_text is not None
        label = {lang: f"{parent_text[lang]} – {text}" for lang, text in row_text.items()} if parent_text else row_text
        data: dict[str, Any] = {"key": key, "type": kind, "label": label}
        help_text = self.text(owner, "help text", question.helps)
        if help_text:
            data["help"] = help_text
        if question.mandatory == "Y":
            data["required"] = True
        conditions = [parent_condition] if parent_condition else []
        if (row.relevance or "").strip() not in ("", "1"):
            row_condition = self.condition(owner, row.relevance, f"row {row.code}")
            if row_condition:
                conditions.append(row_condition)
        if not conditions:
            return data, None
        return data, conditions[0] if len(conditions) == 1 else {"all": conditions}

    def _finish_row(
        self, data: dict[str, Any], condition: Condition | None, question: _Question, row: _Question, symbol: _Symbol
    ) -> dict[str, Any]:
        if condition:
            data["show_if"] = condition
        self.symbols[f"{question.code}_{row.code}"] = symbol
        return data

    def _likert_rows(self, question: _Question, owner: str) -> list[dict[str, Any]]:
        rows = self._rows(question, owner)
        if not rows:
            return []
        scale: dict[str, Any]
        values: dict[str, int] | None = None
        if question.type in LIKERT_POINTS:
            points = LIKERT_POINTS[question.type]
            scale = {"points": points}
        else:
            answers = question.answers.get(0, [])
            points = len(answers)
            if not 2 <= points <= LIKERT_MAX_POINTS:
                self.note(owner, f"{points} answer options do not fit a likert scale of 2 to 11 points, left out")
                return []
            scale = {"points": points}
            low = self.text(owner, f"answer {answers[0].code}", answers[0].texts, fallback=answers[0].code)
            high = self.text(owner, f"answer {answers[-1].code}", answers[-1].texts, fallback=answers[-1].code)
            scale["low"], scale["high"] = low, high
            values = {answer.code: position for position, answer in enumerate(answers, start=1)}
            middle = [_html_to_text(a.texts.get(self.base, ""))[0] or a.code for a in answers[1:-1]]
            message = f"converted to one likert question per row ({points} points)"
            if middle:
                message += f"; the texts of the middle answers ({', '.join(middle)}) are not shown"
            self.note(owner, message)
        if question.type == "H":
            self.note(owner, "LimeSurvey shows this array by column; imported as one question per column")
        parent_condition = self.condition(owner, question.relevance)
        converted = []
        for row in rows:
            data, condition = self._row_question(question, row, owner, "likert", parent_condition)
            data["scale"] = scale
            symbol = _Symbol(data["key"], "likert", values, points=points)
            converted.append(self._finish_row(data, condition, question, row, symbol))
        return converted

    def _fixed_rows(self, question: _Question, owner: str) -> list[dict[str, Any]]:
        rows = self._rows(question, owner)
        if not rows:
            return []
        codes = FIXED_CHOICES[question.type]
        labels = self.fixed_labels(owner, codes.values())
        options = [{"value": value, "label": labels[value]} for value in codes.values()]
        self.note(owner, f"converted to one single_choice question per row ({'/'.join(codes.values())})")
        parent_condition = self.condition(owner, question.relevance)
        converted = []
        for row in rows:
            data, condition = self._row_question(question, row, owner, "single_choice", parent_condition)
            data["options"] = options
            symbol = _Symbol(data["key"], "choice", dict(codes))
            converted.append(self._finish_row(data, condition, question, row, symbol))
        return converted

    def _input_rows(self, question: _Question, owner: str) -> list[dict[str, Any]]:
        rows = self._rows(question, owner)
        if not rows:
            return []
        kind = "number" if question.type == "K" else "text"
        self.note(owner, f"converted to one {kind} question per subquestion")
        parent_condition = self.condition(owner, question.relevance)
        converted = []
        for row in rows:
            data, condition = self._row_question(question, row, owner, kind, parent_condition)
            if kind == "number":
                data.update(self._number_limits(question, owner))
            else:
                data.update(self._text_limits(question))
                data["privacy"] = "free_text"
            converted.append(self._finish_row(data, condition, question, row, _Symbol(data["key"], kind)))
        return converted

    def _five_point(self, question: _Question, owner: str) -> list[dict[str, Any]]:
        data = self._common(question, owner, "likert")
        data["scale"] = {"points": 5}
        self.symbols[question.code] = _Symbol(data["key"], "likert", points=5)
        return [self._with_show_if_last(data)]

    def _gender(self, question: _Question, owner: str) -> list[dict[str, Any]]:
        data = self._common(question, owner, "single_choice")
        stored = {answer.code.upper(): answer for answer in question.answers.get(0, [])}
        labels = self.fixed_labels(owner, GENDER_CODES.values())
        options = []
        for code, value in GENDER_CODES.items():
            label = labels[value]
            if code in stored:  # LimeSurvey's own labels, where the file has them
                fallback = label[self.languages[self.base]]
                label = self.text(owner, f"answer {code}", stored[code].texts, fallback=fallback)
            options.append({"value": value, "label": label})
        data["options"] = options
        self.note(owner, "converted to single_choice with the options female/male/diverse")
        self.symbols[question.code] = _Symbol(data["key"], "choice", dict(GENDER_CODES))
        return [self._with_show_if_last(data)]

    def _yes_no(self, question: _Question, owner: str) -> list[dict[str, Any]]:
        data = self._common(question, owner, "yes_no")
        self.symbols[question.code] = _Symbol(data["key"], "choice", dict(YES_NO_CODES))
        return [self._with_show_if_last(data)]

    def _number_limits(self, question: _Question, owner: str) -> dict[str, int]:
        limits: dict[str, int] = {}
        for attribute, name in (("min_num_value_n", "min"), ("max_num_value_n", "max")):
            raw = question.attributes.get(attribute, "").strip()
            if not raw:
                continue
            try:
                number = float(raw)
            except ValueError:
                self.note(owner, f"{attribute} {raw!r} not converted")
                continue
            limits[name] = math.ceil(number) if name == "min" else math.floor(number)
            if number != int(number):
                self.note(owner, f"{attribute} {raw} rounded to {limits[name]} (Stimmen numbers are whole numbers)")
        if "min" in limits and "max" in limits and limits["min"] > limits["max"]:
            self.note(owner, f"min {limits['min']} is greater than max {limits['max']}; limits not converted")
            return {}
        return limits

    def _number(self, question: _Question, owner: str) -> list[dict[str, Any]]:
        data = self._common(question, owner, "number")
        data.update(self._number_limits(question, owner))
        self.symbols[question.code] = _Symbol(data["key"], "number")
        return [self._with_show_if_last(data)]

    @staticmethod
    def _text_limits(question: _Question) -> dict[str, int]:
        maximum = _number(question.attributes.get("maximum_chars", ""), default=0)
        return {"max_length": min(maximum, TEXT_MAX_LENGTH)} if maximum >= 1 else {}

    def _text(self, question: _Question, owner: str) -> list[dict[str, Any]]:
        data = self._common(question, owner, TEXT_TYPES[question.type])
        data.update(self._text_limits(question))
        data["privacy"] = "free_text"
        self.symbols[question.code] = _Symbol(data["key"], "text")
        return [self._with_show_if_last(data)]

    def _date(self, question: _Question, owner: str) -> list[dict[str, Any]]:
        date_format = question.attributes.get("date_format", "").strip()
        if date_format.lower() in ("yyyy", "jjjj"):
            data = self._common(question, owner, "year")
            for attribute, name in (("date_min", "min"), ("date_max", "max")):
                year = re.fullmatch(r"\s*(\d{4})(?:-\d{2}-\d{2})?\s*", question.attributes.get(attribute, ""))
                if year:
                    data[name] = int(year.group(1))
                elif question.attributes.get(attribute, "").strip():
                    self.note(owner, f"{attribute} {question.attributes[attribute]!r} not converted")
            self.note(owner, "year-only date converted to a year question")
            self.symbols[question.code] = _Symbol(data["key"], "number")
        else:
            data = self._common(question, owner, "text")
            data["max_length"] = 40
            shown = f" (LimeSurvey format {date_format!r})" if date_format else ""
            self.note(owner, f"dates are not a Stimmen question type; imported as a text question{shown}")
            self.symbols[question.code] = _Symbol(data["key"], "text")
        return [self._with_show_if_last(data)]

    def _info(self, question: _Question, owner: str) -> list[dict[str, Any]]:
        data = self._common(question, owner, "info")
        self.symbols[question.code] = _Symbol(data["key"], "info")
        return [self._with_show_if_last(data)]
