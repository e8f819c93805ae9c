"""Campaigns and raw responses for the anonymisation, retention, export and worker tests."""

from __future__ import annotations

import datetime
import uuid
from pathlib import Path
from typing import Any

from django.utils import timezone

from survey import services
from survey.definition import load_definition_file
from survey.models import Campaign, Organisation, Response
from tests.support.definitions import mini_definition

DEMO = Path(__file__).resolve().parents[2] / "survey" / "definitions" / "ausbildung-arbeit-2023.yaml"


def organisation_get() -> Organisation:
    organisation, _created = Organisation.objects.get_or_create(
        slug="dortmund", defaults={"name": "Integrationszentrum Dortmund"}
    )
    return organisation


def demo_campaign(*, slug: str = "demo-test", k: int = 5, retention_days: int = 90) -> Campaign:
    """A campaign of the demo survey (quasi-identifiers: age, gender, district, origin, years, background)."""
    _definition, data = load_definition_file(DEMO)
    version, _created = services.survey_version_load(data=data, organisation=organisation_get())
    return services.campaign_open(survey_version=version, slug=slug, k=k, retention_days=retention_days)


def mini_campaign(*, slug: str = "mini", k: int = 5, retention_days: int = 90) -> Campaign:
    version, _created = services.survey_version_load(data=mini_definition(), organisation=organisation_get())
    return services.campaign_open(survey_version=version, slug=slug, k=k, retention_days=retention_days)


def response_create(
    campaign: Campaign, answers: dict[str, Any], *, submitted_on: datetime.date | None = None
) -> Response:
    """A raw response as ``draft_submit`` stores it (without the draft, which the anonymiser never reads)."""
    return Response.objects.create(
        campaign=campaign,
        survey_version=campaign.survey_version,
        draft_id=uuid.uuid4(),
        answers=answers,
        language="de",
        consent_version=1,
        submitted_on=submitted_on or timezone.localdate(),
    )


def responses_bulk_create(campaign: Campaign, answers: list[dict[str, Any]]) -> list[Response]:
    return Response.objects.bulk_create(
        Response(
            campaign=campaign,
            survey_version=campaign.survey_version,
            draft_id=uuid.uuid4(),
            answers=row,
            language="de",
            consent_version=1,
        )
        for row in answers
    )


#: Ordinary answers to the demo survey's "about you" step and its two free-text questions.
def demo_answers(n: int, **changes: Any) -> dict[str, Any]:
    """The n-th of a handful of common answer sets (so that k-anonymity is reachable), with changes."""
    answers = {
        "status": ["school", "ausbildung", "job"][n % 3],
        "city_priorities": ["german_courses", "one_stop"][: 1 + n % 2],
        "wishes_city": "Mehr Ausbildungsplätze und Beratung auf Arabisch, bitte.",
        "birth_year": 2006 - 2 * (n % 2),
        "gender": ["female", "male"][n % 2],
        "district": "innenstadt_nord",
        "country_of_birth": "syria",
        "years_in_germany": "years_7_to_10",
        "migration_background": ["myself"],
    }
    answers.update(changes)
    return answers
