"""Forms of the respondent's journey. ``StepForm`` is the one place that turns a definition step into fields."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from survey.definition import Question, QuestionType, Step, SurveyDefinition, evaluate
from survey.definition.conditions import is_answered
from survey.definition.model import NO, OTHER_VALUE, YES
from survey.districts import OUTSIDE_CITY, district_value

MORE_QUESTIONS = gettext_lazy(
    "Your answers opened further questions on this page. Please look at them before you continue."
)
OTHER_TEXT_MISSING = gettext_lazy("Please tell us what you mean by “other”.")
EXCLUSIVE_COMBINED = gettext_lazy("“%(option)s” cannot be combined with other answers.")
CHOICE_INVALID = gettext_lazy("Please choose one of the answers shown.")
REQUIRED = gettext_lazy("Please answer this question.")
TOO_MANY_CHOICES = gettext_lazy("Please choose at most %(count)s answers.")


class StepForm(forms.Form):
    """The questions of one survey step, built from the definition in the respondent's language.

    Only questions whose ``show_if`` holds are fields; hidden ones are never required and never stored.
    Field names are the question keys (the wizard prefixes them with the step key), choice values are the
    definition's option values, so scripts and assistive tools can rely on both.
    """

    shown = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(
        self,
        *args: Any,
        definition: SurveyDefinition,
        step: Step,
        language: str,
        districts: Sequence[str],
        earlier_answers: Mapping[str, Any],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.definition = definition
        self.step = step
        self.language = language
        self.districts = list(districts)
        self.earlier_answers = dict(earlier_answers)
        self.questions: list[Question] = []
        known = dict(self.earlier_answers)
        for question in step.questions:
            if not evaluate(question.show_if, known):
                continue
            self.questions.append(question)
            if question.takes_answer:
                self.fields[question.key] = self._field_for(question)
                known[question.key] = self._raw_value(question)
                if question.other:
                    self.fields[question.other_key] = forms.CharField(
                        label=_("Other, namely:"),
                        required=False,
                        max_length=200,
                    )
        self.fields["shown"].initial = ",".join(q.key for q in self.questions)
        self.order_fields([*(f for f in self.fields if f != "shown"), "shown"])

    def _text(self, text: Mapping[str, str] | None) -> str:
        return self.definition.text(text, self.language)

    def _raw_value(self, question: Question) -> Any:
        """The value of an earlier field on this page as typed, to decide what later fields show."""
        if self.is_bound:
            name = self.add_prefix(question.key)
            if question.type is QuestionType.MULTI_CHOICE:
                return self.data.getlist(name) if hasattr(self.data, "getlist") else self.data.get(name)
            return self.data.get(name)
        return self.initial.get(question.key)

    def _field_for(self, question: Question) -> forms.Field:
        common: dict[str, Any] = {
            "label": self._text(question.label),
            "help_text": self._text(question.help),
            "required": question.required,
            "error_messages": {"required": REQUIRED, "invalid_choice": CHOICE_INVALID},
        }
        kind = question.type
        if kind is QuestionType.SINGLE_CHOICE:
            return forms.ChoiceField(choices=self._choices(question), widget=forms.RadioSelect, **common)
        if kind is QuestionType.MULTI_CHOICE:
            return forms.MultipleChoiceField(
                choices=self._choices(question), widget=forms.CheckboxSelectMultiple, **common
            )
        if kind is QuestionType.YES_NO:
            return forms.ChoiceField(choices=[(YES, _("Yes")), (NO, _("No"))], widget=forms.RadioSelect, **common)
        if kind is QuestionType.LIKERT:
            return forms.TypedChoiceField(
                choices=self._likert_choices(question), coerce=int, widget=forms.RadioSelect, **common
            )
        if kind is QuestionType.DISTRICT:
            choices = [(district_value(name), name) for name in self.districts]
            choices.append((OUTSIDE_CITY, _("I don't live in this city")))
            return forms.ChoiceField(choices=choices, widget=forms.RadioSelect, **common)
        if kind in (QuestionType.NUMBER, QuestionType.YEAR):
            attrs = {"inputmode": "numeric"}
            if kind is QuestionType.YEAR:
                attrs["autocomplete"] = "off"
            return forms.IntegerField(
                min_value=question.min,
                max_value=question.max,
                widget=forms.NumberInput(attrs=attrs),
                **common,
            )
        widget = forms.Textarea(attrs={"rows": 5}) if kind is QuestionType.LONG_TEXT else forms.TextInput
        return forms.CharField(max_length=question.effective_max_length, widget=widget, **common)

    def _choices(self, question: Question) -> list[tuple[str, str]]:
        choices = [(option.value, self._text(option.label)) for option in question.options]
        if question.other:
            choices.append((OTHER_VALUE, _("Other")))
        return choices

    def _likert_choices(self, question: Question) -> list[tuple[int, str]]:
        assert question.scale is not None
        points = question.scale.points
        choices = [(point, str(point)) for point in range(1, points + 1)]
        if question.scale.low:
            choices[0] = (1, f"1 – {self._text(question.scale.low)}")
        if question.scale.high:
            choices[-1] = (points, f"{points} – {self._text(question.scale.high)}")
        return choices

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        shown_before = set(filter(None, (cleaned.get("shown") or "").split(",")))
        appeared = [q for q in self.questions if q.key not in shown_before]
        if self.is_bound and self.add_prefix("shown") in self.data and appeared:
            # Questions that only now apply were never seen: show them instead of failing on them.
            for question in appeared:
                self.errors.pop(question.key, None)
            self.data = self.data.copy()
            self.data[self.add_prefix("shown")] = ",".join(q.key for q in self.questions)
            raise ValidationError(MORE_QUESTIONS, code="more_questions")
        for question in self.questions:
            chosen = cleaned.get(question.key)
            if question.other:
                picked_other = chosen == OTHER_VALUE or (isinstance(chosen, list) and OTHER_VALUE in chosen)
                if picked_other and not cleaned.get(question.other_key):
                    self.add_error(question.other_key, OTHER_TEXT_MISSING)
            if question.max_choices and chosen and len(chosen) > question.max_choices:
                self.add_error(question.key, TOO_MANY_CHOICES % {"count": question.max_choices})
            if question.type is QuestionType.MULTI_CHOICE and chosen and len(chosen) > 1:
                for option in question.options:
                    if option.exclusive and option.value in chosen:
                        self.add_error(question.key, EXCLUSIVE_COMBINED % {"option": self._text(option.label)})
        return cleaned

    def answers(self) -> dict[str, Any]:
        """The answers of this step as stored: question key -> value; unanswered questions left out."""
        stored: dict[str, Any] = {}
        for question in self.questions:
            if not question.takes_answer:
                continue
            value = self.cleaned_data.get(question.key)
            if is_answered(value):
                stored[question.key] = value
            other_text = self.cleaned_data.get(question.other_key) if question.other else None
            if other_text:
                stored[question.other_key] = other_text
        return stored


def answers_as_form_data(step: Step, answers: Mapping[str, Any], prefix: str) -> dict[str, list[str]]:
    """Stored answers of a step as the POST data that would have produced them (to restore a wizard)."""
    data: dict[str, list[str]] = {}
    for question in step.questions:
        if question.key in answers:
            value = answers[question.key]
            values = value if isinstance(value, list) else [value]
            data[f"{prefix}-{question.key}"] = [str(item) for item in values]
        if question.other and question.other_key in answers:
            data[f"{prefix}-{question.other_key}"] = [str(answers[question.other_key])]
    data[f"{prefix}-shown"] = [",".join(question.key for question in step.questions)]
    return data


class StartForm(forms.Form):
    """Consent and the age check. The age is compared with the campaign's limits and never stored."""

    age = forms.IntegerField(
        label=gettext_lazy("How old are you?"),
        min_value=1,
        max_value=120,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
        error_messages={"required": REQUIRED},
    )
    consent = forms.BooleanField(error_messages={"required": gettext_lazy("Please agree to take part.")})
    # A honeypot: hidden from people (and assistive technology), filled in by bots that fill in everything.
    website = forms.CharField(
        required=False,
        label=gettext_lazy("Leave this field empty"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    def __init__(self, *args: Any, campaign: Any, consent_label: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.campaign = campaign
        self.fields["consent"].label = consent_label
        if campaign.parental_consent_below:
            self.fields["parental_consent"] = forms.BooleanField(
                required=False,
                label=_("I am younger than %(age)s and a parent or guardian agrees that I take part.")
                % {"age": campaign.parental_consent_below},
            )
        if campaign.invite_code_required:
            self.fields["invite_code"] = forms.CharField(
                label=_("Your invite code"),
                max_length=30,
                help_text=_("It is printed on the card you received, for example K7QX-M2PD-9RTA."),
                widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
            )

    def is_bot(self) -> bool:
        return bool(self.cleaned_data.get("website"))

    def may_take_part(self) -> bool:
        age = self.cleaned_data["age"]
        if age < self.campaign.min_age or age > self.campaign.max_age:
            return False
        needs_parent = self.campaign.parental_consent_below and age < self.campaign.parental_consent_below
        return not (needs_parent and not self.cleaned_data.get("parental_consent"))


class ResumeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Your code"),
        max_length=30,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
        error_messages={"required": gettext_lazy("Please enter your code.")},
    )
