"""The organisation admins' pages: who sees what, and every change is audited."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from survey.audit import audit_record
from survey.models import AuditEvent, Membership
from survey.permissions import MEMBER_ALREADY, MEMBER_LAST_ADMIN
from survey.rules import EXPORT_MICRODATA

pytestmark = pytest.mark.django_db

GET_PAGES = ["staff:members", "staff:member_add", "staff:audit"]


def _login_as(client, who, request):
    if who == "anonymous":
        return
    client.force_login(request.getfixturevalue(who))


@pytest.mark.parametrize("page", GET_PAGES)
@pytest.mark.parametrize(
    ("who", "expected"),
    [("admin_user", 200), ("staff_user", 403), ("researcher", 403), ("other_admin", 404), ("anonymous", 302)],
)
def test_role_page_organisation_matrix(client, request, organisation, page, who, expected):
    """Admins of the organisation get in; its other members get 403; other organisations' admins get 404
    (the organisation is not confirmed to exist); anonymous visitors are sent to the login page."""
    _login_as(client, who, request)
    url = reverse(page, kwargs={"org": organisation.slug})
    response = client.get(url)
    assert response.status_code == expected
    if expected == 302:
        assert response["Location"].startswith(reverse("login") + "?next=")


@pytest.mark.parametrize(
    ("who", "expected"),
    [("admin_user", 200), ("staff_user", 403), ("researcher", 403), ("other_admin", 404), ("anonymous", 302)],
)
def test_remove_page_matrix(client, request, organisation, staff_user, who, expected):
    """The same matrix for a page about one membership."""
    membership = Membership.objects.get(user=staff_user)
    _login_as(client, who, request)
    url = reverse("staff:member_remove", kwargs={"org": organisation.slug, "membership_id": membership.pk})
    assert client.get(url).status_code == expected


def test_unknown_organisation_is_404(admin_client):
    assert admin_client.get(reverse("staff:members", kwargs={"org": "nowhere"})).status_code == 404


def test_members_page_lists_only_own_members(admin_client, organisation, staff_user, other_admin):
    response = admin_client.get(reverse("staff:members", kwargs={"org": organisation.slug}))
    content = response.content.decode()
    assert "sam-staff" in content
    assert "otto-other" not in content


def test_adding_a_new_user_shows_a_one_time_password_and_audits(admin_client, admin_user, organisation):
    """A new account gets a generated password that works once shown; the addition is audited."""
    url = reverse("staff:member_add", kwargs={"org": organisation.slug})
    response = admin_client.post(url, {"username": "neu-staff", "email": "", "role": "staff"})
    assert response.status_code == 200
    password = response.context["password"]
    assert password in response.content.decode()
    assert response["Cache-Control"].startswith("max-age=0")
    user = get_user_model().objects.get(username="neu-staff")
    assert user.check_password(password)
    assert Membership.objects.get(user=user, organisation=organisation).role == "staff"
    event = AuditEvent.objects.get(action=AuditEvent.Action.USER_ADDED)
    assert (event.organisation, event.actor, event.actor_username) == (organisation, admin_user, "anna-admin")
    assert event.target == "user neu-staff"
    assert event.details == {"role": "staff", "new_account": True, "microdata_access": False}
    assert password not in str(event.details)


def test_adding_an_existing_user_adds_the_membership(admin_client, organisation, other_admin):
    url = reverse("staff:member_add", kwargs={"org": organisation.slug})
    response = admin_client.post(url, {"username": "otto-other", "role": "researcher"})
    assert response.status_code == 302
    assert Membership.objects.get(user=other_admin, organisation=organisation).role == "researcher"
    details = AuditEvent.objects.get(action="user_added").details
    assert details == {"role": "researcher", "new_account": False, "microdata_access": False}
    response = admin_client.post(url, {"username": "otto-other", "role": "researcher"})
    assert response.status_code == 400
    assert str(MEMBER_ALREADY) in response.content.decode()


def test_changing_a_role_is_audited(admin_client, organisation, staff_user):
    membership = Membership.objects.get(user=staff_user)
    url = reverse("staff:member_role", kwargs={"org": organisation.slug, "membership_id": membership.pk})
    response = admin_client.post(url, {f"m{membership.pk}-role": "researcher"})
    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.role == "researcher"
    event = AuditEvent.objects.get(action=AuditEvent.Action.USER_ROLE_CHANGED)
    assert event.target == "user sam-staff"
    assert event.details == {"from": "staff", "to": "researcher"}


def test_removing_a_member_is_audited(admin_client, organisation, staff_user):
    membership = Membership.objects.get(user=staff_user)
    url = reverse("staff:member_remove", kwargs={"org": organisation.slug, "membership_id": membership.pk})
    assert admin_client.post(url).status_code == 302
    assert not Membership.objects.filter(pk=membership.pk).exists()
    assert get_user_model().objects.filter(username="sam-staff").exists()
    event = AuditEvent.objects.get(action=AuditEvent.Action.USER_REMOVED)
    assert (event.target, event.details) == ("user sam-staff", {"role": "staff"})


def test_the_last_admin_cannot_be_demoted_or_removed(admin_client, admin_user, organisation):
    membership = Membership.objects.get(user=admin_user)
    role_url = reverse("staff:member_role", kwargs={"org": organisation.slug, "membership_id": membership.pk})
    response = admin_client.post(role_url, {f"m{membership.pk}-role": "staff"}, follow=True)
    assert str(MEMBER_LAST_ADMIN) in response.content.decode()
    remove_url = reverse("staff:member_remove", kwargs={"org": organisation.slug, "membership_id": membership.pk})
    admin_client.post(remove_url)
    membership.refresh_from_db()
    assert membership.role == "admin"
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize("page", ["staff:member_role", "staff:member_remove"])
def test_another_organisations_membership_id_is_404(admin_client, organisation, other_admin, page):
    """Changing the id in the URL to a membership of another organisation changes nothing and gives 404."""
    foreign = Membership.objects.get(user=other_admin)
    url = reverse(page, kwargs={"org": organisation.slug, "membership_id": foreign.pk})
    assert admin_client.post(url, {f"m{foreign.pk}-role": "staff"}).status_code == 404
    foreign.refresh_from_db()
    assert foreign.role == "admin"
    assert not AuditEvent.objects.exists()


def test_another_organisations_membership_via_its_slug_is_404(admin_client, other_organisation, other_admin):
    foreign = Membership.objects.get(user=other_admin)
    url = reverse("staff:member_remove", kwargs={"org": other_organisation.slug, "membership_id": foreign.pk})
    assert admin_client.post(url).status_code == 404
    assert Membership.objects.filter(pk=foreign.pk).exists()


def test_audit_log_shows_own_events_paginated_and_filtered(
    admin_client, admin_user, organisation, other_organisation, other_admin
):
    for number in range(55):
        audit_record(
            actor=admin_user, organisation=organisation, action="campaign.changed", target=f"campaign c{number}"
        )
    audit_record(actor=admin_user, organisation=organisation, action="export_created", target="campaign export-me")
    audit_record(actor=other_admin, organisation=other_organisation, action="user_added", target="user secret-bochum")
    url = reverse("staff:audit", kwargs={"org": organisation.slug})

    first = admin_client.get(url)
    assert len(first.context["page"].object_list) == 50
    assert first.context["page"].paginator.count == 56
    assert "secret-bochum" not in first.content.decode()
    assert "export-me" in first.content.decode()  # newest first

    second = admin_client.get(url, {"page": 2})
    assert len(second.context["page"].object_list) == 6

    filtered = admin_client.get(url, {"action": "export_created"})
    assert [event.target for event in filtered.context["page"].object_list] == ["campaign export-me"]
    assert admin_client.get(url, {"action": "user_added"}).context["page"].paginator.count == 0


def test_granting_microdata_access_is_audited_and_gives_the_permission(admin_client, organisation, researcher):
    membership = Membership.objects.get(user=researcher)
    assert not get_user_model().objects.get(pk=researcher.pk).has_perm(EXPORT_MICRODATA, organisation)
    url = reverse("staff:member_role", kwargs={"org": organisation.slug, "membership_id": membership.pk})
    admin_client.post(url, {f"m{membership.pk}-role": "researcher", f"m{membership.pk}-microdata_access": "on"})
    membership.refresh_from_db()
    assert membership.microdata_access
    event = AuditEvent.objects.get(action=AuditEvent.Action.USER_ROLE_CHANGED)
    assert event.details == {"microdata_access": True}
    assert get_user_model().objects.get(pk=researcher.pk).has_perm(EXPORT_MICRODATA, organisation)
    # Saving again without a change writes nothing.
    admin_client.post(url, {f"m{membership.pk}-role": "researcher", f"m{membership.pk}-microdata_access": "on"})
    assert AuditEvent.objects.count() == 1


@pytest.mark.parametrize(
    ("who", "microdata_access", "expected"),
    [
        ("admin_user", False, True),
        ("staff_user", False, True),
        ("researcher", False, False),
        ("researcher", True, True),
        ("other_admin", False, False),
    ],
)
def test_export_microdata_permission(request, organisation, who, microdata_access, expected):
    user = request.getfixturevalue(who)
    Membership.objects.filter(user=user).update(microdata_access=microdata_access)
    user = get_user_model().objects.get(pk=user.pk)
    assert user.has_perm(EXPORT_MICRODATA, organisation) is expected
