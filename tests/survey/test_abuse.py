"""Protection against bots and guessing, without storing anything about the people who take part."""

import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client, RequestFactory

from survey import services, throttle
from survey.models import DailyTally, Draft, Response
from tests.support.journey import answer_step, start, step_post_data

pytestmark = pytest.mark.django_db


def fresh_address() -> str:
    """A documentation-range address no other test used: counters are per client, so tests stay apart."""
    import secrets

    return f"198.51.100.{secrets.randbelow(200) + 20}-{secrets.token_hex(4)}"


def test_a_filled_honeypot_stores_nothing(mini_campaign):
    response = start(Client(), mini_campaign, website="http://spam.example")
    assert response["Location"] == "/s/mini/stopped/"
    assert not Draft.objects.exists()
    assert not DailyTally.objects.exists()


def test_the_honeypot_is_hidden_from_people_and_screen_readers(mini_campaign):
    page = Client().get("/s/mini/").content.decode()
    honeypot = re.search(r'<div class="honeypot" aria-hidden="true">.*?</div>', page, re.S).group(0)
    assert 'name="website"' in honeypot and 'tabindex="-1"' in honeypot


def test_a_survey_sent_too_fast_is_held_back_and_can_be_sent_again(mini_campaign, settings):
    settings.STIMMEN_MIN_COMPLETION_SECONDS = 3600
    client = Client()
    start(client, mini_campaign)
    answer_step(client, mini_campaign, "status_step", {"status": "school"})
    done = client.post("/s/mini/q/about_step/", step_post_data(mini_campaign, "about_step", {"birth_year": "2003"}))
    held = client.get(done["Location"])
    assert held.status_code == 429
    assert not Response.objects.exists()
    assert Draft.objects.get().answers == {"status": "school", "birth_year": 2003}
    settings.STIMMEN_MIN_COMPLETION_SECONDS = 0
    assert client.get("/s/mini/q/done/")["Location"] == "/s/mini/thanks/"
    assert Response.objects.count() == 1


def test_resume_guessing_is_limited_per_client_and_counts_only_failures(mini_campaign):
    client = Client(REMOTE_ADDR=fresh_address())
    for _ in range(throttle.RESUME_FAILURES.count):
        assert client.post("/s/mini/resume/", {"code": "AAAA-BBBB-CCCC"}).status_code == 400
    blocked = client.post("/s/mini/resume/", {"code": "AAAA-BBBB-CCCC"})
    assert blocked.status_code == 429
    # Another network is not affected.
    other = Client(REMOTE_ADDR=fresh_address())
    assert other.post("/s/mini/resume/", {"code": "AAAA-BBBB-CCCC"}).status_code == 400


def test_even_a_right_code_is_refused_while_blocked(mini_campaign):
    owner = Client(REMOTE_ADDR=fresh_address())
    start(owner, mini_campaign)
    code = services.draft_issue_resume_code(draft_id=Draft.objects.get().pk)
    for _ in range(throttle.RESUME_FAILURES.count):
        owner.post("/s/mini/resume/", {"code": "AAAA-BBBB-CCCC"})
    assert owner.post("/s/mini/resume/", {"code": code}).status_code == 429


def test_survey_starts_are_limited_per_client(mini_campaign, monkeypatch):
    monkeypatch.setattr(throttle, "SURVEY_STARTS", throttle.Limit("start", count=3, window_seconds=60))
    client = Client(REMOTE_ADDR=fresh_address())
    for _ in range(3):
        assert start(client, mini_campaign).status_code == 302
    assert start(client, mini_campaign).status_code == 429
    assert Draft.objects.count() == 3


def test_no_address_is_stored_anywhere(mini_campaign):
    """Counters are keyed by a daily-rotating keyed hash; sessions and the database never see the address."""
    address = fresh_address()
    client = Client(REMOTE_ADDR=address)
    start(client, mini_campaign)
    client.post("/s/mini/resume/", {"code": "AAAA-BBBB-CCCC"})
    with connection.cursor() as cursor:
        cursor.execute("SELECT session_data FROM django_session")
        assert address not in repr(cursor.fetchall())
    key = throttle.client_key(RequestFactory(REMOTE_ADDR=address).get("/"))
    assert address not in key and len(key) == 32
    assert key != throttle.client_key(RequestFactory(REMOTE_ADDR=fresh_address()).get("/"))
    assert cache.get(f"throttle:resume:{key}") == 1
