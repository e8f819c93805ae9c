"""Signing in: the login page, lockout after failures (real django-axes), two-factor codes, idle timeout."""

from __future__ import annotations

import time

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import SESSION_KEY
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from survey.models import AuditEvent, Membership
from survey.permissions import LAST_ACTIVITY_KEY
from survey.views.accounts import CODE_WRONG
from tests.accounts.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def _sign_in(client, username, password=PASSWORD, **extra):
    return client.post(reverse("login"), {"username": username, "password": password}, **extra)


def _code(device: TOTPDevice, offset: int = 0) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=offset):06d}"


def test_login_page_renders_accessibly(client):
    response = client.get(reverse("login"))
    content = response.content.decode()
    assert response.status_code == 200
    assert 'autocomplete="username"' in content
    assert 'autocomplete="current-password"' in content
    assert '<label for="id_username">' in content


def test_login_and_logout(client, admin_user):
    response = _sign_in(client, "anna-admin")
    assert response.status_code == 302
    assert response["Location"] == reverse("account_home")
    home = client.get(reverse("account_home"))
    assert "Integrationszentrum Dortmund" in home.content.decode()
    assert client.get(reverse("logout")).status_code == 405  # logging out takes a POST
    assert client.post(reverse("logout")).status_code == 302
    assert SESSION_KEY not in client.session


def test_lockout_after_five_failures_stores_no_ip_and_is_audited(client, admin_user, organisation, settings):
    """The fifth wrong password locks the username: then even the right password is refused (429). Axes keeps
    no IP address or browser, and the lockout is written once to the audit log of the user's organisation."""
    for _attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _sign_in(client, "anna-admin", "wrong-password", REMOTE_ADDR="203.0.113.7").status_code == 200
    assert _sign_in(client, "anna-admin", "wrong-password", REMOTE_ADDR="203.0.113.7").status_code == 429
    locked = _sign_in(client, "anna-admin", REMOTE_ADDR="198.51.100.1")
    assert locked.status_code == 429
    assert SESSION_KEY not in client.session

    attempt = AccessAttempt.objects.get(username="anna-admin")
    assert attempt.ip_address is None
    assert attempt.user_agent == ""
    assert attempt.failures_since_start == settings.AXES_FAILURE_LIMIT
    assert "wrong-password" not in attempt.post_data
    event = AuditEvent.objects.get(action=AuditEvent.Action.LOGIN_FAILED_LOCKOUT)
    assert (event.organisation, event.actor, event.target) == (organisation, None, "user anna-admin")


def test_lockout_is_per_username(client, admin_user, staff_user, settings):
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        _sign_in(client, "anna-admin", "wrong-password")
    assert _sign_in(client, "sam-staff").status_code == 302


def test_lockout_ends_after_the_cool_off(client, admin_user, settings):
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        _sign_in(client, "anna-admin", "wrong-password")
    AccessAttempt.objects.update(attempt_time=AccessAttempt.objects.get().attempt_time - settings.AXES_COOLOFF_TIME)
    assert _sign_in(client, "anna-admin").status_code == 302


def test_a_success_resets_the_failure_count(client, admin_user, settings):
    for _attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        _sign_in(client, "anna-admin", "wrong-password")
    assert _sign_in(client, "anna-admin").status_code == 302
    client.post(reverse("logout"))
    assert _sign_in(client, "anna-admin", "wrong-password").status_code == 200
    assert _sign_in(client, "anna-admin").status_code == 302


# --- Two-factor ----------------------------------------------------------------------------------------------


@pytest.fixture
def no_otp_backoff(settings):
    """django-otp delays the next try after a wrong code (1 s, 2 s, …); these tests try again at once."""
    settings.OTP_TOTP_THROTTLE_FACTOR = 0


def test_enabling_totp_and_signing_in_with_a_code(client, admin_user, no_otp_backoff):
    """Set-up shows a QR code (inline SVG) and the key; a code from the key confirms the device; from then on
    the password alone does not sign in, the password and a current code do."""
    client.force_login(admin_user)
    page = client.get(reverse("two_factor"))
    content = page.content.decode()
    assert "<svg" in content
    assert "<?xml" not in content
    device = TOTPDevice.objects.get(user=admin_user, confirmed=False)
    assert page.context["secret"].replace(" ", "")  # the key for typing in

    wrong = "000000" if _code(device) != "000000" else "111111"
    assert client.post(reverse("two_factor"), {"code": wrong}).status_code == 400
    assert client.post(reverse("two_factor"), {"code": _code(device)}).status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    client.post(reverse("logout"))

    response = _sign_in(client, "anna-admin")
    assert response["Location"] == reverse("login_code")
    assert SESSION_KEY not in client.session  # the password alone does not sign in
    assert client.get(reverse("account_home")).status_code == 302

    device.refresh_from_db()
    # The code used to confirm the device cannot be replayed; the next one works. (Relative to the drift the
    # device recorded: a confirmation that straddled a 30-second boundary leaves it at -1.)
    response = client.post(reverse("login_code"), {"code": _code(device, offset=device.drift + 1)})
    assert response.status_code == 302
    assert response["Location"] == reverse("account_home")
    assert client.session[SESSION_KEY] == str(admin_user.pk)
    assert client.get(reverse("account_home")).status_code == 200


@pytest.fixture
def device(admin_user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=admin_user, name="authenticator", confirmed=True)


def test_a_wrong_code_does_not_sign_in(client, device):
    _sign_in(client, "anna-admin")
    wrong = "123456" if _code(device) != "123456" else "654321"
    response = client.post(reverse("login_code"), {"code": wrong})
    assert response.status_code == 400
    assert str(CODE_WRONG) in response.content.decode()
    assert SESSION_KEY not in client.session


def test_wrong_codes_count_towards_the_lockout(client, device, settings, no_otp_backoff):
    """Guessing codes locks the account like guessing passwords (on top of django-otp's own back-off)."""
    _sign_in(client, "anna-admin")
    wrong = "123456" if _code(device) != "123456" else "654321"
    statuses = []
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        statuses.append(client.post(reverse("login_code"), {"code": wrong}).status_code)
    assert statuses[-1] == 429
    # Now locked: a right code no longer helps, and the password step is refused too.
    assert client.post(reverse("login_code"), {"code": _code(device)}).status_code == 302  # back to the login
    assert _sign_in(client, "anna-admin").status_code == 429


def test_the_code_step_needs_the_password_step(client, device):
    assert client.post(reverse("login_code"), {"code": _code(device)})["Location"] == reverse("login")


def test_the_code_step_expires(client, device):
    _sign_in(client, "anna-admin")
    session = client.session
    session["stimmen_login_pending"]["at"] = int(time.time()) - 10 * 60
    session.save()
    response = client.post(reverse("login_code"), {"code": _code(device)})
    assert response["Location"] == reverse("login")
    assert SESSION_KEY not in client.session


def test_switching_two_factor_off_needs_a_code(client, admin_user, device, no_otp_backoff):
    client.force_login(admin_user)
    wrong = "123456" if _code(device) != "123456" else "654321"
    assert client.post(reverse("two_factor"), {"code": wrong}).status_code == 400
    assert TOTPDevice.objects.filter(pk=device.pk).exists()
    assert client.post(reverse("two_factor"), {"code": _code(device)}).status_code == 302
    assert not TOTPDevice.objects.filter(user=admin_user).exists()


# --- Session timeout -----------------------------------------------------------------------------------------


def test_staff_session_expires_after_idle_time(client, admin_user, organisation, settings):
    """A signed-in session lives STIMMEN_STAFF_SESSION_IDLE_SECONDS from the last request, then asks for login."""
    _sign_in(client, "anna-admin")
    members = reverse("staff:members", kwargs={"org": organisation.slug})
    response = client.get(members)
    assert response.status_code == 200
    assert client.session.get_expiry_age() == settings.STIMMEN_STAFF_SESSION_IDLE_SECONDS
    assert response.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == settings.STIMMEN_STAFF_SESSION_IDLE_SECONDS

    session = client.session
    session[LAST_ACTIVITY_KEY] = int(time.time()) - settings.STIMMEN_STAFF_SESSION_IDLE_SECONDS + 60
    session.save()
    assert client.get(members).status_code == 200  # 29 idle minutes: still signed in

    session = client.session
    session[LAST_ACTIVITY_KEY] = int(time.time()) - settings.STIMMEN_STAFF_SESSION_IDLE_SECONDS - 1
    session.save()
    response = client.get(members)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert SESSION_KEY not in client.session


def test_respondent_sessions_keep_the_long_lifetime(client, settings):
    """Anonymous sessions (respondents) are not shortened by the staff timeout."""
    session = client.session
    session["something"] = 1
    session.save()
    client.get(reverse("login"))
    assert client.session.get_expiry_age() == settings.SESSION_COOKIE_AGE


# --- Password change -----------------------------------------------------------------------------------------


def test_password_change_enforces_the_validators(client, admin_user):
    client.force_login(admin_user)
    url = reverse("password_change")
    assert client.get(url).status_code == 200
    short = {"old_password": PASSWORD, "new_password1": "short-pw", "new_password2": "short-pw"}
    assert client.post(url, short).status_code == 200
    new = "lange-sichere-passphrase-77"
    good = {"old_password": PASSWORD, "new_password1": new, "new_password2": new}
    assert client.post(url, good)["Location"] == reverse("password_change_done")
    admin_user.refresh_from_db()
    assert admin_user.check_password(new)


# --- The signed-in start page --------------------------------------------------------------------------------


@pytest.mark.parametrize("page", ["account_home", "two_factor", "password_change"])
def test_account_pages_need_a_login(client, page):
    response = client.get(reverse(page))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_start_page_lists_each_organisation_with_the_pages_the_role_opens(
    client, admin_user, organisation, other_organisation
):
    """A user with several memberships picks the organisation by following its links (the slug is in the URL)."""
    Membership.objects.create(user=admin_user, organisation=other_organisation, role=Membership.Role.RESEARCHER)
    client.force_login(admin_user)
    content = client.get(reverse("account_home")).content.decode()
    assert reverse("staff:members", kwargs={"org": "dortmund"}) in content
    assert reverse("staff:audit", kwargs={"org": "dortmund"}) in content
    assert "Integrationszentrum Bochum" in content
    assert reverse("staff:members", kwargs={"org": "bochum"}) not in content
    assert reverse("staff:home", kwargs={"org": "bochum"}) not in content
