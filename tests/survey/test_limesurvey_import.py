"""Importing LimeSurvey survey structure files (.lss): survey/limesurvey.py and the import_limesurvey command.

The real exports live outside the repository in ../shared/limesurvey/ (read-only); every file there is
converted and checked against an independent reading of the same XML. The focused tests build small .lss
documents in both layouts (LimeSurvey <= 3: texts in the rows, one row per language; LimeSurvey >= 4:
texts in *_l10ns tables).
"""

import re
from io import StringIO
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import pytest
from defusedxml import ElementTree
from django.core.management import CommandError, call_command

from survey.definition import load_definition_file, parse_definition
from survey.limesurvey import (
    LimeSurveyImportError,
    html_to_text,
    import_lss,
    sanitise_key,
    slugify,
    stimmen_language,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_LIMESURVEY = (REPO_ROOT / ".." / "shared" / "limesurvey").resolve()
SHARED_FILES = (
    sorted(path for path in SHARED_LIMESURVEY.iterdir() if path.is_file()) if SHARED_LIMESURVEY.is_dir() else []
)

#: Parent types whose rows (subquestions of scale 0) each become one Stimmen question.
PER_ROW_TYPES = frozenset("FHABECKQ")
#: A note about a whole question: "<code> (type '<t>' <name>): <message>".
QUESTION_NOTE = re.compile(r"^(?P<code>\S+) \(type '(?P<type>.)' [^:]*\): (?P<message>.+)$")


# ------------------------------------------------------------------------------------- the shared exports


def test_the_shared_limesurvey_folder_exists_and_has_files():
    assert SHARED_LIMESURVEY.is_dir(), f"missing folder with LimeSurvey exports: {SHARED_LIMESURVEY}"
    assert SHARED_FILES, f"no files in {SHARED_LIMESURVEY}"


def _read_lss(path: Path) -> dict[str, Any]:
    """What the .lss says, read independently of the importer."""
    root = ElementTree.fromstring(path.read_bytes(), forbid_dtd=True)

    def rows(table: str) -> list[dict[str, str]]:
        return [{cell.tag: cell.text or "" for cell in row} for row in root.findall(f"{table}/rows/row")]

    parents: dict[str, dict[str, str]] = {}
    rows_of: dict[str, set[str]] = {}
    for row in rows("questions") + rows("subquestions"):
        if row.get("parent_qid", "0") in ("", "0"):
            parents[row["qid"]] = row  # LimeSurvey <= 3 repeats the row per language: one per qid
        elif row.get("scale_id", "0") in ("", "0"):
            rows_of.setdefault(row["parent_qid"], set()).add(row["qid"])
    settings = rows("surveys")[0]
    languages = [settings["language"], *settings.get("additional_languages", "").split()]
    group_names = {row["group_name"] for row in rows("group_l10ns") + rows("groups") if row.get("group_name")}
    return {"parents": parents, "rows_of": rows_of, "languages": languages, "group_names": group_names}


def _expected_question_count(lss: dict[str, Any], left_out_codes: set[str]) -> int:
    """The counting rule: every parent question counts once, except an array whose rows become separate
    questions (F, H, A, B, E, C, and K, Q), which counts its rows; questions reported as left out count 0."""
    count = 0
    for qid, row in lss["parents"].items():
        if row["title"] in left_out_codes:
            continue
        count += len(lss["rows_of"].get(qid, ())) if row["type"] in PER_ROW_TYPES else 1
    return count


def _stimmen_language(code: str) -> str:
    return code.lower().removesuffix("-informal")


@pytest.mark.parametrize("path", SHARED_FILES or [SHARED_LIMESURVEY], ids=lambda path: path.name)
def test_every_shared_export_converts_into_a_loadable_definition(path: Path):
    assert path.is_file(), f"no LimeSurvey exports to test in {SHARED_LIMESURVEY}"
    lss = _read_lss(path)
    result = import_lss(path.read_bytes())

    definition = parse_definition(result.definition)

    codes = {row["title"]: row["type"] for row in lss["parents"].values()}
    left_out = {}
    for note in result.unconverted:
        match = QUESTION_NOTE.match(note)
        named_group = any(note.startswith(f"Group '{name}'") for name in lss["group_names"])
        assert (match and match["code"] in codes) or named_group or note.startswith("Survey: "), (
            f"note names no question or group of the file: {note}"
        )
        if match and match["message"].endswith("left out"):
            assert codes[match["code"]] == match["type"], note
            left_out[match["code"]] = match["type"]
    assert sum(1 for _ in definition.questions()) == _expected_question_count(lss, set(left_out))
    assert set(definition.languages) == {_stimmen_language(code) for code in lss["languages"]}
    assert definition.default_language == _stimmen_language(lss["languages"][0])


def test_the_sample_survey_converts_as_documented():
    """The LimeSurvey 7 sample survey (en + de) exercises nearly every question type."""
    path = SHARED_LIMESURVEY / "ls7_Samplesurvey_en_de.lss"
    assert path.is_file(), f"missing {path}"
    result = import_lss(path.read_bytes())
    definition = parse_definition(result.definition)

    assert definition.slug == "ls7-sample-survey"
    assert definition.languages == ("en", "de")
    assert dict(definition.title) == {"en": "LS7 - Sample-Survey", "de": "LS7 - Beispielumfrage"}
    array_row = definition.question("q002_sq001")
    assert (array_row.type, array_row.scale.points) == ("likert", 4)
    assert dict(array_row.scale.low) == {"en": "OPTION A", "de": "OPTION A de"}
    assert definition.question("g01q10_sq004").scale.points == 10
    assert definition.question("g00q02").scale.points == 5
    gender = definition.question("g05q30")
    assert [option.value for option in gender.options] == ["female", "male", "diverse"]
    assert dict(gender.options[1].label) == {"en": "Male", "de": "Männlich"}
    assert definition.question("g05q35").label["en"] == "Text display\n\nJust a displayed text."
    assert definition.question("g05q36").type == "yes_no"
    assert definition.question("g04q22").type == "long_text"
    assert definition.question("g04q26").type == "text"
    assert "BMI (type '*' equation): not supported, left out" in result.unconverted
    assert "G05Q29 (type '|' file upload): not supported, left out" in result.unconverted


# ------------------------------------------------------------------------------ building small .lss files


def _table(name: str, rows: list[dict[str, Any]]) -> str:
    if not rows:
        return ""
    fields = list(dict.fromkeys(field for row in rows for field in row))
    head = "".join(f"<fieldname>{field}</fieldname>" for field in fields)
    body = "".join("<row>" + "".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in row.items()) + "</row>" for row in rows)
    return f"<{name}><fields>{head}</fields><rows>{body}</rows></{name}>"


def lss(
    groups: list[dict[str, Any]],
    *,
    languages: tuple[str, ...] = ("en",),
    title: dict[str, str] | None = None,
    layout: str = "old",
) -> bytes:
    """A LimeSurvey structure export; ``layout`` "old" (LimeSurvey <= 3) or "new" (>= 4, *_l10ns tables).

    A group: {gid, name: {lang: text}, relevance, questions}; a question: {qid, code, type, text, help,
    mandatory, other, relevance, answers: [(code, {lang: text})], rows: [(code, {lang: text})], attributes}.
    """
    sid = "123456"
    title = title or {language: f"Test survey {language}" for language in languages}
    tables: dict[str, list[dict[str, Any]]] = {
        name: []
        for name in ("answers", "answer_l10ns", "groups", "group_l10ns", "questions", "subquestions", "question_l10ns")
    }
    attributes = []
    ids = iter(range(1000, 100000))
    for group_order, group in enumerate(groups, start=1):
        gid = group["gid"]
        structure = {"gid": gid, "sid": sid, "group_order": group_order, "grelevance": group.get("relevance", "")}
        for language in languages:
            texts = {"group_name": group["name"].get(language, ""), "description": ""}
            if layout == "old":
                tables["groups"].append({**structure, **texts, "language": language})
            else:
                tables["group_l10ns"].append({"id": next(ids), "gid": gid, **texts, "language": language})
        if layout == "new":
            tables["groups"].append(structure)
        for order, question in enumerate(group["questions"], start=1):
            items = [(question, "0", order, "questions")]
            items += [
                (
                    {"qid": next(ids), "code": code, "type": "T", "text": texts},
                    question["qid"],
                    row_order,
                    "subquestions",
                )
                for row_order, (code, texts) in enumerate(question.get("rows", []))
            ]
            for item, parent, item_order, table in items:
                structure = {
                    "qid": item["qid"],
                    "parent_qid": parent,
                    "sid": sid,
                    "gid": gid,
                    "type": item["type"],
                    "title": item["code"],
                    "other": item.get("other", "N"),
                    "mandatory": item.get("mandatory", "N"),
                    "question_order": item_order,
                    "scale_id": 0,
                    "relevance": item.get("relevance", "1"),
                }
                for language in languages:
                    texts = {"question": item["text"].get(language, ""), "help": item.get("help", {}).get(language, "")}
                    if layout == "old":
                        tables[table].append({**structure, **texts, "language": language})
                    else:
                        tables["question_l10ns"].append(
                            {"id": next(ids), "qid": item["qid"], **texts, "language": language}
                        )
                if layout == "new":
                    tables[table].append(structure)
            for sort, (code, texts) in enumerate(question.get("answers", [])):
                structure = {
                    "qid": question["qid"],
                    "code": code,
                    "sortorder": sort,
                    "assessment_value": 0,
                    "scale_id": 0,
                }
                if layout == "old":
                    for language in languages:
                        tables["answers"].append({**structure, "answer": texts.get(language, ""), "language": language})
                else:
                    aid = next(ids)
                    tables["answers"].append({"aid": aid, **structure})
                    for language in languages:
                        tables["answer_l10ns"].append(
                            {"id": next(ids), "aid": aid, "answer": texts.get(language, ""), "language": language}
                        )
            attributes += [
                {"qid": question["qid"], "attribute": name, "value": value}
                for name, value in question.get("attributes", {}).items()
            ]
    survey = {"sid": sid, "language": languages[0], "additional_languages": " ".join(languages[1:])}
    settings = [
        {"surveyls_survey_id": sid, "surveyls_language": language, "surveyls_title": title.get(language, "")}
        for language in languages
    ]
    body = "".join(_table(name, rows) for name, rows in tables.items())
    body += _table("question_attributes", attributes) + _table("surveys", [survey])
    body += _table("surveys_languagesettings", settings)
    listed = "".join(f"<language>{language}</language>" for language in languages)
    version = 366 if layout == "old" else 640
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<document><LimeSurveyDocType>Survey</LimeSurveyDocType>'
        f"<DBVersion>{version}</DBVersion><languages>{listed}</languages>{body}</document>"
    ).encode()


def question(qid: int, code: str, kind: str, text: str = "", **extra: Any) -> dict[str, Any]:
    return {"qid": qid, "code": code, "type": kind, "text": {"en": text or f"Question {code}"}, **extra}


def en(text: str) -> dict[str, str]:
    return {"en": text}


EARLIER_QUESTIONS = [
    question(1, "Q1", "L", answers=[("A1", en("One")), ("A2", en("Two"))], other="Y"),
    question(2, "Q2", "Y"),
    question(3, "Q3", "M", rows=[("SQ1", en("Red")), ("SQ2", en("Blue"))]),
    question(4, "Q4", "N"),
    question(5, "Q5", "5"),
    question(6, "BMI", "*"),
]


def convert_with_relevance(relevance: str) -> tuple[dict[str, Any], list[str]]:
    """The converted target question QT (shown if ``relevance``) after the earlier questions, and the notes."""
    target = question(20, "QT", "T", relevance=relevance)
    later = question(21, "Q9", "Y")
    content = lss([{"gid": 1, "name": en("Everything"), "questions": [*EARLIER_QUESTIONS, target, later]}])
    result = import_lss(content)
    parse_definition(result.definition)
    converted = {q["key"]: q for step in result.definition["steps"] for q in step["questions"]}
    return converted["qt"], [note for note in result.unconverted if note.startswith("QT ")]


# ---------------------------------------------------------------------------------------------- relevance


@pytest.mark.parametrize(
    ("relevance", "show_if"),
    [
        ('Q1 == "A1"', {"question": "q1", "equals": "a1"}),
        ('Q1.NAOK == "A1"', {"question": "q1", "equals": "a1"}),
        ('Q2.NAOK == "Y"', {"question": "q2", "equals": "yes"}),
        ('Q1 != "A1"', {"not": {"question": "q1", "equals": "a1"}}),
        (
            "Q1 == 'A1' and Q2 == 'N'",
            {"all": [{"question": "q1", "equals": "a1"}, {"question": "q2", "equals": "no"}]},
        ),
        (
            '((Q1.NAOK == "A1") or (Q1.NAOK == "-oth-"))',
            {"any": [{"question": "q1", "equals": "a1"}, {"question": "q1", "equals": "other"}]},
        ),
        (
            'Q2 == "Y" && (Q1 == "A1" || Q1 == "A2")',
            {
                "all": [
                    {"question": "q2", "equals": "yes"},
                    {"any": [{"question": "q1", "equals": "a1"}, {"question": "q1", "equals": "a2"}]},
                ]
            },
        ),
        ('Q3_SQ2.NAOK == "Y"', {"question": "q3", "equals": "sq2"}),
        ('Q3_SQ2 != "Y"', {"not": {"question": "q3", "equals": "sq2"}}),
        ("Q4 >= 18", {"question": "q4", "gte": 18}),
        ("Q4.NAOK > 17", {"question": "q4", "gte": 18}),
        ("Q5 <= 2", {"question": "q5", "lte": 2}),
        ('Q5 == "4"', {"question": "q5", "equals": 4}),
        ("!is_empty(Q4)", {"question": "q4", "answered": True}),
        ('Q2 == ""', {"question": "q2", "answered": False}),
    ],
)
def test_simple_relevance_becomes_show_if(relevance, show_if):
    converted, notes = convert_with_relevance(relevance)
    assert converted["show_if"] == show_if
    assert notes == []


@pytest.mark.parametrize("relevance", ["1", "", "  1  ", "(1)"])
def test_always_relevant_gives_no_condition(relevance):
    converted, notes = convert_with_relevance(relevance)
    assert "show_if" not in converted
    assert notes == []


@pytest.mark.parametrize(
    ("relevance", "reason"),
    [
        ("sum(Q4.NAOK, Q5.NAOK) > 10", "function sum()"),
        ('Q1 == "A7"', "Q1 has no answer 'A7'"),
        ('Q9 == "Y"', "it uses Q9, which does not come before it"),
        ("BMI > 25", "it uses BMI, which was not converted"),
        ('Q1.shown == "One"', ".shown is not supported"),
        ("Q1 > 3", "Q1 is not a number"),
    ],
)
def test_unsupported_relevance_keeps_the_question_without_condition_and_notes_it(relevance, reason):
    converted, notes = convert_with_relevance(relevance)
    assert "show_if" not in converted
    assert len(notes) == 1
    assert notes[0].startswith("QT (type 'T' long free text): condition ")
    assert reason in notes[0]
    assert notes[0].endswith("the question is kept without condition")


def test_group_relevance_becomes_the_step_condition():
    groups = [
        {"gid": 1, "name": en("First"), "questions": [question(1, "Q1", "Y")]},
        {"gid": 2, "name": en("Second"), "relevance": 'Q1.NAOK == "Y"', "questions": [question(2, "Q2", "S")]},
    ]
    result = import_lss(lss(groups))
    definition = parse_definition(result.definition)
    assert definition.step("second").show_if == {"question": "q1", "equals": "yes"}
    assert result.unconverted == []


# ----------------------------------------------------------------------------------------------- texts


def test_html_is_stripped_to_plain_text_with_line_breaks():
    assert html_to_text("<p>Hallo&nbsp;<strong>Welt</strong></p>\n<p>Eins &amp; zwei<br />drei</p>") == (
        "Hallo Welt\n\nEins & zwei\ndrei"
    )
    assert html_to_text("<ul>\n<li>Bus</li>\n<li>Bahn</li>\n</ul>") == "- Bus\n- Bahn"
    assert html_to_text('<script>alert("x")</script><style>p {}</style>Text') == "Text"
    assert html_to_text("a &lt; b &quot;c&quot;") == 'a < b "c"'
    assert html_to_text("plain\ntext") == "plain\ntext"
    assert html_to_text('<img alt="Ein Hund" src="/upload/dog.png"/>') == "Ein Hund"
    assert html_to_text("<p> </p>") == ""


def test_question_texts_are_imported_as_plain_text():
    html = '<p style="text-align:center"><b>Wie alt</b> bist&nbsp;du?</p><p>Bitte &quot;ehrlich&quot;.</p>'
    result = import_lss(
        lss([{"gid": 1, "name": en("<em>Über</em> dich"), "questions": [question(1, "Q1", "N", html)]}])
    )
    definition = parse_definition(result.definition)
    assert definition.question("q1").label["en"] == 'Wie alt bist du?\n\nBitte "ehrlich".'
    assert definition.steps[0].title["en"] == "Über dich"
    assert definition.steps[0].key == "ueber_dich"


def test_image_only_answers_use_the_file_name_and_are_noted():
    answers = [("A1", en('<img alt="" src="/upload/fire.png" />')), ("A2", en("Leaves"))]
    result = import_lss(lss([{"gid": 1, "name": en("G"), "questions": [question(1, "Q1", "L", answers=answers)]}]))
    options = result.definition["steps"][0]["questions"][0]["options"]
    assert options[0]["label"] == {"en": "fire.png"}
    assert any(note.startswith("Q1 (type 'L'") and "image" in note for note in result.unconverted)


# ----------------------------------------------------------------------------------------------- keys


@pytest.mark.parametrize(
    ("code", "key"),
    [
        ("Q1", "q1"),
        ("G01Q02", "g01q02"),
        ("1stChoice", "q_1stchoice"),
        ("Größe-in cm", "groesse_in_cm"),
        ("__x__", "x"),
        ("", "q"),
        ("A" * 80, "a" * 60),
    ],
)
def test_codes_are_sanitised_into_keys(code, key):
    assert sanitise_key(code) == key
    assert re.fullmatch(r"[a-z][a-z0-9_]*", key)


def test_keys_and_option_values_are_valid_and_unique_in_an_import():
    questions = [
        question(1, "1st", "L", answers=[("1", en("One")), ("a-1", en("Two")), ("A_1", en("Three"))]),
        question(2, "Q1", "S"),
        question(3, "q1", "S"),
    ]
    result = import_lss(lss([{"gid": 1, "name": en("G"), "questions": questions}]))
    definition = parse_definition(result.definition)
    assert [q.key for q in definition.questions()] == ["q_1st", "q1", "q1_2"]
    assert [option.value for option in definition.question("q_1st").options] == ["a_1", "a_1_2", "a_1_3"]
    assert "q1 (type 'S' short free text): key 'q1' is already taken; imported as 'q1_2'" in result.unconverted


def test_slug_comes_from_the_title_or_the_survey_id():
    assert slugify("LS7 - Sample-Survey!") == "ls7-sample-survey"
    assert slugify("Jugendbefragung Dortmund 2025 – Ausbildung & Arbeit") == (
        "jugendbefragung-dortmund-2025-ausbildung-arbeit"
    )
    assert len(slugify("x " * 100)) <= 80
    groups = [{"gid": 1, "name": en("G"), "questions": [question(1, "Q1", "S")]}]
    assert import_lss(lss(groups, title={"en": "???"})).definition["slug"] == "limesurvey-123456"


# ------------------------------------------------------------------------------ languages and layouts


def test_language_codes_are_mapped_to_stimmen_codes():
    assert stimmen_language("de-informal") == "de"
    assert stimmen_language("en") == "en"
    assert stimmen_language("pt-BR") == "pt-br"
    assert stimmen_language("zh-Hant-HK") == "zh-hant"
    assert stimmen_language("!!") is None


def test_every_language_gets_every_text_and_missing_translations_fall_back_with_a_note():
    q1 = {
        "qid": 1,
        "code": "Q1",
        "type": "L",
        "text": {"de-informal": "Was machst du?", "ar": ""},
        "answers": [("A1", {"de-informal": "Schule", "ar": "المدرسة"})],
    }
    groups = [{"gid": 1, "name": {"de-informal": "Du", "ar": "أنت"}, "questions": [q1]}]
    result = import_lss(lss(groups, languages=("de-informal", "ar"), title={"de-informal": "Umfrage"}))
    definition = parse_definition(result.definition)
    assert definition.languages == ("de", "ar")
    assert dict(definition.question("q1").label) == {"de": "Was machst du?", "ar": "Was machst du?"}
    assert dict(definition.question("q1").options[0].label) == {"de": "Schule", "ar": "المدرسة"}
    assert dict(definition.title) == {"de": "Umfrage", "ar": "Umfrage"}
    assert "Q1 (type 'L' list (radio)): no 'ar' text for question text; the 'de-informal' text is used instead" in (
        result.unconverted
    )
    assert "Survey: no 'ar' text for title; the 'de-informal' text is used instead" in result.unconverted


SURVEY_OF_EVERY_KIND = [
    {
        "gid": 7,
        "name": en("Choices"),
        "questions": [
            question(1, "L1", "L", answers=[("A1", en("One")), ("A2", en("Two"))], other="Y", mandatory="Y"),
            question(2, "M1", "M", rows=[("SQ1", en("Red")), ("SQ2", en("None"))], attributes={"max_answers": "1"}),
            question(
                3,
                "F1",
                "F",
                "Rate",
                rows=[("R1", en("Bus")), ("R2", en("Tram"))],
                answers=[("A1", en("bad")), ("A2", en("ok")), ("A3", en("good"))],
            ),
            question(4, "A1", "A", rows=[("R1", en("Bus"))]),
            question(5, "G1", "G"),
            question(6, "D1", "D", attributes={"date_format": "yyyy"}),
            question(7, "D2", "D", attributes={"date_format": "dd.mm.yyyy"}),
        ],
    },
    {"gid": 8, "name": en("Empty"), "questions": []},
    {
        "gid": 9,
        "name": en("More"),
        "questions": [
            question(10, "X1", "X", "<b>Thanks</b>"),
            question(11, "U1", "U", attributes={"maximum_chars": "500"}),
            question(12, "EQ", "*"),
            question(13, "R1", "R", answers=[("A1", en("a"))]),
        ],
    },
]


@pytest.mark.parametrize("layout", ["old", "new"])
def test_both_layouts_convert_every_kind_the_same_way(layout):
    result = import_lss(lss(SURVEY_OF_EVERY_KIND, layout=layout))
    definition = parse_definition(result.definition)
    kinds = {q.key: q.type for q in definition.questions()}
    assert kinds == {
        "l1": "single_choice",
        "m1": "multi_choice",
        "f1_r1": "likert",
        "f1_r2": "likert",
        "a1_r1": "likert",
        "g1": "single_choice",
        "d1": "year",
        "d2": "text",
        "x1": "info",
        "u1": "long_text",
    }
    l1 = definition.question("l1")
    assert (l1.required, l1.other, [o.value for o in l1.options]) == (True, True, ["a1", "a2"])
    assert definition.question("m1").max_choices == 1
    f1 = definition.question("f1_r2")
    assert (f1.scale.points, f1.scale.low["en"], f1.scale.high["en"]) == (3, "bad", "good")
    assert f1.label["en"] == "Rate – Tram"
    assert definition.question("a1_r1").scale.points == 5
    assert definition.question("u1").max_length == 500
    assert [step.key for step in definition.steps] == ["choices", "more"]
    assert "Group 'Empty': has no questions, left out" in result.unconverted
    assert "EQ (type '*' equation): not supported, left out" in result.unconverted
    assert "R1 (type 'R' ranking): not supported, left out" in result.unconverted
    assert any(note.startswith("D2 (type 'D' date/time): dates are not") for note in result.unconverted)
    assert any(note.startswith("F1 (type 'F' array): converted to one likert") for note in result.unconverted)


def test_the_old_and_the_new_layout_give_the_same_definition():
    old = import_lss(lss(SURVEY_OF_EVERY_KIND, layout="old"))
    new = import_lss(lss(SURVEY_OF_EVERY_KIND, layout="new"))
    assert old.definition == new.definition
    assert old.unconverted == new.unconverted


# ---------------------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not xml at all", "not readable XML"),
        (b"<survey><title>x</title></survey>", "not a LimeSurvey export"),
        (
            b"<document><LimeSurveyDocType>Question</LimeSurveyDocType></document>",
            "a LimeSurvey 'Question' export, not a survey structure",
        ),
        (
            b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>'
            b"<document><LimeSurveyDocType>&b;</LimeSurveyDocType></document>",
            "refused unsafe XML",
        ),
    ],
)
def test_what_is_not_a_limesurvey_structure_file_is_refused(content, message):
    with pytest.raises(LimeSurveyImportError, match=re.escape(message)):
        import_lss(content)


# ------------------------------------------------------------------------------------------- command


def test_the_command_writes_a_yaml_definition_that_loads_back(tmp_path):
    source = SHARED_LIMESURVEY / "ls7_Samplesurvey_en_de.lss"
    assert source.is_file(), f"missing {source}"
    target = tmp_path / "sample.yaml"
    out, err = StringIO(), StringIO()

    call_command("import_limesurvey", str(source), "--out", str(target), stdout=out, stderr=err)

    definition, data = load_definition_file(target)
    result = import_lss(source.read_bytes())
    assert data == result.definition
    assert "6 steps, 58 questions, 2 languages (en, de)" in out.getvalue()
    warnings = [line for line in err.getvalue().splitlines() if line.startswith("warning: ")]
    assert warnings == [f"warning: {note}" for note in result.unconverted]
    text = target.read_text(encoding="utf-8")
    assert "Männlich" in text  # allow_unicode: no \\u escapes
    assert "&id" not in text and "*id" not in text  # no YAML aliases
    assert text.startswith("slug: ls7-sample-survey\ntitle:")  # sort_keys=False: the definition's order
    assert definition.slug == "ls7-sample-survey"


def test_the_command_refuses_a_file_that_is_not_a_limesurvey_structure(tmp_path):
    source = tmp_path / "question.lsq"
    source.write_bytes(b"<document><LimeSurveyDocType>Question</LimeSurveyDocType></document>")
    with pytest.raises(CommandError, match="not a LimeSurvey survey structure file"):
        call_command("import_limesurvey", str(source), "--out", str(tmp_path / "x.yaml"), stdout=StringIO())
    assert not (tmp_path / "x.yaml").exists()


def test_the_command_prints_the_problems_when_the_result_does_not_load(tmp_path):
    source = tmp_path / "only-equations.lss"
    source.write_bytes(lss([{"gid": 1, "name": en("G"), "questions": [question(1, "EQ", "*")]}]))
    err = StringIO()
    with pytest.raises(CommandError, match="problem"):
        call_command("import_limesurvey", str(source), "--out", str(tmp_path / "x.yaml"), stdout=StringIO(), stderr=err)
    assert "steps: [] should be non-empty" in err.getvalue()
    assert "warning: EQ (type '*' equation): not supported, left out" in err.getvalue()
    assert not (tmp_path / "x.yaml").exists()
