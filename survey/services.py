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


def _increment(model: type[StepReach] | type[DailyTally], *, field: str, **row: Any) -> None:
    """Add one to a counter row, creating it on first use; safe when respondents arrive at the same moment."""
    rows = model.objects.filter(**row)
    if not rows.update(**{field: F(field) + 1}):
        try:
            with transaction.atomic():
                model.objects.create(**row, **{field: 1})
        except IntegrityError:  # another respondent created the row at the same moment
            rows.update(**{field: F(field) + 1})


def _count_reach(*, campaign: Campaign, step_key: str) -> None:
    _increment(StepReach, field="reached", campaign=campaign, step_key=step_key)


def _count_today(*, campaign: Campaign, field: str) -> None:
    _increment(DailyTally, field=field, campaign=campaign, day=timezone.localdate())


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
    # One query: the campaign (for the tallies and the expiry) and the version's checksum come with the locked
    # row. The definition itself comes from the per-checksum cache of ``SurveyVersion.parsed``.
    draft = (
        Draft.objects.select_for_update(of=("self",))
        .select_related("campaign", "survey_version")
        .defer("survey_version__definition")
        .get(pk=draft_id)
    )
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
            Draft.objects.select_for_update(of=("self",))
            .select_related("campaign", "survey_version")
            .defer("survey_version__definition")
            .get(pk=draft_id)
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


# --- Staff tools: loading surveys, running campaigns, invite codes, background jobs ---------------------------
# Each change a member of staff makes is written to the audit log by the service that makes it.

CAMPAIGN_NOT_EDITABLE = _("A closed campaign cannot be changed.")
CAMPAIGN_CANNOT_OPEN = _("Only a draft or paused campaign can be opened.")
CAMPAIGN_CANNOT_PAUSE = _("Only an open campaign can be paused.")
CAMPAIGN_ALREADY_CLOSED = _("This campaign is already closed.")
CAMPAIGN_SLUG_TAKEN = _("A campaign with this web address already exists. Please choose another one.")
INVITE_COUNT_INVALID = _("Please ask for between 1 and %(max)s codes at a time.")
INVITE_CODES_MAX = 500
JOB_NOT_QUEUED = _("The job could not be queued (the task queue is not reachable). Please try again later.")

#: Campaign fields staff may change with ``campaign_update``.
CAMPAIGN_EDITABLE_FIELDS = (
    "title",
    "opens_at",
    "closes_at",
    "languages",
    "min_age",
    "max_age",
    "parental_consent_below",
    "consent_text",
    "invite_code_required",
    "retention_days",
    "k",
    "target_responses",
)


def _audit(*, actor: Any, organisation: Organisation, action: str, target: Any, details: Any = None) -> None:
    from survey.audit import audit_record

    audit_record(actor=actor, organisation=organisation, action=action, target=target, details=details)


def _campaign_rules_check(values: Mapping[str, Any], definition: SurveyDefinition) -> None:
    """The rules every campaign keeps, whoever changes it; raises ``ServiceError`` with the first broken one."""
    languages = list(values["languages"])
    unknown = [language for language in languages if language not in definition.languages]
    if not languages or unknown:
        raise ServiceError(_("Please choose languages the survey is available in."))
    if values["min_age"] > values["max_age"]:
        raise ServiceError(_("The minimum age must not be above the maximum age."))
    if not 2 <= values["k"] <= 50:
        raise ServiceError(_("k must be between 2 and 50."))
    if values["retention_days"] < 1:
        raise ServiceError(_("Raw answers must be kept for at least one day."))
    if values["closes_at"] <= values["opens_at"]:
        raise ServiceError(_("A campaign must close after it opens."))


def survey_definition_load(
    *, data: Mapping[str, Any], organisation: Organisation, actor: Any
) -> tuple[SurveyVersion, bool]:
    """``survey_version_load`` for a member of staff: the same validation, and an audit record when it is new."""
    version, created = survey_version_load(data=data, organisation=organisation)
    if created:
        _audit(
            actor=actor,
            organisation=organisation,
            action="survey_loaded",
            target=version,
            details={"survey": version.survey.slug, "version": version.number},
        )
    return version, created


@transaction.atomic
def campaign_create(
    *,
    survey_version: SurveyVersion,
    actor: Any,
    slug: str,
    title: str,
    opens_at: datetime.datetime,
    closes_at: datetime.datetime,
    languages: Iterable[str],
    min_age: int = 14,
    max_age: int = 27,
    parental_consent_below: int = 16,
    invite_code_required: bool = False,
    retention_days: int = 90,
    k: int = 5,
    target_responses: int | None = None,
) -> Campaign:
    """A new campaign of ``survey_version`` in status draft: respondents see it only once it is opened."""
    definition = survey_version.parsed
    values = {
        "title": title,
        "opens_at": opens_at,
        "closes_at": closes_at,
        "languages": list(languages),
        "min_age": min_age,
        "max_age": max_age,
        "parental_consent_below": parental_consent_below,
        "invite_code_required": invite_code_required,
        "retention_days": retention_days,
        "k": k,
        "target_responses": target_responses,
    }
    _campaign_rules_check(values, definition)
    if Campaign.objects.filter(slug=slug).exists():
        raise ServiceError(CAMPAIGN_SLUG_TAKEN)
    campaign = Campaign.objects.create(
        organisation=survey_version.survey.organisation,
        survey_version=survey_version,
        slug=slug,
        status=Campaign.Status.DRAFT,
        consent_text=default_consent_text(definition),
        **values,
    )
    _audit(
        actor=actor,
        organisation=campaign.organisation,
        action="campaign_created",
        target=campaign,
        details={"survey": survey_version.survey.slug, "version": survey_version.number},
    )
    return campaign


@transaction.atomic
def campaign_update(*, campaign: Campaign, actor: Any, **changes: Any) -> Campaign:
    """Change a campaign's settings (``CAMPAIGN_EDITABLE_FIELDS``); returns the campaign as stored.

    A changed consent text gets a new ``consent_version``, so every draft and response keeps the version its
    respondent agreed to. Nothing is stored if a rule is broken. The audit record names the changed fields.
    """
    unknown = set(changes) - set(CAMPAIGN_EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"campaign_update cannot change {', '.join(sorted(unknown))}")
    campaign = Campaign.objects.select_for_update().select_related("survey_version").get(pk=campaign.pk)
    if campaign.status == Campaign.Status.CLOSED:
        raise ServiceError(CAMPAIGN_NOT_EDITABLE)
    values = {name: getattr(campaign, name) for name in CAMPAIGN_EDITABLE_FIELDS} | changes
    _campaign_rules_check(values, campaign.survey_version.parsed)
    changed = sorted(name for name, value in changes.items() if getattr(campaign, name) != value)
    if not changed:
        return campaign
    for name in changed:
        setattr(campaign, name, changes[name])
    if "consent_text" in changed:
        campaign.consent_version += 1
    campaign.save()
    details: dict[str, Any] = {"fields": changed}
    if "consent_text" in changed:
        details["consent_version"] = campaign.consent_version
    _audit(actor=actor, organisation=campaign.organisation, action="campaign_changed", target=campaign, details=details)
    return campaign


def _campaign_set_status(
    *, campaign: Campaign, actor: Any, status: str, allowed_from: Iterable[str], error: Any, action: str
) -> Campaign:
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if campaign.status == status:
            return campaign  # pressing the button twice changes nothing
        if campaign.status not in allowed_from:
            raise ServiceError(error)
        previous = campaign.status
        campaign.status = status
        campaign.save(update_fields=["status"])
        _audit(
            actor=actor,
            organisation=campaign.organisation,
            action=action,
            target=campaign,
            details={"from": previous},
        )
    return campaign


def campaign_start(*, campaign: Campaign, actor: Any) -> Campaign:
    """Open a draft or paused campaign: it accepts answers between its opening and closing dates."""
    return _campaign_set_status(
        campaign=campaign,
        actor=actor,
        status=Campaign.Status.OPEN,
        allowed_from=(Campaign.Status.DRAFT, Campaign.Status.PAUSED),
        error=CAMPAIGN_CANNOT_OPEN,
        action="campaign_opened",
    )


def campaign_pause(*, campaign: Campaign, actor: Any) -> Campaign:
    """Stop accepting answers for a while; open drafts are kept and can be continued once it is opened again."""
    return _campaign_set_status(
        campaign=campaign,
        actor=actor,
        status=Campaign.Status.PAUSED,
        allowed_from=(Campaign.Status.OPEN,),
        error=CAMPAIGN_CANNOT_PAUSE,
        action="campaign_paused",
    )


def campaign_close(*, campaign: Campaign, actor: Any) -> Campaign:
    """Close a campaign for good: it accepts no more answers and its settings can no longer change."""
    return _campaign_set_status(
        campaign=campaign,
        actor=actor,
        status=Campaign.Status.CLOSED,
        allowed_from=(Campaign.Status.DRAFT, Campaign.Status.OPEN, Campaign.Status.PAUSED),
        error=CAMPAIGN_ALREADY_CLOSED,
        action="campaign_closed",
    )


@transaction.atomic
def invite_codes_create(*, campaign: Campaign, count: int, actor: Any) -> list[str]:
    """``count`` new single-use invite codes for ``campaign``; only their hashes are stored.

    The plain codes are returned once, to be printed at once: they cannot be recovered later.
    """
    if not 1 <= count <= INVITE_CODES_MAX:
        raise ServiceError(INVITE_COUNT_INVALID % {"max": INVITE_CODES_MAX})
    codes: dict[str, str] = {}
    while len(codes) < count:
        code = generate_code()
        codes.setdefault(hash_code(code), code)
    # A clash with an existing hash is astronomically unlikely (≈ 59 bits); draw again rather than fail.
    for taken in InviteCode.objects.filter(code_hash__in=list(codes)).values_list("code_hash", flat=True):
        del codes[taken]
        while True:
            code = generate_code()
            if hash_code(code) not in codes and not InviteCode.objects.filter(code_hash=hash_code(code)).exists():
                codes[hash_code(code)] = code
                break
    InviteCode.objects.bulk_create(InviteCode(campaign=campaign, code_hash=code_hash) for code_hash in codes)
    _audit(
        actor=actor,
        organisation=campaign.organisation,
        action="invite_codes_created",
        target=campaign,
        details={"count": count},
    )
    return list(codes.values())


def _enqueue(task: Any) -> bool:
    """Queue a Celery task without arguments; ``False`` when the broker cannot be reached."""
    from kombu.exceptions import KombuError

    try:
        task.delay()
    except (KombuError, OSError):
        return False
    return True


def anonymisation_start(*, campaign: Campaign, actor: Any) -> bool:
    """Queue the anonymisation sweep now (it covers every campaign with pending answers, this one included).

    Returns ``False`` if the task could not be queued; the five-minute sweep runs anyway.
    """
    from worker.tasks import anonymise_pending

    _audit(actor=actor, organisation=campaign.organisation, action="anonymisation_started", target=campaign)
    return _enqueue(anonymise_pending)


def aggregation_start(*, campaign: Campaign, actor: Any) -> bool:
    """Queue the aggregation of ``campaign``; ``False`` if it could not be queued."""
    from kombu.exceptions import KombuError

    from worker import tasks

    _audit(actor=actor, organisation=campaign.organisation, action="aggregation_started", target=campaign)
    try:
        tasks.aggregate_campaign.delay(campaign.pk)
    except (KombuError, OSError):
        return False
    return True
