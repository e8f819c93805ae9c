"""What the analysis side keeps: anonymised records, the anonymisation runs, and records of deletions.

Nothing here links an anonymised record back to a respondent: an :class:`AnonymisedResponse` has a random
primary key, no timestamp finer than the week, and no reference to the draft, the raw response or the
order in which answers arrived. ``docs/anonymisation.md`` states the guarantees.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from survey.models import Campaign, Response, SurveyVersion


class AnonymisedResponse(models.Model):
    """One respondent's answers after generalisation, free-text scrubbing and k-anonymity suppression."""

    # A random key, never an auto-increment: a sequence would reveal the order of submission.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="anonymised_responses")
    survey_version = models.ForeignKey(SurveyVersion, on_delete=models.PROTECT, related_name="anonymised_responses")
    week = models.DateField(_("week (its Monday)"), help_text=_("Dates are kept at most to the week."))
    answers = models.JSONField()
    # False until the campaign's k-anonymity pass has looked at this record (the sweep picks those up).
    k_enforced = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("anonymised response")
        verbose_name_plural = _("anonymised responses")
        indexes = [models.Index(fields=["campaign", "k_enforced"])]

    def __str__(self) -> str:
        return f"anonymised response {self.id}"


class ResponseAnonymisation(models.Model):
    """Marks a raw response as anonymised. It says *that* it was done, never *which* record it became.

    The primary key is the response itself, so a second mark for the same response is refused by the
    database: this is what makes anonymisation exactly-once even when two workers race. The mark is deleted
    together with the raw response.
    """

    response = models.OneToOneField(Response, on_delete=models.CASCADE, primary_key=True, related_name="anonymisation")
    anonymised_on = models.DateField(default=timezone.localdate)

    def __str__(self) -> str:
        return f"{self.response_id} anonymised on {self.anonymised_on}"


class AnonymisationRun(models.Model):
    """One run of a campaign's anonymisation (the sweep or the command): what it did, or why it failed."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="anonymisation_runs")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    reason = models.TextField(blank=True, help_text=_("Why the run failed; never contains answers."))
    anonymised = models.PositiveIntegerField(default=0)
    suppressed_values = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"anonymisation of {self.campaign_id}: {self.get_status_display()}"


class DeletionRecord(models.Model):
    """How many rows of which kind were deleted for retention, per campaign and day: counts, never contents."""

    class Kind(models.TextChoices):
        RAW_RESPONSE = "raw_response", _("Raw response")
        EXPIRED_DRAFT = "expired_draft", _("Expired draft")
        SUBMITTED_DRAFT = "submitted_draft", _("Submitted draft")

    campaign = models.ForeignKey(Campaign, on_delete=models.SET_NULL, null=True, related_name="deletion_records")
    campaign_slug = models.SlugField(max_length=80, help_text=_("Kept if the campaign itself is deleted."))
    kind = models.CharField(max_length=20, choices=Kind.choices)
    count = models.PositiveIntegerField()
    deleted_on = models.DateField()

    class Meta:
        ordering = ["-deleted_on", "campaign_slug", "kind"]

    def __str__(self) -> str:
        return f"{self.deleted_on} {self.campaign_slug}: {self.count} × {self.get_kind_display()}"
