"""Signing in and out, the one-time code step, two-factor set-up and the signed-in start page.

Login is two steps when the user has a confirmed TOTP device: the password (throttled by django-axes), then a
six-digit code. Until the code is right the user is *not* logged in; the session only remembers who passed the
password step, for a few minutes. A wrong code counts as a failed login for axes, so guessing codes locks the
account like guessing passwords does.
"""

from __future__ import annotations

import base64
import time
from typing import Any

import qrcode
import qrcode.image.svg
from axes.handlers.proxy import AxesProxyHandler
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp import verify_token
from django_otp.plugins.otp_totp.models import TOTPDevice

from survey.models import Membership
from survey.rules import MANAGE_CAMPAIGNS, MANAGE_MEMBERS

PENDING_KEY = "stimmen_login_pending"
#: Seconds between the password step and the code step before the user has to start again.
PENDING_MAX_AGE = 5 * 60

CODE_WRONG = _("This code is not right (or was already used). Please enter the current code from your app.")
CODE_EXPIRED = _("Please sign in again: the time for entering the code has run out.")
TWO_FACTOR_ENABLED = _("Two-factor authentication is on. From now on you will be asked for a code when you sign in.")
TWO_FACTOR_DISABLED = _("Two-factor authentication is off.")


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Six-digit code from your authenticator app"),
        min_length=6,
        max_length=8,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )

    def clean_code(self) -> str:
        code = "".join(self.cleaned_data["code"].split())
        if not code.isdigit():
            raise forms.ValidationError(_("Please enter digits only."))
        return code


def confirmed_device(user: Any) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


# --- Login ---------------------------------------------------------------------------------------------------


class LoginView(auth_views.LoginView):
    """Django's login with the code step: a user with a confirmed TOTP device continues at ``login_code``."""

    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form: Any) -> HttpResponse:
        user = form.get_user()
        if confirmed_device(user) is None:
            return super().form_valid(form)
        self.request.session[PENDING_KEY] = {
            "user": user.pk,
            "backend": user.backend,
            "at": int(time.time()),
            "next": self.get_success_url(),
        }
        return redirect("login_code")


def _locked_out(request: HttpRequest, username: str) -> HttpResponse:
    request.session.pop(PENDING_KEY, None)
    context = {"failure_limit": settings.AXES_FAILURE_LIMIT, "username": username}
    return render(request, settings.AXES_LOCKOUT_TEMPLATE, context, status=429)


@sensitive_post_parameters("code")
@never_cache
@require_http_methods(["GET", "POST"])
def login_code(request: HttpRequest) -> HttpResponse:
    """The second step: the user who passed the password step enters a code from their device."""
    pending = request.session.get(PENDING_KEY)
    if not pending or int(time.time()) - int(pending["at"]) > PENDING_MAX_AGE:
        request.session.pop(PENDING_KEY, None)
        if pending:
            messages.info(request, CODE_EXPIRED)
        return redirect("login")
    user = get_user_model().objects.filter(pk=pending["user"], is_active=True).first()
    device = confirmed_device(user) if user is not None else None
    if user is None or device is None:
        request.session.pop(PENDING_KEY, None)
        return redirect("login")
    credentials = {"username": user.get_username()}
    if not AxesProxyHandler.is_allowed(request, credentials):
        return _locked_out(request, user.get_username())

    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        verified = verify_token(user, device.persistent_id, form.cleaned_data["code"])
        if verified is not None:
            request.session.pop(PENDING_KEY, None)
            auth_login(request, user, backend=pending["backend"])
            otp_login(request, verified)
            return redirect(pending["next"])
        user_login_failed.send(sender=__name__, credentials=credentials, request=request)
        if getattr(request, "axes_locked_out", False):
            return _locked_out(request, user.get_username())
        form.add_error("code", CODE_WRONG)
    status = 400 if form.errors else 200
    return render(request, "registration/login_code.html", {"form": form}, status=status)


# --- Signed in -----------------------------------------------------------------------------------------------


def _url(name: str, **kwargs: Any) -> str | None:
    try:
        return reverse(name, kwargs=kwargs)
    except NoReverseMatch:
        return None


@login_required
@never_cache
def home(request: HttpRequest) -> HttpResponse:
    """The user's organisations with the pages their role opens; the start page after signing in."""
    memberships = Membership.objects.filter(user=request.user).select_related("organisation")
    rows = []
    for membership in memberships.order_by("organisation__name"):
        organisation = membership.organisation
        links = []
        if request.user.has_perm(MANAGE_CAMPAIGNS, organisation):
            links.append((_("Campaigns and surveys"), _url("staff:home", org=organisation.slug)))
        links.append((_("Results"), _url("analysis:index")))
        if request.user.has_perm(MANAGE_MEMBERS, organisation):
            links.append((_("Members"), _url("staff:members", org=organisation.slug)))
            links.append((_("Audit log"), _url("staff:audit", org=organisation.slug)))
        rows.append({"membership": membership, "links": [(label, url) for label, url in links if url]})
    context = {"rows": rows, "two_factor": confirmed_device(request.user) is not None}
    return render(request, "registration/home.html", context)


def _qr_svg(data: str) -> str:
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=12, border=4)
    svg = image.to_string(encoding="unicode")
    # Inline SVG: drop the XML declaration; the template wraps it in a figure with a text alternative.
    return svg.split("?>", 1)[1].strip() if svg.startswith("<?xml") else svg


@sensitive_post_parameters("code")
@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def two_factor(request: HttpRequest) -> HttpResponse:
    """Switch two-factor authentication on (scan, then confirm with a code) or off (confirm with a code)."""
    device = confirmed_device(request.user)
    form = CodeForm(request.POST or None)
    if device is not None:
        if request.method == "POST" and form.is_valid():
            if verify_token(request.user, device.persistent_id, form.cleaned_data["code"]) is not None:
                TOTPDevice.objects.filter(user=request.user).delete()
                messages.success(request, TWO_FACTOR_DISABLED)
                return redirect("two_factor")
            form.add_error("code", CODE_WRONG)
        status = 400 if form.errors else 200
        return render(request, "registration/two_factor.html", {"enabled": True, "form": form}, status=status)

    # One unconfirmed device per user: reloading the page shows the same secret until it is confirmed.
    pending = TOTPDevice.objects.filter(user=request.user, confirmed=False).order_by("pk").first()
    if pending is None:
        pending = TOTPDevice.objects.create(user=request.user, name="authenticator", confirmed=False)
    if request.method == "POST" and form.is_valid():
        if pending.verify_token(form.cleaned_data["code"]):
            pending.confirmed = True
            pending.save(update_fields=["confirmed"])
            otp_login(request, pending)
            messages.success(request, TWO_FACTOR_ENABLED)
            return redirect("two_factor")
        form.add_error("code", CODE_WRONG)
    secret = base64.b32encode(pending.bin_key).decode("ascii")
    context = {
        "enabled": False,
        "form": form,
        "qr_svg": mark_safe(_qr_svg(pending.config_url)),  # noqa: S308 - generated by qrcode from our own data  # nosec B308, B703
        "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
    }
    return render(request, "registration/two_factor.html", context, status=400 if form.errors else 200)
