"""Synthetic respondents: realistic, complete raw responses for benchmarks, demos and load tests.

:func:`synthetic_answers` is pure: it walks a survey definition the way a respondent would (steps and
questions hidden by ``show_if`` are skipped, required questions are always answered, choices come from the
options, numbers from their range, exclusive options stand alone, ``max_choices`` holds, "other" comes with
its text) and returns answers in the form the wizard stores them. Some free texts carry planted *fake*
personal data (names, phone numbers, e-mail addresses, streets) so that the anonymiser has work to do.

:func:`responses_synthesize` stores ``count`` of them for a campaign with the matching ``DailyTally`` and
``StepReach`` counts. On PostgreSQL rows go in with ``COPY`` (about a million responses in a few minutes);
elsewhere with ``bulk_create``. The same seed gives the same responses, ids included.
"""

from __future__ import annotations

import datetime
import io
import json
import random
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from survey.definition import Question, QuestionType, SurveyDefinition, evaluate
from survey.definition.model import NO, OTHER_VALUE, YES
from survey.districts import OUTSIDE_CITY, district_value
from survey.models import Campaign, DailyTally, Response, StepReach

#: How many responses are generated and written per round trip.
CHUNK_SIZE = 5_000
#: Share of optional questions a synthetic respondent answers.
ANSWER_RATE = 0.85
#: Share of visible free-text questions that get a text at all, and of those the share with personal data.
TEXT_RATE = 0.35
PERSONAL_DATA_RATE = 0.25
#: Share of respondents per interface language; languages a campaign does not offer are left out.
LANGUAGE_WEIGHTS = {"de": 60, "en": 10, "tr": 12, "ar": 10, "uk": 8}
#: Responses are spread over this many days, ending today.
DEFAULT_DAYS = 28

# Fake people only: the names, numbers and streets are combined at random and belong to no one we know of.
FAKE_GIVEN_NAMES = ("Zorana", "Mehmet", "Aylin", "Oleksandr", "Fatima", "Jonas", "Leyla", "Dmytro", "Amira", "Lukas")
FAKE_FAMILY_NAMES = ("Yilmaz", "Kowalski", "Schneider", "Haddad", "Petrenko", "Demir", "Popescu", "Al-Hassan")
FAKE_STREETS = ("Mallinckrodtstraße", "Münsterstraße", "Westfalendamm", "Brackeler Hellweg", "Hohe Straße")

PLAIN_TEXTS = (
    "Mehr Praktikumsplätze in der Nähe wären gut.",
    "Die Beratung war hilfreich, aber die Wartezeit war sehr lang.",
    "Bei Bewerbungen wurde ich wegen meines Namens nicht eingeladen.",
    "Ich wünsche mir Infos auf Instagram und in meiner Sprache.",
    "Better information about recognition of my diploma, please.",
    "Okulda daha fazla meslek tanıtımı olmalı.",
    "نحتاج إلى دورات لغة أكثر في المساء.",
    "Потрібно більше консультацій українською мовою.",
    "Der Bus zur Berufsschule fährt zu selten.",
    "Lehrkräfte sollten besser über Ausbildung informieren.",
)
PERSONAL_TEXTS = (
    "Ich heiße {given} {family}, ruf mich an: 0176 {d3} {d4}",
    "Meine Mail ist {given_lower}.{family_lower}@example.org, schreibt mir gerne.",
    "Ich wohne in der {street} {house}, 44137 Dortmund, und der Weg ist weit.",
    "my name is {given}, insta @{given_lower}_{d3}",
    "Frau {family} vom Jobcenter hat mir sehr geholfen, Tel. 0231 {d3}{d4}.",
    "Ich bin am {day}.{month}.2007 geboren und warte seit Monaten auf die Anerkennung.",
)
OTHER_TEXTS = ("etwas anderes", "Minijob und Schule", "Sprachcafé", "weiß nicht genau", "Online-Kurs", "Familie")


@dataclass(frozen=True)
class SynthesisResult:
    """What :func:`responses_synthesize` stored."""

    created: int
    days: int
    seed: int


# --- Pure generation -----------------------------------------------------------------------------------


def _free_text(rng: random.Random) -> str:
    if rng.random() >= PERSONAL_DATA_RATE:
        return rng.choice(PLAIN_TEXTS)
    given, family = rng.choice(FAKE_GIVEN_NAMES), rng.choice(FAKE_FAMILY_NAMES)
    return rng.choice(PERSONAL_TEXTS).format(
        given=given,
        family=family,
        given_lower=given.lower(),
        family_lower=family.lower().replace("-", ""),
        street=rng.choice(FAKE_STREETS),
        house=rng.randint(1, 120),
        d3=rng.randint(100, 999),
        d4=rng.randint(1000, 9999),
        day=f"{rng.randint(1, 28):02d}",
        month=f"{rng.randint(1, 12):02d}",
    )


def _multi_choice(question: Question, rng: random.Random) -> list[str]:
    exclusive = [option.value for option in question.options if option.exclusive]
    if exclusive and rng.random() < 0.1:
        return [rng.choice(exclusive)]
    pool = [value for value in question.option_values() if value not in exclusive]
    limit = min(question.max_choices or 4, len(pool))
    # Few respondents tick "other": keep it rarer than the listed options.
    weights = [0.3 if value == OTHER_VALUE else 1.0 for value in pool]
    wanted = min(limit, 1 + int(rng.expovariate(0.8)))
    chosen: list[str] = []
    for _attempt in range(wanted * 3):
        value = rng.choices(pool, weights)[0]
        if value not in chosen:
            chosen.append(value)
        if len(chosen) >= wanted:
            break
    # Stored in the order of the options, as the form's cleaned data has them.
    return [value for value in pool if value in chosen]


def _answer(question: Question, rng: random.Random, districts: Sequence[str]) -> Any:
    kind = question.type
    if kind is QuestionType.SINGLE_CHOICE:
        values = question.option_values()
        weights = [
            0.3 if value == OTHER_VALUE else 1.0 + (len(values) - n) / len(values) for n, value in enumerate(values)
        ]
        return rng.choices(values, weights)[0]
    if kind is QuestionType.MULTI_CHOICE:
        return _multi_choice(question, rng)
    if kind is QuestionType.LIKERT:
        points = question.scale.points if question.scale else 5
        return min(points, max(1, round(rng.triangular(1, points, (points + 1) * 0.6))))
    if kind is QuestionType.YES_NO:
        return rng.choice((YES, NO))
    if kind is QuestionType.DISTRICT:
        return rng.choice(districts)
    if kind in (QuestionType.NUMBER, QuestionType.YEAR):
        low = question.min if question.min is not None else 0
        high = question.max if question.max is not None else low + 100
        if kind is QuestionType.NUMBER and high - low > 20:
            # Counts like "applications" are skewed: most small, a few large.
            return min(high, low + int(rng.expovariate(1 / 12)))
        return rng.randint(low, high)
    return _free_text(rng)[: question.effective_max_length]


def synthetic_answers(
    definition: SurveyDefinition, rng: random.Random, *, districts: Sequence[str]
) -> tuple[dict[str, Any], list[str]]:
    """One respondent's complete answers and the keys of the steps they saw, in order.

    ``districts`` are the stored values a ``district`` question accepts. Answers have the types the wizard
    stores: option values as text, likert points and numbers as ``int``, multi-choice as a list.
    """
    answers: dict[str, Any] = {}
    steps: list[str] = []
    for step in definition.steps:
        if not evaluate(step.show_if, answers):
            continue
        steps.append(step.key)
        for question in step.questions:
            if not question.takes_answer or not evaluate(question.show_if, answers):
                continue
            if question.type in (QuestionType.TEXT, QuestionType.LONG_TEXT):
                if question.required or rng.random() < TEXT_RATE:
                    answers[question.key] = _answer(question, rng, districts)
                continue
            if not question.required and rng.random() >= ANSWER_RATE:
                continue
            value = _answer(question, rng, districts)
            answers[question.key] = value
            if question.other and (value == OTHER_VALUE or (isinstance(value, list) and OTHER_VALUE in value)):
                other = _free_text(rng) if rng.random() < 0.2 else rng.choice(OTHER_TEXTS)
                answers[question.other_key] = other[:200]
    return answers, steps


def district_values(districts: Sequence[str]) -> list[str]:
    """The values a ``district`` question stores for an organisation's districts (and "outside the city")."""
    return [district_value(name) for name in districts] + [OUTSIDE_CITY]


# --- Storing -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Row:
    id: uuid.UUID
    draft_id: uuid.UUID
    answers: dict[str, Any]
    language: str
    submitted_on: datetime.date


def _rows(campaign: Campaign, count: int, rng: random.Random, days: int, steps: Counter[str]) -> Iterator[_Row]:
    definition = campaign.definition
    districts = district_values(campaign.organisation.districts)
    offered = campaign.offered_languages
    languages = [language for language in LANGUAGE_WEIGHTS if language in offered] or offered
    weights = [LANGUAGE_WEIGHTS.get(language, 1) for language in languages]
    today = timezone.localdate()
    for _n in range(count):
        answers, seen = synthetic_answers(definition, rng, districts=districts)
        steps.update(seen)
        yield _Row(
            id=uuid.UUID(int=rng.getrandbits(128), version=4),
            draft_id=uuid.UUID(int=rng.getrandbits(128), version=4),
            answers=answers,
            language=rng.choices(languages, weights)[0],
            submitted_on=today - datetime.timedelta(days=rng.randrange(days)),
        )


def _copy_escape(text: str) -> str:
    # COPY's text format: backslash escapes; JSON never contains raw tabs or newlines.
    return text.replace("\\", "\\\\")


def _write_copy(campaign: Campaign, rows: Iterator[_Row], days_seen: Counter[datetime.date]) -> int:
    columns = "id, campaign_id, survey_version_id, draft_id, answers, language, consent_version, submitted_on"
    fixed = f"{campaign.pk}\t{campaign.survey_version_id}"
    tail = f"\t{campaign.consent_version}\t"
    written = 0
    with connection.cursor() as cursor, cursor.copy(f"COPY survey_response ({columns}) FROM STDIN") as copy:
        buffer = io.StringIO()
        for row in rows:
            answers = _copy_escape(json.dumps(row.answers, ensure_ascii=False, separators=(",", ":")))
            buffer.write(
                f"{row.id}\t{fixed}\t{row.draft_id}\t{answers}\t{row.language}{tail}{row.submitted_on.isoformat()}\n"
            )
            days_seen[row.submitted_on] += 1
            written += 1
            if written % CHUNK_SIZE == 0:
                copy.write(buffer.getvalue())
                buffer = io.StringIO()
        copy.write(buffer.getvalue())
    return written


def _write_orm(campaign: Campaign, rows: Iterator[_Row], days_seen: Counter[datetime.date]) -> int:
    written = 0
    batch: list[Response] = []
    for row in rows:
        batch.append(
            Response(
                id=row.id,
                campaign=campaign,
                survey_version_id=campaign.survey_version_id,
                draft_id=row.draft_id,
                answers=row.answers,
                language=row.language,
                consent_version=campaign.consent_version,
                submitted_on=row.submitted_on,
            )
        )
        days_seen[row.submitted_on] += 1
        if len(batch) >= CHUNK_SIZE:
            Response.objects.bulk_create(batch)
            written += len(batch)
            batch = []
    Response.objects.bulk_create(batch)
    return written + len(batch)


def _count_up(campaign: Campaign, days_seen: Counter[datetime.date], steps: Counter[str]) -> None:
    """Add the synthetic respondents to the tallies: each started and completed on its day, reached its steps."""
    for day, number in days_seen.items():
        updated = DailyTally.objects.filter(campaign=campaign, day=day).update(
            started=F("started") + number, completed=F("completed") + number
        )
        if not updated:
            DailyTally.objects.create(campaign=campaign, day=day, started=number, completed=number)
    for step_key, number in steps.items():
        updated = StepReach.objects.filter(campaign=campaign, step_key=step_key).update(reached=F("reached") + number)
        if not updated:
            StepReach.objects.create(campaign=campaign, step_key=step_key, reached=number)


def responses_synthesize(*, campaign: Campaign, count: int, seed: int = 0, days: int = DEFAULT_DAYS) -> SynthesisResult:
    """Store ``count`` complete synthetic responses for ``campaign`` and count them in its tallies.

    Responses are spread over the ``days`` days ending today. Everything happens in one transaction, under a
    lock on the campaign so that two runs do not interleave their tallies. The same ``seed`` against the
    same definition and districts gives the same rows, ids included (a second run with the same seed into
    the same database therefore fails on the unique ``draft_id``: use a new seed to add more).
    """
    if count < 0:
        raise ValueError("count must not be negative")
    if days < 1:
        raise ValueError("days must be at least 1")
    rng = random.Random(seed)  # noqa: S311 - reproducible fake data, not a secret  # nosec B311
    days_seen: Counter[datetime.date] = Counter()
    steps: Counter[str] = Counter()
    with transaction.atomic():
        campaign = (
            Campaign.objects.select_for_update(of=("self",))
            .select_related("survey_version", "organisation")
            .get(pk=campaign.pk)
        )
        rows = _rows(campaign, count, rng, days, steps)
        write = _write_copy if connection.vendor == "postgresql" else _write_orm
        created = write(campaign, rows, days_seen)
        _count_up(campaign, days_seen, steps)
    return SynthesisResult(created=created, days=len(days_seen), seed=seed)
