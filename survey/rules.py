"""Who may do what, per organisation (django-rules). Views and exports ask ``user.has_perm(PERM, obj)``.

Roles come from ``Membership``: admin (manages users), staff (surveys and campaigns), researcher (aggregates
only). A user of one organisation has no permission on another's objects.
"""

from __future__ import annotations

from typing import Any

import rules

from survey.models import Membership, Organisation

Role = Membership.Role


def organisation_of(obj: Any) -> Organisation | None:
    """The organisation an object belongs to: itself, ``obj.organisation``, or via ``obj.campaign``/``obj.survey``."""
    if obj is None:
        return None
    if isinstance(obj, Organisation):
        return obj
    for path in ("organisation", "campaign", "survey"):
        related = getattr(obj, path, None)
        if related is not None:
            return organisation_of(related)
    return None


def role_in(user: Any, organisation: Organisation | None) -> str | None:
    if organisation is None or not getattr(user, "is_authenticated", False):
        return None
    cache = getattr(user, "_stimmen_roles", None)
    if cache is None:
        cache = dict(Membership.objects.filter(user=user).values_list("organisation_id", "role"))
        user._stimmen_roles = cache
    return cache.get(organisation.pk)


def _has_role(*roles: str):
    @rules.predicate
    def predicate(user: Any, obj: Any = None) -> bool:
        return role_in(user, organisation_of(obj)) in roles

    return predicate


is_org_admin = _has_role(Role.ADMIN)
is_org_staff = _has_role(Role.ADMIN, Role.STAFF)
is_org_member = _has_role(Role.ADMIN, Role.STAFF, Role.RESEARCHER)

MANAGE_SURVEYS = "survey.manage_surveys"
MANAGE_CAMPAIGNS = "survey.manage_campaigns"
MANAGE_MEMBERS = "survey.manage_members"
VIEW_AUDIT_LOG = "survey.view_audit_log"
VIEW_AGGREGATES = "analysis.view_aggregates"

rules.add_perm(MANAGE_SURVEYS, is_org_staff)
rules.add_perm(MANAGE_CAMPAIGNS, is_org_staff)
rules.add_perm(MANAGE_MEMBERS, is_org_admin)
rules.add_perm(VIEW_AUDIT_LOG, is_org_admin)
rules.add_perm(VIEW_AGGREGATES, is_org_member)
