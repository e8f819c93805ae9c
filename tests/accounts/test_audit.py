"""The audit service colleagues call: actions, descriptions, and no answers."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from survey.audit import audit_action, audit_record
from survey.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("campaign.changed", AuditEvent.Action.CAMPAIGN_CHANGED),
        ("campaign_opened", AuditEvent.Action.CAMPAIGN_OPENED),
        ("campaign.open", AuditEvent.Action.CAMPAIGN_OPENED),
        ("campaign.paused", AuditEvent.Action.CAMPAIGN_PAUSED),
        ("campaign.closed", AuditEvent.Action.CAMPAIGN_CLOSED),
        ("invite_codes.created", AuditEvent.Action.INVITE_CODES_CREATED),
        (AuditEvent.Action.EXPORT_CREATED, AuditEvent.Action.EXPORT_CREATED),
    ],
)
def test_action_spellings(given, expected):
    assert audit_action(given) == expected


def test_unknown_action_raises():
    with pytest.raises(ValueError, match="Unknown audit action"):
        audit_action("campaign.exploded")


def test_record_describes_a_model_instance_and_keeps_the_username(organisation):
    user = get_user_model().objects.create_user(username="anna", password="x" * 16)
    event = audit_record(actor=user, organisation=organisation, action="survey.loaded", target=organisation)
    assert event.target == f'organisation "Integrationszentrum Dortmund" (#{organisation.pk})'
    user.delete()
    event.refresh_from_db()
    assert (event.actor, event.actor_username) == (None, "anna")


def test_details_never_hold_answers(organisation):
    with pytest.raises(ValueError, match="must not contain answers"):
        audit_record(
            actor=None, organisation=organisation, action="export_created", target="x", details={"answers": {"q": 1}}
        )
    assert not AuditEvent.objects.exists()
