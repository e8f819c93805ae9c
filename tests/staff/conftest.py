"""Staff pages: an organisation with a staff member, a researcher, and a second organisation with its own staff."""

from __future__ import annotations

import pytest

from survey import services
from survey.models import Campaign, Membership, Organisation, SurveyVersion
from tests.support.definitions import mini_definition
from tests.support.people import member


@pytest.fixture(autouse=True)
def _fast_passwords_and_eager_tasks(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Jobs started from the staff pages run in-process here, with or without Redis (no worker in these tests).
    from worker.celery import app

    eager = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = eager


@pytest.fixture
def staff_user(organisation):
    return member(organisation, "staff", Membership.Role.STAFF)


@pytest.fixture
def researcher(organisation):
    return member(organisation, "researcher", Membership.Role.RESEARCHER)


@pytest.fixture
def other_staff(other_organisation):
    return member(other_organisation, "other-staff", Membership.Role.STAFF)


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


@pytest.fixture
def version(organisation) -> SurveyVersion:
    version, _created = services.survey_version_load(data=mini_definition(), organisation=organisation)
    return version


@pytest.fixture
def campaign(version) -> Campaign:
    return services.campaign_open(survey_version=version, slug="mini", k=5)


def staff_url(campaign_or_org, suffix: str = "") -> str:
    organisation = campaign_or_org if isinstance(campaign_or_org, Organisation) else campaign_or_org.organisation
    return f"/staff/{organisation.slug}/{suffix}"


@pytest.fixture(autouse=True)
def english_interface(settings):
    """These tests read the back office in English, its source language; the translations have their own tests."""
    settings.LANGUAGE_CODE = "en"
