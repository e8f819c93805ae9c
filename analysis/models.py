"""What the analysis side keeps: anonymised records, the anonymisation runs, and records of deletions.

Nothing here links an anonymised record back to a respondent: an :class:`AnonymisedResponse` has a random
primary key, no timestamp finer than the week, and no reference to the draft, the raw response or the
order in which answers arrived. ``docs/anonymisation.md`` states the guarantees.
"""

from __future__ import annotations

import uuid

from django.conf import settings
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
    # The countable answers as fixed-width integers (analysis.coding), written with ``answers`` and kept in step
    # with it; empty when the record cannot be coded. ``codes_layout`` is the fingerprint of the layout the
    # codes follow: another value (an older record, a new survey version) means "code it again".
    codes = models.BinaryField(null=True, blank=True)
    codes_layout = models.CharField(max_length=16, blank=True, default="")
    # False until the campaign's k-anonymity pass has looked at this record (the sweep picks those up).
    k_enforced = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("anonymised response")
        verbose_name_plural = _("anonymised responses")
        indexes = [
            models.Index(fields=["campaign", "k_enforced"]),
            # The snapshot asks whether any record of a campaign needs coding (analysis.snapshots.coded_input).
            models.Index(fields=["campaign", "codes_layout"], name="analysis_an_codes_layout_idx"),
        ]

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


class ExportJob(models.Model):
    """One export of a campaign: who asked, when, what, in which format and how many rows — never contents.

    Every export is one row: the ``export`` command's (``requested_by`` empty, via the command line) and the
    researcher pages' downloads. Exports the worker runs use the row as their job: ``status`` guards against
    running one twice (``analysis.export_jobs``).
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    class Via(models.TextChoices):
        COMMAND_LINE = "command_line", _("Command line")
        WEB = "web", _("Web")

    campaign = models.ForeignKey(Campaign, on_delete=models.SET_NULL, null=True, related_name="export_jobs")
    campaign_slug = models.SlugField(max_length=80, help_text=_("Kept if the campaign itself is deleted."))
    what = models.CharField(max_length=20)
    format = models.CharField(max_length=10)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    requested_via = models.CharField(max_length=20, choices=Via.choices, default=Via.COMMAND_LINE)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    rows = models.PositiveIntegerField(null=True, blank=True, help_text=_("Records written (codebook: variables)."))
    path = models.CharField(max_length=500, blank=True)
    reason = models.TextField(blank=True, help_text=_("Why the export failed; never contains answers."))
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.what} of {self.campaign_slug} as {self.format}: {self.get_status_display()}"

    @property
    def requester(self) -> str:
        """Who asked: the user id, or "command line"."""
        return str(self.requested_by_id) if self.requested_by_id else "command line"


class AggregateSnapshot(models.Model):
    """The published aggregates of a campaign at one moment: suppressed tables only, never raw counts.

    ``tables`` holds exactly what :func:`analysis.aggregation.publish` returns (shape in
    ``docs/aggregation.md``). ``input_hash`` (SHA-256 over the sorted anonymised rows as exported, with the
    parameters) and ``code_version`` make a build reproducible and idempotent.
    """

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="aggregate_snapshots")
    created_at = models.DateTimeField(default=timezone.now)
    response_count = models.PositiveIntegerField(help_text=_("Anonymised responses aggregated (for staff)."))
    survey_version = models.ForeignKey(SurveyVersion, on_delete=models.PROTECT, related_name="aggregate_snapshots")
    input_hash = models.CharField(max_length=64)
    code_version = models.CharField(max_length=100)
    breakdowns = models.JSONField(default=list, help_text=_("Single-choice questions chosen as extra breakdowns."))
    tables = models.JSONField()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["campaign", "-created_at"])]

    def __str__(self) -> str:
        return f"snapshot of {self.campaign_id} at {self.created_at:%Y-%m-%d %H:%M}"
