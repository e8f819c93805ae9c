"""Reads of surveys, campaigns and answers. Plain functions, no request."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, Sum

from survey.models import Campaign, DailyTally, Draft, StepReach


def campaign_status(*, campaign: Campaign) -> dict[str, Any]:
    """Started, completed and open drafts, and how many respondents reached each step (in survey order).

    Counts come from tallies kept as respondents move on, so they stay right after raw data is deleted.
    """
    tallies = DailyTally.objects.filter(campaign=campaign).aggregate(started=Sum("started"), completed=Sum("completed"))
    drafts = Draft.objects.filter(campaign=campaign).aggregate(
        open=Count("pk", filter=Q(status=Draft.Status.OPEN)),
    )
    reached = dict(StepReach.objects.filter(campaign=campaign).values_list("step_key", "reached"))
    steps = [{"step": step.key, "reached": reached.get(step.key, 0)} for step in campaign.definition.steps]
    started = tallies["started"] or 0
    completed = tallies["completed"] or 0
    return {
        "campaign": campaign.slug,
        "status": campaign.status,
        "accepting_answers": campaign.is_accepting_answers(),
        "started": started,
        "completed": completed,
        "drafts": drafts["open"],
        "completion_rate": round(completed / started, 3) if started else None,
        "steps": steps,
    }
