"""Generalisation of quasi-identifiers: exact values become bands and groups before anything is stored.

Pure Python (no Django, no database). :func:`generalise_answer` is the one function the anonymiser calls for
every ``privacy: quasi_identifier`` answer; ``docs/anonymisation.md`` ("Generalisation") explains the rules:

* ``year`` questions (a birth year) become an **age band** at the date of the response, default bands
  14-17, 18-20, 21-24, 25-27, configurable with ``generalise.bands`` (for year questions bands are ages).
* ``number`` questions become the band of ``generalise.bands``; without bands, a band of ten (``"10-19"``).
* ``single_choice`` questions with ``generalise.groups`` become their group. Without groups, options that
  are countries become their world region (:data:`COUNTRY_REGIONS`); other options stay as they are.
* ``district``, ``multi_choice``, ``yes_no`` and ``likert`` answers stay: they are coarse already, and the
  k-anonymity pass (:mod:`analysis.privacy.kanonymity`) suppresses rare values.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from typing import Any

from survey.definition.model import OTHER_VALUE, Question, QuestionType

__all__ = [
    "COUNTRY_REGIONS",
    "DEFAULT_AGE_BANDS",
    "age_at",
    "band_label",
    "generalise_answer",
    "region_of",
]

Band = tuple[int, int]

#: Age bands of the target group (14-27), inclusive.
DEFAULT_AGE_BANDS: tuple[Band, ...] = ((14, 17), (18, 20), (21, 24), (25, 27))
#: Width of the bands a number question without ``generalise.bands`` is cut into.
DEFAULT_NUMBER_BAND_WIDTH = 10

#: Country option values -> world region, used for a single-choice quasi-identifier without ``groups``.
#: Regions follow the UN M49 sub-regions, merged where a sub-region would be tiny among Dortmund's youth.
COUNTRY_REGIONS: Mapping[str, str] = {
    "germany": "germany",
    # EU and western Europe
    "austria": "western_europe",
    "belgium": "western_europe",
    "france": "western_europe",
    "netherlands": "western_europe",
    "luxembourg": "western_europe",
    "switzerland": "western_europe",
    "italy": "southern_europe",
    "spain": "southern_europe",
    "portugal": "southern_europe",
    "greece": "southern_europe",
    "croatia": "southern_europe",
    "cyprus": "southern_europe",
    "malta": "southern_europe",
    "slovenia": "southern_europe",
    "poland": "eastern_europe",
    "romania": "eastern_europe",
    "bulgaria": "eastern_europe",
    "hungary": "eastern_europe",
    "czechia": "eastern_europe",
    "slovakia": "eastern_europe",
    "lithuania": "eastern_europe",
    "latvia": "eastern_europe",
    "estonia": "eastern_europe",
    "ukraine": "eastern_europe",
    "moldova": "eastern_europe",
    "belarus": "eastern_europe",
    "russia": "eastern_europe",
    "united_kingdom": "northern_europe",
    "ireland": "northern_europe",
    "denmark": "northern_europe",
    "sweden": "northern_europe",
    "norway": "northern_europe",
    "finland": "northern_europe",
    # South-east Europe outside the EU
    "kosovo": "western_balkans",
    "serbia": "western_balkans",
    "bosnia_herzegovina": "western_balkans",
    "albania": "western_balkans",
    "north_macedonia": "western_balkans",
    "montenegro": "western_balkans",
    "turkey": "turkey",
    # Middle East and North Africa
    "syria": "middle_east",
    "iraq": "middle_east",
    "lebanon": "middle_east",
    "jordan": "middle_east",
    "palestine": "middle_east",
    "yemen": "middle_east",
    "saudi_arabia": "middle_east",
    "iran": "middle_east",
    "morocco": "north_africa",
    "algeria": "north_africa",
    "tunisia": "north_africa",
    "libya": "north_africa",
    "egypt": "north_africa",
    # Other regions
    "afghanistan": "south_central_asia",
    "pakistan": "south_central_asia",
    "india": "south_central_asia",
    "bangladesh": "south_central_asia",
    "sri_lanka": "south_central_asia",
    "kazakhstan": "south_central_asia",
    "uzbekistan": "south_central_asia",
    "kyrgyzstan": "south_central_asia",
    "tajikistan": "south_central_asia",
    "georgia": "caucasus",
    "armenia": "caucasus",
    "azerbaijan": "caucasus",
    "eritrea": "sub_saharan_africa",
    "ethiopia": "sub_saharan_africa",
    "somalia": "sub_saharan_africa",
    "nigeria": "sub_saharan_africa",
    "ghana": "sub_saharan_africa",
    "guinea": "sub_saharan_africa",
    "cameroon": "sub_saharan_africa",
    "gambia": "sub_saharan_africa",
    "sudan": "sub_saharan_africa",
    "congo": "sub_saharan_africa",
    "china": "east_asia",
    "vietnam": "south_east_asia",
    "thailand": "south_east_asia",
    "philippines": "south_east_asia",
    "united_states": "americas",
    "brazil": "americas",
    "colombia": "americas",
    "venezuela": "americas",
    "mexico": "americas",
}


def age_at(*, birth_year: int, on: datetime.date) -> int:
    """The age a person born in ``birth_year`` reaches in the year of ``on``.

    Only the year of birth is asked, so this is the age at the end of that year; a band built from it is
    at most one year off, which is the price of never asking the birthday.
    """
    return on.year - birth_year


def band_label(value: int, bands: Sequence[Sequence[int]]) -> str:
    """The label of the inclusive band holding ``value``: ``"18-20"``; ``"under_14"`` / ``"over_27"`` outside.

    A value in a gap between two bands gets the gap as its band (``"21-24"`` between ``18-20`` and
    ``25-27``), so an exact value never passes through.
    """
    ordered = sorted((int(low), int(high)) for low, high in bands)
    if value < ordered[0][0]:
        return f"under_{ordered[0][0]}"
    if value > ordered[-1][1]:
        return f"over_{ordered[-1][1]}"
    previous_high: int | None = None
    for low, high in ordered:
        if previous_high is not None and previous_high < value < low:
            return _range(previous_high + 1, low - 1)
        if low <= value <= high:
            return _range(low, high)
        previous_high = max(high, previous_high) if previous_high is not None else high
    raise AssertionError("unreachable: value lies within the bands")  # pragma: no cover


def _range(low: int, high: int) -> str:
    return str(low) if low == high else f"{low}-{high}"


def region_of(country: str) -> str | None:
    """The world region of a country option value, or ``None`` when it is not a known country."""
    return COUNTRY_REGIONS.get(country)


def generalise_answer(question: Question, value: Any, *, answered_on: datetime.date) -> Any:
    """The generalised form of one quasi-identifier answer. ``None`` (unanswered) stays ``None``."""
    if value is None or value == "":
        return None
    settings = question.generalise or {}
    if question.type is QuestionType.YEAR:
        bands = settings.get("bands") or DEFAULT_AGE_BANDS
        return band_label(age_at(birth_year=int(value), on=answered_on), bands)
    if question.type is QuestionType.NUMBER:
        number = int(value)
        if settings.get("bands"):
            return band_label(number, settings["bands"])
        low = number // DEFAULT_NUMBER_BAND_WIDTH * DEFAULT_NUMBER_BAND_WIDTH
        return _range(low, low + DEFAULT_NUMBER_BAND_WIDTH - 1)
    if question.type is QuestionType.SINGLE_CHOICE:
        groups: Mapping[str, str] | None = settings.get("groups")
        if groups:
            return groups.get(value, value)
        if value != OTHER_VALUE and any(region_of(option.value) for option in question.options):
            return region_of(value) or value
        return value
    if question.type is QuestionType.MULTI_CHOICE:
        return sorted(value)
    return value
