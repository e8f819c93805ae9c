"""Loading definitions, the version list and the preview."""

from __future__ import annotations

import json
import re

import yaml
from django.core.files.uploadedfile import SimpleUploadedFile

from survey.models import DailyTally, Draft, Response, StepReach, Survey, SurveyVersion
from tests.staff.conftest import staff_url
from tests.staff.support import audit_actions
from tests.support.definitions import mini_definition


def upload(client, organisation, name: str, content: str):
    file = SimpleUploadedFile(name, content.encode(), content_type="application/octet-stream")
    return client.post(staff_url(organisation, "surveys/upload/"), {"definition_file": file})


def test_uploading_a_definition_creates_a_version_and_an_audit_record(staff_client, organisation):
    response = upload(staff_client, organisation, "mini.yaml", yaml.safe_dump(mini_definition(), allow_unicode=True))
    assert response.status_code == 302
    version = SurveyVersion.objects.get(survey__organisation=organisation)
    assert (version.survey.slug, version.number) == ("mini", 1)
    assert "survey_loaded" in audit_actions(organisation)
    page = staff_client.get(staff_url(organisation, "surveys/"))
    assert "mini" in page.content.decode()
    assert f"versions/{version.pk}/preview/" in page.content.decode()


def test_a_json_file_loads_too_and_the_same_file_twice_is_one_version(staff_client, organisation):
    content = json.dumps(mini_definition())
    assert upload(staff_client, organisation, "mini.json", content).status_code == 302
    assert upload(staff_client, organisation, "mini.json", content).status_code == 302
    assert SurveyVersion.objects.count() == 1


def test_a_broken_definition_shows_every_located_problem_and_stores_nothing(staff_client, organisation):
    broken = mini_definition()
    broken["steps"][0]["questions"][0]["type"] = "single_choise"
    broken["steps"][1]["show_if"] = {"question": "statuss", "equals": "training"}
    response = upload(staff_client, organisation, "broken.yaml", yaml.safe_dump(broken, allow_unicode=True))
    assert response.status_code == 400
    page = response.content.decode()
    assert "steps[0].questions[0]" in page
    assert "nothing was loaded" in page.lower()
    assert not Survey.objects.exists()
    assert not SurveyVersion.objects.exists()


def test_a_semantic_problem_is_located(staff_client, organisation):
    broken = mini_definition()
    broken["steps"][1]["show_if"] = {"question": "statuss", "equals": "training"}
    response = upload(staff_client, organisation, "broken.yaml", yaml.safe_dump(broken, allow_unicode=True))
    assert response.status_code == 400
    assert "steps[1].show_if" in response.content.decode()
    assert "statuss" in response.content.decode()
    assert not SurveyVersion.objects.exists()


def test_invalid_yaml_and_wrong_file_types_are_refused(staff_client, organisation):
    response = upload(staff_client, organisation, "bad.yaml", "slug: [unclosed")
    assert response.status_code == 400
    assert "not valid YAML" in response.content.decode()
    response = upload(staff_client, organisation, "mini.txt", "slug: mini")
    assert response.status_code == 400
    assert not SurveyVersion.objects.exists()


def test_the_preview_shows_each_step_in_each_language_as_respondents_see_it(staff_client, version):
    url = staff_url(version.survey.organisation, f"versions/{version.pk}/preview/")
    definition = version.parsed
    for language in definition.languages:
        for step in definition.steps:
            page = staff_client.get(url, {"language": language, "step": step.key})
            assert page.status_code == 200
            html = page.content.decode()
            assert f'lang="{language}"' in html
            assert definition.text(step.title, language) in html
            for question in step.questions:
                if question.takes_answer and question.show_if is None:
                    # The respondent's field names: "<step>-<question>".
                    assert f'name="{step.key}-{question.key}"' in html


def test_a_preview_post_moves_along_the_branching_and_stores_nothing(staff_client, version):
    url = staff_url(version.survey.organisation, f"versions/{version.pk}/preview/")
    first = staff_client.get(url, {"language": "en"}).content.decode()
    token = re.search(r'name="preview_answers" value="([^"]*)"', first).group(1)
    data = {
        "language": "en",
        "step": "status_step",
        "preview_answers": token,
        "status_step-status": "training",
        "status_step-shown": "status,hint",
    }
    page = staff_client.post(url, data)
    assert page.status_code == 200
    assert "Apprenticeship" in page.content.decode()  # the training step follows "training"
    assert 'name="training_step-training_field"' in page.content.decode()
    assert not Draft.objects.exists()
    assert not Response.objects.exists()
    assert not StepReach.objects.exists()
    assert not DailyTally.objects.exists()


def test_a_preview_post_with_a_missing_answer_shows_the_respondents_error(staff_client, version):
    url = staff_url(version.survey.organisation, f"versions/{version.pk}/preview/")
    page = staff_client.post(url, {"language": "de", "step": "status_step", "status_step-shown": "status,hint"})
    assert page.status_code == 400
    assert "error-summary" in page.content.decode()
    assert not Draft.objects.exists()
