"""Retention: raw answers and drafts are deleted on time, and every deletion is counted.

``docs/anonymisation.md`` ("Retention and deletion records") states the rules. For now (aggregation is not
built yet) a raw response is deleted when its campaign's ``retention_days`` have passed since it was
submitted, whether or not it was anonymised: the promise to delete raw answers on time comes first. Before
deleting, a pending response gets one more chance to be anonymised, so that only a response that cannot be
anonymised at all is lost to the analysis.

Early deletion: a raw response that is anonymised AND included in an aggregate snapshot of its campaign is
not needed any more and goes at the next purge, before its retention period ends. "Included" means a
snapshot was created on a later day than the anonymisation (the mark keeps only the date, so a snapshot of
the same day might predate it and does not count).
"""

from __future__ import annotations

import datetime
from collections import Counter
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from analysis.anonymisation import pending_responses, response_anonymise
from analysis.models import AggregateSnapshot, DeletionRecord, ResponseAnonymisation
from survey.models import Campaign, Draft, Response


@dataclass(frozen=True)
class Purge:
    """What :func:`purge_expired` deleted: ``(campaign slug, kind) -> count``; only non-zero counts."""

    counts: dict[tuple[str, str], int] = field(default_factory=dict)

    def total(self, kind: str) -> int:
        return sum(count for (_slug, counted), count in self.counts.items() if counted == kind)


def expired_responses(*, today: datetime.date) -> QuerySet[Response]:
    """Raw responses whose retention period is over: submitted more than ``retention_days`` before ``today``."""
    expired = Q(pk__in=[])
    for campaign_id, retention_days in Campaign.objects.values_list("pk", "retention_days"):
        cutoff = today - datetime.timedelta(days=retention_days)
        expired |= Q(campaign_id=campaign_id, submitted_on__lt=cutoff)
    return Response.objects.filter(expired)


def snapshotted_responses() -> QuerySet[Response]:
    """Raw responses already anonymised and included in a snapshot created on a later day than that."""
    # Nested subqueries rather than a join: the purge locks these rows (FOR UPDATE), which an outer join forbids.
    later = AggregateSnapshot.objects.filter(
        campaign_id=OuterRef(OuterRef("campaign_id")), created_at__date__gt=OuterRef("anonymised_on")
    )
    marks = ResponseAnonymisation.objects.filter(response=OuterRef("pk")).filter(Exists(later))
    return Response.objects.filter(Exists(marks))


def _delete(queryset: QuerySet, kind: str, counts: Counter[tuple[int, str]]) -> None:
    """Delete exactly the rows counted (locked first, so the count is what went)."""
    rows = list(queryset.select_for_update().values_list("pk", "campaign_id"))
    for _pk, campaign_id in rows:
        counts[(campaign_id, kind)] += 1
    queryset.model.objects.filter(pk__in=[pk for pk, _campaign_id in rows]).delete()


def purge_expired(*, today: datetime.date | None = None) -> Purge:
    """Delete raw responses past retention, expired drafts and submitted drafts; record the counts.

    * Responses submitted more than the campaign's ``retention_days`` before ``today`` (anonymised first if
      they are still pending), and, earlier, responses anonymised and included in a later snapshot
      (:func:`snapshotted_responses`); both counted as raw responses.
    * Open drafts whose ``expires_on`` is before ``today``.
    * Submitted drafts (they hold no answers, only the guard against a second submission) once their
      response was submitted before ``today`` or is gone.

    One :class:`DeletionRecord` per campaign and kind says how many rows went. Safe to run any number of
    times a day; each run records what it deleted.
    """
    today = today or timezone.localdate()
    for response_id in pending_responses().filter(pk__in=expired_responses(today=today)).values_list("pk", flat=True):
        response_anonymise(response_id=response_id)

    counts: Counter[tuple[int, str]] = Counter()
    with transaction.atomic():
        expired_or_included = expired_responses(today=today) | snapshotted_responses()
        _delete(expired_or_included, DeletionRecord.Kind.RAW_RESPONSE, counts)
        _delete(
            Draft.objects.filter(status=Draft.Status.OPEN, expires_on__lt=today),
            DeletionRecord.Kind.EXPIRED_DRAFT,
            counts,
        )
        submitted_today = Response.objects.filter(draft_id=OuterRef("pk"), submitted_on__gte=today)
        _delete(
            Draft.objects.filter(status=Draft.Status.SUBMITTED).filter(~Exists(submitted_today)),
            DeletionRecord.Kind.SUBMITTED_DRAFT,
            counts,
        )
        slugs = dict(
            Campaign.objects.filter(pk__in={campaign_id for campaign_id, _kind in counts}).values_list("pk", "slug")
        )
        DeletionRecord.objects.bulk_create(
            DeletionRecord(
                campaign_id=campaign_id, campaign_slug=slugs[campaign_id], kind=kind, count=count, deleted_on=today
            )
            for (campaign_id, kind), count in sorted(counts.items())
        )
    return Purge(counts={(slugs[campaign_id], str(kind)): count for (campaign_id, kind), count in counts.items()})
