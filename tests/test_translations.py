"""The interface translations in ``locale/``: complete, checked, and compiled.

Every .po file of a translated language has a translation for every entry (every plural form), nothing is left
fuzzy, and the placeholders of each msgid survive in its translation. The committed .mo files (so that the
platform runs without gettext installed) must be what ``msgfmt`` makes of the .po files today.
"""

import ast
import gettext
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.utils import translation

LOCALE = Path(__file__).resolve().parent.parent / "locale"
TRANSLATED = ["de", "tr", "ar", "uk"]
# English is the language of the msgids: its msgstr may stay empty, but its catalog must compile like the others.
COMPILED = [*TRANSLATED, "en"]
PLACEHOLDER = re.compile(r"%\((\w+)\)")


def po_path(language: str) -> Path:
    return LOCALE / language / "LC_MESSAGES" / "django.po"


def read_po(path: Path) -> list[dict]:
    """The entries of a .po file, header included, as dicts with ``flags``, ``msgid``, ``msgid_plural`` (if any)
    and ``msgstr`` (a list: one form, or one per plural form). Comments other than flags are ignored."""
    entries = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        entry: dict = {"flags": set(), "msgstr": []}
        key = None
        for line in block.splitlines():
            if line.startswith("#,"):
                entry["flags"].update(flag.strip() for flag in line[2:].split(","))
            elif line.startswith("#") or not line.strip():
                continue
            else:
                if not line.startswith('"'):
                    key, _, line = line.partition(" ")
                    if key.startswith("msgstr"):
                        entry["msgstr"].append("")
                text = ast.literal_eval(line)  # a PO string is a C string literal, which Python reads the same way
                if key.startswith("msgstr"):
                    entry["msgstr"][-1] += text
                else:
                    entry[key] = entry.get(key, "") + text
        if "msgid" in entry:
            entries.append(entry)
    return entries


def nplurals(entries: list[dict]) -> int:
    header = next(entry for entry in entries if entry["msgid"] == "")
    return int(re.search(r"nplurals=(\d+);", header["msgstr"][0]).group(1))


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_entry_is_translated_and_not_fuzzy(language):
    """Every msgid has a non-empty msgstr, every plural form the header's Plural-Forms asks for is filled in,
    and no entry (the header neither) is still marked fuzzy, which gettext would silently ignore."""
    entries = read_po(po_path(language))
    forms = nplurals(entries)
    assert len(entries) > 1, f"{language}: no entries"
    for entry in entries:
        assert "fuzzy" not in entry["flags"], f"{language}: fuzzy entry {entry['msgid']!r}"
        if entry["msgid"] == "":
            continue
        expected = forms if "msgid_plural" in entry else 1
        assert len(entry["msgstr"]) == expected, f"{language}: {entry['msgid']!r} needs {expected} form(s)"
        assert all(entry["msgstr"]), f"{language}: untranslated {entry['msgid']!r}"


@pytest.mark.parametrize("language", TRANSLATED)
def test_placeholders_are_kept(language):
    """Each translation (each plural form) of a python-format msgid uses exactly the msgid's named placeholders:
    a missing one loses information, an extra or misspelt one raises KeyError when the string is formatted."""
    for entry in read_po(po_path(language)):
        if "python-format" not in entry["flags"]:
            continue
        expected = set(PLACEHOLDER.findall(entry["msgid"] + entry.get("msgid_plural", "")))
        for form in entry["msgstr"]:
            assert set(PLACEHOLDER.findall(form)) == expected, f"{language}: {form!r} for {entry['msgid']!r}"


def without_header(catalog: gettext.GNUTranslations) -> dict:
    """The catalog's translations, keyed by msgid or (msgid, plural form), without the header (msgid ""): its
    dates change on every makemessages run. The plural rule in it is compared separately."""
    return {key: value for key, value in catalog._catalog.items() if key != ""}


@pytest.mark.parametrize("language", COMPILED)
def test_committed_mo_matches_po(language, tmp_path):
    """The committed .mo holds the same msgids, translations and plural rule as a fresh ``msgfmt`` of the .po.
    Fails (never skips) without msgfmt: run ``apt-get install gettext``."""
    msgfmt = shutil.which("msgfmt")
    if msgfmt is None:
        pytest.fail("msgfmt (GNU gettext) is missing: install it with `apt-get install gettext`")
    fresh = tmp_path / "django.mo"
    subprocess.run([msgfmt, "--check-format", "-o", fresh, po_path(language)], check=True)
    with fresh.open("rb") as file:
        expected = gettext.GNUTranslations(file)
    with po_path(language).with_suffix(".mo").open("rb") as file:
        committed = gettext.GNUTranslations(file)
    assert without_header(committed) == without_header(expected), (
        f"locale/{language}: the .mo is out of date; run `make messages`"
    )
    assert [committed.plural(n) for n in range(200)] == [expected.plural(n) for n in range(200)]


@pytest.mark.parametrize("language", TRANSLATED)
def test_django_renders_the_translation(language):
    """Through Django's own machinery (LOCALE_PATHS, language activation) the interface is not English."""
    with translation.override(language):
        assert translation.gettext("Next") != "Next"
        assert translation.gettext("Please answer this question.") != "Please answer this question."


@pytest.mark.parametrize(
    ("language", "count", "expected"),
    [("de", 5, "etwa 5 Minuten"), ("ar", 5, "حوالي 5 دقائق"), ("uk", 3, "приблизно 3 хвилини")],
)
def test_plural_forms_follow_the_language(language, count, expected):
    """The Plural-Forms rule of each catalog picks the grammatical form the count needs."""
    with translation.override(language):
        text = translation.ngettext("about %(minutes)s minute", "about %(minutes)s minutes", count)
    assert text % {"minutes": count} == expected
