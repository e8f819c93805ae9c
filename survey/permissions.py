"""Access to the back office: the view guard, the staff session timeout and the login-throttling hooks.

The convention every staff page follows (see the top of ``survey/rules.py`` and ``docs/accounts.md``): the
organisation's slug is in the URL as ``org``; :func:`organisation_required` resolves it and checks a
django-rules permission on it.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from axes import backends as axes_backends
from axes.handlers.database import AxesDatabaseHandler
from django.conf import settings
from django.contrib.auth import get_user_model, logout
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache

from survey.audit import audit_record
from survey.models import AuditEvent, Membership, Organisation
from survey.rules import role_in

ViewFunction = Callable[..., HttpResponse]


def organisation_required(permission: str) -> Callable[[ViewFunction], ViewFunction]:
    """Guard a view whose URL carries the organisation's slug as ``org``.

    - not signed in: redirect to the login page (302);
    - organisation unknown, or the user is no member of it: 404 (whether it exists is not confirmed);
    - member, but ``user.has_perm(permission, organisation)`` is false: 403;
    - otherwise the view is called with ``organisation=<Organisation>`` instead of ``org``.

    Responses are never cached. Look objects up within ``organisation`` so that other organisations' ids 404.
    """

    def decorator(view: ViewFunction) -> ViewFunction:
        @never_cache
        @wraps(view)
        def wrapper(request: HttpRequest, org: str, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            organisation = get_object_or_404(Organisation, slug=org)
            if role_in(request.user, organisation) is None:
                raise Http404
            if not request.user.has_perm(permission, organisation):
                raise PermissionDenied
            return view(request, *args, organisation=organisation, **kwargs)

        return wrapper

    return decorator


# --- Staff session timeout ----------------------------------------------------------------------------------

LAST_ACTIVITY_KEY = "stimmen_last_activity"


class StaffSessionTimeoutMiddleware:
    """Signed-in sessions end after ``STIMMEN_STAFF_SESSION_IDLE_SECONDS`` without a request.

    Respondents never sign in, so their anonymous sessions keep ``SESSION_COOKIE_AGE``. For a signed-in user
    every request stores the time and sets the session's expiry to the idle limit (so the cookie and the
    database row expire with it too); a request after a longer pause logs the user out and asks for the login.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            idle_limit = settings.STIMMEN_STAFF_SESSION_IDLE_SECONDS
            now = int(time.time())
            last = request.session.get(LAST_ACTIVITY_KEY)
            if last is not None and now - int(last) > idle_limit:
                logout(request)
                return redirect_to_login(request.get_full_path())
            request.session[LAST_ACTIVITY_KEY] = now
            request.session.set_expiry(idle_limit)
        return self.get_response(request)


# --- Login throttling (django-axes) -------------------------------------------------------------------------


class AxesBackend(axes_backends.AxesBackend):
    """axes' lockout check, first of ``AUTHENTICATION_BACKENDS``; it never logs anybody in itself.

    Only logins over HTTP are throttled: ``authenticate()`` without a request (the test client's ``login()``,
    a management command) has no client to count and goes on to the next backend instead of failing. Being a
    ``ModelBackend`` too, it can restore users from the session (``force_login`` picks the first backend).
    """

    def authenticate(self, request: Any, username: str | None = None, password: str | None = None, **kwargs: Any):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def axes_client_ip(request: HttpRequest) -> None:
    """No IP address for axes: attempts are counted per username, and the platform stores no IP addresses."""
    return None


class AxesHandler(AxesDatabaseHandler):
    """axes' database handler, storing neither IP address nor browser, and auditing each lockout.

    A lockout is written to the audit log of every organisation the locked username belongs to, once per
    lockout (attempts during a lockout are not counted, see ``AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT``).
    """

    def user_login_failed(self, sender: Any, credentials: dict, request: Any = None, **kwargs: Any) -> None:
        if request is not None:
            request.axes_user_agent = ""
        super().user_login_failed(sender, credentials, request=request, **kwargs)
        if request is None or not getattr(request, "axes_locked_out", False):
            return
        if getattr(request, "axes_failures_since_start", None) is None:
            return  # an attempt during an existing lockout
        _audit_lockout(credentials.get(get_user_model().USERNAME_FIELD) or credentials.get("username"))

    def user_logged_in(self, sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
        request.axes_user_agent = ""
        super().user_logged_in(sender, request, user, **kwargs)


def _audit_lockout(username: str | None) -> None:
    if not username:
        return
    memberships = Membership.objects.filter(user__username=username).select_related("organisation")
    for membership in memberships:
        audit_record(
            actor=None,
            organisation=membership.organisation,
            action=AuditEvent.Action.LOGIN_FAILED_LOCKOUT,
            target=f"user {username}",
            details={"failures": settings.AXES_FAILURE_LIMIT},
        )


# --- Membership services (the organisation admins' pages call these) -----------------------------------------

MEMBER_ALREADY = _("This user is already a member of the organisation.")
MEMBER_LAST_ADMIN = _("An organisation must keep at least one administrator.")
MEMBER_USERNAME_INVALID = _("Please enter a valid username: letters, digits and @ . + - _ only.")


class MembershipError(Exception):
    """A membership change that breaks a rule; ``str(error)`` is the message for the admin."""


def _generated_password() -> str:
    # 4 groups of 5 characters from an alphabet without look-alikes: ~100 bits, easy to read out on the phone.
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return "-".join("".join(secrets.choice(alphabet) for _ in range(5)) for _ in range(4))


def membership_add(
    *, actor: Any, organisation: Organisation, username: str, role: str, email: str = "", microdata_access: bool = False
) -> tuple[Membership, str | None]:
    """Add ``username`` to ``organisation`` with ``role``; create the account if there is none.

    Returns the membership and, for a new account, its generated one-time password (shown once, never stored in
    clear). Audited as ``user_added``.
    """
    username = username.strip()
    try:
        UnicodeUsernameValidator()(username)
    except ValidationError:
        raise MembershipError(MEMBER_USERNAME_INVALID) from None
    user_model = get_user_model()
    with transaction.atomic():
        user = user_model.objects.filter(username=username).first()
        password = None
        if user is None:
            password = _generated_password()
            user = user_model.objects.create_user(username=username, email=email, password=password)
        elif Membership.objects.filter(user=user, organisation=organisation).exists():
            raise MembershipError(MEMBER_ALREADY)
        membership = Membership.objects.create(
            user=user, organisation=organisation, role=role, microdata_access=microdata_access
        )
        audit_record(
            actor=actor,
            organisation=organisation,
            action=AuditEvent.Action.USER_ADDED,
            target=f"user {username}",
            details={"role": role, "new_account": password is not None, "microdata_access": microdata_access},
        )
    return membership, password


def _keeps_an_admin(membership: Membership) -> bool:
    others = Membership.objects.filter(organisation=membership.organisation, role=Membership.Role.ADMIN).exclude(
        pk=membership.pk
    )
    return others.exists()


def membership_role_change(
    *, actor: Any, membership: Membership, role: str, microdata_access: bool | None = None
) -> Membership:
    """Give ``membership`` a new role (and, unless ``None``, set its microdata access).

    The last admin cannot lose the admin role. A change is audited as ``user_role_changed``; nothing changed,
    nothing audited.
    """
    with transaction.atomic():
        membership = Membership.objects.select_for_update().select_related("user", "organisation").get(pk=membership.pk)
        previous = membership.role
        details: dict[str, Any] = {}
        if previous != role:
            if previous == Membership.Role.ADMIN and not _keeps_an_admin(membership):
                raise MembershipError(MEMBER_LAST_ADMIN)
            membership.role = role
            details.update({"from": previous, "to": role})
        if microdata_access is not None and microdata_access != membership.microdata_access:
            membership.microdata_access = microdata_access
            details["microdata_access"] = microdata_access
        if not details:
            return membership
        membership.save(update_fields=["role", "microdata_access"])
        audit_record(
            actor=actor,
            organisation=membership.organisation,
            action=AuditEvent.Action.USER_ROLE_CHANGED,
            target=f"user {membership.user.get_username()}",
            details=details,
        )
    return membership


def membership_remove(*, actor: Any, membership: Membership) -> None:
    """Remove the user from the organisation (the account stays). Audited as ``user_removed``."""
    with transaction.atomic():
        membership = Membership.objects.select_for_update().select_related("user", "organisation").get(pk=membership.pk)
        if membership.role == Membership.Role.ADMIN and not _keeps_an_admin(membership):
            raise MembershipError(MEMBER_LAST_ADMIN)
        username = membership.user.get_username()
        organisation = membership.organisation
        role = membership.role
        membership.delete()
        audit_record(
            actor=actor,
            organisation=organisation,
            action=AuditEvent.Action.USER_REMOVED,
            target=f"user {username}",
            details={"role": role},
        )
