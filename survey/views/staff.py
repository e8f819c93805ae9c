"""Project staff pages under ``/staff/<organisation>/``: surveys, previews, campaigns, invite codes, monitor, jobs.

Views validate input, call one service (``survey.services``) or selector (``survey.monitor``) and render.
Access (``survey.permissions.organisation_required``): staff and admins of the organisation in the URL
(``MANAGE_SURVEYS``/``MANAGE_CAMPAIGNS``); other members (researchers) get 403, non-members 404. Objects are always
looked up within that organisation, so an id of another organisation's survey or campaign gives 404.
"""

from __future__ import annotations

from typing import Any

import yaml
from django.contrib import messages
from django.core import signing
from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.safestring import mark_safe
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from survey import monitor, services
from survey.definition import DefinitionError, parse_definition, visible_path
from survey.forms import StepForm
from survey.forms_staff import (
    LANGUAGE_NAMES,
    CampaignCreateForm,
    CampaignEditForm,
    DefinitionUploadForm,
    InviteCodesForm,
    LimeSurveyUploadForm,
)
from survey.invites import invite_sheet_pdf
from survey.limesurvey import LimeSurveyImportError, import_lss
from survey.models import Campaign, Organisation, Survey, SurveyVersion
from survey.permissions import organisation_required
from survey.rules import MANAGE_CAMPAIGNS, MANAGE_SURVEYS

PREVIEW_SALT = "stimmen.staff.preview"
LIMESURVEY_SALT = "stimmen.staff.limesurvey"
#: How long a converted LimeSurvey definition may sit on the result page before "load" refuses it.
LIMESURVEY_MAX_AGE = 24 * 60 * 60
MONITOR_POLL_SECONDS = 15


class _PlainDumper(yaml.SafeDumper):
    """No YAML anchors/aliases: every text stays readable where it is used."""

    def ignore_aliases(self, data: object) -> bool:
        return True


def definition_yaml(data: Any) -> str:
    return yaml.dump(data, Dumper=_PlainDumper, allow_unicode=True, sort_keys=False, width=120)


# --- Access: every view is guarded by ``organisation_required`` (the convention in ``survey/rules.py``) ---------


def _campaign(organisation: Organisation, campaign_id: int) -> Campaign:
    return get_object_or_404(
        Campaign.objects.select_related("survey_version__survey", "organisation"),
        pk=campaign_id,
        organisation=organisation,
    )


def _version(organisation: Organisation, version_id: int) -> SurveyVersion:
    return get_object_or_404(
        SurveyVersion.objects.select_related("survey"), pk=version_id, survey__organisation=organisation
    )


def _render(request: HttpRequest, template: str, organisation: Organisation, context: dict[str, Any], **kwargs: Any):
    return render(request, template, {"organisation": organisation, **context}, **kwargs)


# --- Overview and surveys ------------------------------------------------------------------------------------


@organisation_required(MANAGE_CAMPAIGNS)
@require_GET
def home(request: HttpRequest, *, organisation: Organisation) -> HttpResponse:
    """The organisation's campaigns and surveys at a glance."""
    campaigns = Campaign.objects.filter(organisation=organisation).select_related("survey_version__survey")
    return _render(request, "staff/home.html", organisation, {"campaigns": campaigns})


@organisation_required(MANAGE_SURVEYS)
@require_GET
def survey_list(request: HttpRequest, *, organisation: Organisation) -> HttpResponse:
    surveys = Survey.objects.filter(organisation=organisation).prefetch_related("versions")
    rows = []
    for survey in surveys:
        versions = []
        for version in survey.versions.all():
            definition = version.parsed
            versions.append(
                {
                    "version": version,
                    "title": definition.text(definition.title, definition.default_language),
                    "languages": definition.languages,
                    "steps": len(definition.steps),
                }
            )
        rows.append({"survey": survey, "versions": versions})
    return _render(request, "staff/surveys.html", organisation, {"surveys": rows})


@organisation_required(MANAGE_SURVEYS)
@require_http_methods(["GET", "POST"])
def survey_upload(request: HttpRequest, *, organisation: Organisation) -> HttpResponse:
    """Load a definition file as a survey version; on problems, list each one and store nothing."""
    form = DefinitionUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        assert form.data_loaded is not None
        version, created = services.survey_definition_load(
            data=form.data_loaded, organisation=organisation, actor=request.user
        )
        if created:
            messages.success(request, _("Loaded %(version)s.") % {"version": version})
        else:
            messages.info(request, _("This definition is already loaded as %(version)s.") % {"version": version})
        return redirect("staff:surveys", org=organisation.slug)
    status = 400 if form.errors else 200
    return _render(request, "staff/survey_upload.html", organisation, {"form": form}, status=status)


@organisation_required(MANAGE_SURVEYS)
@require_http_methods(["GET", "POST"])
def limesurvey_import(request: HttpRequest, *, organisation: Organisation) -> HttpResponse:
    """Convert a LimeSurvey .lss file; show what was not converted; download the YAML or load it."""
    if request.method == "POST" and "payload" in request.POST:
        return _limesurvey_result_action(request, organisation)
    form = LimeSurveyUploadForm(request.POST or None, request.FILES or None)
    context: dict[str, Any] = {"form": form}
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["lss_file"]
        try:
            result = import_lss(upload.read())
        except LimeSurveyImportError as error:
            form.add_error(
                "lss_file", _("This is not a LimeSurvey survey structure file: %(error)s") % {"error": error}
            )
        else:
            problems: list[str] = []
            try:
                parse_definition(result.definition)
            except DefinitionError as error:
                problems = error.problems
            context.update(
                {
                    "result": result,
                    "problems": problems,
                    "yaml_text": definition_yaml(result.definition),
                    "payload": signing.dumps(result.definition, salt=LIMESURVEY_SALT, compress=True),
                    "filename": f"{slugify(result.definition.get('slug', 'survey')) or 'survey'}.yaml",
                }
            )
    status = 400 if form.errors else 200
    return _render(request, "staff/limesurvey_import.html", organisation, context, status=status)


def _limesurvey_result_action(request: HttpRequest, organisation: Organisation) -> HttpResponse:
    try:
        data = signing.loads(request.POST["payload"], salt=LIMESURVEY_SALT, max_age=LIMESURVEY_MAX_AGE)
    except signing.BadSignature:
        messages.error(request, _("The converted survey has expired. Please upload the .lss file again."))
        return redirect("staff:limesurvey_import", org=organisation.slug)
    if request.POST.get("action") == "download":
        filename = f"{slugify(data.get('slug', 'survey')) or 'survey'}.yaml"
        response = HttpResponse(definition_yaml(data), content_type="application/yaml; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
    try:
        version, created = services.survey_definition_load(data=data, organisation=organisation, actor=request.user)
    except DefinitionError as error:
        context = {"form": LimeSurveyUploadForm(), "load_problems": error.problems}
        return _render(request, "staff/limesurvey_import.html", organisation, context, status=400)
    if created:
        messages.success(request, _("Loaded %(version)s.") % {"version": version})
    else:
        messages.info(request, _("This definition is already loaded as %(version)s.") % {"version": version})
    return redirect("staff:surveys", org=organisation.slug)


# --- Preview -------------------------------------------------------------------------------------------------


@organisation_required(MANAGE_SURVEYS)
@require_http_methods(["GET", "POST"])
def preview(request: HttpRequest, version_id: int, *, organisation: Organisation) -> HttpResponse:
    """One step of a survey version as respondents see it (``StepForm``), in any of its languages.

    "Next" checks the answers like the survey does and moves on along the branching; the answers so far travel
    signed in a hidden field. Nothing is stored: no draft, no response, no tally.
    """
    version = _version(organisation, version_id)
    definition = version.parsed
    source = request.POST if request.method == "POST" else request.GET
    language = source.get("language") if source.get("language") in definition.languages else None
    language = language or definition.default_language
    answers: dict[str, Any] = {}
    if request.method == "POST":
        try:
            answers = signing.loads(request.POST.get("preview_answers", ""), salt=PREVIEW_SALT)
        except signing.BadSignature:
            answers = {}
    step_keys = [step.key for step in definition.steps]
    step_key = source.get("step") if source.get("step") in step_keys else step_keys[0]
    step = definition.step(step_key)
    districts = organisation.districts
    finished = False

    with translation.override(language):
        own_keys = {q.key for q in step.questions} | {q.other_key for q in step.questions}
        earlier = {key: value for key, value in answers.items() if key not in own_keys}
        form_kwargs = {
            "definition": definition,
            "step": step,
            "language": language,
            "districts": districts,
            "earlier_answers": earlier,
            "prefix": step.key,
        }
        if request.method == "POST":
            form = StepForm(request.POST, **form_kwargs)
            if form.is_valid():
                answers = {**earlier, **form.answers()}
                path = [visible.key for visible, _questions in visible_path(definition, answers)]
                following = path[path.index(step.key) + 1 :] if step.key in path else []
                if following:
                    step = definition.step(following[0])
                    form_kwargs.update(step=step, prefix=step.key, earlier_answers=answers)
                    form = StepForm(**form_kwargs)
                else:
                    finished = True
        else:
            form = StepForm(**form_kwargs)
        path = [visible.key for visible, _questions in visible_path(definition, answers)]
        position = path.index(step.key) + 1 if step.key in path else None
        fragment = render_to_string(
            "staff/_preview_step.html",
            {
                "form": form,
                "step": step,
                "step_title": definition.text(step.title, language),
                "step_intro": definition.text(step.intro, language),
                "items": [
                    {
                        "label": definition.text(q.label, language),
                        "field": form[q.key] if q.takes_answer else None,
                        "other_field": form[q.other_key] if q.other else None,
                    }
                    for q in form.questions
                ],
                "position": position,
                "count": len(path),
                "language": language,
                "direction": "rtl" if translation.get_language_bidi() else "ltr",
                "preview_answers": signing.dumps(answers, salt=PREVIEW_SALT),
                "finished": finished,
                "action": reverse("staff:preview", kwargs={"org": organisation.slug, "version_id": version.pk}),
            },
            request=request,
        )
    context = {
        "version": version,
        "survey_title": definition.text(definition.title, language),
        "languages": [(code, LANGUAGE_NAMES.get(code, code)) for code in definition.languages],
        "language": language,
        "steps": [(s.key, definition.text(s.title, language), s.show_if is not None) for s in definition.steps],
        "current_step": step.key,
        "fragment": mark_safe(fragment),  # noqa: S308 - rendered by our own template with autoescaping  # nosec B308, B703
    }
    status = 400 if form.errors and not finished else 200
    return _render(request, "staff/preview.html", organisation, context, status=status)


# --- Campaigns -----------------------------------------------------------------------------------------------


@organisation_required(MANAGE_CAMPAIGNS)
@require_http_methods(["GET", "POST"])
def campaign_create(request: HttpRequest, version_id: int, *, organisation: Organisation) -> HttpResponse:
    version = _version(organisation, version_id)
    form = CampaignCreateForm(request.POST or None, definition=version.parsed)
    if request.method == "POST" and form.is_valid():
        try:
            campaign = services.campaign_create(
                survey_version=version, actor=request.user, slug=form.cleaned_data["slug"], **form.settings()
            )
        except services.ServiceError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("The campaign was created as a draft. Open it when you are ready."))
            return redirect("staff:campaign", org=organisation.slug, campaign_id=campaign.pk)
    status = 400 if form.errors else 200
    context = {"form": form, "version": version}
    return _render(request, "staff/campaign_create.html", organisation, context, status=status)


@organisation_required(MANAGE_CAMPAIGNS)
@require_GET
def campaign_detail(request: HttpRequest, campaign_id: int, *, organisation: Organisation) -> HttpResponse:
    campaign = _campaign(organisation, campaign_id)
    public_url = request.build_absolute_uri(campaign.get_absolute_url())
    context = {
        "campaign": campaign,
        "public_url": public_url,
        "languages": [LANGUAGE_NAMES.get(code, code) for code in campaign.languages],
        "invite_codes": campaign.invite_codes.count(),
        "invite_codes_used": campaign.invite_codes.filter(used=True).count(),
    }
    return _render(request, "staff/campaign_detail.html", organisation, context)


@organisation_required(MANAGE_CAMPAIGNS)
@require_http_methods(["GET", "POST"])
def campaign_edit(request: HttpRequest, campaign_id: int, *, organisation: Organisation) -> HttpResponse:
    campaign = _campaign(organisation, campaign_id)
    if campaign.status == Campaign.Status.CLOSED:
        messages.error(request, services.CAMPAIGN_NOT_EDITABLE)
        return redirect("staff:campaign", org=organisation.slug, campaign_id=campaign.pk)
    form = CampaignEditForm(request.POST or None, campaign=campaign)
    if request.method == "POST" and form.is_valid():
        try:
            services.campaign_update(campaign=campaign, actor=request.user, **form.settings())
        except services.ServiceError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("The changes were saved."))
            return redirect("staff:campaign", org=organisation.slug, campaign_id=campaign.pk)
    status = 400 if form.errors else 200
    context = {"form": form, "campaign": campaign}
    return _render(request, "staff/campaign_edit.html", organisation, context, status=status)


CAMPAIGN_ACTIONS = {
    "open": (services.campaign_start, gettext_lazy("The campaign is open.")),
    "pause": (services.campaign_pause, gettext_lazy("The campaign is paused.")),
    "close": (services.campaign_close, gettext_lazy("The campaign is closed.")),
}


@organisation_required(MANAGE_CAMPAIGNS)
@require_POST
def campaign_status_change(request: HttpRequest, campaign_id: int, *, organisation: Organisation) -> HttpResponse:
    """Open, pause or close (``action`` in the POST data)."""
    campaign = _campaign(organisation, campaign_id)
    action = CAMPAIGN_ACTIONS.get(request.POST.get("action", ""))
    if action is None:
        # Only a tampered form sends another action: the 400 page, not an empty answer.
        raise BadRequest("Unknown campaign action.")
    service, done = action
    try:
        service(campaign=campaign, actor=request.user)
    except services.ServiceError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, done)
    return redirect("staff:campaign", org=organisation.slug, campaign_id=campaign.pk)


# --- Invite codes --------------------------------------------------------------------------------------------


@organisation_required(MANAGE_CAMPAIGNS)
@require_http_methods(["GET", "POST"])
def invite_codes(request: HttpRequest, campaign_id: int, *, organisation: Organisation) -> HttpResponse:
    """Create single-use codes and return them at once as a printable PDF; only their hashes are kept."""
    campaign = _campaign(organisation, campaign_id)
    form = InviteCodesForm(request.POST or None, campaign=campaign)
    if request.method == "POST" and form.is_valid():
        try:
            codes = services.invite_codes_create(
                campaign=campaign, count=form.cleaned_data["count"], actor=request.user
            )
        except services.ServiceError as error:
            form.add_error("count", error.message)
        else:
            pdf = invite_sheet_pdf(
                codes=codes,
                campaign_slug=campaign.slug,
                title=campaign.title,
                base_url=_public_base_url(request),
                languages=form.cleaned_data["languages"],
            )
            response = HttpResponse(pdf, content_type="application/pdf")
            response["Content-Disposition"] = f'attachment; filename="einladungscodes-{campaign.slug}.pdf"'
            return response
    context = {
        "form": form,
        "campaign": campaign,
        "total": campaign.invite_codes.count(),
        "used": campaign.invite_codes.filter(used=True).count(),
    }
    return _render(request, "staff/invite_codes.html", organisation, context, status=400 if form.errors else 200)


def _public_base_url(request: HttpRequest) -> str:
    """Where respondents reach the platform: ``STIMMEN_PUBLIC_URL``, else this request's host."""
    from django.conf import settings

    return getattr(settings, "STIMMEN_PUBLIC_URL", "") or request.build_absolute_uri("/")


# --- Live monitor and jobs -----------------------------------------------------------------------------------


@organisation_required(MANAGE_CAMPAIGNS)
@require_GET
def campaign_monitor(request: HttpRequest, campaign_id: int, *, organisation: Organisation) -> HttpResponse:
    campaign = _campaign(organisation, campaign_id)
    data = monitor.campaign_monitor(campaign=campaign)
    context = {
        "campaign": campaign,
        "data": data,
        "json_url": reverse("staff:monitor_json", kwargs={"org": organisation.slug, "campaign_id": campaign.pk}),
        "poll_seconds": MONITOR_POLL_SECONDS,
    }
    return _render(request, "staff/monitor.html", organisation, context)


@organisation_required(MANAGE_CAMPAIGNS)
@require_GET
def campaign_monitor_json(request: HttpRequest, campaign_id: int, *, organisation: Organisation) -> JsonResponse:
    campaign = _campaign(organisation, campaign_id)
    return JsonResponse(monitor.campaign_monitor(campaign=campaign))


JOB_ACTIONS = {"anonymise": services.anonymisation_start, "aggregate": services.aggregation_start}


@organisation_required(MANAGE_CAMPAIGNS)
@require_http_methods(["GET", "POST"])
def campaign_jobs(request: HttpRequest, campaign_id: int, *, organisation: Organisation) -> HttpResponse:
    """Start anonymisation or aggregation now, and see how the latest runs went."""
    campaign = _campaign(organisation, campaign_id)
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action not in JOB_ACTIONS:
            raise BadRequest("Unknown job.")
        if JOB_ACTIONS[action](campaign=campaign, actor=request.user):
            messages.success(request, _("The job was started. Its result appears in the table below."))
        else:
            messages.error(request, services.JOB_NOT_QUEUED)
        return redirect("staff:jobs", org=organisation.slug, campaign_id=campaign.pk)
    context = {
        "campaign": campaign,
        "anonymisation_runs": monitor.anonymisation_runs(campaign=campaign),
        "aggregation_runs": monitor.aggregation_runs(campaign=campaign),
    }
    return _render(request, "staff/jobs.html", organisation, context)
