"""Business rules of surveys, campaigns and answers: plain functions, no request, no broker.

Writes live here; reads live in ``selectors.py``. Views, commands and tasks call these and stay thin.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from survey.codes import generate_code, hash_code, looks_like_code
from survey.definition import SurveyDefinition, parse_definition, prune_answers, visible_path
from survey.models import (
    Campaign,
    DailyTally,
    Draft,
    InviteCode,
    Organisation,
    Response,
    StepReach,
    Survey,
    SurveyVersion,
)

DEFAULT_CAMPAIGN_WEEKS = 8


class ServiceError(Exception):
    """A rule was broken; ``message`` is safe and meant to be shown to the person who acted."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(str(message))


class ResumeError(ServiceError):
    pass


class InviteCodeError(ServiceError):
    pass


RESUME_CODE_UNKNOWN = _("We could not find this code. Please check it and try again.")
RESUME_CODE_EXPIRED = _("This code has expired. Your earlier answers have been deleted; you can start again.")
RESUME_CODE_SUBMITTED = _("The answers saved under this code have already been sent. Thank you!")
INVITE_CODE_UNKNOWN = _("This invite code is not valid for this survey.")
INVITE_CODE_USED = _("This invite code has already been used.")


# --- Survey definitions -------------------------------------------------------------------------------


def definition_checksum(data: Mapping[str, Any]) -> str:
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


@transaction.atomic
def survey_version_load(*, data: Mapping[str, Any], organisation: Organisation) -> tuple[SurveyVersion, bool]:
    """Store a definition as a survey version; returns ``(version, created)``.

    An identical definition returns the version it already is. A changed one becomes a new version, so a
    version never changes once it exists and every response can be read against the questions it answered.
    Raises ``DefinitionError`` listing every problem with its location.
    """
    parsed = parse_definition(data)
    survey, _created = Survey.objects.get_or_create(organisation=organisation, slug=parsed.slug)
    survey = Survey.objects.select_for_update().get(pk=survey.pk)
    checksum = definition_checksum(data)
    existing = survey.versions.filter(checksum=checksum).first()
    if existing:
        return existing, False
    latest = survey.versions.order_by("-number").values_list("number", flat=True).first() or 0
    version = SurveyVersion.objects.create(survey=survey, number=latest + 1, definition=data, checksum=checksum)
    return version, True


def organisation_get_or_create_default(*, slug: str = "dortmund") -> Organisation:
    organisation, _created = Organisation.objects.get_or_create(
        slug=slug, defaults={"name": "Kommunales Integrationszentrum Dortmund", "city": "Dortmund"}
    )
    return organisation


# --- Campaigns ----------------------------------------------------------------------------------------


def default_consent_text(definition: SurveyDefinition) -> dict[str, str]:
    """The consent sentence in every language of the survey (the interface's translation of it)."""
    from django.utils import translation

    texts = {}
    for language in definition.languages:
        with translation.override(language):
            texts[language] = str(DEFAULT_CONSENT)
    return texts


DEFAULT_CONSENT = _(
    "I take part voluntarily and anonymously. I know that I can skip questions and stop at any time. "
    "My answers are used only in anonymised form for the city's Masterplan and are then deleted."
)


def campaign_open(
    *,
    survey_version: SurveyVersion,
    slug: str,
    title: str | None = None,
    languages: Iterable[str] | None = None,
    min_age: int = 14,
    max_age: int = 27,
    k: int = 5,
    opens_at: datetime.datetime | None = None,
    closes_at: datetime.datetime | None = None,
    invite_code_required: bool = False,
    retention_days: int = 90,
    target_responses: int | None = None,
) -> Campaign:
    """Create (or reopen with the given settings) an open campaign of ``survey_version``."""
    definition = survey_version.parsed
    offered = list(languages) if languages else list(definition.languages)
    unknown = [language for language in offered if language not in definition.languages]
    if unknown:
        raise ServiceError(_("The survey is not available in: %(languages)s") % {"languages": ", ".join(unknown)})
    if min_age > max_age:
        raise ServiceError(_("The minimum age must not be above the maximum age."))
    if k < 2:
        raise ServiceError(_("k must be at least 2."))
    opens_at = opens_at or timezone.now()
    closes_at = closes_at or opens_at + datetime.timedelta(weeks=DEFAULT_CAMPAIGN_WEEKS)
    if closes_at <= opens_at:
        raise ServiceError(_("A campaign must close after it opens."))
    values = {
        "organisation": survey_version.survey.organisation,
        "survey_version": survey_version,
        "title": title or definition.text(definition.title, definition.default_language),
        "status": Campaign.Status.OPEN,
        "opens_at": opens_at,
        "closes_at": closes_at,
        "languages": offered,
        "min_age": min_age,
        "max_age": max_age,
        "k": k,
        "invite_code_required": invite_code_required,
        "retention_days": retention_days,
        "target_responses": target_responses,
        "consent_text": default_consent_text(definition),
    }
    campaign, created = Campaign.objects.get_or_create(slug=slug, defaults=values)
    if not created:
        if campaign.responses.exists() and campaign.survey_version_id != survey_version.pk:
            raise ServiceError(_("This campaign already has responses to another survey version."))
        for name, value in values.items():
            if name != "consent_text":
                setattr(campaign, name, value)
        campaign.save()
    return campaign


# --- The respondent's journey -------------------------------------------------------------------------


def draft_expiry(*, campaign: Campaign, today: datetime.date | None = None) -> datetime.date:
    today = today or timezone.localdate()
    lifetime = today + datetime.timedelta(days=settings.STIMMEN_DRAFT_LIFETIME_DAYS)
    return min(lifetime, timezone.localdate(campaign.closes_at))


def _count_reach(*, campaign: Campaign, step_key: str) -> None:
    updated = StepReach.objects.filter(campaign=campaign, step_key=step_key).update(reached=F("reached") + 1)
    if not updated:
        try:
            with transaction.atomic():
                StepReach.objects.create(campaign=campaign, step_key=step_key, reached=1)
        except IntegrityError:  # another respondent created the row at the same moment
            StepReach.objects.filter(campaign=campaign, step_key=step_key).update(reached=F("reached") + 1)


def _count_today(*, campaign: Campaign, field: str) -> None:
    today = timezone.localdate()
    updated = DailyTally.objects.filter(campaign=campaign, day=today).update(**{field: F(field) + 1})
    if not updated:
        try:
            with transaction.atomic():
                DailyTally.objects.create(campaign=campaign, day=today, **{field: 1})
        except IntegrityError:
            DailyTally.objects.filter(campaign=campaign, day=today).update(**{field: F(field) + 1})


@transaction.atomic
def invite_code_redeem(*, campaign: Campaign, code: str) -> None:
    """Mark a single-use invite code as used. Nothing links the code to the answers that follow."""
    if not looks_like_code(code):
        raise InviteCodeError(INVITE_CODE_UNKNOWN)
    invite = InviteCode.objects.select_for_update().filter(code_hash=hash_code(code)).first()
    if invite is None or invite.campaign_id != campaign.pk:
        raise InviteCodeError(INVITE_CODE_UNKNOWN)
    if invite.used:
        raise InviteCodeError(INVITE_CODE_USED)
    invite.used = True
    invite.save(update_fields=["used"])


@transaction.atomic
def draft_start(*, campaign: Campaign, language: str, invite_code: str | None = None) -> Draft:
    """Begin a response after consent: a draft with no answers yet."""
    if campaign.invite_code_required:
        invite_code_redeem(campaign=campaign, code=invite_code or "")
    first_step = visible_path(campaign.definition, {})[0][0]
    draft = Draft.objects.create(
        campaign=campaign,
        reached_steps=[first_step.key],
        survey_version=campaign.survey_version,
        language=language,
        consent_version=campaign.consent_version,
        expires_on=draft_expiry(campaign=campaign),
    )
    _count_today(campaign=campaign, field="started")
    _count_reach(campaign=campaign, step_key=first_step.key)
    return draft


@transaction.atomic
def draft_save_step(*, draft_id: Any, step_key: str, step_answers: Mapping[str, Any], language: str) -> Draft:
    """Store the answers of one completed step at once, so nothing is lost if the browser closes.

    Answers to questions that branching now hides are dropped. The next step counts as reached the first
    time a respondent gets there.
    """
    draft = Draft.objects.select_for_update().get(pk=draft_id)
    if draft.status != Draft.Status.OPEN:
        return draft
    definition = draft.survey_version.parsed
    step = definition.step(step_key)
    answers = dict(draft.answers)
    for question in step.questions:
        answers.pop(question.key, None)
        answers.pop(question.other_key, None)
    answers.update(step_answers)
    draft.answers = prune_answers(definition, answers)

    visible_keys = [visible_step.key for visible_step, _questions in visible_path(definition, draft.answers)]
    completed = [key for key in draft.completed_steps if key in visible_keys]
    if step_key not in completed:
        completed.append(step_key)
    following = visible_keys[visible_keys.index(step_key) + 1 :] if step_key in visible_keys else []
    if following and following[0] not in draft.reached_steps:
        draft.reached_steps = [*draft.reached_steps, following[0]]
        _count_reach(campaign=draft.campaign, step_key=following[0])
    draft.completed_steps = completed
    draft.language = language
    draft.updated_on = timezone.localdate()
    draft.expires_on = draft_expiry(campaign=draft.campaign)
    draft.save(update_fields=["answers", "completed_steps", "reached_steps", "language", "updated_on", "expires_on"])
    return draft


@transaction.atomic
def draft_issue_resume_code(*, draft_id: Any) -> str:
    """A fresh resume code for a draft (any earlier one stops working). Only its hash is stored."""
    draft = Draft.objects.select_for_update().get(pk=draft_id)
    while True:
        code = generate_code()
        if not Draft.objects.filter(resume_code_hash=hash_code(code)).exists():
            break
    draft.resume_code_hash = hash_code(code)
    draft.expires_on = draft_expiry(campaign=draft.campaign)
    draft.save(update_fields=["resume_code_hash", "expires_on"])
    return code


def draft_resume(*, campaign: Campaign, code: str) -> Draft:
    """The open draft behind a resume code, or a ``ResumeError`` saying clearly what is wrong."""
    if not looks_like_code(code):
        raise ResumeError(RESUME_CODE_UNKNOWN)
    draft = Draft.objects.filter(campaign=campaign, resume_code_hash=hash_code(code)).first()
    if draft is None:
        raise ResumeError(RESUME_CODE_UNKNOWN)
    if draft.status == Draft.Status.SUBMITTED:
        raise ResumeError(RESUME_CODE_SUBMITTED)
    if draft.expires_on < timezone.localdate():
        raise ResumeError(RESUME_CODE_EXPIRED)
    return draft


@dataclass(frozen=True)
class Submission:
    response: Response
    created: bool


def draft_submit(*, draft_id: Any) -> Submission:
    """Turn a draft into a complete response, exactly once.

    The draft row is locked, so concurrent submits of the same draft queue up; the second one finds the
    draft submitted and returns the existing response. The unique ``Response.draft_id`` backs this up at the
    database level.
    """
    with transaction.atomic():
        draft = (
            Draft.objects.select_for_update(of=("self",)).select_related("campaign", "survey_version").get(pk=draft_id)
        )
        if draft.status == Draft.Status.SUBMITTED:
            return Submission(response=Response.objects.get(draft_id=draft.pk), created=False)
        definition = draft.survey_version.parsed
        response = Response.objects.create(
            campaign=draft.campaign,
            survey_version=draft.survey_version,
            draft_id=draft.pk,
            answers=prune_answers(definition, draft.answers),
            language=draft.language,
            consent_version=draft.consent_version,
        )
        # The draft keeps no answers once they live in the response; its row only guards against resubmits.
        draft.status = Draft.Status.SUBMITTED
        draft.answers = {}
        draft.resume_code_hash = None
        draft.save(update_fields=["status", "answers", "resume_code_hash"])
        _count_today(campaign=draft.campaign, field="completed")
        # Anonymise once the answers are committed. Enqueueing never raises: with the broker down the
        # submission still succeeds and the five-minute sweep anonymises the response.
        from analysis.anonymisation import response_anonymisation_enqueue

        response_id = response.pk
        transaction.on_commit(lambda: response_anonymisation_enqueue(response_id=response_id))
    return Submission(response=response, created=True)
