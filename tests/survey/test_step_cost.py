"""What one survey step costs the server (issue 7): the queries behind a page view and a saved step.

Counted, not timed: a count does not depend on how busy the machine is. Speed itself is measured in ``bench/``.
"""

import pytest
from django import forms
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils.datastructures import MultiValueDict

from survey.templatetags.survey_fields import choice_input
from tests.support.journey import start, step_post_data

DEFINITION_COLUMN = '"survey_surveyversion"."definition"'


def started(campaign) -> Client:
    """A respondent who opened the start page (which issues the CSRF token), agreed and entered the survey."""
    client = Client()
    assert client.get(f"/s/{campaign.slug}/").status_code == 200
    assert start(client, campaign).status_code == 302
    assert client.get(f"/s/{campaign.slug}/q/").status_code == 302  # the wizard's working copy is set up
    return client


@pytest.mark.django_db
def test_viewing_a_step_reads_two_rows_and_writes_nothing(mini_campaign):
    """A page view reads the session and the draft (with its campaign), and stores nothing, not even the session."""
    client = started(mini_campaign)
    with CaptureQueriesContext(connection) as captured:
        page = client.get("/s/mini/q/status_step/")
    assert page.status_code == 200
    statements = [query["sql"] for query in captured.captured_queries]
    assert len(statements) == 2, statements
    assert all(statement.startswith("SELECT") for statement in statements), statements
    assert not any(DEFINITION_COLUMN in statement for statement in statements)


@pytest.mark.django_db
def test_saving_a_step_locks_the_draft_once_and_writes_the_session_once(mini_campaign):
    """The Next button reads the draft, locks it once with its campaign and version, never fetches the
    definition, and stores the session once."""
    client = started(mini_campaign)
    with CaptureQueriesContext(connection) as captured:
        reply = client.post(
            "/s/mini/q/status_step/", step_post_data(mini_campaign, "status_step", {"status": "school"})
        )
    assert reply.status_code == 302
    statements = [query["sql"] for query in captured.captured_queries]
    assert sum("FOR UPDATE" in statement for statement in statements) == 1
    assert sum(statement.startswith('UPDATE "django_session"') for statement in statements) == 1
    assert not any(
        statement.startswith(('SELECT "survey_campaign"', 'SELECT "survey_surveyversion"')) for statement in statements
    )
    assert not any(DEFINITION_COLUMN in statement for statement in statements)


@pytest.mark.parametrize(
    ("field_class", "widget", "data"),
    [
        (forms.ChoiceField, forms.RadioSelect, {}),
        (forms.ChoiceField, forms.RadioSelect, {"pick": ['x"<y>']}),
        (forms.MultipleChoiceField, forms.CheckboxSelectMultiple, {}),
        (forms.MultipleChoiceField, forms.CheckboxSelectMultiple, {"pick": ["a", "3"]}),
    ],
)
def test_choice_inputs_are_the_markup_django_renders(field_class, widget, data):
    """Radio buttons and checkboxes: same attributes, order and escaping as Django's own option templates,
    also when checked, required or marked invalid."""

    class PickForm(forms.Form):
        pick = field_class(choices=[("a", "A"), ('x"<y>', "odd"), (3, "three")], widget=widget, help_text="Help")

    form = PickForm(data=MultiValueDict(data))
    form.is_valid()
    choices = list(form["pick"])
    assert choices
    for choice in choices:
        assert choice_input(choice) == choice.tag()
