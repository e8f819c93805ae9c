"""Drive the respondent's journey through Django's test client, as a phone without JavaScript would."""

from __future__ import annotations

import re
from typing import Any

from django.test import Client

from survey.models import Campaign

WIZARD_PREFIX = "survey_wizard_{campaign}"


def start(client: Client, campaign: Campaign, *, age: int = 19, **extra: Any):
    """Consent and age check; returns the response (a redirect into the wizard when accepted)."""
    data = {"age": age, "consent": "on", **extra}
    return client.post(f"/s/{campaign.slug}/", data)


def current_step(client: Client, campaign: Campaign) -> str:
    """Follow the wizard's redirect to the step the respondent is on."""
    response = client.get(f"/s/{campaign.slug}/q/")
    assert response.status_code == 302, response
    match = re.search(rf"/s/{campaign.slug}/q/([\w-]+)/$", response["Location"])
    assert match, response["Location"]
    return match.group(1)


def step_post_data(campaign: Campaign, step: str, answers: dict[str, Any], **extra: str) -> dict[str, Any]:
    """POST data for one step: answers keyed by question key, as the rendered form would send them."""
    prefix = WIZARD_PREFIX.format(campaign=campaign.slug)
    data: dict[str, Any] = {f"{prefix}-current_step": step}
    for key, value in answers.items():
        data[f"{step}-{key}"] = value
    # As rendered after any earlier answers: every question of the step counts as shown.
    data[f"{step}-shown"] = ",".join(question.key for question in campaign.definition.step(step).questions)
    data.update(extra)
    return data


def answer_step(client: Client, campaign: Campaign, step: str, answers: dict[str, Any], **extra: str):
    """Submit one step (the form as shown, with ``shown`` listing what was on the page)."""
    page = client.get(f"/s/{campaign.slug}/q/{step}/")
    assert page.status_code == 200, page
    shown = re.search(rf'name="{step}-shown" value="([^"]*)"', page.content.decode())
    data = step_post_data(campaign, step, answers, **extra)
    if shown:
        data[f"{step}-shown"] = shown.group(1)
    return client.post(f"/s/{campaign.slug}/q/{step}/", data)
