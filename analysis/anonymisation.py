"""Anonymisation of raw responses: generalise, scrub, strip every link, then enforce k-anonymity.

Writes live here (services); the worker's tasks and the ``anonymise`` command only call these functions.
``docs/anonymisation.md`` ("The anonymisation job") states the guarantees: exactly once, safe to run
twice or concurrently, nothing lost when the broker is down or a worker dies.
"""

from __future__ import annotations

import datetime
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import pandas as pd
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from analysis import coding
from analysis.models import AnonymisationRun, AnonymisedResponse, ResponseAnonymisation
from analysis.privacy.generalise import generalise_answer
from analysis.privacy.kanonymity import SUPPRESSED, enforce
from analysis.privacy.scrub import NAME, PLACEHOLDER_TYPES, scrub_text
from survey.definition import Question, SurveyDefinition
from survey.definition.model import TEXT_TYPES, Privacy
from survey.models import Campaign, Response, SurveyVersion

logger = logging.getLogger(__name__)

#: How many raw responses a campaign run anonymises per transaction.
BATCH_SIZE = 100
#: How many records are coded again per query when their codes follow another layout (or none).
CODING_BATCH_SIZE = 2000

_PLACEHOLDER_RE = re.compile(r"\[(" + "|".join(PLACEHOLDER_TYPES) + r")\]")


@dataclass(frozen=True)
class CampaignAnonymisation:
    """The counts of one campaign run: responses anonymised now, and cells suppressed for k-anonymity."""

    anonymised: int
    suppressed_values: int


# --- Building the anonymised record (pure) -------------------------------------------------------------


def definition_of(version: SurveyVersion) -> SurveyDefinition:
    """The parsed definition of a survey version (parsed once per process and checksum by the model)."""
    return version.parsed


def week_of(day: datetime.date) -> datetime.date:
    """The Monday of the week of ``day``: anonymised records keep dates at most to the week."""
    return day - datetime.timedelta(days=day.weekday())


def names_found(original: str, scrubbed: str) -> list[str]:
    """The spans of ``original`` that ``scrub_text`` replaced with ``[NAME]`` (``scrubbed`` is its output)."""
    parts = _PLACEHOLDER_RE.split(scrubbed)  # literal, kind, literal, kind, ..., literal
    pattern = "".join(re.escape(part) if n % 2 == 0 else "(.+?)" for n, part in enumerate(parts))
    match = re.fullmatch(pattern, original, flags=re.DOTALL)
    if match is None:  # the scrubber changed more than spans: no names to pass on
        return []
    kinds = parts[1::2]
    spans = [span.strip() for kind, span in zip(kinds, match.groups(), strict=True) if kind == NAME]
    return [span for span in spans if not _PLACEHOLDER_RE.fullmatch(span)]


def _texts(definition: SurveyDefinition, answers: Mapping[str, Any]) -> list[str]:
    """Every text a respondent typed: text answers and "other, namely" texts."""
    texts = []
    for question in definition.questions():
        for key in (question.key, question.other_key):
            value = answers.get(key)
            if isinstance(value, str) and value and (key == question.other_key or question.type in TEXT_TYPES):
                texts.append(value)
    return texts


def known_names(definition: SurveyDefinition, answers: Mapping[str, Any]) -> list[str]:
    """Names the scrubber found in any text of the response ("ich heiße Zorana"), to remove in all of them.

    A name that is cued or listed in one answer is then also removed where it appears uncued, in lower case
    or with a possessive ending in another ("grüße an zorana"). Very short spans are left out, since known
    names match case-insensitively anywhere.
    """
    names: set[str] = set()
    for text in _texts(definition, answers):
        names.update(name for name in names_found(text, scrub_text(text).text) if len(name) >= 3)
    return sorted(names)


def _scrub(value: Any, names: Iterable[str]) -> Any:
    if not isinstance(value, str) or not value:
        return value
    return scrub_text(value, known_names=names).text


def anonymised_answers(
    definition: SurveyDefinition, answers: Mapping[str, Any], *, answered_on: datetime.date
) -> dict[str, Any]:
    """The answers as they may be kept: quasi-identifiers generalised, every text scrubbed.

    * ``privacy: quasi_identifier`` answers are generalised (bands, groups, regions); their "other, namely"
      texts are dropped, since a free-text country or gender is as identifying as it gets.
    * Every text answer (``text``/``long_text``, whatever its ``privacy``) and every other "other, namely"
      text is scrubbed; a name the scrubber finds in one of them is removed from all of them.
    * Everything else is copied. Keys the definition does not know are dropped.
    """
    names = known_names(definition, answers)
    result: dict[str, Any] = {}
    for question in definition.questions():
        if not question.takes_answer:
            continue
        value = answers.get(question.key)
        other = answers.get(question.other_key) if question.other else None
        if question.privacy is Privacy.QUASI_IDENTIFIER:
            value = generalise_answer(question, value, answered_on=answered_on)
            other = None
        elif question.type in TEXT_TYPES or question.privacy is Privacy.FREE_TEXT:
            value = _scrub(value, names)
        if value is not None:
            result[question.key] = value
        if other:
            result[question.other_key] = _scrub(other, names)
    return result


def quasi_identifiers(definition: SurveyDefinition) -> list[Question]:
    return [question for question in definition.questions() if question.privacy is Privacy.QUASI_IDENTIFIER]


def qi_frame(definition: SurveyDefinition, records: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """One row per record, one column per quasi-identifier; a multi-choice answer as one ``a+b`` value."""
    rows = []
    for answers in records:
        row = {}
        for question in quasi_identifiers(definition):
            value = answers.get(question.key)
            if isinstance(value, list):
                value = "+".join(sorted(value))
            row[question.key] = value
        rows.append(row)
    return pd.DataFrame(rows, columns=[question.key for question in quasi_identifiers(definition)], dtype=object)


def campaign_layout(campaign: Campaign) -> coding.Layout:
    """The layout of the codes of a campaign's records: its current survey version and its districts."""
    return coding.layout_for(campaign.definition, campaign.organisation.districts)


@lru_cache(maxsize=64)
def _version_layout(version_id: int, checksum: str, districts: tuple[str, ...]) -> coding.Layout:
    # A survey version's content never changes (SurveyVersion.parsed): its id and checksum identify the layout
    # without loading its definition for every response.
    return coding.layout_for(SurveyVersion.objects.get(pk=version_id).parsed, districts)


# --- Services ------------------------------------------------------------------------------------------


def pending_responses(*, campaign: Campaign | None = None) -> QuerySet[Response]:
    """Raw responses not yet anonymised."""
    marked = ResponseAnonymisation.objects.filter(response=OuterRef("pk"))
    queryset = Response.objects.filter(~Exists(marked))
    if campaign is not None:
        queryset = queryset.filter(campaign=campaign)
    return queryset


def response_anonymise(*, response_id: Any) -> bool:
    """Anonymise one raw response, exactly once; ``True`` if this call did it (the per-submission task).

    :func:`responses_anonymise` with one id; a response whose answers do not fit its question raises.
    """
    done, failed = responses_anonymise(response_ids=[response_id])
    if failed:
        raise failed[response_id]
    return bool(done)


#: Answers that do not fit their question: that response stays pending, the others of its batch go on.
UNFIT_ANSWERS = (ValueError, TypeError, KeyError, AttributeError)


def responses_anonymise(*, response_ids: Iterable[Any]) -> tuple[int, dict[Any, Exception]]:
    """Anonymise raw responses in one transaction, each exactly once; how many it did, and which could not be.

    The raw rows are locked with ``SKIP LOCKED``: responses another worker holds right now are skipped (and
    picked up by a later pass or sweep) instead of waited for. Each mark (:class:`ResponseAnonymisation`,
    keyed by the response) is written in the same transaction as its record, so a record exists if and only
    if its mark does; a race that gets past the lock hits a mark's primary key, and the batch is then done
    one response per transaction, where the loser of the race rolls back alone. The raw responses are kept
    (marked) until retention deletes them. ``failed`` maps the ids whose answers do not fit their questions to
    the error; they stay pending.
    """
    ids = list(response_ids)
    try:
        with transaction.atomic():
            return _batch_anonymise(ids)
    except IntegrityError:
        if len(ids) == 1:
            return 0, {}
    done, failed = 0, {}
    for response_id in ids:
        one_done, one_failed = responses_anonymise(response_ids=[response_id])
        done, failed = done + one_done, failed | one_failed
    return done, failed


def _batch_anonymise(ids: list[Any]) -> tuple[int, dict[Any, Exception]]:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # Safe: a commit lost in a crash only leaves these responses pending (raw answers are still there and
            # unmarked), and the next pass does them again. It saves a disk flush per batch.
            cursor.execute("SET LOCAL synchronous_commit = off")
    responses = list(
        pending_responses()
        .select_for_update(skip_locked=True, of=("self",))
        .select_related("survey_version")
        .defer("survey_version__definition")
        .filter(pk__in=ids)
        .order_by("pk")
    )
    layouts: dict[int, coding.Layout] = {}
    records, marks, failed = [], [], {}
    for response in responses:
        try:
            answers = anonymised_answers(
                definition_of(response.survey_version), response.answers, answered_on=response.submitted_on
            )
        except UNFIT_ANSWERS as error:
            failed[response.pk] = error
            continue
        if response.campaign_id not in layouts:
            layouts[response.campaign_id] = _campaign_layout_cached(response.campaign_id)
        layout = layouts[response.campaign_id]
        records.append(
            AnonymisedResponse(
                campaign_id=response.campaign_id,
                survey_version_id=response.survey_version_id,
                week=week_of(response.submitted_on),
                answers=answers,
                codes=coding.encode_or_none(layout, answers),
                codes_layout=layout.fingerprint,
            )
        )
        marks.append(ResponseAnonymisation(response=response))
    AnonymisedResponse.objects.bulk_create(records)
    ResponseAnonymisation.objects.bulk_create(marks)
    return len(records), failed


def _campaign_layout_cached(campaign_id: int) -> coding.Layout:
    """The layout records are coded with: the campaign's current version, which is what the aggregation reads."""
    campaign = (
        Campaign.objects.select_related("organisation", "survey_version")
        .only("organisation__districts", "survey_version__checksum")
        .get(pk=campaign_id)
    )
    version = campaign.survey_version
    return _version_layout(version.pk, version.checksum, tuple(campaign.organisation.districts))


def campaign_enforce_k(*, campaign: Campaign) -> int:
    """Suppress quasi-identifier values of the campaign's anonymised records until k-anonymity holds.

    Runs under a lock on the campaign row, so two runs never interleave. Returns how many cells it
    suppressed now. Suppression is stored: a value suppressed once stays suppressed.
    """
    with transaction.atomic():
        campaign = (
            Campaign.objects.select_for_update(of=("self",))
            .select_related("survey_version", "organisation")
            .get(pk=campaign.pk)
        )
        definition = definition_of(campaign.survey_version)
        layout = campaign_layout(campaign)
        records = list(AnonymisedResponse.objects.filter(campaign=campaign).order_by("id"))
        if not records:
            return 0
        frame = qi_frame(definition, (record.answers for record in records))
        enforced, report = enforce(frame, campaign.k)
        changed = []
        for position, record in enumerate(records):
            answers = dict(record.answers)
            for column in frame.columns:
                if enforced.iat[position, frame.columns.get_loc(column)] == SUPPRESSED:
                    answers[column] = SUPPRESSED
            if answers != record.answers or not record.k_enforced or record.codes_layout != layout.fingerprint:
                record.answers = answers
                record.codes = coding.encode_or_none(layout, answers)  # codes always follow the answers
                record.codes_layout = layout.fingerprint
                record.k_enforced = True
                changed.append(record)
        AnonymisedResponse.objects.bulk_update(
            changed, ["answers", "codes", "codes_layout", "k_enforced"], batch_size=BATCH_SIZE
        )
    return report.suppressed_values


def records_code(*, campaign: Campaign, layout: coding.Layout) -> int:
    """Code the campaign's records whose codes follow another layout (or none), in batches; returns how many.

    Records written before codes existed, or before the campaign moved to another survey version, get codes
    of ``layout`` here (the snapshot's input path calls this first). A record that cannot be coded keeps
    ``codes`` empty with this layout's fingerprint, so it is not tried again.
    """
    stale = AnonymisedResponse.objects.filter(campaign=campaign).exclude(codes_layout=layout.fingerprint)
    coded = 0
    while True:
        batch = list(stale.only("id", "answers").order_by("id")[:CODING_BATCH_SIZE])
        for record in batch:
            record.codes = coding.encode_or_none(layout, record.answers)
            record.codes_layout = layout.fingerprint
        AnonymisedResponse.objects.bulk_update(batch, ["codes", "codes_layout"])
        coded += len(batch)
        if len(batch) < CODING_BATCH_SIZE:
            return coded


def campaign_anonymise(*, campaign: Campaign, batch_size: int = BATCH_SIZE) -> CampaignAnonymisation:
    """Anonymise every pending response of ``campaign`` in batches, then enforce k-anonymity.

    Recorded as an :class:`AnonymisationRun`; a failure marks the run failed with its reason and re-raises.
    """
    _runs_abandoned_fail(campaign=campaign)
    run = AnonymisationRun.objects.create(campaign=campaign, status=AnonymisationRun.Status.RUNNING)
    anonymised = 0
    failed: dict[Any, str] = {}
    try:
        while True:
            # Each pass takes the next batch of ids; responses another worker holds are skipped now and picked
            # up by a later pass or sweep. A response that cannot be anonymised must not block all the others.
            pending = pending_responses(campaign=campaign).exclude(pk__in=list(failed)).order_by("pk")
            ids = list(pending.values_list("pk", flat=True)[:batch_size])
            done, unfit = responses_anonymise(response_ids=ids)
            failed.update({response_id: type(error).__name__ for response_id, error in unfit.items()})
            anonymised += done
            if len(ids) < batch_size or done == 0:
                break
        suppressed = campaign_enforce_k(campaign=campaign)
    except Exception as error:
        _run_finish(run, status=AnonymisationRun.Status.FAILED, anonymised=anonymised, reason=type(error).__name__)
        raise
    if failed:
        reasons = ", ".join(sorted(set(failed.values())))
        reason = f"{len(failed)} responses could not be anonymised ({reasons}); they stay pending."
        logger.error("Anonymisation of campaign %s: %s", campaign.slug, reason)
        _run_finish(
            run, status=AnonymisationRun.Status.FAILED, anonymised=anonymised, suppressed=suppressed, reason=reason
        )
    else:
        _run_finish(run, status=AnonymisationRun.Status.DONE, anonymised=anonymised, suppressed=suppressed)
    return CampaignAnonymisation(anonymised=anonymised, suppressed_values=suppressed)


RUN_ABANDONED = "The worker stopped during this run; the responses it did not finish were left pending."


def _runs_abandoned_fail(*, campaign: Campaign) -> None:
    """Runs still "running" after the task's hard time limit died with their worker: mark them failed."""
    limit = datetime.timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)
    AnonymisationRun.objects.filter(
        campaign=campaign, status=AnonymisationRun.Status.RUNNING, created_at__lt=timezone.now() - limit
    ).update(status=AnonymisationRun.Status.FAILED, reason=RUN_ABANDONED, finished_at=timezone.now())


def _run_finish(run: AnonymisationRun, *, status: str, anonymised: int, suppressed: int = 0, reason: str = "") -> None:
    AnonymisationRun.objects.filter(pk=run.pk).update(
        status=status, anonymised=anonymised, suppressed_values=suppressed, reason=reason, finished_at=timezone.now()
    )


def campaigns_needing_anonymisation() -> QuerySet[Campaign]:
    """Campaigns with raw responses still pending or anonymised records the k-anonymity pass has not seen."""
    pending = pending_responses().filter(campaign=OuterRef("pk"))
    unchecked = AnonymisedResponse.objects.filter(campaign=OuterRef("pk"), k_enforced=False)
    return Campaign.objects.filter(Exists(pending) | Exists(unchecked)).order_by("pk")


def anonymise_pending() -> dict[str, CampaignAnonymisation]:
    """The sweep: every campaign that needs it, by slug. Catches what the per-response tasks missed."""
    return {campaign.slug: campaign_anonymise(campaign=campaign) for campaign in campaigns_needing_anonymisation()}


def response_anonymisation_enqueue(*, response_id: Any) -> None:
    """Queue the anonymisation of a new response; never raises, so a broker outage cannot fail a submission.

    Called by ``transaction.on_commit`` after a submission. Publishing is tried once (no retries: the
    respondent is waiting), on a connection to ``CELERY_BROKER_URL`` as set at this moment. When it fails,
    the five-minute sweep anonymises the response. The log says what failed, never which response.
    """
    from kombu.exceptions import KombuError

    from worker.celery import app
    from worker.tasks import anonymise_response

    try:
        if app.conf.task_always_eager:
            anonymise_response.apply(args=[str(response_id)])
            return
        with app.connection_for_write(settings.CELERY_BROKER_URL) as connection:
            connection.ensure_connection(max_retries=0)  # one attempt: about a second when Redis is down
            anonymise_response.apply_async(args=[str(response_id)], connection=connection, retry=False)
    except (KombuError, OSError) as error:
        logger.warning("Broker unavailable, anonymisation left to the sweep (%s)", type(error).__name__)
    except Exception as error:
        logger.error("Anonymisation after submission failed, left to the sweep (%s)", type(error).__name__)
