"""Who may do what, per organisation (django-rules). Views and exports ask ``user.has_perm(PERM, obj)``.

Roles come from ``Membership``: admin (manages users), staff (surveys and campaigns), researcher (aggregates
only). A user of one organisation has no permission on another's objects.

CONVENTION FOR STAFF PAGES (decided for every back-office page; details in docs/accounts.md):

* The organisation is in the URL: ``/staff/<org>/…`` with the URL keyword ``org`` (the organisation's slug).
  There is no "current organisation" in the session; a user with several memberships simply follows links
  (``/accounts/`` lists them). Links and bookmarks therefore always say which organisation they are about.
* Guard views with ``survey.permissions.organisation_required(PERM)``: sign-in required (else 302 to login);
  the view receives ``organisation=<Organisation>`` instead of ``org``; a user who is not a member of that
  organisation gets 404 (its existence is not confirmed); a member whose role lacks ``PERM`` gets 403.
* Look every object up *within* that organisation (``get_object_or_404(Campaign, pk=…, organisation=…)``), so
  an id of another organisation's object is a 404.
* Record what staff change with ``survey.audit.audit_record(...)``.
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


def _memberships(user: Any) -> dict[int, tuple[str, bool]]:
    """``{organisation id: (role, microdata_access)}``, loaded once per user object (i.e. per request)."""
    cache = getattr(user, "_stimmen_memberships", None)
    if cache is None:
        rows = Membership.objects.filter(user=user).values_list("organisation_id", "role", "microdata_access")
        cache = {organisation_id: (role, microdata) for organisation_id, role, microdata in rows}
        user._stimmen_memberships = cache
    return cache


def role_in(user: Any, organisation: Organisation | None) -> str | None:
    if organisation is None or not getattr(user, "is_authenticated", False):
        return None
    membership = _memberships(user).get(organisation.pk)
    return membership[0] if membership else None


@rules.predicate
def has_microdata_access(user: Any, obj: Any = None) -> bool:
    """The membership in the object's organisation carries ``microdata_access`` (granted by an admin)."""
    organisation = organisation_of(obj)
    if organisation is None or not getattr(user, "is_authenticated", False):
        return False
    membership = _memberships(user).get(organisation.pk)
    return bool(membership and membership[1])


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
#: Anonymised microdata exports: admins and staff; researchers only with ``Membership.microdata_access``.
EXPORT_MICRODATA = "analysis.export_microdata"

rules.add_perm(MANAGE_SURVEYS, is_org_staff)
rules.add_perm(MANAGE_CAMPAIGNS, is_org_staff)
rules.add_perm(MANAGE_MEMBERS, is_org_admin)
rules.add_perm(VIEW_AUDIT_LOG, is_org_admin)
rules.add_perm(VIEW_AGGREGATES, is_org_member)
rules.add_perm(EXPORT_MICRODATA, is_org_staff | (is_org_member & has_microdata_access))
