"""The researchers' pages: who sees what, that only published aggregates are shown, and that they stay cheap."""

from __future__ import annotations

import random
import re
import uuid
from datetime import date
from html.parser import HTMLParser
from xml.etree import ElementTree

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils.html import escape

from analysis import views
from analysis.anonymisation import anonymised_answers
from analysis.disclosure import SECONDARY_MARKER, is_hidden
from analysis.models import AnonymisedResponse
from analysis.snapshots import snapshot_build
from survey import services
from survey.models import Campaign, DailyTally, Membership, Organisation, Response, StepReach
from survey.synthetic import district_values, synthetic_answers
from tests.support.definitions import mini_definition
from tests.support.people import member

SVG = "{http://www.w3.org/2000/svg}"
PLANTED_RAW = "PLANTED-RAW-7f3a9c unique free text"
PLANTED_ANONYMISED = "PLANTED-ANON-2b8e41 unique free text"
Role = Membership.Role


# --------------------------------------------------------------------------------------------------
# Set-up
# --------------------------------------------------------------------------------------------------


THEMES = {"status": "bildung", "barriers": "arbeit", "training_happy": "ausbildung", "happy_in_city": "teilhabe"}


def themed_definition() -> dict:
    """The mini survey with Masterplan themes on some questions."""
    data = mini_definition()
    for step in data["steps"]:
        for question in step["questions"]:
            if question["key"] in THEMES:
                question["theme"] = THEMES[question["key"]]
    return data


def _campaign(organisation: Organisation, slug: str) -> Campaign:
    version, _created = services.survey_version_load(data=themed_definition(), organisation=organisation)
    return services.campaign_open(survey_version=version, slug=slug, title=f"Campaign {slug}")


@pytest.fixture
def campaign(organisation) -> Campaign:
    return _campaign(organisation, "mini")


@pytest.fixture
def other_campaign(other_organisation) -> Campaign:
    return _campaign(other_organisation, "elsewhere")


def _member(organisation: Organisation, role: str, name: str):
    return member(organisation, name, role)


@pytest.fixture
def researcher(organisation):
    return _member(organisation, Role.RESEARCHER, "researcher")


@pytest.fixture
def staff(organisation):
    return _member(organisation, Role.STAFF, "staff")


@pytest.fixture
def outsider(other_organisation):
    return _member(other_organisation, Role.RESEARCHER, "outsider")


def plant_responses(campaign: Campaign, count: int, *, seed: int = 1) -> None:
    """Synthetic raw responses and their anonymised records, every free text a planted unique string.

    Also the tallies (started, completed, steps reached) that the drop-off funnel is published from.
    """
    definition = campaign.definition
    rng = random.Random(seed)
    districts = district_values(campaign.organisation.districts)
    raw, anonymised, reached = [], [], {step.key: 0 for step in definition.steps}
    for n in range(count):
        answers, steps = synthetic_answers(definition, rng, districts=districts)
        for step in steps:
            reached[step] += 1
        answers["wishes"] = f"{PLANTED_RAW} {n}"
        if answers.get("status") == "other":
            answers["status_other"] = f"{PLANTED_RAW} other {n}"
        raw.append(
            Response(
                campaign=campaign,
                survey_version=campaign.survey_version,
                draft_id=uuid.uuid4(),
                answers=answers,
                language="de",
                consent_version=1,
            )
        )
        record = anonymised_answers(definition, answers, answered_on=date(2026, 11, 18))
        record["wishes"] = f"{PLANTED_ANONYMISED} {n}"
        if record.get("status") == "other":
            record["status_other"] = f"{PLANTED_ANONYMISED} other {n}"
        anonymised.append(
            AnonymisedResponse(
                campaign=campaign,
                survey_version=campaign.survey_version,
                week=date(2026, 11, 16),
                answers=record,
                k_enforced=True,
            )
        )
    Response.objects.bulk_create(raw)
    AnonymisedResponse.objects.bulk_create(anonymised)
    DailyTally.objects.create(campaign=campaign, day=date(2026, 11, 18), started=count + 7, completed=count)
    StepReach.objects.bulk_create(StepReach(campaign=campaign, step_key=k, reached=v) for k, v in reached.items())


def publish(campaign: Campaign, count: int, *, seed: int = 1):
    """Planted responses, then a snapshot of them with ``status`` as an extra breakdown."""
    plant_responses(campaign, count, seed=seed)
    return snapshot_build(campaign=campaign, breakdowns=["status"])


def campaign_pages(campaign: Campaign) -> list[str]:
    """Every GET page of a campaign (with and without a breakdown), as a researcher would open them."""
    slug = campaign.slug
    return [
        reverse("analysis:overview", kwargs={"campaign": slug}),
        reverse("analysis:question", kwargs={"campaign": slug, "question": "status"}),
        reverse("analysis:question", kwargs={"campaign": slug, "question": "status"}) + "?breakdown=district",
        reverse("analysis:crosstab", kwargs={"campaign": slug}),
        reverse("analysis:crosstab", kwargs={"campaign": slug}) + "?question=status&breakdown=district",
        reverse("analysis:themes", kwargs={"campaign": slug}),
        reverse("analysis:theme", kwargs={"campaign": slug, "theme": "bildung"}),
        reverse("analysis:compare", kwargs={"campaign": slug}),
    ]


# --------------------------------------------------------------------------------------------------
# Who may see what
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.RESEARCHER, Role.STAFF, Role.ADMIN])
def test_members_of_the_organisation_see_every_page(client, campaign, organisation, role):
    """Researchers, staff and admins of the campaign's organisation get every analysis page."""
    client.force_login(_member(organisation, role, f"member-{role}"))

    for url in [reverse("analysis:index"), *campaign_pages(campaign)]:
        response = client.get(url)
        assert response.status_code == 200, url


def test_index_lists_only_the_users_own_campaigns(client, campaign, other_campaign, researcher):
    """The campaign list shows the organisation's campaigns and nothing of other organisations."""
    client.force_login(researcher)

    content = client.get(reverse("analysis:index")).content.decode()

    assert campaign.title in content
    assert other_campaign.title not in content


def test_members_of_another_organisation_get_404(client, campaign, outsider):
    """A researcher of another organisation cannot even learn that the campaign exists."""
    client.force_login(outsider)

    for url in campaign_pages(campaign):
        assert client.get(url).status_code == 404, url


def test_logged_in_user_without_membership_gets_404(client, campaign):
    """An account without any membership sees no campaign."""
    client.force_login(get_user_model().objects.create_user(username="nobody", password="not-used-in-tests-123"))

    for url in campaign_pages(campaign):
        assert client.get(url).status_code == 404, url


def test_anonymous_visitors_are_sent_to_the_login(client, campaign):
    """Every page needs a login."""
    for url in [reverse("analysis:index"), *campaign_pages(campaign)]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.url.startswith(reverse("login") + "?next="), url


def test_unknown_campaign_and_question_are_404(client, campaign, researcher):
    """Unknown slugs and questions without a chart (free text) are not found."""
    client.force_login(researcher)

    assert client.get(reverse("analysis:overview", kwargs={"campaign": "nope"})).status_code == 404
    for question in ("nope", "wishes", "training_field"):
        url = reverse("analysis:question", kwargs={"campaign": campaign.slug, "question": question})
        assert client.get(url).status_code == 404, question
    assert client.get(reverse("analysis:theme", kwargs={"campaign": campaign.slug, "theme": "nope"})).status_code == 404


def test_researcher_cannot_start_an_aggregation(client, campaign, researcher):
    """Making a snapshot is for staff: a researcher's POST is refused."""
    client.force_login(researcher)

    response = client.post(reverse("analysis:aggregate", kwargs={"campaign": campaign.slug}))

    assert response.status_code == 403


def test_aggregate_needs_post_and_membership(client, campaign, staff, outsider):
    """GET is not allowed; another organisation's staff gets 404."""
    url = reverse("analysis:aggregate", kwargs={"campaign": campaign.slug})
    client.force_login(staff)
    assert client.get(url).status_code == 405
    client.force_login(outsider)
    assert client.post(url).status_code == 404


def test_no_snapshot_says_so_and_offers_the_button_to_staff_only(client, campaign, researcher, staff):
    """Without a published snapshot the overview says so; only staff see the aggregate button."""
    url = reverse("analysis:overview", kwargs={"campaign": campaign.slug})
    aggregate_url = reverse("analysis:aggregate", kwargs={"campaign": campaign.slug})

    client.force_login(researcher)
    researcher_page = client.get(url).content.decode()
    client.force_login(staff)
    staff_page = client.get(url).content.decode()

    assert str(views.NO_SNAPSHOT) in researcher_page and str(views.NO_SNAPSHOT) in staff_page
    assert aggregate_url not in researcher_page
    assert aggregate_url in staff_page


def staff_urls(campaign: Campaign, membership: Membership) -> list[tuple[str, str]]:
    """(name, URL) of every staff page (``/staff/<org>/…``), its arguments filled in for this campaign."""
    resolver = next(p for p in get_resolver().url_patterns if isinstance(p, URLResolver) and p.namespace == "staff")
    values = {
        "org": campaign.organisation.slug,
        "campaign_id": campaign.pk,
        "version_id": campaign.survey_version_id,
        "membership_id": membership.pk,
    }
    urls = []
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLPattern) and pattern.name:
            kwargs = {name: values[name] for name in pattern.pattern.regex.groupindex}
            urls.append((pattern.name, reverse(f"staff:{pattern.name}", kwargs=kwargs)))
    return urls


def test_researcher_never_sees_responses_drafts_or_staff_pages(client, campaign, researcher):
    """Admin lists of responses redirect a researcher to the admin login; staff pages are refused (403)."""
    plant_responses(campaign, 8)
    client.force_login(researcher)

    for url in ["/admin/survey/response/", "/admin/survey/draft/", "/admin/analysis/anonymisedresponse/"]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.url.startswith("/admin/login/"), url
        followed = client.get(url, follow=True).content.decode()
        assert PLANTED_RAW not in followed and PLANTED_ANONYMISED not in followed

    membership = Membership.objects.get(user=researcher)
    for name, url in staff_urls(campaign, membership):
        response = client.get(url)
        content = response.content.decode()
        assert PLANTED_RAW not in content and PLANTED_ANONYMISED not in content, url
        if name != "home":  # the staff start page may greet a researcher; every other one refuses
            assert response.status_code in (403, 405), (name, url, response.status_code)


# --------------------------------------------------------------------------------------------------
# What the pages show
# --------------------------------------------------------------------------------------------------


@pytest.fixture
def published(campaign):
    """The campaign with 60 planted responses and a published snapshot of them."""
    publish(campaign, 60)
    return campaign


def all_pages(campaign: Campaign) -> list[str]:
    """Every page of a campaign: every question, overall and by every breakdown, and every cross-tab."""
    snapshot = views.latest(campaign)
    pages = [reverse("analysis:index"), *campaign_pages(campaign)]
    for question in views.result_questions(campaign.definition):
        url = reverse("analysis:question", kwargs={"campaign": campaign.slug, "question": question.key})
        pages.append(url)
        for breakdown in views.published_breakdowns(snapshot, question.key):
            pages.append(f"{url}?breakdown={breakdown}")
            crosstab = reverse("analysis:crosstab", kwargs={"campaign": campaign.slug})
            pages.append(f"{crosstab}?question={question.key}&breakdown={breakdown}")
    for theme in THEMES.values():
        pages.append(reverse("analysis:theme", kwargs={"campaign": campaign.slug, "theme": theme}))
    return pages


@pytest.mark.parametrize("role", [Role.RESEARCHER, Role.STAFF])
def test_every_page_renders_from_the_snapshot(client, published, organisation, role):
    """With a snapshot, every page (all questions, breakdowns, cross-tabs, themes) answers 200 to members."""
    client.force_login(_member(organisation, role, f"member-{role}"))

    for url in all_pages(published):
        response = client.get(url)
        assert response.status_code == 200, url
        assert str(views.NO_SNAPSHOT) not in response.content.decode(), url


def test_planted_free_text_never_appears_on_any_page(client, published, researcher):
    """Free text of raw and anonymised records (planted, unique) is on no analysis page: aggregates only."""
    client.force_login(researcher)

    for url in all_pages(published):
        content = client.get(url).content.decode()
        assert "PLANTED-" not in content, url


class TableParser(HTMLParser):
    """The cells of the first ``table.results`` on a page: (row header, [(text, is hidden cell)])."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[tuple[str, list[tuple[str, bool]]]] = []
        self.caption = ""
        self._depth = 0
        self._in: str | None = None
        self._hidden = False
        self._text = ""
        self._done = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "table" and "results" in (attributes.get("class") or "") and not self._done:
            self._depth = 1
        elif self._depth and tag in ("th", "td", "caption"):
            self._in, self._text = tag, ""
            self._hidden = "hidden-cell" in (attributes.get("class") or "")
        elif self._depth and tag == "tr":
            self.rows.append(("", []))

    def handle_endtag(self, tag):
        if not self._depth:
            return
        if tag == "table":
            self._depth, self._done = 0, True
        elif tag == self._in:
            text = " ".join(self._text.split())
            if tag == "caption":
                self.caption = text
            elif tag == "th" and self.rows and not self.rows[-1][1] and not self.rows[-1][0]:
                self.rows[-1] = (text, [])
            else:
                self.rows[-1][1].append((text, self._hidden))
            self._in = None

    def handle_data(self, data):
        if self._in:
            self._text += data


def first_table(content: str) -> TableParser:
    parser = TableParser()
    parser.feed(content)
    return parser


def test_hidden_cells_show_the_marker_without_percentage_and_the_note(client, campaign, researcher):
    """A hidden cell shows only the marker; the page shows the table's note and its number of hidden cells."""
    publish(campaign, 12)  # few people: some cells are small and hidden
    client.force_login(researcher)
    snapshot = views.latest(campaign)
    url = reverse("analysis:question", kwargs={"campaign": campaign.slug, "question": "status"})

    for breakdown in ["", *views.published_breakdowns(snapshot, "status")]:
        table = views.selectors.snapshot_question(snapshot, "status", breakdown=breakdown or None)["table"]
        content = client.get(f"{url}?breakdown={breakdown}").content.decode()
        parsed = first_table(content)
        cells = [cell for _header, row in parsed.rows[1:] for cell in row]
        hidden = [text for text, hidden_cell in cells if hidden_cell]

        assert len(hidden) == table["suppressed_count"], breakdown
        assert all(text in (SECONDARY_MARKER, "< 5") for text in hidden)
        assert [text for text, hidden_cell in cells if is_hidden(text) and not hidden_cell] == []
        if table["suppressed_count"]:
            assert escape(table["note"]) in content
            assert f"{table['suppressed_count']} cell" in content
        # The published numbers, in order: each shown cell starts with its count.
        published_cells = [value for row in table["cells"] for value in row]
        shown = [text if is_hidden(text) else text.split(" ")[0] for text, _hidden in cells]
        assert shown == [str(value) for value in published_cells]
    assert snapshot.tables["suppressed_cells"] > 0  # the campaign is small enough that something is hidden


def test_chart_is_well_formed_svg_and_shows_the_tables_numbers(client, published, researcher):
    """Each chart parses as XML, is an image with title and desc, and its values are the table's numbers."""
    client.force_login(researcher)
    url = reverse("analysis:question", kwargs={"campaign": published.slug, "question": "status"})

    for query in ("", "?breakdown=district"):
        content = client.get(url + query).content.decode()
        svgs = re.findall(r"<svg.*?</svg>", content, flags=re.S)
        parsed = first_table(content)
        header = [text for text, _hidden in parsed.rows[0][1]]
        body = [(label, row) for label, row in parsed.rows[1:] if not (query and label == "Total")]
        assert len(svgs) == len(body) > 0

        for svg, (_label, row) in zip(svgs, body, strict=True):
            root = ElementTree.fromstring(svg)
            assert root.get("role") == "img"
            assert root.find(f"{SVG}title").text and root.find(f"{SVG}desc").text
            bars = [[text.text for text in g.findall(f"{SVG}text")] for g in root.iter(f"{SVG}g")]
            cells = [text for text, _hidden in row[:-1]]  # the Total column has no bar

            assert [label for label, _value in bars] == header[:-1]
            assert [value.split(" ")[0] for _label, value in bars] == [cell.split(" ")[0] for cell in cells]
            for (_label, value), cell in zip(bars, cells, strict=True):
                assert ("%" in value) == ("%" in cell)
                if "%" in cell:  # the chart rounds the table's percentage to whole numbers
                    assert float(value.split("(")[1].split()[0]) == round(float(cell.split("(")[1].split()[0]))


def test_overview_shows_key_figures_funnel_and_districts(client, published, researcher):
    """Responses, completion rate, the funnel per step and responses by district come from the snapshot."""
    client.force_login(researcher)
    overview = views.selectors.snapshot_overview(views.latest(published))

    content = client.get(reverse("analysis:overview", kwargs={"campaign": published.slug})).content.decode()

    assert f"<dd>{overview['responses']}</dd>" in content
    assert f"{100 * overview['completion_rate']:.1f} %" in content
    for step in published.definition.steps:
        assert step.title["en"] in content
    assert "Responses by district" in content  # (k-anonymity withholds most districts of so few people)
    assert content.count("<svg") == 2


def test_crosstab_shows_counts_and_row_percentages(client, published, researcher):
    """The explorer's table has the published counts and, in brackets, the published row percentages."""
    client.force_login(researcher)
    snapshot = views.latest(published)
    table = views.selectors.snapshot_crosstab(snapshot, "happy_in_city", "status")
    url = reverse("analysis:crosstab", kwargs={"campaign": published.slug})

    content = client.get(f"{url}?question=happy_in_city&breakdown=status").content.decode()
    parsed = first_table(content)

    texts = [text for _label, row in parsed.rows[1:] for text, _hidden in row]
    expected = []
    for values, shares in zip(table["cells"], table["row_percentages"], strict=True):
        for value, share in zip(values, shares, strict=True):
            if is_hidden(value):
                expected.append(value)
            else:
                expected.append(f"{value} ({share:.1f} %)" if share is not None else str(value))
    assert texts == expected


def test_compare_shows_both_campaigns_of_the_same_survey(client, organisation, researcher):
    """Two campaigns of one survey: the comparison shows the published tables of both."""
    first, second = _campaign(organisation, "first"), _campaign(organisation, "second")
    publish(first, 30, seed=1)
    publish(second, 30, seed=2)
    client.force_login(researcher)
    url = reverse("analysis:compare", kwargs={"campaign": first.slug})

    content = client.get(f"{url}?other=second").content.decode()

    assert "Campaign first" in content and "Campaign second" in content
    assert content.count("<table") >= 2 * 4  # status, barriers, training_happy, happy_in_city, ...


def test_a_campaign_of_another_organisation_cannot_be_compared(client, campaign, other_campaign, researcher):
    """The comparison offers only campaigns the user may view; another organisation's slug is refused."""
    publish(campaign, 20)
    client.force_login(researcher)
    url = reverse("analysis:compare", kwargs={"campaign": campaign.slug})

    content = client.get(f"{url}?other={other_campaign.slug}").content.decode()

    assert other_campaign.title not in content


def test_staff_aggregate_button_enqueues_the_task(client, campaign, staff, monkeypatch):
    """Staff's POST enqueues ``aggregate_campaign`` with the campaign id and returns to the overview."""
    queued = []
    monkeypatch.setattr("worker.tasks.aggregate_campaign.delay", lambda campaign_id: queued.append(campaign_id))
    client.force_login(staff)

    response = client.post(reverse("analysis:aggregate", kwargs={"campaign": campaign.slug}))

    assert response.status_code == 302
    assert response.url == reverse("analysis:overview", kwargs={"campaign": campaign.slug})
    assert queued == [campaign.pk]


# --------------------------------------------------------------------------------------------------
# Cost: pages read the snapshot, never the responses
# --------------------------------------------------------------------------------------------------

MAX_QUERIES = 10  # session, user, campaign, memberships, snapshot (+ campaigns to compare, session save)


def test_queries_do_not_grow_with_the_number_of_responses(
    client, organisation, researcher, django_assert_max_num_queries
):
    """10 or 500 responses: every page makes the same few queries, and none touches responses."""
    small, large = _campaign(organisation, "small"), _campaign(organisation, "large")
    publish(small, 10, seed=3)
    publish(large, 500, seed=4)
    client.force_login(researcher)
    client.get(reverse("analysis:index"))  # the session and the user are loaded once either way

    counts = {}
    for campaign in (small, large):
        for url in campaign_pages(campaign):
            with django_assert_max_num_queries(MAX_QUERIES), CaptureQueriesContext(connection) as queries:
                assert client.get(url).status_code == 200
            sql = " ".join(query["sql"] for query in queries.captured_queries)
            assert "anonymisedresponse" not in sql and "survey_response" not in sql, url
            counts.setdefault(url.replace(campaign.slug, "X"), []).append(len(queries))
    assert all(small_count == large_count for small_count, large_count in counts.values()), counts


# --------------------------------------------------------------------------------------------------
# The table view model (pure)
# --------------------------------------------------------------------------------------------------


def test_table_view_never_shows_a_percentage_for_a_hidden_cell():
    """Even if a table carried a percentage for a hidden cell, the page would show only the marker."""
    table = {
        "rows": ["Total"],
        "columns": ["yes", "no", "_no_answer", "Total"],
        "cells": [[12, "< 5", SECONDARY_MARKER, 20]],
        "row_percentages": [[60.0, 15.0, None, 100.0]],
        "suppressed_count": 2,
        "note": "Cells marked • are hidden.",
    }

    view = views.table_view(table, caption="Q", column_labels={"yes": "Ja"})

    assert view.columns == ["Ja", "no", "No answer", "Total"]
    assert [(cell.value, cell.percentage, cell.hidden) for cell in view.rows[0].cells] == [
        (12, "60.0 %", False),
        ("< 5", "", True),
        (SECONDARY_MARKER, "", True),
        (20, "100.0 %", False),
    ]
    assert view.suppressed_count == 2 and view.note == "Cells marked • are hidden."


def test_anything_but_a_count_is_shown_as_the_marker():
    """A cell that is not an int (a stray string, None) is rendered as hidden, never as itself; a marker
    stays as it is."""
    values = (3, 3.0, "< 5", SECONDARY_MARKER, "x", None, True)
    assert [views.published_value(v) for v in values] == [3, 3, "< 5"] + [SECONDARY_MARKER] * 4


def test_completion_rate_text():
    """Published rate as a percentage; the marker when a count it needs is hidden; a dash without data."""
    assert views._completion_text(0.8, 10, 8) == "80.0 %"
    assert views._completion_text(None, SECONDARY_MARKER, 3) == SECONDARY_MARKER
    assert views._completion_text(None, 12, "< 5") == SECONDARY_MARKER
    assert views._completion_text(None, 0, 0) == "–"
