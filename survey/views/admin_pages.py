"""The organisation admins' pages under ``/staff/<org>/admin/``: members and roles, and the audit log.

Only admins of the organisation in the URL get in (``MANAGE_MEMBERS``/``VIEW_AUDIT_LOG``); other members get 403,
anybody else 404. Memberships are looked up within that organisation, so another organisation's id is a 404.
Each change goes through a service in ``survey.permissions``, which writes the audit entry.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from survey.models import AuditEvent, Membership, Organisation
from survey.permissions import (
    MembershipError,
    membership_add,
    membership_remove,
    membership_role_change,
    organisation_required,
)
from survey.rules import MANAGE_MEMBERS, VIEW_AUDIT_LOG

AUDIT_PAGE_SIZE = 50


class MemberAddForm(forms.Form):
    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        help_text=_("An existing account is added as it is; for a new one a one-time password is shown once."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    email = forms.EmailField(label=_("E-mail address (new accounts only, optional)"), required=False)
    role = forms.ChoiceField(label=_("Role"), choices=Membership.Role.choices)
    microdata_access = forms.BooleanField(
        label=_("May export anonymised microdata"),
        required=False,
        help_text=_("Only matters for researchers: admins and staff always may."),
    )


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Membership.Role.choices)
    microdata_access = forms.BooleanField(label=_("Microdata"), required=False)


class AuditFilterForm(forms.Form):
    action = forms.ChoiceField(
        label=_("Action"), choices=[("", _("All actions")), *AuditEvent.Action.choices], required=False
    )


def _membership(organisation: Organisation, membership_id: int) -> Membership:
    return get_object_or_404(
        Membership.objects.select_related("user", "organisation"), pk=membership_id, organisation=organisation
    )


@organisation_required(MANAGE_MEMBERS)
@require_GET
def members(request: HttpRequest, *, organisation: Organisation) -> HttpResponse:
    """The organisation's members with their roles, and a form per member to change the role."""
    rows = [
        {
            "membership": membership,
            "form": RoleForm(
                initial={"role": membership.role, "microdata_access": membership.microdata_access},
                prefix=f"m{membership.pk}",
            ),
        }
        for membership in organisation.memberships.select_related("user").order_by("user__username")
    ]
    context = {"organisation": organisation, "rows": rows, "nav": "members"}
    return render(request, "staff/admin/members.html", context)


@organisation_required(MANAGE_MEMBERS)
@require_http_methods(["GET", "POST"])
def member_add(request: HttpRequest, *, organisation: Organisation) -> HttpResponse:
    """Add a user (a new account with a one-time password, or an existing one) with a role."""
    form = MemberAddForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            membership, password = membership_add(
                actor=request.user,
                organisation=organisation,
                username=form.cleaned_data["username"],
                role=form.cleaned_data["role"],
                email=form.cleaned_data["email"],
                microdata_access=form.cleaned_data["microdata_access"],
            )
        except MembershipError as error:
            form.add_error("username", str(error))
        else:
            if password is None:
                messages.success(request, _("%(user)s was added.") % {"user": membership.user.get_username()})
                return redirect("staff:members", org=organisation.slug)
            # Shown in this response only: never stored in clear, not in a message, not in a redirect.
            context = {"organisation": organisation, "membership": membership, "password": password, "nav": "members"}
            return render(request, "staff/admin/member_added.html", context)
    context = {"organisation": organisation, "form": form, "nav": "members"}
    return render(request, "staff/admin/member_add.html", context, status=400 if form.errors else 200)


@organisation_required(MANAGE_MEMBERS)
@require_POST
def member_role(request: HttpRequest, membership_id: int, *, organisation: Organisation) -> HttpResponse:
    membership = _membership(organisation, membership_id)
    form = RoleForm(request.POST, prefix=f"m{membership.pk}")
    if not form.is_valid():
        messages.error(request, _("Please choose a role."))
    else:
        try:
            membership_role_change(
                actor=request.user,
                membership=membership,
                role=form.cleaned_data["role"],
                microdata_access=form.cleaned_data["microdata_access"],
            )
        except MembershipError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("The role of %(user)s was saved.") % {"user": membership.user.get_username()})
    return redirect("staff:members", org=organisation.slug)


@organisation_required(MANAGE_MEMBERS)
@require_http_methods(["GET", "POST"])
def member_remove(request: HttpRequest, membership_id: int, *, organisation: Organisation) -> HttpResponse:
    """Ask, then remove the user from this organisation (the account itself stays)."""
    membership = _membership(organisation, membership_id)
    if request.method == "POST":
        try:
            membership_remove(actor=request.user, membership=membership)
        except MembershipError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("%(user)s was removed.") % {"user": membership.user.get_username()})
        return redirect("staff:members", org=organisation.slug)
    context = {"organisation": organisation, "membership": membership, "nav": "members"}
    return render(request, "staff/admin/member_remove.html", context)


@organisation_required(VIEW_AUDIT_LOG)
@require_GET
def audit_log(request: HttpRequest, *, organisation: Organisation) -> HttpResponse:
    """The organisation's audit log, newest first, filterable by action, 50 entries a page."""
    form = AuditFilterForm(request.GET or None)
    events = AuditEvent.objects.filter(organisation=organisation)
    action = form.cleaned_data["action"] if form.is_valid() else ""
    if action:
        events = events.filter(action=action)
    page = Paginator(events, AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"organisation": organisation, "form": form, "page": page, "action": action, "nav": "audit"}
    return render(request, "staff/admin/audit.html", context)
