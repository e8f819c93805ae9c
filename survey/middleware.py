"""Respondents choose their language on every page; the choice lives in the session, not in a cookie."""

import re
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils import translation

RESPONDENT_LANGUAGE_SESSION_KEY = "stimmen:language"
LANGUAGE_PARAMETER = "lang"
_LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}$")


class RespondentLanguageMiddleware:
    """Activate the language from the session (``?lang=xx`` sets it), else from the browser's preferences.

    Django's own ``set_language`` view stores the choice in a cookie; respondents get no cookie beyond the
    session, so the choice is kept in the session here.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        wanted = request.GET.get(LANGUAGE_PARAMETER, "")
        if request.method == "GET" and _LANGUAGE_CODE.match(wanted):
            request.session[RESPONDENT_LANGUAGE_SESSION_KEY] = wanted
            remaining = request.GET.copy()
            del remaining[LANGUAGE_PARAMETER]
            query = f"?{remaining.urlencode()}" if remaining else ""
            return HttpResponseRedirect(request.path + query)
        language = request.session.get(RESPONDENT_LANGUAGE_SESSION_KEY)
        if language not in dict(settings.LANGUAGES):
            language = translation.get_language_from_request(request)
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", translation.get_language())
        return response
