"""The researchers' pages under ``/analysis/``: aggregates of a campaign, never a single response.

Every page renders from the campaign's latest :class:`~analysis.models.AggregateSnapshot`, read through
:mod:`analysis.selectors`: its tables were suppressed jointly by :mod:`analysis.disclosure` when the snapshot
was built, and the pages show them as published — counts, the one marker for hidden cells, the percentages
the table publishes, the table's note and its number of hidden cells. No view here reads
``AnonymisedResponse`` or ``Response`` or counts anything, so a page costs the same few queries whether a
campaign has ten answers or a hundred thousand.

Access (the same contract as ``survey.permissions.organisation_required`` for staff pages, with the
organisation taken from the campaign, whose slug is unique): sign-in required (else a redirect to the
login); a user who may not view the campaign's aggregates (:data:`survey.rules.VIEW_AGGREGATES`: admin,
staff or researcher of its organisation) gets a 404, so campaigns of other organisations are not even
confirmed to exist; building a snapshot needs :data:`survey.rules.MANAGE_CAMPAIGNS` (staff), else 403.

The exports page is the one exception to "aggregates only": it offers the files of
:mod:`analysis.export_jobs` — the published tables to every member, the anonymised microdata and its
codebook only to those with :data:`survey.rules.EXPORT_MICRODATA` (``export_jobs.export_allowed``; a button the
user may not use is hidden, and posting it anyway is a 403). Downloads go only to the user who asked for them.
"""

from __future__ import annotations

import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from analysis import charts, export_jobs, selectors
from analysis.disclosure import NOTE, SECONDARY_MARKER, TOTAL, is_hidden, note_for
from analysis.forms import BreakdownForm, CompareForm, CrosstabForm
from analysis.models import AggregateSnapshot, ExportJob
from survey.definition import QuestionType
from survey.definition.model import NO, OTHER_VALUE, YES, Privacy, Question, SurveyDefinition
from survey.districts import OUTSIDE_CITY, district_value
from survey.models import Campaign
from survey.rules import MANAGE_CAMPAIGNS, VIEW_AGGREGATES

#: Question types with a page of their own: a fixed set of answers, or numbers (answered + statistics).
RESULT_TYPES = frozenset(
    {
        QuestionType.SINGLE_CHOICE,
        QuestionType.MULTI_CHOICE,
        QuestionType.LIKERT,
        QuestionType.YES_NO,
        QuestionType.DISTRICT,
        QuestionType.NUMBER,
        QuestionType.YEAR,
    }
)

NO_SNAPSHOT = _("No results have been published for this campaign yet.")
AGGREGATE_QUEUED = _("The results are being calculated. Reload this page in a few minutes.")
AGGREGATE_UNAVAILABLE = _("Calculating results is not available on this installation yet.")
NOT_PUBLISHED = _("This table is not part of the published results.")
NOTHING_IN_COMMON = _("The two campaigns have no published questions in common.")

#: Labels of the categories that the aggregation adds to the answer options (``analysis.aggregation``).
SPECIAL_CATEGORIES = {
    TOTAL: _("Total"),
    "_no_answer": _("No answer"),
    "suppressed": _("Withheld for anonymity"),
    "answered": _("Answered"),
    "ticked": _("Ticked"),
    "not_ticked": _("Not ticked"),
    "_completed": _("Completed the survey"),
    OUTSIDE_CITY: _("Outside the city"),
}

#: The Masterplan Migration/Integration themes of the demo survey; other theme keys are shown as written.
THEMES = {
    "bildung": _("Education"),
    "ausbildung": _("Vocational training"),
    "arbeit": _("Work"),
    "sprache": _("Language"),
    "anerkennung": _("Recognition of qualifications"),
    "beratung": _("Counselling and support"),
    "teilhabe": _("Participation"),
}


# --------------------------------------------------------------------------------------------------
# What a page shows: a published table turned into labelled rows and cells
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CellView:
    """One published cell: the count (or the marker) and its percentage text where the table publishes one."""

    value: int | str
    percentage: str = ""

    @property
    def hidden(self) -> bool:
        return not isinstance(self.value, int) or isinstance(self.value, bool)


@dataclass(frozen=True)
class RowView:
    label: str
    cells: Sequence[CellView]
    is_total: bool = False


@dataclass(frozen=True)
class TableView:
    """A published table ready for a template: header labels, rows, and the table's own note."""

    caption: str
    columns: Sequence[str]
    rows: Sequence[RowView]
    note: str = ""
    suppressed_count: int = 0
    column_keys: Sequence[str] = field(default_factory=list)


def published_value(value: Any) -> int | str:
    """A published count as an int, a marker as it is ("< k" or "•"); any other value is shown as "•"."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value if is_hidden(value) else SECONDARY_MARKER


def percentage_text(value: Any) -> str:
    if value is None or isinstance(value, str):
        return ""
    return f"{float(value):.1f} %"


def _label_for(labels: Mapping[str, str], key: Any) -> str:
    key = str(key)
    if key in labels:
        return labels[key]
    if key in SPECIAL_CATEGORIES:
        return str(SPECIAL_CATEGORIES[key])
    return key


def table_view(
    table: Mapping[str, Any],
    *,
    caption: str,
    column_labels: Mapping[str, str],
    row_labels: Mapping[str, str] | None = None,
) -> TableView:
    """Turn one published table (``docs/aggregation.md``, "A published table") into what templates render.

    Only the published cells (ints or the marker), the published row percentages, the note and the number
    of hidden cells are read. A hidden cell never gets a percentage, whatever the table says.
    """
    columns = [str(column) for column in table["columns"]]
    percentages = table.get("row_percentages") or [[None] * len(columns) for _row in table["rows"]]
    rows = []
    for key, values, shares in zip(table["rows"], table["cells"], percentages, strict=True):
        cells = []
        for value, share in zip(values, shares, strict=True):
            shown = published_value(value)
            cells.append(CellView(shown, "" if isinstance(shown, str) else percentage_text(share)))
        rows.append(RowView(label=_label_for(row_labels or {}, key), cells=cells, is_total=str(key) == TOTAL))
    note = table.get("note") or ""
    return TableView(
        caption=caption,
        columns=[_label_for(column_labels, column) for column in columns],
        rows=rows,
        note=gettext(note) if note else "",
        suppressed_count=int(table.get("suppressed_count") or 0),
        column_keys=columns,
    )


CHART_DESCRIPTION = _(
    "Bar chart of the counts in the table next to it, with the share in brackets. Hidden counts show their "
    "marker, as in the table."
)


def chart_svg(bars: Sequence[charts.Bar], *, title: str, chart_id: str) -> SafeString:
    description = str(CHART_DESCRIPTION)
    chart = charts.BarChart(title=title, description=description, bars=bars, chart_id=chart_id)
    return mark_safe(charts.bar_chart_svg(chart))  # noqa: S308 - bar_chart_svg escapes every text it writes  # nosec B308, B703


def row_bars(view: TableView, row: RowView) -> list[charts.Bar]:
    """The bars of one table row: its categories, without the Total column."""
    bars = []
    for key, label, cell in zip(view.column_keys, view.columns, row.cells, strict=True):
        if key == TOTAL:
            continue
        share = None if cell.hidden or not cell.percentage else float(cell.percentage.split()[0])
        bars.append(charts.Bar(label=label, value=cell.value, percentage=share))
    return bars


# --------------------------------------------------------------------------------------------------
# Labels from the survey definition, in the reader's language
# --------------------------------------------------------------------------------------------------


def _language(definition: SurveyDefinition) -> str:
    return (get_language() or definition.default_language).split("-")[0]


def question_label(definition: SurveyDefinition, question: Question) -> str:
    return definition.text(question.label, _language(definition))


def value_labels(campaign: Campaign, question: Question) -> dict[str, str]:
    """Answer value -> label for every value a table of ``question`` may hold (options, points, districts)."""
    definition = campaign.definition
    language = _language(definition)
    labels = {option.value: definition.text(option.label, language) for option in question.options}
    if question.other:
        labels.setdefault(OTHER_VALUE, gettext("Other"))
    if question.type is QuestionType.YES_NO:
        labels.update({YES: gettext("Yes"), NO: gettext("No")})
    if question.type is QuestionType.DISTRICT:
        labels.update({district_value(name): name for name in campaign.organisation.districts})
    if question.type is QuestionType.LIKERT and question.scale:
        points = question.scale.points
        if question.scale.low:
            labels["1"] = f"1 – {definition.text(question.scale.low, language)}"
        if question.scale.high:
            labels[str(points)] = f"{points} – {definition.text(question.scale.high, language)}"
    return labels


def result_questions(definition: SurveyDefinition) -> list[Question]:
    """The questions with a results page, in survey order (free text never has one)."""
    return [
        question
        for question in definition.questions()
        if question.type in RESULT_TYPES and question.privacy is not Privacy.FREE_TEXT
    ]


def theme_label(key: str) -> str:
    return str(THEMES.get(key, key.replace("_", " ").capitalize()))


def _breakdown_question(definition: SurveyDefinition, breakdown: str) -> Question | None:
    try:
        return definition.question(breakdown)
    except KeyError:
        return None


def breakdown_label(definition: SurveyDefinition, breakdown: str) -> str:
    question = _breakdown_question(definition, breakdown)
    return question_label(definition, question) if question else breakdown.replace("_", " ").capitalize()


def published_breakdowns(snapshot: AggregateSnapshot, question_key: str) -> list[str]:
    """The breakdowns the snapshot published for a question: single-choice ones, then multi-choice ones.

    Reads only the snapshot's index of tables (which cross-tabs exist), never a count.
    """
    data = snapshot.tables
    question = data["questions"].get(question_key)
    if question is None:
        return []
    crosstabs = question["crosstabs"]
    plain = [b for b in crosstabs if data["breakdowns"].get(b, {}).get("option") is None]
    multi = [b for b, indicators in data["multi_breakdowns"].items() if all(i in crosstabs for i in indicators)]
    return [*plain, *multi]


# --------------------------------------------------------------------------------------------------
# Access
# --------------------------------------------------------------------------------------------------


def viewable_campaign(request: HttpRequest, slug: str) -> Campaign:
    """The campaign if the user may view its aggregates; a 404 otherwise (never confirm other organisations)."""
    campaign = get_object_or_404(Campaign.objects.select_related("organisation", "survey_version__survey"), slug=slug)
    if not request.user.has_perm(VIEW_AGGREGATES, campaign):
        raise Http404
    return campaign


def viewable_campaigns(user: Any) -> list[Campaign]:
    """Every campaign of the user's organisations whose aggregates the user may view, newest first."""
    candidates = (
        Campaign.objects.filter(organisation__memberships__user=user)
        .select_related("organisation", "survey_version__survey")
        .distinct()
    )
    return [campaign for campaign in candidates if user.has_perm(VIEW_AGGREGATES, campaign)]


def exports_url(campaign: Campaign) -> str | None:
    """The campaign's exports page, if this installation has one (a colleague's ``analysis:exports``)."""
    try:
        return reverse("analysis:exports", kwargs={"campaign": campaign.slug})
    except NoReverseMatch:
        return None


def latest(campaign: Campaign) -> AggregateSnapshot | None:
    snapshot = selectors.latest_snapshot(campaign=campaign)
    if snapshot is not None:
        snapshot.campaign = campaign  # the readers need it; saves a query
    return snapshot


def _render(request: HttpRequest, template: str, campaign: Campaign, snapshot: Any, **extra: Any) -> HttpResponse:
    context = {
        "campaign": campaign,
        "organisation": campaign.organisation,
        "snapshot": snapshot,
        "no_snapshot_message": NO_SNAPSHOT,
        "can_aggregate": request.user.has_perm(MANAGE_CAMPAIGNS, campaign),
        "exports_url": exports_url(campaign),
        **extra,
    }
    return render(request, template, context)


# --------------------------------------------------------------------------------------------------
# Building blocks of the pages
# --------------------------------------------------------------------------------------------------


def question_block(
    campaign: Campaign, question: Question, result: Mapping[str, Any] | None, *, chart_prefix: str = "chart"
) -> dict[str, Any]:
    """Charts, table and statistics of one question from a :func:`analysis.selectors.snapshot_question` result.

    Overall: one chart. With a breakdown: one chart per group (the Total row is the overall chart).
    """
    definition = campaign.definition
    label = question_label(definition, question)
    breakdown = result.get("breakdown") if result else None
    row_header = breakdown_label(definition, breakdown) if breakdown else gettext("Respondents")
    block: dict[str, Any] = {"question": question, "label": label, "row_header": row_header, "table": None}
    if result is None:
        return block
    columns = value_labels(campaign, question)
    if breakdown:
        group_question = _breakdown_question(definition, breakdown)
        rows = value_labels(campaign, group_question) if group_question else {}
        caption = gettext("%(question)s by %(breakdown)s") % {"question": label, "breakdown": row_header}
    else:
        rows, caption = {TOTAL: gettext("All respondents")}, label
    view = table_view(result["table"], caption=caption, column_labels=columns, row_labels=rows)
    block_charts = []
    for position, row in enumerate(view.rows):
        if breakdown and row.is_total and len(view.rows) > 1:
            continue
        title = f"{label}: {row.label}" if breakdown else label
        svg = chart_svg(row_bars(view, row), title=title, chart_id=f"{chart_prefix}-{question.key}-{position}")
        block_charts.append({"title": title, "group": row.label, "svg": svg})
    block.update(table=view, charts=block_charts, statistics=_statistics(result, rows, breakdown), breakdown=breakdown)
    return block


def _statistics(result: Mapping[str, Any], group_labels: Mapping[str, str], breakdown: str | None) -> list[dict]:
    """Published statistics (Likert and number questions): overall, then per group; hidden ones as None."""
    statistics = result.get("statistics")
    if not statistics:
        return []
    rows = [{"label": gettext("All respondents"), "stat": statistics.get("overall")}]
    if breakdown:
        for group, stat in (statistics.get("by_group") or {}).items():
            rows.append({"label": _label_for(group_labels, group), "stat": stat})
    return rows


def overview_sections(campaign: Campaign, overview: Mapping[str, Any]) -> dict[str, Any]:
    """Key figures, the drop-off funnel and responses by district from :func:`snapshot_overview`."""
    definition = campaign.definition
    language = _language(definition)
    titles = {step.key: definition.text(step.title, language) for step in definition.steps}
    steps = []
    for position, step in enumerate(overview.get("funnel") or [], start=1):
        reached = published_value(step["reached"])
        drop = step.get("drop_off")
        steps.append(
            {
                "number": position,
                "label": titles.get(step["step"], step["step"]),
                "reached": reached,
                "hidden": is_hidden(reached),
                "drop_off": published_value(drop) if drop is not None else None,
                "conditional": step.get("conditional", False),
            }
        )
    funnel_values = [overview.get("started"), overview.get("completed"), *[step["reached"] for step in steps]]
    funnel_hidden = sum(1 for value in funnel_values if value is not None and isinstance(published_value(value), str))
    funnel_title = gettext("Respondents who reached each step")
    funnel_svg = chart_svg(
        [charts.Bar(label=f"{s['number']}. {s['label']}", value=s["reached"]) for s in steps],
        title=funnel_title,
        chart_id="chart-funnel",
    )
    district = None
    district_question = next((q for q in definition.questions() if q.type is QuestionType.DISTRICT), None)
    if overview.get("by_district") is not None and district_question is not None:
        caption = gettext("Responses by district")
        view = table_view(
            overview["by_district"],
            caption=caption,
            column_labels=value_labels(campaign, district_question),
            row_labels={TOTAL: gettext("All respondents")},
        )
        district = {"table": view, "svg": chart_svg(row_bars(view, view.rows[0]), title=caption, chart_id="chart-d")}
    rate = overview.get("completion_rate")
    return {
        "responses": published_value(overview.get("responses")),
        "started": published_value(overview["started"]) if overview.get("started") is not None else None,
        "completed": published_value(overview["completed"]) if overview.get("completed") is not None else None,
        "completion_rate": _completion_text(rate, overview.get("started"), overview.get("completed")),
        "funnel": {
            "steps": steps,
            "title": funnel_title,
            "svg": funnel_svg,
            "suppressed_count": funnel_hidden,
            "note": note_for(overview["k"], gettext(NOTE)) if funnel_hidden else "",
        }
        if steps
        else None,
        "district": district,
    }


def _completion_text(rate: Any, started: Any, completed: Any) -> str:
    """The completion rate as published; the marker if a count it needs is hidden; a dash if nobody started."""
    if isinstance(rate, int | float):
        return f"{100 * rate:.1f} %"
    if is_hidden(started) or is_hidden(completed):
        return SECONDARY_MARKER
    return "–"


# --------------------------------------------------------------------------------------------------
# Pages
# --------------------------------------------------------------------------------------------------


@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    """The campaigns of the user's organisations whose results the user may view."""
    campaigns = viewable_campaigns(request.user)
    organisations = {campaign.organisation for campaign in campaigns}
    context = {"campaigns": campaigns, "organisation": next(iter(organisations)) if len(organisations) == 1 else None}
    return render(request, "analysis/index.html", {"section": "index", **context})


@login_required
@require_GET
def overview(request: HttpRequest, campaign: str) -> HttpResponse:
    """Responses, completion rate, the drop-off funnel per step, responses by district, and the questions."""
    campaign_obj = viewable_campaign(request, campaign)
    definition = campaign_obj.definition
    snapshot = latest(campaign_obj)
    extra: dict[str, Any] = {
        "section": "overview",
        "questions": [(q, question_label(definition, q)) for q in result_questions(definition)],
    }
    if snapshot is not None:
        extra.update(overview_sections(campaign_obj, selectors.snapshot_overview(snapshot)))
    return _render(request, "analysis/overview.html", campaign_obj, snapshot, **extra)


@login_required
@require_GET
def question(request: HttpRequest, campaign: str, question: str) -> HttpResponse:
    """One question: bar chart and table, overall or by a published breakdown (GET form)."""
    campaign_obj = viewable_campaign(request, campaign)
    definition = campaign_obj.definition
    question_obj = next((q for q in result_questions(definition) if q.key == question), None)
    if question_obj is None:
        raise Http404
    snapshot = latest(campaign_obj)
    keys = published_breakdowns(snapshot, question_obj.key) if snapshot else []
    form = BreakdownForm(request.GET or None, breakdowns=[(key, breakdown_label(definition, key)) for key in keys])
    breakdown = (form.cleaned_data["breakdown"] or None) if form.is_valid() else None
    extra: dict[str, Any] = {"section": "question", "form": form, "breakdown": breakdown}
    result = None
    if snapshot is not None:
        try:
            result = selectors.snapshot_question(snapshot, question_obj.key, breakdown=breakdown)
        except KeyError:
            extra["missing_message"] = NOT_PUBLISHED
    extra["qb"] = question_block(campaign_obj, question_obj, result)
    return _render(request, "analysis/question.html", campaign_obj, snapshot, **extra)


@login_required
@require_GET
def crosstab(request: HttpRequest, campaign: str) -> HttpResponse:
    """The cross-tab explorer: any question by any breakdown — counts, row percentages, hidden cells."""
    campaign_obj = viewable_campaign(request, campaign)
    definition = campaign_obj.definition
    snapshot = latest(campaign_obj)
    questions = result_questions(definition)
    breakdowns: list[str] = []
    if snapshot is not None:
        data = snapshot.tables
        plain = [b for b, spec in data["breakdowns"].items() if spec.get("option") is None]
        breakdowns = [*plain, *data["multi_breakdowns"]]
        questions = [q for q in questions if published_breakdowns(snapshot, q.key)]
    form = CrosstabForm(
        request.GET or None,
        questions=[(q.key, question_label(definition, q)) for q in questions],
        breakdowns=[(key, breakdown_label(definition, key)) for key in breakdowns],
    )
    extra: dict[str, Any] = {"section": "crosstab", "form": form}
    if snapshot is not None and form.is_valid():
        question_obj = definition.question(form.cleaned_data["question"])
        try:
            table = selectors.snapshot_crosstab(snapshot, question_obj.key, form.cleaned_data["breakdown"])
        except KeyError:
            extra["missing_message"] = NOT_PUBLISHED
        else:
            result = {"breakdown": form.cleaned_data["breakdown"], "table": table, "statistics": None}
            extra["qb"] = question_block(campaign_obj, question_obj, result)
    return _render(request, "analysis/crosstab.html", campaign_obj, snapshot, **extra)


def definition_themes(definition: SurveyDefinition) -> dict[str, list[Question]]:
    """Questions with a result page grouped by Masterplan theme (quasi-identifiers have none), in survey order."""
    themes: dict[str, list[Question]] = {}
    for question_obj in result_questions(definition):
        if question_obj.theme and question_obj.privacy is not Privacy.QUASI_IDENTIFIER:
            themes.setdefault(question_obj.theme, []).append(question_obj)
    return themes


@login_required
@require_GET
def themes(request: HttpRequest, campaign: str) -> HttpResponse:
    """The Masterplan themes of the campaign's survey, each with its questions."""
    campaign_obj = viewable_campaign(request, campaign)
    definition = campaign_obj.definition
    groups = [
        {"key": key, "label": theme_label(key), "questions": [(q, question_label(definition, q)) for q in questions]}
        for key, questions in definition_themes(definition).items()
    ]
    snapshot = latest(campaign_obj)
    return _render(request, "analysis/themes.html", campaign_obj, snapshot, section="themes", themes=groups)


@login_required
@require_GET
def theme(request: HttpRequest, campaign: str, theme: str) -> HttpResponse:
    """All questions of one theme, each with its overall chart and table."""
    campaign_obj = viewable_campaign(request, campaign)
    definition = campaign_obj.definition
    questions = definition_themes(definition).get(theme)
    if not questions:
        raise Http404
    snapshot = latest(campaign_obj)
    blocks = [question_block(campaign_obj, q, None) for q in questions]
    if snapshot is not None:
        published = next((t for t in selectors.snapshot_themes(snapshot) if t["theme"] == theme), {"questions": []})
        results = {result["key"]: result for result in published["questions"]}
        blocks = [question_block(campaign_obj, q, results.get(q.key)) for q in questions]
    extra = {"section": "themes", "theme": theme, "theme_label": theme_label(theme), "blocks": blocks}
    return _render(request, "analysis/theme.html", campaign_obj, snapshot, **extra)


@login_required
@require_GET
def compare(request: HttpRequest, campaign: str) -> HttpResponse:
    """This campaign next to another campaign of the same survey, for the questions whose answers match."""
    campaign_obj = viewable_campaign(request, campaign)
    survey_id = campaign_obj.survey_version.survey_id
    others = [
        other
        for other in viewable_campaigns(request.user)
        if other.survey_version.survey_id == survey_id and other.pk != campaign_obj.pk
    ]
    form = CompareForm(request.GET or None, campaigns=[(other.slug, other.title) for other in others])
    snapshot = latest(campaign_obj)
    extra: dict[str, Any] = {
        "section": "compare",
        "form": form,
        "others": others,
        "nothing_in_common": NOTHING_IN_COMMON,
    }
    if snapshot is not None and form.is_valid():
        other = next(o for o in others if o.slug == form.cleaned_data["other"])
        other_snapshot = latest(other)
        extra["other"] = other
        if other_snapshot is None:
            extra["missing_message"] = NO_SNAPSHOT
        else:
            compared = selectors.snapshot_compare(snapshot, other_snapshot)
            extra["comparisons"] = comparisons(campaign_obj, other, compared)
    return _render(request, "analysis/compare.html", campaign_obj, snapshot, **extra)


def comparisons(campaign: Campaign, other: Campaign, compared: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One entry per question both campaigns published with the same answers: both overall tables."""
    definition = campaign.definition
    entries = []
    for item in compared["questions"]:
        try:
            question_obj = definition.question(item["key"])
        except KeyError:
            continue
        label = question_label(definition, question_obj)
        columns = value_labels(campaign, question_obj)
        rows = {TOTAL: gettext("All respondents")}
        tables = [
            table_view(item[side]["table"], caption=f"{label} ({c.title})", column_labels=columns, row_labels=rows)
            for side, c in (("a", campaign), ("b", other))
        ]
        entries.append({"question": question_obj, "label": label, "tables": tables})
    return entries


@login_required
@require_POST
def aggregate(request: HttpRequest, campaign: str) -> HttpResponse:
    """Staff: enqueue the building of a new snapshot. Researchers may read results, not make them (403)."""
    campaign_obj = viewable_campaign(request, campaign)
    if not request.user.has_perm(MANAGE_CAMPAIGNS, campaign_obj):
        raise PermissionDenied
    task = aggregate_task()
    if task is None:
        messages.warning(request, AGGREGATE_UNAVAILABLE)
    else:
        task.delay(campaign_obj.pk)
        messages.success(request, AGGREGATE_QUEUED)
    return redirect("analysis:overview", campaign=campaign_obj.slug)


def aggregate_task() -> Any | None:
    """The worker's ``aggregate_campaign`` task (takes the campaign id), if this installation has it."""
    from worker import tasks

    return getattr(tasks, "aggregate_campaign", None)


# --------------------------------------------------------------------------------------------------
# Exports: one button per export the user may make, their own recent jobs, and the downloads
# --------------------------------------------------------------------------------------------------

#: What each export is, as the exports page names it.
EXPORT_KINDS = {
    "aggregates": _("Published tables"),
    "datapackage": _("Data package of the published tables"),
    "microdata": _("Anonymised microdata"),
    "codebook": _("Codebook of the microdata"),
}
EXPORT_FORMATS = {
    "csv": _("CSV"),
    "xlsx": _("Excel .xlsx"),
    "sav": _("SPSS .sav"),
    "dta": _("Stata .dta"),
    "md": _("Markdown"),
    "html": _("HTML"),
    "dir": _("ZIP"),
}
EXPORT_BAD_REQUEST = _("This export does not exist.")
EXPORT_READY = _("Your export is ready: download it from the list below.")
EXPORT_QUEUED = _("Your export is being prepared. Refresh this page in a few minutes to download it.")
EXPORT_FAILED = _("The export failed. The list below says why.")
EXPORT_NOT_READY = _("This export is not ready yet. Refresh the exports page in a few minutes.")
EXPORT_FILE_GONE = _(
    "The file of this export was deleted %(days)s days after it was made. Make the export again to download it."
)
#: Why an export failed, for its kind of error (``ExportJob.reason``); any other kind is shown as it is.
EXPORT_REASONS = {
    "NoSnapshot": _("No results have been published for this campaign yet."),
    export_jobs.CAMPAIGN_DELETED: _("The campaign was deleted."),
}
EXPORT_LABEL = _("%(export)s (%(format)s)")
EXPORT_ERROR = _("Technical error (%(kind)s). Try again; if it happens again, tell the project staff.")
#: How many of the user's own exports the page lists.
RECENT_EXPORTS = 20


def export_label(what: str, fmt: str) -> str:
    return str(EXPORT_LABEL) % {"export": EXPORT_KINDS.get(what, what), "format": EXPORT_FORMATS.get(fmt, fmt)}


def export_reason(reason: str) -> str:
    """Why an export failed, for the user; the kind of error (never a message that could quote data) otherwise."""
    return str(EXPORT_REASONS[reason]) if reason in EXPORT_REASONS else str(EXPORT_ERROR) % {"kind": reason}


def export_rows(jobs: Sequence[ExportJob], *, user: Any, campaign: Campaign) -> list[dict[str, Any]]:
    """The user's jobs as the exports page lists them, with a download link where there is a file."""
    rows = []
    for job in jobs:
        available = job.status == ExportJob.Status.DONE and export_jobs.export_download(job) is not None
        allowed = export_jobs.export_allowed(user=user, campaign=campaign, what=job.what)
        rows.append(
            {
                "job": job,
                "label": export_label(job.what, job.format),
                "reason": export_reason(job.reason) if job.status == ExportJob.Status.FAILED else "",
                "download_url": reverse("analysis:export_download", kwargs={"campaign": campaign.slug, "job": job.pk})
                if available and allowed
                else None,
                "file_deleted": job.status == ExportJob.Status.DONE and not available,
            }
        )
    return rows


@login_required
@require_GET
def exports(request: HttpRequest, campaign: str) -> HttpResponse:
    """A button per export the user may make, then the user's own recent exports of the campaign."""
    campaign_obj = viewable_campaign(request, campaign)
    snapshot = latest(campaign_obj)
    offered = [
        {"what": what, "format": fmt, "label": export_label(what, fmt)}
        for what, fmt in export_jobs.exports_offered(user=request.user, campaign=campaign_obj)
        if snapshot is not None or export_jobs.EXPORT_PERMISSIONS[what] != VIEW_AGGREGATES
    ]
    jobs = list(ExportJob.objects.filter(campaign=campaign_obj, requested_by=request.user)[:RECENT_EXPORTS])
    extra = {
        "section": "exports",
        "offered": offered,
        "jobs": export_rows(jobs, user=request.user, campaign=campaign_obj),
        "busy": any(job.status in (ExportJob.Status.QUEUED, ExportJob.Status.RUNNING) for job in jobs),
        "may_export_microdata": export_jobs.export_allowed(user=request.user, campaign=campaign_obj, what="microdata"),
        "file_days": settings.STIMMEN_EXPORT_FILE_DAYS,
    }
    return _render(request, "analysis/exports.html", campaign_obj, snapshot, **extra)


@login_required
@require_POST
def export_create(request: HttpRequest, campaign: str) -> HttpResponse:
    """Make one export (``what`` and ``format`` from the button): at once, or queued for the worker if large.

    An unknown combination is a 400, an export the user may not make a 403; neither is logged.
    """
    campaign_obj = viewable_campaign(request, campaign)
    what, fmt = request.POST.get("what", ""), request.POST.get("format", "")
    if (what, fmt) not in export_jobs.OFFER_ORDER:
        return _export_unavailable(request, campaign_obj, str(EXPORT_BAD_REQUEST), status=400)
    if not export_jobs.export_allowed(user=request.user, campaign=campaign_obj, what=what):
        raise PermissionDenied
    job = export_jobs.export_request(campaign=campaign_obj, what=what, fmt=fmt, user=request.user)
    if job.status == ExportJob.Status.DONE:
        messages.success(request, EXPORT_READY)
    elif job.status == ExportJob.Status.FAILED:
        messages.error(request, EXPORT_FAILED)
    else:
        messages.info(request, EXPORT_QUEUED)
    return redirect("analysis:exports", campaign=campaign_obj.slug)


@login_required
@require_GET
def export_download(request: HttpRequest, campaign: str, job: int) -> HttpResponse:
    """The file of one of the user's own finished exports, while the user may still make that export.

    Another user's job (or one of another campaign) is a 404; an export not ready yet a 409; a file deleted
    after ``STIMMEN_EXPORT_FILE_DAYS`` a 410. A data package is sent as a ``.zip``.
    """
    campaign_obj = viewable_campaign(request, campaign)
    job_obj = get_object_or_404(ExportJob, pk=job, campaign=campaign_obj, requested_by=request.user)
    if not export_jobs.export_allowed(user=request.user, campaign=campaign_obj, what=job_obj.what):
        raise PermissionDenied
    if job_obj.status != ExportJob.Status.DONE:
        return _export_unavailable(request, campaign_obj, str(EXPORT_NOT_READY), status=409)
    path = export_jobs.export_download(job_obj)
    if path is None:
        message = str(EXPORT_FILE_GONE) % {"days": settings.STIMMEN_EXPORT_FILE_DAYS}
        return _export_unavailable(request, campaign_obj, message, status=410)
    content = _zipped(path) if path.is_dir() else path.open("rb")
    return FileResponse(
        content,
        as_attachment=True,
        filename=export_jobs.download_name(job_obj),
        content_type=export_jobs.CONTENT_TYPES[job_obj.format],
    )


def _export_unavailable(request: HttpRequest, campaign: Campaign, message: str, *, status: int) -> HttpResponse:
    response = _render(request, "analysis/export_unavailable.html", campaign, None, section="exports", message=message)
    response.status_code = status
    return response


def _zipped(directory: Path) -> IO[bytes]:
    """A data package directory as a ZIP in a temporary file (deleted when the response closes it)."""
    archive = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as package:
        for member in sorted(directory.rglob("*")):
            if member.is_file():
                package.write(member, arcname=member.relative_to(directory).as_posix())
    archive.seek(0)
    return archive
