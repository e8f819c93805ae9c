"""Accounts and admin pages: two organisations, one member per role in the first, an admin in the second."""

from __future__ import annotations

import pytest

from survey.models import Membership
from tests.support.people import PASSWORD, member  # noqa: F401 - PASSWORD is imported by the tests


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def admin_user(organisation):
    return member(organisation, "anna-admin", Membership.Role.ADMIN)


@pytest.fixture
def staff_user(organisation):
    return member(organisation, "sam-staff", Membership.Role.STAFF)


@pytest.fixture
def researcher(organisation):
    return member(organisation, "rita-research", Membership.Role.RESEARCHER)


@pytest.fixture
def other_admin(other_organisation):
    return member(other_organisation, "otto-other", Membership.Role.ADMIN)


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture(autouse=True)
def english_interface(settings):
    """These tests read the back office in English, its source language; the translations have their own tests."""
    settings.LANGUAGE_CODE = "en"
