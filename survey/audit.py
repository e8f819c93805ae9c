"""The audit log: who did what to which object, per organisation.

Services call :func:`audit_record` after each change a member of staff makes (campaign opened, export created,
user added, …). The organisation admins read the log at ``staff:audit``. Entries describe *actions*, never
*answers*: pass names, counts and field names in ``details``, not what respondents wrote.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import models

from survey.models import AuditEvent, Organisation

Action = AuditEvent.Action

#: Keys that must never appear in ``details``: an audit entry is about what staff did, not what was answered.
FORBIDDEN_DETAIL_KEYS = frozenset({"answer", "answers", "response", "responses", "free_text", "text"})
AUDIT_DETAILS_FORBIDDEN = "Audit details must not contain answers (key %r)."
AUDIT_ACTION_UNKNOWN = "Unknown audit action %r."

# Spellings used by callers that map onto one action (``campaign.open`` is the campaign's new status).
_ALIASES = {
    "campaign_open": Action.CAMPAIGN_OPENED,
    "campaign_paused": Action.CAMPAIGN_PAUSED,
    "campaign_closed": Action.CAMPAIGN_CLOSED,
    "campaign_draft": Action.CAMPAIGN_CHANGED,
}


def audit_action(action: str) -> Action:
    """The ``AuditEvent.Action`` for ``action``; dots and underscores are interchangeable
    (``"campaign.changed"`` is ``Action.CAMPAIGN_CHANGED``). Raises ``ValueError`` for anything else."""
    key = str(action).replace(".", "_")
    if key in _ALIASES:
        return _ALIASES[key]
    try:
        return Action(key)
    except ValueError:
        raise ValueError(AUDIT_ACTION_UNKNOWN % action) from None


def audit_describe(target: Any) -> str:
    """A short text naming ``target``: a string as it is; a model instance as ``<model> "<str>" (#<pk>)``.

    The model name is the code name (``campaign``), not the translated one: the log reads the same whatever
    language the actor used.
    """
    if isinstance(target, str):
        return target[:300]
    if isinstance(target, models.Model):
        return f'{target._meta.model_name} "{target}" (#{target.pk})'[:300]
    return str(target)[:300]


def _checked_details(details: Mapping[str, Any] | None) -> dict[str, Any]:
    if not details:
        return {}
    for key in details:
        if str(key).lower() in FORBIDDEN_DETAIL_KEYS:
            raise ValueError(AUDIT_DETAILS_FORBIDDEN % key)
    # Dates, decimals and model instances become text so that the JSON field accepts them.
    return {
        str(key): value if isinstance(value, str | int | float | bool | type(None) | list | dict) else str(value)
        for key, value in details.items()
    }


def audit_record(
    *,
    actor: Any,
    organisation: Organisation,
    action: str,
    target: Any,
    details: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Write one audit entry and return it.

    - ``actor``: the user who acted (a ``User``), or ``None``/an anonymous user for the system (a worker, a
      lockout). The username is stored as text too, so the entry outlives a deleted account.
    - ``organisation``: whose log the entry belongs to; only that organisation's admins see it.
    - ``action``: an ``AuditEvent.Action`` or its value; ``"campaign.opened"`` (dots) works too. Unknown actions
      raise ``ValueError``, so a typo fails in tests instead of writing an unreadable log.
    - ``target``: what was acted on: a short text (``"user anna"``) or a model instance (described by
      :func:`audit_describe`).
    - ``details``: small JSON-able facts such as changed field names or a count. Never answers: keys such as
      ``answers`` raise ``ValueError``.

    Call it inside the same transaction as the change, so that the log and the data agree.
    """
    is_user = actor is not None and getattr(actor, "is_authenticated", False)
    return AuditEvent.objects.create(
        organisation=organisation,
        actor=actor if is_user else None,
        actor_username=actor.get_username() if is_user else "",
        action=audit_action(action),
        target=audit_describe(target),
        details=_checked_details(details),
    )
