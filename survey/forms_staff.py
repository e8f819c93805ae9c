"""Forms of the staff pages: survey uploads, campaigns, invite codes. They validate input; services decide."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from survey.definition import DefinitionError, SurveyDefinition, parse_definition
from survey.definition.loader import read_definition_text
from survey.invites import SHEET_LANGUAGES
from survey.models import Campaign
from survey.services import CAMPAIGN_SLUG_TAKEN, INVITE_CODES_MAX

DEFINITION_MAX_BYTES = 2 * 1024 * 1024
LSS_MAX_BYTES = 10 * 1024 * 1024
FILE_TOO_LARGE = _("The file is too large (at most %(size)s MB).")
FILE_NOT_TEXT = _("The file is not UTF-8 text.")
DEFINITION_SUFFIXES = (".yaml", ".yml", ".json")
WRONG_SUFFIX = _("Please upload a .yaml, .yml or .json file.")
CLOSES_BEFORE_OPENS = _("The closing date must be after the opening date.")
AGES_REVERSED = _("The minimum age must not be above the maximum age.")
NO_LANGUAGE = _("Please choose at least one language.")
CONSENT_MISSING = _("Please write the consent text in every language offered (%(languages)s).")
SHEET_TOO_MANY_LANGUAGES = _("Please choose at most three languages: more do not fit on a card.")

LANGUAGE_NAMES = {"de": "Deutsch", "en": "English", "tr": "Türkçe", "ar": "العربية", "uk": "Українська"}


def language_choices(languages: Any) -> list[tuple[str, str]]:
    return [(language, LANGUAGE_NAMES.get(language, language)) for language in languages]


class DefinitionUploadForm(forms.Form):
    """A definition file; valid only if it parses with every check ``load_survey`` makes."""

    definition_file = forms.FileField(
        label=_("Survey definition file"), help_text=_("YAML or JSON, as described in the survey definition guide.")
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.problems: list[str] = []
        self.data_loaded: dict[str, Any] | None = None

    def clean_definition_file(self) -> Any:
        upload = self.cleaned_data["definition_file"]
        name = upload.name or "definition"
        if not name.lower().endswith(DEFINITION_SUFFIXES):
            raise ValidationError(WRONG_SUFFIX, code="suffix")
        if upload.size > DEFINITION_MAX_BYTES:
            raise ValidationError(FILE_TOO_LARGE, code="size", params={"size": DEFINITION_MAX_BYTES // 2**20})
        try:
            content = upload.read().decode("utf-8")
        except UnicodeDecodeError as error:
            raise ValidationError(FILE_NOT_TEXT, code="encoding") from error
        try:
            data = read_definition_text(content, name=name.lower())
            parse_definition(data)
        except DefinitionError as error:
            # Every located problem is listed on the page; the summary points at the field.
            self.problems = error.problems
            raise ValidationError(
                _("The definition has %(count)s problem(s); nothing was loaded."),
                code="definition",
                params={"count": len(error.problems)},
            ) from error
        self.data_loaded = data
        return upload


class LimeSurveyUploadForm(forms.Form):
    lss_file = forms.FileField(
        label=_("LimeSurvey survey structure (.lss)"),
        help_text=_("Export it in LimeSurvey under “Display/Export” → “Survey structure (.lss)”."),
    )

    def clean_lss_file(self) -> Any:
        upload = self.cleaned_data["lss_file"]
        if upload.size > LSS_MAX_BYTES:
            raise ValidationError(FILE_TOO_LARGE, code="size", params={"size": LSS_MAX_BYTES // 2**20})
        return upload


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


def _datetime_field(label: Any) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
        widget=DateTimeLocalInput(),
        help_text=_("Local time in Dortmund."),
    )


class CampaignSettingsForm(forms.Form):
    """The settings of a campaign that staff may change at any time before it closes."""

    title = forms.CharField(label=_("Title"), max_length=200)
    opens_at = _datetime_field(_("Opens at"))
    closes_at = _datetime_field(_("Closes at"))
    languages = forms.MultipleChoiceField(
        label=_("Languages offered"), widget=forms.CheckboxSelectMultiple, error_messages={"required": NO_LANGUAGE}
    )
    min_age = forms.IntegerField(label=_("Minimum age"), min_value=10, max_value=99)
    max_age = forms.IntegerField(label=_("Maximum age"), min_value=10, max_value=99)
    parental_consent_below = forms.IntegerField(
        label=_("Parental consent needed below age"),
        min_value=0,
        max_value=99,
        help_text=_("Respondents younger than this confirm that a parent agrees. 0 turns this off."),
    )
    invite_code_required = forms.BooleanField(
        label=_("Only with an invite code"),
        required=False,
        help_text=_("Respondents need one of the printed single-use codes to start."),
    )
    k = forms.IntegerField(
        label=_("k (smallest group shown)"),
        min_value=2,
        max_value=50,
        help_text=_("Numbers about fewer than k people are never shown. 5 is a good default."),
    )
    retention_days = forms.IntegerField(
        label=_("Keep raw answers for (days)"),
        min_value=1,
        max_value=3650,
        help_text=_("After this, only anonymised answers remain."),
    )
    target_responses = forms.IntegerField(
        label=_("Target number of responses"), min_value=1, required=False, help_text=_("Optional.")
    )

    def __init__(self, *args: Any, definition: SurveyDefinition, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.definition = definition
        self.fields["languages"].choices = language_choices(definition.languages)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        opens_at, closes_at = cleaned.get("opens_at"), cleaned.get("closes_at")
        if opens_at and closes_at and closes_at <= opens_at:
            self.add_error("closes_at", CLOSES_BEFORE_OPENS)
        low, high = cleaned.get("min_age"), cleaned.get("max_age")
        if low is not None and high is not None and low > high:
            self.add_error("max_age", AGES_REVERSED)
        return cleaned

    def settings(self) -> dict[str, Any]:
        """The cleaned values as keyword arguments of the campaign services."""
        names = [name for name in self.fields if name in CampaignSettingsForm.base_fields]
        return {name: self.cleaned_data[name] for name in names}


class CampaignCreateForm(CampaignSettingsForm):
    slug = forms.SlugField(
        label=_("Web address"),
        max_length=80,
        help_text=_("Short, lower case, with dashes: the link will be /s/<address>/, e.g. schule-nord-2026."),
    )

    field_order = ["title", "slug"]

    def __init__(self, *args: Any, definition: SurveyDefinition, **kwargs: Any) -> None:
        now = timezone.localtime().replace(second=0, microsecond=0)
        kwargs.setdefault(
            "initial",
            {
                "title": definition.text(definition.title, definition.default_language),
                "opens_at": now,
                "closes_at": now + datetime.timedelta(weeks=8),
                "languages": list(definition.languages),
                "min_age": 14,
                "max_age": 27,
                "parental_consent_below": 16,
                "k": 5,
                "retention_days": 90,
            },
        )
        super().__init__(*args, definition=definition, **kwargs)

    def clean_slug(self) -> str:
        slug = self.cleaned_data["slug"]
        if Campaign.objects.filter(slug=slug).exists():
            raise ValidationError(CAMPAIGN_SLUG_TAKEN, code="taken")
        return slug


class CampaignEditForm(CampaignSettingsForm):
    """Settings plus the consent text in each language of the survey (a change gives a new consent version)."""

    def __init__(self, *args: Any, campaign: Campaign, **kwargs: Any) -> None:
        definition = campaign.definition
        initial = {name: getattr(campaign, name) for name in CampaignSettingsForm.base_fields}
        initial["opens_at"] = timezone.localtime(campaign.opens_at)
        initial["closes_at"] = timezone.localtime(campaign.closes_at)
        for language in definition.languages:
            initial[f"consent_{language}"] = campaign.consent_text.get(language, "")
        kwargs.setdefault("initial", initial)
        super().__init__(*args, definition=definition, **kwargs)
        self.campaign = campaign
        for language in definition.languages:
            self.fields[f"consent_{language}"] = forms.CharField(
                label=_("Consent text (%(language)s)") % {"language": LANGUAGE_NAMES.get(language, language)},
                required=False,
                max_length=2000,
                widget=forms.Textarea(attrs={"rows": 3, "lang": language, "dir": "auto"}),
            )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        offered = cleaned.get("languages") or []
        missing = [language for language in offered if not (cleaned.get(f"consent_{language}") or "").strip()]
        if missing:
            raise ValidationError(CONSENT_MISSING, code="consent", params={"languages": ", ".join(missing)})
        return cleaned

    def settings(self) -> dict[str, Any]:
        values = super().settings()
        texts = {
            language: self.cleaned_data[f"consent_{language}"].strip()
            for language in self.definition.languages
            if (self.cleaned_data.get(f"consent_{language}") or "").strip()
        }
        values["consent_text"] = texts
        return values


class InviteCodesForm(forms.Form):
    count = forms.IntegerField(
        label=_("Number of codes"),
        min_value=1,
        max_value=INVITE_CODES_MAX,
        initial=30,
        help_text=_("Eight cards fit on one A4 page."),
    )
    languages = forms.MultipleChoiceField(
        label=_("Instructions on the cards in"),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": NO_LANGUAGE},
        help_text=_("At most three."),
    )

    def __init__(self, *args: Any, campaign: Campaign, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        offered = [language for language in campaign.offered_languages if language in SHEET_LANGUAGES]
        self.fields["languages"].choices = language_choices(offered or ["de"])
        self.fields["languages"].initial = (offered or ["de"])[:2]

    def clean_languages(self) -> list[str]:
        languages = self.cleaned_data["languages"]
        if len(languages) > 3:
            raise ValidationError(SHEET_TOO_MANY_LANGUAGES, code="languages")
        return languages
