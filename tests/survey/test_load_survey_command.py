"""``manage.py load_survey PATH``: how city staff load a definition file, and what they see."""

import json
from io import StringIO
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError

from survey.models import Organisation, Survey, SurveyVersion
from tests.support.definitions import mini_definition

pytestmark = pytest.mark.django_db


def write_yaml(path: Path, data) -> Path:
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def load_survey(path: Path, *args: str) -> tuple[str, str]:
    stdout, stderr = StringIO(), StringIO()
    call_command("load_survey", str(path), *args, stdout=stdout, stderr=stderr)
    return stdout.getvalue(), stderr.getvalue()


def test_loading_a_yaml_file_creates_version_1(tmp_path):
    out, err = load_survey(write_yaml(tmp_path / "mini.yaml", mini_definition()))

    assert out == "mini version 1 (created)\n"
    assert err == ""
    version = SurveyVersion.objects.get()
    assert version.survey.slug == "mini"
    assert version.number == 1
    assert version.definition == mini_definition()
    assert version.parsed.question("status").required is True


def test_loading_the_same_file_again_changes_nothing(tmp_path):
    path = write_yaml(tmp_path / "mini.yaml", mini_definition())
    load_survey(path)

    out, _err = load_survey(path)

    assert out == "mini version 1 (unchanged, already loaded)\n"
    assert SurveyVersion.objects.count() == 1


def test_a_reformatted_file_with_the_same_content_is_unchanged(tmp_path):
    """Comments, key order and layout do not make a new version; only the content does."""
    load_survey(write_yaml(tmp_path / "mini.yaml", mini_definition()))
    reformatted = tmp_path / "mini-reformatted.yaml"
    reformatted.write_text(
        "# Reviewed by the integration team\n" + yaml.safe_dump(mini_definition(), allow_unicode=True, sort_keys=True),
        encoding="utf-8",
    )

    out, _err = load_survey(reformatted)

    assert out == "mini version 1 (unchanged, already loaded)\n"
    assert SurveyVersion.objects.count() == 1


def test_a_changed_file_creates_version_2_and_leaves_version_1_as_it_was(tmp_path):
    path = write_yaml(tmp_path / "mini.yaml", mini_definition())
    load_survey(path)
    changed = mini_definition()
    changed["steps"][3]["questions"][3]["label"]["de"] = "Was wünschst du dir für Dortmund?"
    write_yaml(path, changed)

    out, _err = load_survey(path)

    assert out == "mini version 2 (created)\n"
    versions = {version.number: version.definition for version in SurveyVersion.objects.all()}
    assert versions == {1: mini_definition(), 2: changed}
    assert Survey.objects.count() == 1


def test_a_file_with_problems_lists_each_and_stores_nothing(tmp_path):
    broken = mini_definition()
    broken["steps"][1]["show_if"] = {"question": "statuss", "equals": "training"}
    del broken["steps"][0]["questions"][0]["label"]["ar"]
    path = write_yaml(tmp_path / "mini.yaml", broken)
    stdout, stderr = StringIO(), StringIO()

    with pytest.raises(CommandError) as caught:
        call_command("load_survey", str(path), stdout=stdout, stderr=stderr)

    assert str(caught.value) == f"{path}: 2 problem(s); nothing was loaded."
    assert stderr.getvalue().splitlines() == [
        "steps[0].questions[0].label: missing language 'ar'",
        "steps[1].show_if: unknown question 'statuss'",
    ]
    assert stdout.getvalue() == ""
    assert not Survey.objects.exists()
    assert not SurveyVersion.objects.exists()


def test_a_file_that_is_not_yaml_names_the_file_and_the_line(tmp_path):
    path = tmp_path / "mini.yaml"
    path.write_text("slug: mini\nlanguages: [de, en\ntitle: x\n", encoding="utf-8")
    stderr = StringIO()

    with pytest.raises(CommandError):
        call_command("load_survey", str(path), stdout=StringIO(), stderr=stderr)

    assert stderr.getvalue() == "mini.yaml: not valid YAML (line 3, column 6: expected ',' or ']', but got ':')\n"
    assert not SurveyVersion.objects.exists()


def test_a_json_file_loads_like_yaml(tmp_path):
    path = tmp_path / "mini.json"
    path.write_text(json.dumps(mini_definition(), ensure_ascii=False, indent=2), encoding="utf-8")

    out, _err = load_survey(path)

    assert out == "mini version 1 (created)\n"
    assert SurveyVersion.objects.get().definition == mini_definition()
    assert load_survey(write_yaml(tmp_path / "mini.yaml", mini_definition()))[0] == (
        "mini version 1 (unchanged, already loaded)\n"
    )


def test_the_survey_belongs_to_the_named_organisation(tmp_path):
    Organisation.objects.create(slug="dortmund", name="Integrationszentrum Dortmund")
    essen = Organisation.objects.create(slug="essen", name="Integrationszentrum Essen", city="Essen")

    load_survey(write_yaml(tmp_path / "mini.yaml", mini_definition()), "--organisation", "essen")

    assert Survey.objects.get().organisation == essen


def test_an_unknown_organisation_is_refused(tmp_path):
    with pytest.raises(CommandError) as caught:
        load_survey(write_yaml(tmp_path / "mini.yaml", mini_definition()), "--organisation", "bochum")
    assert str(caught.value) == "No organisation with slug 'bochum'."
    assert not SurveyVersion.objects.exists()
