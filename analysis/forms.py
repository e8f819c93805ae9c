"""GET forms of the researchers' pages: which breakdown, which cross-tab, which campaign to compare with.

The forms only pick among tables that a snapshot has already published; they never filter records.
"""

from __future__ import annotations

from collections.abc import Sequence

from django import forms
from django.utils.translation import gettext_lazy as _

Choices = Sequence[tuple[str, str]]


class BreakdownForm(forms.Form):
    """A question page's breakdown: none (the overall table) or one of the published breakdowns."""

    breakdown = forms.ChoiceField(label=_("Break down by"), required=False)

    def __init__(self, *args, breakdowns: Choices, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["breakdown"].choices = [("", _("No breakdown (all respondents)")), *breakdowns]


class CrosstabForm(forms.Form):
    """The cross-tab explorer: any published question against any published breakdown."""

    question = forms.ChoiceField(label=_("Question"))
    breakdown = forms.ChoiceField(label=_("Break down by"))

    def __init__(self, *args, questions: Choices, breakdowns: Choices, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["question"].choices = list(questions)
        self.fields["breakdown"].choices = list(breakdowns)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("question") and cleaned.get("question") == cleaned.get("breakdown"):
            raise forms.ValidationError(_("Choose a breakdown other than the question itself."))
        return cleaned


class CompareForm(forms.Form):
    """The campaign to compare with: another campaign of the same survey that the user may view."""

    other = forms.ChoiceField(label=_("Compare with"))

    def __init__(self, *args, campaigns: Choices, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["other"].choices = list(campaigns)
