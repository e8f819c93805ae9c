"""Reads for the live monitor of a campaign: how many started and finished, where people stop, quotas.

Started and completed counts are not sensitive (nothing about any answer); counts per district are, so they go
through ``analysis.disclosure`` like every published table: a district with 1 .. k-1 people shows "< k", a
district hidden so that those cannot be worked out shows "•".
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd
from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from analysis.disclosure import suppress_frequencies
from analysis.models import AggregateSnapshot, AnonymisationRun, AnonymisedResponse
from survey.definition import QuestionType
from survey.districts import OUTSIDE_CITY, district_value
from survey.models import Campaign, DailyTally, StepReach


@dataclass(frozen=True)
class StepCount:
    key: str
    title: str
    reached: int
    #: Share of those who started that reached this step, in percent (None before anyone started).
    percent: float | None


@dataclass(frozen=True)
class QuotaCount:
    key: str
    label: str
    #: The count as it may be shown: a number, "< k" (1 .. k-1 people) or "•" (k or more, hidden as a complement).
    shown: str
    visible: bool


#: Answers that are not one of the city's districts (no answer, suppressed by k-anonymity) are counted here,
#: so that the districts add up to the total, as the suppression function requires.
NOT_SHOWN = "not_shown"


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def campaign_monitor(*, campaign: Campaign, language: str | None = None) -> dict[str, Any]:
    """Everything the monitor page shows, as plain data (also the JSON the page polls)."""
    definition = campaign.definition
    language = language or definition.default_language
    today = timezone.localdate()
    totals = DailyTally.objects.filter(campaign=campaign).aggregate(started=Sum("started"), completed=Sum("completed"))
    started = totals["started"] or 0
    completed = totals["completed"] or 0
    today_row = DailyTally.objects.filter(campaign=campaign, day=today).first()
    reached = dict(StepReach.objects.filter(campaign=campaign).values_list("step_key", "reached"))
    steps = [
        StepCount(
            key=step.key,
            title=definition.text(step.title, language),
            reached=reached.get(step.key, 0),
            percent=_percent(reached.get(step.key, 0), started),
        )
        for step in definition.steps
    ]
    target = campaign.target_responses
    return {
        "campaign": campaign.slug,
        "status": campaign.status,
        "status_label": str(campaign.get_status_display()),
        "accepting_answers": campaign.is_accepting_answers(),
        "k": campaign.k,
        "started_today": today_row.started if today_row else 0,
        "completed_today": today_row.completed if today_row else 0,
        "started": started,
        "completed": completed,
        "completion_rate": _percent(completed, started),
        "target": target,
        "target_percent": min(100.0, _percent(completed, target)) if target else None,
        "steps": [asdict(step) for step in steps],
        "quotas": [asdict(quota) for quota in district_counts(campaign=campaign)],
    }


def district_counts(*, campaign: Campaign) -> list[QuotaCount]:
    """Anonymised responses per district (the first ``district`` question), in the organisation's order.

    Counts come from the anonymised records, so they lag behind "completed" until anonymisation has run. They
    go through the platform's one suppression function, so a hidden district cannot be worked out from the
    others and the total.
    """
    question = next((q for q in campaign.definition.questions() if q.type is QuestionType.DISTRICT), None)
    if question is None:
        return []
    answer = f"answers__{question.key}"
    counts = dict(
        AnonymisedResponse.objects.filter(campaign=campaign)
        .values_list(answer)
        .annotate(n=Count("pk"))
        .values_list(answer, "n")
    )
    labels = [(district_value(name), name) for name in campaign.organisation.districts]
    labels.append((OUTSIDE_CITY, _("Outside the city")))
    other = sum(n for value, n in counts.items() if value not in dict(labels))
    series = pd.Series({value: counts.get(value, 0) for value, _label in labels} | {NOT_SHOWN: other}, dtype="int64")
    table = suppress_frequencies(series, k=campaign.k, name=question.key)
    row = table.published.iloc[0]
    hidden = table.mask.iloc[0]
    return [
        QuotaCount(key=value, label=label, shown=str(row[value]), visible=not bool(hidden[value]))
        for value, label in labels
    ]


def anonymisation_runs(*, campaign: Campaign, limit: int = 10) -> list[AnonymisationRun]:
    """The campaign's latest anonymisation runs, newest first."""
    return list(AnonymisationRun.objects.filter(campaign=campaign).order_by("-created_at")[:limit])


def aggregation_runs(*, campaign: Campaign, limit: int = 10) -> list[AggregateSnapshot]:
    """The campaign's latest aggregate snapshots, newest first."""
    return list(AggregateSnapshot.objects.filter(campaign=campaign).order_by("-created_at")[:limit])
