"""Template tags of the survey pages."""

from __future__ import annotations

from django import template
from django.forms.boundfield import BoundWidget
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

# The option templates whose output ``choice_input`` reproduces: Django's own, which render only the <input>
# when the label is not wrapped around it.
_PLAIN_OPTION_TEMPLATES = frozenset(
    {"django/forms/widgets/radio_option.html", "django/forms/widgets/checkbox_option.html"}
)


@register.simple_tag
def choice_input(choice: BoundWidget) -> SafeString:
    """The ``<input>`` of one radio button or checkbox, exactly as ``{{ choice.tag }}`` renders it.

    ``choice.tag`` renders three nested templates per answer option, which made template rendering the largest
    part of a survey page's cost; this builds the same markup (same attributes, same order) directly. Widgets
    with other option templates still render through their templates.
    """
    data = choice.data
    if data.get("template_name") not in _PLAIN_OPTION_TEMPLATES:
        return choice.tag()
    parts = [format_html('<input type="{}" name="{}"', data["type"], data["name"])]
    if data["value"] is not None:
        parts.append(format_html(' value="{}"', str(data["value"])))
    for name, value in data["attrs"].items():
        if value is True:
            parts.append(format_html(" {}", name))
        elif value is not False:
            parts.append(format_html(' {}="{}"', name, str(value)))
    parts.append(">")
    return mark_safe("".join(parts))  # noqa: S308 - every part above is escaped by format_html  # nosec B308, B703
