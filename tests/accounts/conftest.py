"""Accounts and admin pages: two organisations, one member per role in the first, an admin in the second."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from survey.models import Membership, Organisation

PASSWORD = "correct-horse-battery-42"


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def member(organisation: Organisation, username: str, role: str):
    user = get_user_model().objects.create_user(username=username, password=PASSWORD)
    Membership.objects.create(user=user, organisation=organisation, role=role)
    return user


@pytest.fixture
def organisation(db) -> Organisation:
    return Organisation.objects.create(slug="dortmund", name="Integrationszentrum Dortmund")


@pytest.fixture
def other_organisation(db) -> Organisation:
    return Organisation.objects.create(slug="bochum", name="Integrationszentrum Bochum", city="Bochum")


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
