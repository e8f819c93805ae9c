"""Friendly error pages: a respondent who hits a problem learns that their saved answers are safe."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """An expired or missing form token (e.g. a page left open overnight): ask to reload, change nothing."""
    return render(request, "403_csrf.html", status=403)
