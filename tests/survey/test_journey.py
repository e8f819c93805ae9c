"""The respondent's journey through Django's test client, as a phone without JavaScript would take it."""

import datetime
import re

import pytest
from django.test import Client
from django.utils import timezone

from survey import services
from survey.models import Campaign, DailyTally, Draft, Response, StepReach
from tests.support.journey import answer_step, current_step, start, step_post_data

pytestmark = pytest.mark.django_db


def answered(campaign: Campaign) -> Client:
    client = Client()
    assert start(client, campaign).status_code == 302
    return client


def finish(client: Client, campaign: Campaign) -> None:
    response = answer_step(client, campaign, "about_step", {"birth_year": "2004", "district": "eving"})
    assert response["Location"].endswith("/q/done/")
    assert client.get(response["Location"])["Location"] == f"/s/{campaign.slug}/thanks/"


def test_start_page_says_what_who_how_long_and_what_happens_to_the_data(mini_campaign):
    page = Client().get("/s/mini/").content.decode()
    assert "Mini-Umfrage" in page
    assert "Integrationszentrum Dortmund" in page
    assert "3 Minuten" in page or "3 minutes" in page
    assert 'name="consent"' in page and 'name="age"' in page


def test_full_journey_stores_one_response_with_the_answers_given(mini_campaign):
    client = answered(mini_campaign)
    assert current_step(client, mini_campaign) == "status_step"
    answer_step(client, mini_campaign, "status_step", {"status": "training"})
    assert current_step(client, mini_campaign) == "training_step"
    answer_step(client, mini_campaign, "training_step", {"training_field": "Mechatroniker", "training_happy": "4"})
    finish(client, mini_campaign)

    response = Response.objects.get()
    assert response.answers == {
        "status": "training",
        "training_field": "Mechatroniker",
        "training_happy": 4,
        "birth_year": 2004,
        "district": "eving",
    }
    assert response.submitted_on == timezone.localdate()
    assert response.survey_version == mini_campaign.survey_version
    thanks = client.get("/s/mini/thanks/").content.decode()
    assert "Danke" in thanks or "Thank you" in thanks


def test_journey_in_arabic_is_right_to_left_and_shows_arabic_questions(mini_campaign):
    client = Client()
    client.get("/s/mini/?lang=ar")
    page = client.get("/s/mini/").content.decode()
    assert '<html lang="ar" dir="rtl">' in page
    start(client, mini_campaign)
    page = client.get("/s/mini/q/status_step/").content.decode()
    assert "ماذا تفعل حاليًا؟" in page
    answer_step(client, mini_campaign, "status_step", {"status": "school"})
    finish(client, mini_campaign)
    assert Response.objects.get().language == "ar"


def test_branching_skips_steps_and_progress_counts_only_visible_steps(mini_campaign):
    client = answered(mini_campaign)
    page = client.get("/s/mini/q/status_step/").content.decode()
    assert "Schritt 1 von 2" in page or "Step 1 of 2" in page
    answer_step(client, mini_campaign, "status_step", {"status": "job_seeking"})
    page = client.get("/s/mini/q/search_step/").content.decode()
    assert re.search(r"(Schritt|Step) 2 (von|of) 3", page)
    # Training questions are never shown to job seekers.
    assert client.get("/s/mini/q/training_step/")["Location"] == "/s/mini/q/search_step/"


def test_changing_an_earlier_answer_drops_answers_of_the_branch_left(mini_campaign):
    client = answered(mini_campaign)
    answer_step(client, mini_campaign, "status_step", {"status": "training"})
    answer_step(client, mini_campaign, "training_step", {"training_field": "Friseurin"})
    answer_step(client, mini_campaign, "status_step", {"status": "school"})
    finish(client, mini_campaign)
    assert "training_field" not in Response.objects.get().answers


def test_question_that_appears_on_the_same_page_is_shown_before_moving_on(mini_campaign):
    client = answered(mini_campaign)
    answer_step(client, mini_campaign, "status_step", {"status": "job_seeking"})
    page = answer_step(client, mini_campaign, "search_step", {"months_searching": "3", "barriers": ["language"]})
    assert page.status_code == 200
    assert 'name="search_step-barriers_detail"' in page.content.decode()
    assert Draft.objects.get().answers == {"status": "job_seeking"}


def test_validation_errors_are_shown_next_to_the_field_and_in_a_summary(mini_campaign):
    client = answered(mini_campaign)
    page = answer_step(client, mini_campaign, "status_step", {})
    html = page.content.decode()
    assert page.status_code == 200
    assert 'class="error-summary"' in html
    assert 'id="id_status_step-status_error"' in html
    assert 'href="#id_status_step-status_0"' in html
    assert Draft.objects.get().answers == {}


def test_back_keeps_the_answers_of_both_pages(mini_campaign):
    client = answered(mini_campaign)
    answer_step(client, mini_campaign, "status_step", {"status": "job_seeking"})
    data = step_post_data(mini_campaign, "search_step", {"months_searching": "7"}, wizard_goto_step="status_step")
    assert client.post("/s/mini/q/search_step/", data)["Location"] == "/s/mini/q/status_step/"
    page = client.get("/s/mini/q/status_step/").content.decode()
    assert re.search(r'value="job_seeking"[^>]*checked', page)
    page = client.get("/s/mini/q/search_step/").content.decode()
    assert 'value="7"' in page


def test_every_completed_step_is_saved_to_the_draft_at_once(mini_campaign):
    client = answered(mini_campaign)
    answer_step(client, mini_campaign, "status_step", {"status": "school"})
    draft = Draft.objects.get()
    assert draft.answers == {"status": "school"}
    assert draft.completed_steps == ["status_step"]


def test_continue_later_gives_a_code_that_resumes_in_a_fresh_browser(mini_campaign):
    client = answered(mini_campaign)
    answer_step(client, mini_campaign, "status_step", {"status": "job_seeking"})
    data = step_post_data(mini_campaign, "search_step", {"months_searching": "11"}, wizard_continue_later="1")
    assert client.post("/s/mini/q/search_step/", data)["Location"] == "/s/mini/later/"
    page = client.get("/s/mini/later/").content.decode()
    code = re.search(r"<strong>([A-Z0-9-]{14})</strong>", page).group(1)
    assert re.search(rf'<a href="[^"]*/resume/\?code={code}"', page)

    other_browser = Client()
    resumed = other_browser.post("/s/mini/resume/", {"code": code.lower().replace("-", " ")})
    assert resumed["Location"] == "/s/mini/q/"
    # The page saved with "continue later" counts as done: the respondent goes on after it.
    assert current_step(other_browser, mini_campaign) == "about_step"
    assert 'value="11"' in other_browser.get("/s/mini/q/search_step/").content.decode()
    finish(other_browser, mini_campaign)
    assert Response.objects.get().answers["months_searching"] == 11


def test_wrong_and_expired_codes_are_refused_with_a_clear_message(mini_campaign):
    client = answered(mini_campaign)
    code = services.draft_issue_resume_code(draft_id=Draft.objects.get().pk)

    wrong = Client().post("/s/mini/resume/", {"code": "AAAA-BBBB-CCCC"})
    assert wrong.status_code == 400
    assert "konnten diesen Code nicht finden" in wrong.content.decode() or "could not find" in wrong.content.decode()

    Draft.objects.update(expires_on=timezone.localdate() - datetime.timedelta(days=1))
    expired = Client().post("/s/mini/resume/", {"code": code})
    assert expired.status_code == 400
    assert "abgelaufen" in expired.content.decode() or "expired" in expired.content.decode()
    del client


def test_closed_campaign_shows_a_notice_and_resumes_nothing(mini_campaign):
    client = answered(mini_campaign)
    code = services.draft_issue_resume_code(draft_id=Draft.objects.get().pk)
    Campaign.objects.filter(pk=mini_campaign.pk).update(
        opens_at=timezone.now() - datetime.timedelta(days=2), closes_at=timezone.now() - datetime.timedelta(minutes=1)
    )
    notice = Client().get("/s/mini/")
    assert notice.status_code == 200
    assert "nicht geöffnet" in notice.content.decode() or "not open" in notice.content.decode()
    assert Client().post("/s/mini/resume/", {"code": code}).status_code == 403
    refused = client.post("/s/mini/q/status_step/", step_post_data(mini_campaign, "status_step", {"status": "school"}))
    assert refused.status_code == 403
    assert Draft.objects.get().answers == {}


@pytest.mark.parametrize(
    ("age", "parental_consent"), [(13, True), (28, False), (15, False)], ids=["too young", "too old", "no parent"]
)
def test_age_gate_thanks_and_stops_without_storing_anything(mini_campaign, age, parental_consent):
    extra = {"parental_consent": "on"} if parental_consent else {}
    response = start(Client(), mini_campaign, age=age, **extra)
    assert response["Location"] == "/s/mini/stopped/"
    assert not Draft.objects.exists()
    assert not DailyTally.objects.exists()


def test_under_16_with_parental_consent_may_take_part(mini_campaign):
    response = start(Client(), mini_campaign, age=15, parental_consent="on")
    assert response["Location"] == "/s/mini/q/"
    assert Draft.objects.count() == 1


def test_double_submit_and_replayed_posts_create_one_response(mini_campaign):
    client = answered(mini_campaign)
    answer_step(client, mini_campaign, "status_step", {"status": "school"})
    data = step_post_data(mini_campaign, "about_step", {"birth_year": "2001"})
    first = client.post("/s/mini/q/about_step/", data)
    client.get(first["Location"])
    replay = client.post("/s/mini/q/about_step/", data)
    assert replay["Location"] == "/s/mini/thanks/"
    assert client.get("/s/mini/q/done/")["Location"] == "/s/mini/thanks/"
    assert client.get("/s/mini/q/status_step/")["Location"] == "/s/mini/thanks/"
    assert Response.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_submits_of_one_draft_create_exactly_one_response(mini_campaign):
    """Two requests submitting the same draft at the same moment (a double tap) store it once."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    draft = services.draft_start(campaign=mini_campaign, language="de")
    services.draft_save_step(
        draft_id=draft.pk, step_key="status_step", step_answers={"status": "school"}, language="de"
    )

    def submit(_):
        try:
            return services.draft_submit(draft_id=draft.pk).created
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=4) as pool:
        created = list(pool.map(submit, range(4)))
    assert sorted(created) == [False, False, False, True]
    assert Response.objects.filter(draft_id=draft.pk).count() == 1


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ({"status": "astronaut"}, "Bitte wähle eine der angezeigten Antworten"),
        ({"status": "school'; DROP TABLE survey_response;--"}, "Bitte wähle eine der angezeigten Antworten"),
    ],
)
def test_unknown_option_values_are_refused_with_a_form_error(mini_campaign, answers, message):
    client = answered(mini_campaign)
    page = answer_step(client, mini_campaign, "status_step", answers)
    assert page.status_code == 200
    assert Draft.objects.get().answers == {}


def test_oversized_text_is_refused_and_nothing_changes(mini_campaign):
    client = answered(mini_campaign)
    answer_step(client, mini_campaign, "status_step", {"status": "school"})
    page = answer_step(client, mini_campaign, "about_step", {"wishes": "x" * 501})
    assert page.status_code == 200
    assert "500" in page.content.decode()
    assert Draft.objects.get().answers == {"status": "school"}


def test_missing_management_form_is_a_400_and_changes_nothing(mini_campaign):
    client = answered(mini_campaign)
    response = client.post("/s/mini/q/status_step/", {"status_step-status": "school"})
    assert response.status_code == 400
    assert Draft.objects.get().answers == {}


def test_a_step_cannot_be_skipped_by_url_or_by_posting_it(mini_campaign):
    client = answered(mini_campaign)
    assert client.get("/s/mini/q/about_step/")["Location"] == "/s/mini/q/status_step/"
    skipped = client.post("/s/mini/q/about_step/", step_post_data(mini_campaign, "about_step", {"birth_year": "2001"}))
    assert skipped.status_code == 400
    assert client.get("/s/mini/q/done/")["Location"] == "/s/mini/q/status_step/"
    assert Draft.objects.get().answers == {}
    assert not Response.objects.exists()


def test_two_campaigns_in_one_browser_keep_their_answers_apart(mini_campaign):
    other = services.campaign_open(survey_version=mini_campaign.survey_version, slug="mini-zwei")
    client = answered(mini_campaign)
    start(client, other)
    answer_step(client, mini_campaign, "status_step", {"status": "training"})
    answer_step(client, other, "status_step", {"status": "school"})
    assert Draft.objects.get(campaign=mini_campaign).answers == {"status": "training"}
    assert Draft.objects.get(campaign=other).answers == {"status": "school"}


def test_language_switch_keeps_the_answers(mini_campaign):
    client = answered(mini_campaign)
    answer_step(client, mini_campaign, "status_step", {"status": "job_seeking"})
    data = step_post_data(mini_campaign, "search_step", {"months_searching": "9"}, wizard_switch_language="en")
    assert client.post("/s/mini/q/search_step/", data)["Location"] == "/s/mini/q/search_step/"
    page = client.get("/s/mini/q/search_step/").content.decode()
    assert '<html lang="en"' in page
    assert 'value="9"' in page
    assert re.search(r'value="job_seeking"[^>]*checked', client.get("/s/mini/q/status_step/").content.decode())


def test_counts_per_step_and_day_are_kept(mini_campaign):
    client = answered(mini_campaign)
    answer_step(client, mini_campaign, "status_step", {"status": "school"})
    finish(client, mini_campaign)
    answered(mini_campaign)
    reached = dict(StepReach.objects.values_list("step_key", "reached"))
    assert reached == {"status_step": 2, "about_step": 1}
    tally = DailyTally.objects.get()
    assert (tally.started, tally.completed) == (2, 1)


def test_nothing_identifying_is_stored_and_no_cookie_but_the_session(mini_campaign):
    client = Client(REMOTE_ADDR="203.0.113.7", HTTP_USER_AGENT="Mozilla/5.0 (Linux; Android 14)")
    first = client.get("/s/mini/")
    start(client, mini_campaign)
    answer_step(client, mini_campaign, "status_step", {"status": "school"})
    finish(client, mini_campaign)
    assert set(client.cookies) == {"sessionid"}
    assert "csrftoken" not in first.cookies
    from django.db import connection

    with connection.cursor() as cursor:
        for table in ("survey_draft", "survey_response"):
            cursor.execute(f"SELECT * FROM {table}")
            dump = repr(cursor.fetchall())
            assert "203.0.113.7" not in dump and "Android" not in dump


def test_an_expired_draft_is_not_continued_in_the_same_browser(mini_campaign):
    client = answered(mini_campaign)
    answer_step(client, mini_campaign, "status_step", {"status": "school"})
    Draft.objects.update(expires_on=timezone.localdate() - datetime.timedelta(days=1))
    assert client.get("/s/mini/q/")["Location"] == "/s/mini/"
    assert client.get("/s/mini/q/about_step/")["Location"] == "/s/mini/"


def test_a_missing_csrf_token_is_refused_politely_and_changes_nothing(mini_campaign):
    client = Client(enforce_csrf_checks=True)
    client.get("/s/mini/")
    response = client.post("/s/mini/", {"age": 19, "consent": "on"})
    assert response.status_code == 403
    assert "<h1>" in response.content.decode()
    assert not Draft.objects.exists()


def test_leaving_a_page_with_incomplete_input_keeps_it_without_error_messages(mini_campaign):
    """Switching language (or Back, or continue later) is not "Next": nothing is checked, nothing is lost."""
    client = answered(mini_campaign)
    answer_step(client, mini_campaign, "status_step", {"status": "job_seeking"})
    data = step_post_data(mini_campaign, "search_step", {"barriers": ["recognition"]}, wizard_switch_language="ar")
    assert client.post("/s/mini/q/search_step/", data)["Location"] == "/s/mini/q/search_step/"
    page = client.get("/s/mini/q/search_step/").content.decode()
    assert 'class="error-summary"' not in page
    assert re.search(r'value="recognition"[^>]*checked', page)
    assert Draft.objects.get().answers == {"status": "job_seeking"}
    # "Next" still checks the page: the required question is asked for.
    assert "error-summary" in answer_step(client, mini_campaign, "search_step", {}).content.decode()


def test_errors_are_announced_with_the_field_and_its_help(mini_campaign):
    client = answered(mini_campaign)
    answer_step(client, mini_campaign, "status_step", {"status": "job_seeking"})
    page = answer_step(client, mini_campaign, "search_step", {"months_searching": "500"}).content.decode()
    field = re.search(r'<input[^>]*name="search_step-months_searching"[^>]*>', page).group(0)
    assert 'aria-invalid="true"' in field
    assert 'aria-describedby="id_search_step-months_searching_error"' in field
    assert 'id="id_search_step-months_searching_error"' in page
