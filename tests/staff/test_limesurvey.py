"""Every LimeSurvey export in ../shared/limesurvey/ imports through the staff page, loads, and can be answered."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from survey import services
from survey.definition import Question, QuestionType, SurveyDefinition, evaluate, visible_path
from survey.districts import district_value
from survey.models import Campaign, Response, SurveyVersion
from tests.staff.conftest import staff_url
from tests.staff.support import audit_actions
from tests.support import journey

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_LIMESURVEY = (REPO_ROOT / ".." / "shared" / "limesurvey").resolve()


def shared_files() -> list[Path]:
    if not SHARED_LIMESURVEY.is_dir():
        return []
    return sorted(path for path in SHARED_LIMESURVEY.iterdir() if path.is_file())


def test_the_shared_limesurvey_exports_are_there():
    assert SHARED_LIMESURVEY.is_dir(), f"missing folder with LimeSurvey exports: {SHARED_LIMESURVEY}"
    assert shared_files(), f"no files in {SHARED_LIMESURVEY}"


def valid_answer(question: Question, districts: list[str]) -> Any:
    """A value the respondent's form accepts for ``question``."""
    kind = question.type
    if kind is QuestionType.SINGLE_CHOICE:
        return question.options[0].value
    if kind is QuestionType.MULTI_CHOICE:
        return [question.options[0].value]
    if kind is QuestionType.YES_NO:
        return "yes"
    if kind is QuestionType.LIKERT:
        return 1
    if kind is QuestionType.DISTRICT:
        return district_value(districts[0])
    if kind in (QuestionType.NUMBER, QuestionType.YEAR):
        low = question.min if question.min is not None else (2000 if kind is QuestionType.YEAR else 0)
        return low if question.max is None or low <= question.max else question.max
    return "Test"


def step_answers(definition: SurveyDefinition, step_key: str, earlier: dict[str, Any], districts: list[str]) -> dict:
    """Answers to every required question the step shows, given the answers so far."""
    known = dict(earlier)
    answers: dict[str, Any] = {}
    for question in definition.step(step_key).questions:
        if question.takes_answer and question.required and evaluate(question.show_if, known):
            answers[question.key] = known[question.key] = valid_answer(question, districts)
    return answers


def complete_wizard(client: Client, campaign: Campaign) -> None:
    """Through the test client, step by step along the branching, until the response is stored."""
    definition = campaign.definition
    districts = campaign.organisation.districts
    assert journey.start(client, campaign, age=18, parental_consent="on").status_code == 302
    given: dict[str, Any] = {}
    for _attempt in range(len(definition.steps) + 1):
        step = journey.current_step(client, campaign)
        answers = step_answers(definition, step, given, districts)
        given.update(answers)
        response = client.post(f"/s/{campaign.slug}/q/{step}/", journey.step_post_data(campaign, step, answers))
        assert response.status_code == 302, (step, response.content.decode()[:2000])
        if response["Location"].endswith("/done/"):
            assert client.get(response["Location"]).status_code == 302  # the answers are sent
        if Response.objects.filter(campaign=campaign).exists():
            return
    pytest.fail(
        f"the wizard of {campaign.slug} did not finish; path: {[s.key for s, _q in visible_path(definition, given)]}"
    )


@pytest.mark.parametrize("path", shared_files(), ids=lambda path: path.name)
def test_a_limesurvey_export_imports_loads_and_can_be_answered(staff_client, organisation, path):
    url = staff_url(organisation, "surveys/import-limesurvey/")
    upload = SimpleUploadedFile(path.name, path.read_bytes(), content_type="application/xml")
    page = staff_client.post(url, {"lss_file": upload})
    assert page.status_code == 200, page.content.decode()[:2000]
    context = page.context
    assert not context["problems"], context["problems"]
    for note in context["result"].unconverted:
        assert str(note) in page.content.decode().replace("&#x27;", "'").replace("&quot;", '"').replace("&amp;", "&")
    payload = context["payload"]

    download = staff_client.post(url, {"payload": payload, "action": "download"})
    assert download["Content-Type"].startswith("application/yaml")
    assert yaml.safe_load(download.content.decode()) == context["result"].definition
    assert not SurveyVersion.objects.exists()

    assert staff_client.post(url, {"payload": payload, "action": "load"}).status_code == 302
    version = SurveyVersion.objects.get(survey__organisation=organisation)
    assert "survey_loaded" in audit_actions(organisation)

    campaign = services.campaign_open(survey_version=version, slug=f"ls-{version.pk}", min_age=14, max_age=27)
    complete_wizard(Client(), campaign)
    assert Response.objects.filter(campaign=campaign).count() == 1


def test_a_tampered_payload_is_refused(staff_client, organisation):
    url = staff_url(organisation, "surveys/import-limesurvey/")
    response = staff_client.post(url, {"payload": "forged", "action": "load"}, follow=True)
    assert "has expired" in response.content.decode()
    assert not SurveyVersion.objects.exists()


def test_a_file_that_is_not_limesurvey_is_refused(staff_client, organisation):
    url = staff_url(organisation, "surveys/import-limesurvey/")
    upload = SimpleUploadedFile("x.lss", b"<html>nope</html>", content_type="application/xml")
    response = staff_client.post(url, {"lss_file": upload})
    assert response.status_code == 400
    assert not SurveyVersion.objects.exists()
