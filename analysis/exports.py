"""Exports of anonymised data: microdata (CSV, XLSX, SPSS ``.sav``, Stata ``.dta``) and its codebook.

Every export enforces k-anonymity on its quasi-identifier columns itself (:func:`analysis.privacy.kanonymity.enforce`),
so what leaves the platform is k-anonymous even if the sweep has not yet seen the newest records. How values
are coded in ``.sav``/``.dta`` (integer codes, value labels, -1/-2 for missing) is decided by
:mod:`analysis.codebook`; ``docs/exports.md`` describes the formats. These functions only write files:
who may export and the log of exports are :mod:`analysis.export_jobs`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import IO, Any

import pandas as pd

from analysis.anonymisation import qi_frame, quasi_identifiers
from analysis.codebook import (
    HEADINGS,
    NO_ANSWER,
    SUPPRESSED_CODE,
    Codebook,
    Kind,
    codebook_build,
    codebook_html,
    codebook_markdown,
    codebook_rows,
    truncate,
)
from analysis.models import AnonymisedResponse
from analysis.privacy.kanonymity import SUPPRESSED, enforce
from survey.definition import QuestionType
from survey.models import Campaign, SurveyVersion

MICRODATA_FORMATS = ("csv", "xlsx", "sav", "dta")
CODEBOOK_FORMATS = ("md", "html")
AGGREGATE_FORMATS = ("csv", "xlsx")
#: What the ``export`` command and :func:`export_write` can produce today (a data package is a directory).
AVAILABLE = (
    {("microdata", fmt) for fmt in MICRODATA_FORMATS}
    | {("codebook", fmt) for fmt in CODEBOOK_FORMATS}
    | {("aggregates", fmt) for fmt in AGGREGATE_FORMATS}
    | {("datapackage", "dir")}
)
#: What ``--what`` defaults its format to when it has only one.
DEFAULT_FORMATS = {"datapackage": "dir"}
#: File name ending of each format.
SUFFIXES = {"csv": ".csv", "xlsx": ".xlsx", "sav": ".sav", "dta": ".dta", "md": ".md", "html": ".html", "dir": ""}
NO_SNAPSHOT = "Campaign {slug} has no published aggregates yet: build a snapshot first (manage.py aggregate)."

# Limits of the formats (texts beyond them are cut and end in "…").
SPSS_VARIABLE_LABEL_BYTES = 256
SPSS_VALUE_LABEL_BYTES = 120
SPSS_FILE_LABEL_BYTES = 64
STATA_LABEL_CHARS = 80
STATA_VALUE_LABEL_CHARS = 32_000
# Text starting with these would run as a formula in a spreadsheet (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell_text(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and pd.isna(value))


def _microdata_columns(campaign: Campaign) -> dict[str, list[Any]]:
    definition = campaign.definition
    # Not select_related("survey_version"): that would load the whole definition JSON once per record.
    records = list(
        AnonymisedResponse.objects.filter(campaign=campaign)
        .only("id", "week", "survey_version_id", "answers")
        .order_by("id")
    )
    numbers = dict(
        SurveyVersion.objects.filter(pk__in={record.survey_version_id for record in records}).values_list(
            "pk", "number"
        )
    )
    answers = [record.answers for record in records]
    qi, _report = enforce(qi_frame(definition, answers), campaign.k)
    qi_keys = {question.key for question in quasi_identifiers(definition)}

    columns: dict[str, list[Any]] = {
        "id": [str(record.id) for record in records],
        "week": [record.week.isoformat() for record in records],
        "survey_version": [numbers[record.survey_version_id] for record in records],
    }
    for question in definition.questions():
        if not question.takes_answer:
            continue
        values = [
            qi[question.key].iloc[n] if question.key in qi_keys else row.get(question.key)
            for n, row in enumerate(answers)
        ]
        values = [None if _missing(value) else value for value in values]
        if question.type is QuestionType.MULTI_CHOICE:
            for option in question.option_values():
                columns[f"{question.key}__{option}"] = [
                    None
                    if value is None
                    else SUPPRESSED
                    if value == SUPPRESSED
                    else int(option in (value.split("+") if isinstance(value, str) else value))
                    for value in values
                ]
        else:
            columns[question.key] = values
        if question.other and question.key not in qi_keys:
            columns[question.other_key] = [row.get(question.other_key) for row in answers]
    return columns


def microdata_values(*, campaign: Campaign) -> pd.DataFrame:
    """The microdata with the values as stored (k-anonymity enforced); :func:`microdata_frame` describes it.

    Every column has dtype ``object`` and holds the values themselves (``None`` when unanswered); texts are
    not protected against spreadsheet formulas: this is the input of the codebook and the ``.sav``/``.dta``
    writers, which store texts as texts.
    """
    return _values_frame(_microdata_columns(campaign))


def _values_frame(columns: dict[str, list[Any]]) -> pd.DataFrame:
    return pd.DataFrame({column: pd.Series(values, dtype=object) for column, values in columns.items()})


def _protected_frame(columns: dict[str, list[Any]]) -> pd.DataFrame:
    protected = {column: [_cell_text(value) for value in values] for column, values in list(columns.items())[3:]}
    return pd.DataFrame(columns | protected)  # dtypes inferred, as the aggregation expects


def microdata_frame(*, campaign: Campaign) -> pd.DataFrame:
    """One row per anonymised response, one column per answer; a multi-choice answer as ``<key>__<option>``.

    Columns: ``id`` (random), ``week`` (its Monday), ``survey_version`` (number), then the questions in the
    order of the definition; ``<key>_other`` follows a question with "other, namely". Multi-choice options
    are 0/1 (or :data:`SUPPRESSED` in every option column of a suppressed quasi-identifier). Rows are sorted
    by the random id, so their order says nothing about when anyone answered. Texts that a spreadsheet would
    run as a formula start with ``'``.
    """
    return _protected_frame(_microdata_columns(campaign))


def microdata_codebook(*, campaign: Campaign, frame: pd.DataFrame | None = None) -> Codebook:
    """The codebook of the campaign's microdata (values found in ``frame`` but not in the definition included)."""
    frame = microdata_values(campaign=campaign) if frame is None else frame
    observed = {column: frame[column].dropna().unique().tolist() for column in frame.columns[3:]}
    return codebook_build(
        definition=campaign.definition, districts=campaign.organisation.districts, observed=observed, k=campaign.k
    )


def microdata_csv(*, campaign: Campaign, out: str | Path | IO[str]) -> int:
    """Write the microdata of ``campaign`` as UTF-8 CSV to ``out``; returns the number of rows."""
    frame = microdata_frame(campaign=campaign)
    frame.to_csv(out, index=False, encoding="utf-8")
    return len(frame)


def _xlsx_cell(value: Any) -> Any:
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if _missing(value):
        return None
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", value)
    return value


def microdata_xlsx(*, campaign: Campaign, out: str | Path | IO[bytes]) -> int:
    """Write the microdata as an Excel workbook: sheet "data" (as the CSV) and sheet "codebook"."""
    from openpyxl import Workbook

    columns = _microdata_columns(campaign)
    frame = _protected_frame(columns)
    codebook = microdata_codebook(campaign=campaign, frame=_values_frame(columns))
    workbook = Workbook(write_only=True)
    data = workbook.create_sheet("data")
    data.append(list(frame.columns))
    for row in frame.itertuples(index=False, name=None):
        data.append([_xlsx_cell(value) for value in row])
    sheet = workbook.create_sheet("codebook")
    sheet.append(list(HEADINGS))
    for row in codebook_rows(codebook):
        sheet.append([_xlsx_cell(_cell_text(cell)) for cell in row])
    workbook.save(out)
    return len(frame)


def coded_frame(frame: pd.DataFrame, codebook: Codebook) -> pd.DataFrame:
    """The microdata as written to ``.sav``/``.dta``: codes for categories, numbers, strings; SPSS/Stata names."""
    coded: dict[str, pd.Series] = {}
    for variable in codebook.variables:
        values = [variable.code(value) for value in frame[variable.column].tolist()]
        dtype = {Kind.STRING: object, Kind.NUMBER: "float64", Kind.CATEGORICAL: "int32"}[variable.kind]
        coded[variable.name] = pd.Series(values, dtype=dtype)
    return pd.DataFrame(coded)


def _measure(variable: Any) -> str:
    if variable.kind == Kind.NUMBER:
        return "scale"
    if variable.question_type in ("likert", "year", "number"):
        return "ordinal"
    return "nominal"


def microdata_sav(*, campaign: Campaign, out: str | Path) -> int:
    """Write the microdata as SPSS ``.sav``: variable labels, value labels, -1/-2 as user-missing values."""
    import pyreadstat

    values = microdata_values(campaign=campaign)
    codebook = microdata_codebook(campaign=campaign, frame=values)
    categorical = [variable for variable in codebook.variables if variable.kind == Kind.CATEGORICAL]
    pyreadstat.write_sav(
        coded_frame(values, codebook),
        str(out),
        file_label=truncate(codebook.title, utf8_bytes=SPSS_FILE_LABEL_BYTES),
        column_labels={v.name: truncate(v.label, utf8_bytes=SPSS_VARIABLE_LABEL_BYTES) for v in codebook.variables},
        variable_value_labels={
            v.name: {
                code: truncate(label, utf8_bytes=SPSS_VALUE_LABEL_BYTES) for code, label in v.value_labels().items()
            }
            for v in categorical
        },
        missing_ranges={v.name: [NO_ANSWER, SUPPRESSED_CODE] for v in categorical},
        variable_measure={v.name: _measure(v) for v in codebook.variables},
        variable_format={v.name: "F8.0" for v in categorical},
    )
    return len(values)


def microdata_dta(*, campaign: Campaign, out: str | Path) -> int:
    """Write the microdata as Stata ``.dta`` (version 15): labels cut to 80 characters, -1/-2 labelled codes."""
    import pyreadstat

    values = microdata_values(campaign=campaign)
    codebook = microdata_codebook(campaign=campaign, frame=values)
    pyreadstat.write_dta(
        coded_frame(values, codebook),
        str(out),
        file_label=truncate(codebook.title, chars=STATA_LABEL_CHARS),
        column_labels={v.name: truncate(v.label, chars=STATA_LABEL_CHARS) for v in codebook.variables},
        variable_value_labels={
            v.name: {code: truncate(label, chars=STATA_VALUE_LABEL_CHARS) for code, label in v.value_labels().items()}
            for v in codebook.variables
            if v.kind == Kind.CATEGORICAL
        },
    )
    return len(values)


def codebook_write(*, campaign: Campaign, fmt: str, out: str | Path) -> int:
    """Write the codebook as Markdown (``md``) or HTML (``html``); returns the number of variables."""
    codebook = microdata_codebook(campaign=campaign)
    text = codebook_markdown(codebook) if fmt == "md" else codebook_html(codebook)
    Path(out).write_text(text, encoding="utf-8")
    return len(codebook.variables)


# --- Aggregates: the published (suppressed) tables of the latest snapshot ------------------------------------

#: Columns of the long form of the published tables (CSV, the XLSX sheet "long").
AGGREGATE_COLUMNS = ("table", "question", "breakdown", "group", "category", "count", "row_percentage", "note")


class NoSnapshot(LookupError):
    """The campaign has no aggregate snapshot to export."""


def _snapshot_data(campaign: Campaign) -> dict[str, Any]:
    from analysis.selectors import latest_snapshot

    snapshot = latest_snapshot(campaign=campaign)
    if snapshot is None:
        raise NoSnapshot(NO_SNAPSHOT.format(slug=campaign.slug))
    return snapshot.tables


def aggregate_rows(data: dict[str, Any]) -> list[tuple[Any, ...]]:
    """The published tables of a snapshot's JSON in long form: one row per cell, :data:`AGGREGATE_COLUMNS`.

    Cells are copied as published: a hidden cell stays its marker (``< k`` or ``•``), and its percentage stays empty.
    """
    rows = []
    for name, table in data["tables"].items():
        percentages = table.get("row_percentages") or [[None] * len(table["columns"])] * len(table["rows"])
        for group, cells, shares in zip(table["rows"], table["cells"], percentages, strict=True):
            for category, cell, share in zip(table["columns"], cells, shares, strict=True):
                breakdown = table.get("breakdown") or ""
                rows.append((name, table["question"], breakdown, group, category, cell, share, table.get("note", "")))
    return rows


def aggregates_csv(*, campaign: Campaign, out: str | Path | IO[str]) -> int:
    """Write the latest snapshot's published tables in long form as CSV; returns the number of tables."""
    data = _snapshot_data(campaign)
    pd.DataFrame(aggregate_rows(data), columns=list(AGGREGATE_COLUMNS)).to_csv(out, index=False, encoding="utf-8")
    return len(data["tables"])


def aggregates_xlsx(*, campaign: Campaign, out: str | Path | IO[bytes]) -> int:
    """Write the published tables as a workbook: "about", "tables" (each as published, with its note), "long"."""
    from openpyxl import Workbook

    data = _snapshot_data(campaign)
    workbook = Workbook(write_only=True)
    about = workbook.create_sheet("about")
    for row in (("campaign", campaign.slug), ("k", data.get("k")), ("respondents", data.get("respondents"))):
        about.append(list(row))
    about.append(["suppressed cells", data.get("suppressed_cells")])
    about.append(["note", data.get("note", "")])
    sheet = workbook.create_sheet("tables")
    for name, table in data["tables"].items():
        sheet.append([name])
        if table.get("note"):
            sheet.append([table["note"]])
        sheet.append([table.get("breakdown") or "", *table["columns"]])
        for group, cells in zip(table["rows"], table["cells"], strict=True):
            sheet.append([group, *cells])
        sheet.append([])
    long = workbook.create_sheet("long")
    long.append(list(AGGREGATE_COLUMNS))
    for row in aggregate_rows(data):
        long.append([_xlsx_cell(value) for value in row])
    workbook.save(out)
    return len(data["tables"])


def _resource_name(table: str, taken: set[str]) -> str:
    base = re.sub(r"[^a-z0-9_]+", "-", table.lower()).strip("-") or "table"
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}-{n}"
    taken.add(name)
    return name


def aggregates_datapackage(*, campaign: Campaign, out: str | Path) -> int:
    """Write a Frictionless Data Package into the new directory ``out``: one CSV per published table.

    Each resource's table schema has a string field for the groups and an integer field per column; the
    hidden-cell markers (``< k``, ``•``) are missing values of the schema, so a hidden cell is read as empty.
    """
    from analysis.disclosure import SECONDARY_MARKER, primary_marker

    data = _snapshot_data(campaign)
    directory = Path(out)
    directory.mkdir(parents=True)
    resources, taken = [], set()
    missing = ["", primary_marker(data["k"]), SECONDARY_MARKER]
    for table_name, table in data["tables"].items():
        name = _resource_name(table_name, taken)
        first = table.get("breakdown") or "group"
        header = ["group" if first in table["columns"] else first, *table["columns"]]
        frame = pd.DataFrame([[group, *cells] for group, cells in zip(table["rows"], table["cells"], strict=True)])
        frame.to_csv(directory / f"{name}.csv", index=False, header=header, encoding="utf-8")
        fields = [{"name": header[0], "type": "string", "title": "group"}]
        fields += [{"name": column, "type": "integer"} for column in table["columns"]]
        resources.append(
            {
                "name": name,
                "path": f"{name}.csv",
                "title": table_name,
                "description": table.get("note", ""),
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "schema": {"fields": fields, "missingValues": missing},
            }
        )
    package = {
        "name": re.sub(r"[^a-z0-9_.-]+", "-", campaign.slug.lower()),
        "title": f"{campaign.title}: published aggregates",
        "description": data.get("note", "") or "Published aggregates; no cell is hidden.",
        "resources": resources,
    }
    (directory / "datapackage.json").write_text(json.dumps(package, ensure_ascii=False, indent=2), encoding="utf-8")
    return len(resources)


_MICRODATA_WRITERS = {"csv": microdata_csv, "xlsx": microdata_xlsx, "sav": microdata_sav, "dta": microdata_dta}


def export_write(*, campaign: Campaign, what: str, fmt: str, out: str | Path) -> int:
    """Write one export of ``campaign`` to ``out``; returns its rows (records; codebook: variables; tables).

    ``out`` is a file, or for a data package a directory that does not exist yet. Aggregates come from the
    latest snapshot (:class:`NoSnapshot` if there is none).

    Raises ``ValueError`` for a combination not in :data:`AVAILABLE`.
    """
    if (what, fmt) not in AVAILABLE:
        raise ValueError(f"Export of {what} as {fmt} is not available.")
    if what == "codebook":
        return codebook_write(campaign=campaign, fmt=fmt, out=out)
    if what == "aggregates":
        return (aggregates_csv if fmt == "csv" else aggregates_xlsx)(campaign=campaign, out=out)
    if what == "datapackage":
        return aggregates_datapackage(campaign=campaign, out=out)
    return _MICRODATA_WRITERS[fmt](campaign=campaign, out=out)
