"""Synthetic responses (``manage.py synthesize``): as many as asked, valid against the definition, reproducible."""

import datetime
import random
from collections import Counter
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count, Sum
from django.utils import timezone

from survey.definition import QuestionType, prune_answers, visible_path
from survey.definition.model import OTHER_VALUE
from survey.models import Campaign, DailyTally, Response, StepReach
from survey.synthetic import district_values, responses_synthesize, synthetic_answers

pytestmark = pytest.mark.django_db

COUNT = 600


@pytest.fixture
def demo_campaign() -> Campaign:
    call_command("seed_demo", stdout=StringIO())
    return Campaign.objects.get(slug="demo")


def choice_problems(campaign: Campaign, answers: dict) -> list[str]:
    """Every answer that is not something the respondent's form could have produced."""
    definition = campaign.definition
    districts = set(district_values(campaign.organisation.districts))
    problems = []
    for _step, questions in visible_path(definition, answers):
        for question in questions:
            if question.key not in answers:
                if question.required:
                    problems.append(f"{question.key}: required but missing")
                continue
            value = answers[question.key]
            kind = question.type
            if kind is QuestionType.MULTI_CHOICE:
                if not value or any(item not in question.option_values() for item in value):
                    problems.append(f"{question.key}: {value!r}")
                exclusive = {option.value for option in question.options if option.exclusive}
                if len(value) > 1 and exclusive & set(value):
                    problems.append(f"{question.key}: exclusive option combined")
                if question.max_choices and len(value) > question.max_choices:
                    problems.append(f"{question.key}: too many choices")
            elif kind in (QuestionType.SINGLE_CHOICE, QuestionType.YES_NO, QuestionType.LIKERT):
                if str(value) not in question.option_values():
                    problems.append(f"{question.key}: {value!r}")
            elif kind is QuestionType.DISTRICT:
                if value not in districts:
                    problems.append(f"{question.key}: {value!r}")
            elif kind in (QuestionType.NUMBER, QuestionType.YEAR):
                if not isinstance(value, int) or not question.min <= value <= question.max:
                    problems.append(f"{question.key}: {value!r} out of range")
            elif not isinstance(value, str) or len(value) > question.effective_max_length:
                problems.append(f"{question.key}: not a text of allowed length")
            chose_other = value == OTHER_VALUE or (isinstance(value, list) and OTHER_VALUE in value)
            if question.other and chose_other and not answers.get(question.other_key):
                problems.append(f"{question.key}: 'other' without its text")
    return problems


def test_synthesize_creates_exactly_n_valid_responses(demo_campaign):
    """Every synthetic response survives pruning unchanged and answers only with offered values."""
    out = StringIO()
    call_command("synthesize", "--campaign", "demo", "--count", str(COUNT), "--seed", "7", stdout=out)
    assert f"Synthesized {COUNT} responses" in out.getvalue()
    responses = list(Response.objects.filter(campaign=demo_campaign))
    assert len(responses) == COUNT
    definition = demo_campaign.definition
    for response in responses:
        assert prune_answers(definition, response.answers) == response.answers
        assert choice_problems(demo_campaign, response.answers) == []
        assert response.survey_version_id == demo_campaign.survey_version_id
        assert response.language in demo_campaign.offered_languages


def test_synthetic_responses_cover_branches_and_carry_planted_personal_data(demo_campaign):
    """Every step is reached by someone, and some free texts contain fake personal data for the scrubber."""
    responses_synthesize(campaign=demo_campaign, count=COUNT, seed=3)
    reached = set(StepReach.objects.filter(campaign=demo_campaign).values_list("step_key", flat=True))
    assert reached == {step.key for step in demo_campaign.definition.steps}
    texts = [
        value
        for answers in Response.objects.values_list("answers", flat=True)
        for key, value in answers.items()
        if key in ("wishes_city", "discrimination_story") or key.endswith("_other")
    ]
    assert any("@example.org" in text or "0176" in text or "heiße" in text for text in texts)


def test_same_seed_gives_the_same_responses(demo_campaign):
    def snapshot() -> set:
        return {
            (str(row.id), str(row.draft_id), row.language, row.submitted_on, repr(sorted(row.answers.items())))
            for row in Response.objects.filter(campaign=demo_campaign)
        }

    responses_synthesize(campaign=demo_campaign, count=200, seed=11)
    first = snapshot()
    Response.objects.all().delete()
    responses_synthesize(campaign=demo_campaign, count=200, seed=11)
    assert snapshot() == first
    Response.objects.all().delete()
    responses_synthesize(campaign=demo_campaign, count=200, seed=12)
    assert snapshot().isdisjoint(first)


def test_pure_generator_is_reproducible_and_independent_of_the_database(demo_campaign):
    districts = district_values(demo_campaign.organisation.districts)
    one = [synthetic_answers(demo_campaign.definition, random.Random(5), districts=districts) for _ in range(3)]
    two = [synthetic_answers(demo_campaign.definition, random.Random(5), districts=districts) for _ in range(3)]
    assert one == two


def test_tallies_match_the_responses_and_add_to_existing_counts(demo_campaign):
    today = timezone.localdate()
    DailyTally.objects.create(campaign=demo_campaign, day=today, started=5, completed=2)
    StepReach.objects.create(campaign=demo_campaign, step_key="start", reached=5)

    responses_synthesize(campaign=demo_campaign, count=COUNT, seed=1, days=10)

    per_day = dict(Response.objects.filter(campaign=demo_campaign).values_list("submitted_on").annotate(n=Count("id")))
    tallies = {tally.day: tally for tally in DailyTally.objects.filter(campaign=demo_campaign)}
    assert set(tallies) <= {today - datetime.timedelta(days=n) for n in range(10)} | {today}
    for day, number in per_day.items():
        extra_started, extra_completed = (5, 2) if day == today else (0, 0)
        assert tallies[day].started == number + extra_started
        assert tallies[day].completed == number + extra_completed
    totals = DailyTally.objects.filter(campaign=demo_campaign).aggregate(s=Sum("started"), c=Sum("completed"))
    assert (totals["s"], totals["c"]) == (COUNT + 5, COUNT + 2)

    expected = Counter()
    for answers in Response.objects.filter(campaign=demo_campaign).values_list("answers", flat=True):
        expected.update(step.key for step, _questions in visible_path(demo_campaign.definition, answers))
    expected["start"] += 5
    reached = dict(StepReach.objects.filter(campaign=demo_campaign).values_list("step_key", "reached"))
    assert reached == dict(expected)


def test_synthesize_refuses_an_unknown_campaign(db):
    with pytest.raises(CommandError, match="No campaign 'nope'"):
        call_command("synthesize", "--campaign", "nope", "--count", "1", stdout=StringIO())
