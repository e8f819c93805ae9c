"""Surveys, their versions, campaigns, and the answers young people give.

Privacy by design: nothing here links an answer to a person. Drafts and responses carry a random UUID, dates
are stored to the day, and no IP address, user agent or account is ever recorded for respondents.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from survey.definition import SurveyDefinition, parse_definition
from survey.districts import DORTMUND_DISTRICTS

_PARSED_DEFINITIONS: dict[str, SurveyDefinition] = {}


def default_districts() -> list[str]:
    return list(DORTMUND_DISTRICTS)


class Organisation(models.Model):
    """A city's integration centre (or another body) that owns surveys and campaigns."""

    slug = models.SlugField(unique=True)
    name = models.CharField(_("name"), max_length=200)
    city = models.CharField(_("city"), max_length=100, default="Dortmund")
    districts = models.JSONField(
        _("districts"), default=default_districts, help_text=_("The city's districts, in display order.")
    )
    counselling_links = models.JSONField(
        _("counselling links"),
        default=list,
        blank=True,
        help_text=_("Shown on the thank-you page: a list of {url, label: {language: text}}."),
    )

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A user's role in one organisation."""

    class Role(models.TextChoices):
        ADMIN = "admin", _("Administrator")
        STAFF = "staff", _("Project staff")
        RESEARCHER = "researcher", _("Researcher")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    microdata_access = models.BooleanField(
        _("may export anonymised microdata"),
        default=False,
        help_text=_("Researchers see aggregates only unless this is set; admins and staff always may."),
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "organisation"], name="one_membership_per_organisation")]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()}, {self.organisation})"


class Survey(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="surveys")
    slug = models.SlugField(max_length=80)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organisation", "slug"], name="survey_slug_unique_in_organisation")
        ]
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug

    def latest_version(self) -> SurveyVersion | None:
        return self.versions.order_by("-number").first()


class SurveyVersionManager(models.Manager):
    """Versions load without their definition: ~100 kB of JSON per row that ``parsed`` rarely needs."""

    def get_queryset(self) -> models.QuerySet:
        return super().get_queryset().defer("definition")


class SurveyVersion(models.Model):
    """One loaded definition. Loading a changed file creates a new version; answers point at theirs."""

    survey = models.ForeignKey(Survey, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    definition = models.JSONField()
    checksum = models.CharField(max_length=64, help_text="SHA-256 of the canonical JSON of the definition.")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = SurveyVersionManager()

    class Meta:
        # Also for related access (``draft.survey_version``): the definition loads only when really needed.
        base_manager_name = "objects"
        constraints = [
            models.UniqueConstraint(fields=["survey", "number"], name="survey_version_number_unique"),
            models.UniqueConstraint(fields=["survey", "checksum"], name="survey_version_content_unique"),
        ]
        ordering = ["survey", "-number"]

    def __str__(self) -> str:
        return f"{self.survey.slug} v{self.number}"

    def save(self, *args, **kwargs) -> None:
        # Answers are only interpretable against the definition they were given to.
        if self.pk and Response.objects.filter(survey_version=self).exists():
            stored = SurveyVersion.objects.only("checksum").get(pk=self.pk)
            if stored.checksum != self.checksum:
                raise ValidationError(_("This survey version has responses and cannot be changed."))
        super().save(*args, **kwargs)

    @cached_property
    def parsed(self) -> SurveyDefinition:
        # Validating a definition takes a noticeable fraction of a request; a version's content never changes,
        # so its checksum identifies the parsed form for the life of the process.
        cached = _PARSED_DEFINITIONS.get(self.checksum)
        if cached is None:
            cached = _PARSED_DEFINITIONS[self.checksum] = parse_definition(self.definition)
        return cached


class Campaign(models.Model):
    """One run of a survey version: where, when, for whom, and under which privacy rules."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        OPEN = "open", _("Open")
        PAUSED = "paused", _("Paused")
        CLOSED = "closed", _("Closed")

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="campaigns")
    survey_version = models.ForeignKey(SurveyVersion, on_delete=models.PROTECT, related_name="campaigns")
    slug = models.SlugField(unique=True, max_length=80)
    title = models.CharField(_("title"), max_length=200)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    opens_at = models.DateTimeField(_("opens at"))
    closes_at = models.DateTimeField(_("closes at"))
    languages = models.JSONField(_("languages offered"), default=list)
    min_age = models.PositiveSmallIntegerField(_("minimum age"), default=14)
    max_age = models.PositiveSmallIntegerField(_("maximum age"), default=27)
    parental_consent_below = models.PositiveSmallIntegerField(
        _("parental consent needed below age"),
        default=16,
        help_text=_("Respondents younger than this must confirm a parent agrees. 0 turns this off."),
    )
    consent_text = models.JSONField(_("consent text"), default=dict, help_text=_("{language: text}"))
    consent_version = models.PositiveIntegerField(_("consent text version"), default=1)
    invite_code_required = models.BooleanField(_("invite code required"), default=False)
    retention_days = models.PositiveIntegerField(
        _("retention of raw answers (days)"), default=90, validators=[MinValueValidator(1)]
    )
    k = models.PositiveSmallIntegerField(
        _("k for disclosure control"), default=5, validators=[MinValueValidator(2), MaxValueValidator(50)]
    )
    target_responses = models.PositiveIntegerField(_("target number of responses"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-opens_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(closes_at__gt=models.F("opens_at")), name="campaign_closes_after_opening"
            ),
            models.CheckConstraint(
                condition=models.Q(max_age__gte=models.F("min_age")), name="campaign_age_range_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("survey:start", kwargs={"campaign": self.slug})

    def is_accepting_answers(self, now=None) -> bool:
        now = now or timezone.now()
        return self.status == self.Status.OPEN and self.opens_at <= now < self.closes_at

    @property
    def definition(self) -> SurveyDefinition:
        return self.survey_version.parsed

    @property
    def offered_languages(self) -> list[str]:
        offered = [language for language in self.languages if language in self.definition.languages]
        return offered or list(self.definition.languages)


class InviteCode(models.Model):
    """A single-use code handed out on paper. Its use is recorded, but never linked to a response."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="invite_codes")
    code_hash = models.CharField(max_length=64, unique=True)
    used = models.BooleanField(default=False)
    created_on = models.DateField(default=timezone.localdate)

    def __str__(self) -> str:
        return f"invite code for {self.campaign.slug} ({'used' if self.used else 'unused'})"


class Draft(models.Model):
    """Answers in progress, saved after every completed step so that nothing is lost."""

    class Status(models.TextChoices):
        OPEN = "open", _("In progress")
        SUBMITTED = "submitted", _("Submitted")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="drafts")
    survey_version = models.ForeignKey(SurveyVersion, on_delete=models.PROTECT, related_name="drafts")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    answers = models.JSONField(default=dict)
    completed_steps = models.JSONField(default=list)
    reached_steps = models.JSONField(default=list)
    language = models.CharField(max_length=10)
    consent_version = models.PositiveIntegerField()
    resume_code_hash = models.CharField(max_length=64, unique=True, null=True, blank=True)
    # Dates only, never times: the order of drafts must not reveal who answered when.
    created_on = models.DateField(default=timezone.localdate)
    updated_on = models.DateField(default=timezone.localdate)
    expires_on = models.DateField()

    class Meta:
        indexes = [models.Index(fields=["campaign", "status"]), models.Index(fields=["expires_on"])]

    def __str__(self) -> str:
        return f"draft {self.id} ({self.get_status_display()})"


class Response(models.Model):
    """A complete set of answers: the raw data, kept only until it is anonymised and its retention ends."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="responses")
    survey_version = models.ForeignKey(SurveyVersion, on_delete=models.PROTECT, related_name="responses")
    # Makes submission exactly-once: a second submit of the same draft violates this constraint.
    draft_id = models.UUIDField(unique=True)
    answers = models.JSONField()
    language = models.CharField(max_length=10)
    consent_version = models.PositiveIntegerField()
    submitted_on = models.DateField(default=timezone.localdate)

    class Meta:
        indexes = [models.Index(fields=["campaign", "submitted_on"])]

    def __str__(self) -> str:
        return f"response {self.id}"


class StepReach(models.Model):
    """How many respondents reached each step: drop-off as counts, never as individual traces."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="step_reaches")
    step_key = models.CharField(max_length=60)
    reached = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["campaign", "step_key"], name="one_step_reach_per_step")]

    def __str__(self) -> str:
        return f"{self.campaign.slug}/{self.step_key}: {self.reached}"


class DailyTally(models.Model):
    """Surveys started and completed per campaign and day, kept after raw answers are deleted."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="daily_tallies")
    day = models.DateField()
    started = models.PositiveIntegerField(default=0)
    completed = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["campaign", "day"], name="one_tally_per_day")]

    def __str__(self) -> str:
        return f"{self.campaign.slug} {self.day}: {self.started}/{self.completed}"


class AuditEvent(models.Model):
    """Who did what to which object, per organisation: written by ``survey.audit.audit_record`` only.

    Never contains answers. The actor's username is kept as text, so the record survives the account.
    """

    class Action(models.TextChoices):
        CAMPAIGN_CREATED = "campaign_created", _("Campaign created")
        CAMPAIGN_OPENED = "campaign_opened", _("Campaign opened")
        CAMPAIGN_PAUSED = "campaign_paused", _("Campaign paused")
        CAMPAIGN_CLOSED = "campaign_closed", _("Campaign closed")
        CAMPAIGN_CHANGED = "campaign_changed", _("Campaign changed")
        SURVEY_LOADED = "survey_loaded", _("Survey loaded")
        EXPORT_CREATED = "export_created", _("Export created")
        INVITE_CODES_CREATED = "invite_codes_created", _("Invite codes created")
        USER_ADDED = "user_added", _("User added")
        USER_ROLE_CHANGED = "user_role_changed", _("User role changed")
        USER_REMOVED = "user_removed", _("User removed")
        LOGIN_FAILED_LOCKOUT = "login_failed_lockout", _("Login locked after failed attempts")
        ANONYMISATION_STARTED = "anonymisation_started", _("Anonymisation started")
        AGGREGATION_STARTED = "aggregation_started", _("Aggregation started")

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="audit_events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_username = models.CharField(_("by"), max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=40, choices=Action.choices)
    target = models.CharField(_("object"), max_length=300)
    details = models.JSONField(_("details"), default=dict, blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["organisation", "-created_at"], name="audit_org_time"),
            models.Index(fields=["organisation", "action"], name="audit_org_action"),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_username or '-'} {self.action} {self.target}"
