"""The respondent's journey: start page, the survey wizard, continue later, resume, thank-you page.

Views only validate input, call one service from ``survey.services`` and render. The draft in the database is
the truth about a respondent's answers; the wizard's session storage is a working copy rebuilt from it.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Any

from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.forms import MultipleChoiceField
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.datastructures import MultiValueDict
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from formtools.wizard.storage.session import SessionStorage
from formtools.wizard.views import NamedUrlSessionWizardView

from survey import services, throttle
from survey.definition import visible_path
from survey.forms import ResumeForm, StartForm, StepForm, answers_as_form_data
from survey.middleware import RESPONDENT_LANGUAGE_SESSION_KEY
from survey.models import Campaign, Draft

WIZARD_STORAGE = "survey.views.journey.WizardSessionStorage"
DONE_STEP = "done"
UNSAVED = "unsaved_input"


class WizardSessionStorage(SessionStorage):
    """formtools' session storage, except that reading the wizard's data does not rewrite the session.

    formtools marks the session modified whenever its data is read, so every page view cost an UPDATE of the
    session row and a commit. Here only the methods that change the data mark the session modified.
    """

    def _get_data(self) -> dict[str, Any]:
        return self.request.session[self.prefix]

    data = property(_get_data, SessionStorage._set_data)

    def _changed(self) -> None:
        self.request.session.modified = True

    def _set_current_step(self, step: str | None) -> None:
        if self.data[self.step_key] != step:
            super()._set_current_step(step)
            self._changed()

    def _set_extra_data(self, extra_data: dict[str, Any]) -> None:
        super()._set_extra_data(extra_data)
        self._changed()

    def set_step_data(self, step: str, cleaned_data: Any) -> None:
        super().set_step_data(step, cleaned_data)
        self._changed()

    def set_step_files(self, step: str, files: Any) -> None:
        super().set_step_files(step, files)
        self._changed()


def campaigns_with_version():
    # The definition itself comes from the per-checksum cache of ``SurveyVersion.parsed``, not from each row.
    return Campaign.objects.select_related("organisation", "survey_version").defer("survey_version__definition")


def draft_session_key(campaign_slug: str) -> str:
    return f"stimmen:{campaign_slug}:draft"


def started_session_key(campaign: Campaign) -> str:
    # Seconds since the epoch, in the server-side session only: the database keeps dates to the day.
    return f"stimmen:{campaign.slug}:started"


def too_many_requests(request: HttpRequest, campaign: Campaign, language: str) -> HttpResponse:
    return render(request, "survey/too_many.html", campaign_context(request, campaign, language), status=429)


def code_session_key(campaign: Campaign) -> str:
    return f"stimmen:{campaign.slug}:resume_code"


def wizard_prefix(campaign: Campaign) -> str:
    # One storage per campaign: two surveys open in one browser must not mix their answers.
    return f"survey_wizard_{campaign.slug}"


def respondent_language(request: HttpRequest, campaign: Campaign) -> str:
    """The language to show: the respondent's choice if the campaign offers it, else the survey's default."""
    offered = campaign.offered_languages
    chosen = request.session.get(RESPONDENT_LANGUAGE_SESSION_KEY) or translation.get_language()
    language = (
        chosen
        if chosen in offered
        else (translation.get_language() if translation.get_language() in offered else offered[0])
    )
    translation.activate(language)
    request.LANGUAGE_CODE = language
    return language


def campaign_context(request: HttpRequest, campaign: Campaign, language: str) -> dict[str, Any]:
    definition = campaign.definition
    return {
        "campaign": campaign,
        "definition": definition,
        "survey_title": definition.text(definition.title, language),
        "offered_languages": campaign.offered_languages,
        "language": language,
    }


def closed_page(request: HttpRequest, campaign: Campaign, language: str) -> HttpResponse:
    now = timezone.now()
    context = campaign_context(request, campaign, language)
    context["not_yet_open"] = campaign.status == Campaign.Status.OPEN and now < campaign.opens_at
    # A GET shows the notice; a POST to a closed campaign is refused and changes nothing.
    return render(request, "survey/closed.html", context, status=403 if request.method == "POST" else 200)


def campaign_and_draft(request: HttpRequest, campaign_slug: str) -> tuple[Campaign, Draft | None]:
    """The campaign (404 if unknown) and this browser's draft of it, if any.

    Each step of the survey needs both: with a draft they come in one query, the campaign joined to the draft.
    """
    draft_id = request.session.get(draft_session_key(campaign_slug))
    if draft_id:
        draft = (
            Draft.objects.select_related("campaign__organisation", "campaign__survey_version")
            .defer("campaign__survey_version__definition")
            .filter(pk=draft_id, campaign__slug=campaign_slug)
            .first()
        )
        if draft is not None:
            return draft.campaign, draft
    return get_object_or_404(campaigns_with_version(), slug=campaign_slug), None


@never_cache
@require_http_methods(["GET", "POST"])
def start(request: HttpRequest, campaign: str) -> HttpResponse:
    """What the survey is about, who runs it, what happens to the data; consent and the age check."""
    campaign_obj, earlier_draft = campaign_and_draft(request, campaign)
    language = respondent_language(request, campaign_obj)
    if not campaign_obj.is_accepting_answers():
        return closed_page(request, campaign_obj, language)
    consent_label = campaign_obj.definition.text(campaign_obj.consent_text, language) or str(services.DEFAULT_CONSENT)
    # The QR code on a printed invite card opens the start page with its code filled in.
    initial = {"invite_code": request.GET.get("invite", "")[:30]}
    form = StartForm(request.POST or None, initial=initial, campaign=campaign_obj, consent_label=consent_label)
    if request.method == "POST" and throttle.is_limited(throttle.SURVEY_STARTS, request):
        return too_many_requests(request, campaign_obj, language)
    if request.method == "POST" and form.is_valid():
        if form.is_bot():
            # Answered a field that people never see: do not store anything, do not tell the bot why.
            return redirect("survey:stopped", campaign=campaign_obj.slug)
        if not form.may_take_part():
            return redirect("survey:stopped", campaign=campaign_obj.slug)
        try:
            draft = services.draft_start(
                campaign=campaign_obj, language=language, invite_code=form.cleaned_data.get("invite_code")
            )
        except services.InviteCodeError as error:
            form.add_error("invite_code", error.message)
        else:
            throttle.count(throttle.SURVEY_STARTS, request)
            request.session.pop(wizard_prefix(campaign_obj), None)
            request.session[draft_session_key(campaign_obj.slug)] = str(draft.pk)
            request.session[started_session_key(campaign_obj)] = time.time()
            return redirect("survey:wizard", campaign=campaign_obj.slug)
    context = campaign_context(request, campaign_obj, language) | {
        "form": form,
        "open_draft": earlier_draft if earlier_draft and earlier_draft.status == Draft.Status.OPEN else None,
        "description": campaign_obj.definition.text(campaign_obj.definition.description, language),
    }
    return render(request, "survey/start.html", context, status=400 if form.errors else 200)


@never_cache
def stopped(request: HttpRequest, campaign: str) -> HttpResponse:
    """Shown to those the campaign is not for (age); nothing about them was stored."""
    campaign_obj = get_object_or_404(campaigns_with_version(), slug=campaign)
    language = respondent_language(request, campaign_obj)
    return render(request, "survey/stopped.html", campaign_context(request, campaign_obj, language))


@never_cache
def thanks(request: HttpRequest, campaign: str) -> HttpResponse:
    campaign_obj = get_object_or_404(campaigns_with_version(), slug=campaign)
    language = respondent_language(request, campaign_obj)
    definition = campaign_obj.definition
    links = [
        {"url": link["url"], "label": definition.text(link.get("label"), language) or link["url"]}
        for link in campaign_obj.organisation.counselling_links
    ]
    return render(request, "survey/thanks.html", campaign_context(request, campaign_obj, language) | {"links": links})


@never_cache
def continue_later(request: HttpRequest, campaign: str) -> HttpResponse:
    """Show the resume code that was just issued. The code is in the server-side session, never in a cookie."""
    campaign_obj = get_object_or_404(campaigns_with_version(), slug=campaign)
    language = respondent_language(request, campaign_obj)
    code = request.session.get(code_session_key(campaign_obj))
    if not code:
        return redirect("survey:start", campaign=campaign_obj.slug)
    resume_url = request.build_absolute_uri(reverse("survey:resume", kwargs={"campaign": campaign_obj.slug}))
    context = campaign_context(request, campaign_obj, language) | {
        "code": code,
        "resume_link": f"{resume_url}?code={code}",
    }
    return render(request, "survey/later.html", context)


@never_cache
@require_http_methods(["GET", "POST"])
def resume(request: HttpRequest, campaign: str) -> HttpResponse:
    """Continue a draft with its resume code, in any browser."""
    campaign_obj = get_object_or_404(campaigns_with_version(), slug=campaign)
    language = respondent_language(request, campaign_obj)
    if not campaign_obj.is_accepting_answers():
        return closed_page(request, campaign_obj, language)
    form = ResumeForm(request.POST or None, initial={"code": request.GET.get("code", "")[:30]})
    if request.method == "POST" and throttle.is_limited(throttle.RESUME_FAILURES, request):
        return too_many_requests(request, campaign_obj, language)
    if request.method == "POST" and form.is_valid():
        try:
            draft = services.draft_resume(campaign=campaign_obj, code=form.cleaned_data["code"])
        except services.ResumeError as error:
            throttle.count(throttle.RESUME_FAILURES, request)
            form.add_error("code", error.message)
        else:
            request.session.pop(wizard_prefix(campaign_obj), None)
            request.session[draft_session_key(campaign_obj.slug)] = str(draft.pk)
            request.session[RESPONDENT_LANGUAGE_SESSION_KEY] = draft.language
            request.session.setdefault(started_session_key(campaign_obj), 0)
            return redirect("survey:wizard", campaign=campaign_obj.slug)
    context = campaign_context(request, campaign_obj, language) | {"form": form}
    return render(request, "survey/resume.html", context, status=400 if form.errors else 200)


class SurveyWizard(NamedUrlSessionWizardView):
    """One page per visible step of the campaign's survey version, built from its definition.

    The form list is computed per request from the draft's answers (``show_if`` on steps), every valid step
    is saved to the draft at once, and the respondent can only reach steps up to the first unfinished one.
    """

    template_name = "survey/step.html"
    storage_name = WIZARD_STORAGE
    # formtools needs a form list when the view is built; the real one comes from ``get_form_list``.
    form_list = [("step", StepForm)]

    campaign: Campaign
    draft: Draft
    language: str
    # The visible steps and the draft they were computed from (see ``get_form_list``).
    _form_list: OrderedDict[str, type[StepForm]]
    _form_list_of: Draft | None = None

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.campaign, draft = campaign_and_draft(request, kwargs["campaign"])
        self.definition = self.campaign.definition
        self.language = respondent_language(request, self.campaign)
        if not self.campaign.is_accepting_answers():
            return closed_page(request, self.campaign, self.language)
        if draft is None:
            return redirect("survey:start", campaign=self.campaign.slug)
        if draft.status == Draft.Status.SUBMITTED:
            return redirect("survey:thanks", campaign=self.campaign.slug)
        if draft.expires_on < timezone.localdate():
            # An abandoned draft past its lifetime is not continued; the purge job deletes it.
            request.session.pop(draft_session_key(self.campaign.slug), None)
            return redirect("survey:start", campaign=self.campaign.slug)
        self.draft = draft
        return super().dispatch(request, *args, **kwargs)

    # --- formtools hooks ---------------------------------------------------------------------------------

    def get_prefix(self, request: HttpRequest, *args: Any, **kwargs: Any) -> str:
        """Include the campaign so that two campaigns in one browser keep separate answers."""
        return wizard_prefix(self.campaign)

    def get_step_url(self, step: str) -> str:
        return reverse(self.url_name, kwargs={"campaign": self.campaign.slug, "step": step})

    def get_form_list(self) -> OrderedDict[str, type[StepForm]]:
        """The steps the respondent sees now, given the answers saved so far."""
        # formtools asks for the list many times per request (every step number, "next", "previous"); the
        # answers only change when a step is saved, which replaces ``self.draft``.
        if self._form_list_of is not self.draft:
            self._form_list = OrderedDict(
                (step.key, StepForm) for step, _questions in visible_path(self.definition, self.draft.answers)
            )
            self._form_list_of = self.draft
        form_list = self._form_list
        # formtools clears these cache attributes after each valid step; keep them present for it.
        self._resolved_form_list, self._cache_signature = form_list, None
        return form_list

    def get_form_kwargs(self, step: str | None = None) -> dict[str, Any]:
        step_obj = self.definition.step(step or self.steps.current)
        own_keys = {q.key for q in step_obj.questions} | {q.other_key for q in step_obj.questions}
        return {
            "definition": self.definition,
            "step": step_obj,
            "language": self.language,
            "districts": self.campaign.organisation.districts,
            "earlier_answers": {k: v for k, v in self.draft.answers.items() if k not in own_keys},
        }

    def get_form_initial(self, step: str) -> dict[str, Any]:
        unsaved = self.storage.extra_data.get(UNSAVED, {}).get(step)
        if unsaved is not None:
            return unsaved
        return {q.key: self.draft.answers.get(q.key) for q in self.definition.step(step).questions} | {
            q.other_key: self.draft.answers.get(q.other_key) for q in self.definition.step(step).questions if q.other
        }

    def process_step(self, form: StepForm) -> Any:
        """Save the step to the draft at once; the wizard keeps the raw data as its working copy."""
        self.draft = services.draft_save_step(
            draft_id=self.draft.pk, step_key=form.step.key, step_answers=form.answers(), language=self.language
        )
        return super().process_step(form)

    def done(self, form_list: Any, **kwargs: Any) -> HttpResponse:
        started = self.request.session.get(started_session_key(self.campaign), 0)
        if time.time() - started < settings.STIMMEN_MIN_COMPLETION_SECONDS:
            # Faster than a person can read the questions: most likely a bot. The draft stays; a person can
            # simply send again a moment later.
            context = campaign_context(self.request, self.campaign, self.language) | {"last_step": self.steps.last}
            return render(self.request, "survey/too_fast.html", context, status=429)
        services.draft_submit(draft_id=self.draft.pk)
        self.request.session.pop(code_session_key(self.campaign), None)
        return redirect("survey:thanks", campaign=self.campaign.slug)

    # --- navigation guards -------------------------------------------------------------------------------

    def furthest_allowed_step(self) -> str:
        """The first visible step not yet completed: steps beyond it cannot be reached by URL."""
        steps = list(self.get_form_list())
        done = set(self.draft.completed_steps)
        return next((key for key in steps if key not in done), steps[-1])

    def is_reachable(self, step: str) -> bool:
        steps = list(self.get_form_list())
        return step in steps and steps.index(step) <= steps.index(self.furthest_allowed_step())

    def restore_from_draft(self) -> None:
        """Refill the wizard's working copy from the draft (after a resume, in a new browser)."""
        for step_key in self.get_form_list():
            if step_key in self.draft.completed_steps and self.storage.get_step_data(step_key) is None:
                data = answers_as_form_data(self.definition.step(step_key), self.draft.answers, prefix=step_key)
                self.storage.set_step_data(step_key, MultiValueDict(data))

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.restore_from_draft()
        step = kwargs.get("step")
        if step is None or (step != DONE_STEP and not self.is_reachable(step)):
            allowed = self.furthest_allowed_step()
            if step is None and self.storage.current_step and self.is_reachable(self.storage.current_step):
                allowed = self.storage.current_step
            self.storage.current_step = allowed
            return redirect(self.get_step_url(allowed))
        if step in self.storage.extra_data.get(UNSAVED, {}):
            # Input kept aside on the way out: show it again, without error messages.
            self.storage.current_step = step
            return self.render(self.get_form())
        return super().get(request, *args, **kwargs)

    def post(self, *args: Any, **kwargs: Any) -> HttpResponse:
        self.restore_from_draft()
        posted_step = self.request.POST.get(f"{self.prefix}-current_step", "")
        if not self.is_reachable(posted_step):
            raise SuspiciousOperation("A step that is not (yet) reachable was posted.")
        self.storage.current_step = posted_step
        if language := self.request.POST.get("wizard_switch_language"):
            self.keep_current_step()
            if language in self.campaign.offered_languages:
                self.request.session[RESPONDENT_LANGUAGE_SESSION_KEY] = language
            return redirect(self.get_step_url(posted_step))
        if "wizard_continue_later" in self.request.POST:
            self.keep_current_step()
            self.request.session[code_session_key(self.campaign)] = services.draft_issue_resume_code(
                draft_id=self.draft.pk
            )
            return redirect("survey:later", campaign=self.campaign.slug)
        goto = self.request.POST.get("wizard_goto_step")
        if goto is not None:
            if not self.is_reachable(goto):
                raise SuspiciousOperation("Going to a step that is not reachable.")
            self.keep_current_step()
            return self.render_goto_step(goto)
        return super().post(*args, **kwargs)

    def keep_current_step(self) -> None:
        """Keep what was typed on this page when leaving it without "Next".

        Complete input is saved like "Next" would. Incomplete input is kept aside and shown again without error
        messages: the respondent did not ask to check it yet.
        """
        form = self.get_form(data=self.request.POST)
        step = self.steps.current
        unsaved = dict(self.storage.extra_data.get(UNSAVED, {}))
        if form.is_valid():
            unsaved.pop(step, None)
            self.storage.set_step_data(step, self.process_step(form))
        else:
            unsaved[step] = {
                name: (
                    form.data.getlist(form.add_prefix(name))
                    if isinstance(field, MultipleChoiceField)
                    else form.data.get(form.add_prefix(name))
                )
                for name, field in form.fields.items()
                if name != "shown"
            }
        self.storage.extra_data = {**self.storage.extra_data, UNSAVED: unsaved}

    def render_next_step(self, form: StepForm, **kwargs: Any) -> HttpResponse:
        self.forget_unsaved(form.step.key)
        return super().render_next_step(form, **kwargs)

    def render_done(self, form: StepForm, **kwargs: Any) -> HttpResponse:
        self.forget_unsaved(self.steps.current)
        return super().render_done(form, **kwargs)

    def forget_unsaved(self, step: str) -> None:
        unsaved = self.storage.extra_data.get(UNSAVED, {})
        if step in unsaved:
            self.storage.extra_data = {
                **self.storage.extra_data,
                UNSAVED: {k: v for k, v in unsaved.items() if k != step},
            }

    def get_context_data(self, form: StepForm, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(form=form, **kwargs)
        step = form.step
        context.update(campaign_context(self.request, self.campaign, self.language))
        context.update(
            {
                "step_title": self.definition.text(step.title, self.language),
                "step_intro": self.definition.text(step.intro, self.language),
                "items": [
                    {
                        "question": q,
                        "label": self.definition.text(q.label, self.language),
                        "field": form[q.key] if q.takes_answer else None,
                        "other_field": form[q.other_key] if q.other else None,
                    }
                    for q in form.questions
                ],
            }
        )
        return context
