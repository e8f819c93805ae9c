"""Security headers in production: every page, whether for respondents, staff or researchers, and the error pages
send a strict Content-Security-Policy, HSTS, X-Frame-Options, Referrer-Policy and Permissions-Policy, and cookies
only over HTTPS; `manage.py check --deploy` finds nothing to warn about.

The tests run with DEBUG off, as production does, and switch on what the test environment turns off (HTTPS
redirect and secure cookies, see ``tests/environment.py``). Requests are made as HTTPS unless stated otherwise.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from survey import services
from survey.models import Campaign, Membership
from tests.support.definitions import mini_definition
from tests.support.journey import start
from tests.support.people import member

ROOT = Path(__file__).resolve().parent.parent

EXPECTED_CSP = {
    "default-src": {"'none'"},
    "script-src": {"'self'"},
    "style-src": {"'self'"},
    "img-src": {"'self'"},
    "font-src": {"'self'"},
    "connect-src": {"'self'"},
    "form-action": {"'self'"},
    "frame-ancestors": {"'none'"},
    "base-uri": {"'none'"},
    "object-src": {"'none'"},
}
DENIED_FEATURES = ("camera", "microphone", "geolocation", "payment", "usb", "display-capture")
ONE_YEAR = 60 * 60 * 24 * 365


@pytest.fixture
def production(settings):
    """What the test environment relaxes, back as in production: HTTPS only, secure cookies."""
    settings.SECURE_SSL_REDIRECT = True
    settings.SESSION_COOKIE_SECURE = True
    settings.CSRF_COOKIE_SECURE = True
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.LANGUAGE_CODE = "en"
    assert not settings.DEBUG


@pytest.fixture
def campaign(organisation) -> Campaign:
    version, _created = services.survey_version_load(data=mini_definition(), organisation=organisation)
    return services.campaign_open(survey_version=version, slug="mini", k=5)


def https_client(**options) -> Client:
    """A client whose requests arrive over HTTPS, as behind the reverse proxy (``X-Forwarded-Proto``)."""
    return Client(headers={"X-Forwarded-Proto": "https"}, **options)


@pytest.fixture
def https(production) -> Client:
    return https_client()


@pytest.fixture
def staff_https(production, organisation) -> Client:
    client = https_client()
    client.force_login(member(organisation, "staff", Membership.Role.STAFF))
    return client


@pytest.fixture
def researcher_https(production, organisation) -> Client:
    client = https_client()
    client.force_login(member(organisation, "researcher", Membership.Role.RESEARCHER))
    return client


def csp_directives(header: str) -> dict[str, set[str]]:
    directives: dict[str, set[str]] = {}
    for part in filter(None, (piece.strip() for piece in header.split(";"))):
        name, *values = part.split()
        assert name not in directives, f"directive {name} appears twice in {header!r}"
        directives[name] = set(values)
    return directives


def assert_secure_headers(response, page: str) -> None:
    """Every header a production page must carry, with the values docs/security.md promises."""
    headers = response.headers
    assert "Content-Security-Policy" in headers, f"{page}: no Content-Security-Policy"
    assert "Content-Security-Policy-Report-Only" not in headers, f"{page}: CSP must be enforced, not report-only"
    policy = headers["Content-Security-Policy"]
    assert csp_directives(policy) == EXPECTED_CSP, f"{page}: {policy}"
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy, f"{page}: {policy}"
    assert headers.get("Strict-Transport-Security") == f"max-age={ONE_YEAR}; includeSubDomains; preload", page
    assert headers.get("X-Frame-Options") == "DENY", page
    assert headers.get("Referrer-Policy") == "same-origin", page
    assert headers.get("X-Content-Type-Options") == "nosniff", page
    assert headers.get("Cross-Origin-Opener-Policy") == "same-origin", page
    permissions = {
        feature.strip(): allowlist
        for feature, _, allowlist in (item.partition("=") for item in headers.get("Permissions-Policy", "").split(","))
    }
    for feature in DENIED_FEATURES:
        assert permissions.get(feature) == "()", f"{page}: {feature} is not denied: {headers.get('Permissions-Policy')}"
    for cookie in response.cookies.values():
        assert cookie["secure"], f"{page}: cookie {cookie.key} would also travel over plain HTTP"
        assert cookie["httponly"], f"{page}: cookie {cookie.key} is readable by scripts"


def test_respondent_pages_send_every_security_header(https, campaign):
    """The start page, the start form with an error, and a survey step carry every header; the session cookie
    the form sets is Secure and HttpOnly."""
    page = https.get(f"/s/{campaign.slug}/")
    assert page.status_code == 200
    assert "sessionid" in page.cookies, "the start form's token lives in the session, which sets the cookie"
    assert_secure_headers(page, "start page")
    rejected = https.post(f"/s/{campaign.slug}/", {"age": "many"})
    assert rejected.status_code == 400
    assert_secure_headers(rejected, "start form with errors")
    assert start(https, campaign).status_code == 302
    step = https.get(f"/s/{campaign.slug}/q/status_step/")
    assert step.status_code == 200
    assert_secure_headers(step, "first survey step")


def test_staff_pages_send_every_security_header(staff_https, organisation, campaign):
    """Staff home, the live monitor (whose script is a file of our own) and its JSON carry every header."""
    base = f"/staff/{organisation.slug}/"
    for path in (base, f"{base}campaigns/{campaign.pk}/monitor/", f"{base}campaigns/{campaign.pk}/monitor.json"):
        response = staff_https.get(path)
        assert response.status_code == 200, path
        assert_secure_headers(response, path)
    monitor = staff_https.get(f"{base}campaigns/{campaign.pk}/monitor/").content.decode()
    assert '<script src="/static/js/staff-monitor.js" defer></script>' in monitor
    assert "<script>" not in monitor and " style=" not in monitor, "inline script or style would be blocked"


def test_analysis_pages_send_every_security_header(researcher_https, campaign):
    """The researchers' campaign list and a campaign's overview carry every header."""
    for path in ("/analysis/", f"/analysis/{campaign.slug}/"):
        response = researcher_https.get(path)
        assert response.status_code == 200, path
        assert_secure_headers(response, path)


def test_sign_in_and_error_pages_send_every_security_header(https, campaign):
    """The sign-in page, a 404, a refused step (400) and a form without its token (403) carry every header."""
    login = https.get("/accounts/login/")
    assert login.status_code == 200
    assert_secure_headers(login, "sign-in page")
    missing = https.get("/s/no-such-campaign/")
    assert missing.status_code == 404
    assert_secure_headers(missing, "404 page")
    start(https, campaign)
    refused = https.post(f"/s/{campaign.slug}/q/status_step/", {"survey_wizard_mini-current_step": "nowhere"})
    assert refused.status_code == 400
    assert_secure_headers(refused, "400 page")
    strict = https_client(enforce_csrf_checks=True)
    forbidden = strict.post(f"/s/{campaign.slug}/", {"age": 19, "consent": "on"})
    assert forbidden.status_code == 403
    assert_secure_headers(forbidden, "403 page (no form token)")


def test_plain_http_is_redirected_to_https(production, campaign):
    """A request over plain HTTP is sent to the same address over HTTPS, before any page is rendered."""
    response = Client().get(f"/s/{campaign.slug}/?lang=en")
    assert response.status_code == 301
    assert response["Location"] == f"https://testserver/s/{campaign.slug}/?lang=en"


def test_check_deploy_reports_nothing():
    """`manage.py check --deploy` with production settings (DEBUG off, a long random secret) has no warning."""
    # Only what a production process has: none of the test run's relaxations (nor the browser tests' async flag).
    environment = {key: os.environ[key] for key in ("PATH", "HOME", "LANG") if key in os.environ}
    environment |= {"DEBUG": "0", "SECRET_KEY": secrets.token_urlsafe(50), "ALLOWED_HOSTS": "umfrage.example.org"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout, result.stdout
