"""Helpers for the staff tests."""

from __future__ import annotations

from typing import Any

from django.utils import translation
from django.utils.html import escape

from survey.models import AuditEvent, Organisation


def audit_actions(organisation: Organisation) -> list[str]:
    """The actions recorded in the audit log of ``organisation``, oldest first."""
    return list(AuditEvent.objects.filter(organisation=organisation).order_by("id").values_list("action", flat=True))


def text_in(response: Any, message: Any) -> bool:
    """Whether ``message`` (a constant, maybe lazy) appears on the page in the language the page was rendered in."""
    language = response.wsgi_request.LANGUAGE_CODE if hasattr(response.wsgi_request, "LANGUAGE_CODE") else "de"
    with translation.override(language):
        text = escape(str(message))
    return text in response.content.decode()
