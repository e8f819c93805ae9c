"""Free-text scrubber: replace personal data in survey answers with typed placeholders.

Respondents are promised that nothing they write can be traced back to them, so every open
answer goes through :func:`scrub_text` before it is stored for analysis. The function is pure
(no Django, no database, no network) so it can run in a worker over 100k answers.

Design notes
------------
* Detection runs in a fixed order, each pass replacing what it found with a placeholder such as
  ``[PHONE]`` before the next pass runs. Order matters:

  1. obfuscated e-mails (``name(at)host.de``), URLs, then e-mails - all before handles,
     because ``tiktok.com/@name`` and ``a@b.de`` contain ``@``. URLs go before plain e-mails
     because RFC 5322 allows ``/`` in the local part, which would make ``tiktok.com/@name`` an
     e-mail; a bare domain directly followed by ``@`` is left to the e-mail pass;
  2. handles (``@name``, or ``Insta: name.surname``);
  3. IBANs (loose pattern, validated by :mod:`schwifty`) - before IDs/digit runs, which would
     otherwise grab the account number; an IBAN-shaped string with a wrong checksum is still
     somebody's number and becomes ``[ID]``, never ``[IBAN]``;
  4. dates - before phones, because ``12.03.2005`` is a plausible phone number to some parsers;
  5. addresses (street + house number) and then German postcodes, whose context check looks at
     an ``[ADDRESS]`` placeholder in front of them;
  6. phone numbers (:mod:`phonenumbers`, region DE, plus a fallback for invalid/fake numbers);
     a valid-looking number right after an ID word ("Duldung, Nummer ...") becomes ``[ID]``;
  7. ID-like numbers (document numbers, Steuer-ID, long digit runs);
  8. names, last, because name heuristics look at capitalised words and all the other
     placeholders are then out of the way.

* Names are found from three sources: the ``known_names`` the caller passes, a shipped list of
  common given and family names (``data/names.txt``), and cue words ("ich heiße", "Frau",
  "my name is", "adım", "اسمي", "мене звати", ...). German capitalises every noun, so a
  capitalised word alone is never taken as a name.

* What is NOT caught is documented in ``docs/anonymisation.md`` (section "Free-text
  scrubbing"): uncued names missing from the list, misspelled names, nicknames, indirect
  identification.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Final

import phonenumbers
import schwifty

__all__ = [
    "ADDRESS",
    "DATE",
    "EMAIL",
    "HANDLE",
    "IBAN",
    "ID",
    "NAME",
    "PHONE",
    "PLACEHOLDER_TYPES",
    "POSTCODE",
    "URL",
    "ScrubResult",
    "placeholder",
    "scrub_text",
]

# --------------------------------------------------------------------------- placeholder types
EMAIL: Final = "EMAIL"
PHONE: Final = "PHONE"
IBAN: Final = "IBAN"
URL: Final = "URL"
HANDLE: Final = "HANDLE"
ADDRESS: Final = "ADDRESS"
POSTCODE: Final = "POSTCODE"
DATE: Final = "DATE"
ID: Final = "ID"
NAME: Final = "NAME"

PLACEHOLDER_TYPES: Final[tuple[str, ...]] = (
    EMAIL,
    PHONE,
    IBAN,
    URL,
    HANDLE,
    ADDRESS,
    POSTCODE,
    DATE,
    ID,
    NAME,
)

NAMES_FILE: Final = Path(__file__).with_name("data") / "names.txt"

#: Region used to interpret numbers without country code: the respondents live in Dortmund.
PHONE_REGION: Final = "DE"


def placeholder(kind: str) -> str:
    """Return the placeholder text for a type, e.g. ``placeholder(PHONE) == "[PHONE]"``."""
    return f"[{kind}]"


@dataclass(frozen=True)
class ScrubResult:
    """Outcome of :func:`scrub_text`.

    ``hits`` maps placeholder type (``"PHONE"``, ``"NAME"``, ...) to how many spans of that type
    were replaced; types with no hit are absent.
    """

    text: str
    hits: Mapping[str, int]


# --------------------------------------------------------------------------- small helpers
def _words(s: str) -> list[str]:
    """Split a whitespace-separated vocabulary.

    The word lists below run to hundreds of entries; as one-per-line list literals they would be
    unreadable, as a paragraph per topic they can be reviewed by a non-programmer.
    """
    return s.split()


def _fold(s: str) -> str:
    """Case-fold for comparisons.

    ``str.casefold`` turns Turkish ``İ`` into ``i`` + COMBINING DOT ABOVE; drop the dot so that
    "İsmim" compares equal to "ismim".
    """
    return s.casefold().replace("\u0307", "")


_ASCII_EXTRA: Final = str.maketrans({"ı": "i", "ł": "l", "ø": "o", "đ": "d", "ß": "ss", "æ": "ae"})


@functools.lru_cache(maxsize=65536)
def _ascii_fold(s: str) -> str:
    """Fold and strip diacritics: respondents often type "Ayse Yilmaz" for "Ayşe Yılmaz"."""
    decomposed = unicodedata.normalize("NFKD", _fold(s).translate(_ASCII_EXTRA))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


class _Replacer:
    """Accumulates hit counts while passes rewrite the text."""

    __slots__ = ("counts",)

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    def put(self, kind: str) -> str:
        self.counts[kind] += 1
        return placeholder(kind)

    def sub(
        self,
        pattern: re.Pattern[str],
        kind: str,
        text: str,
        accept: Callable[[re.Match[str]], bool] | None = None,
        group: str | int = 0,
    ) -> str:
        """Replace ``group`` of every match of ``pattern`` (for which ``accept`` holds) by ``kind``.

        Replacing only a group lets patterns include context (a cue word, a following city
        name) without scrubbing that context.
        """

        def repl(m: re.Match[str]) -> str:
            if accept is not None and not accept(m):
                return m.group(0)
            start, end = m.span(group)
            whole = m.group(0)
            offset = m.start()
            return whole[: start - offset] + self.put(kind) + whole[end - offset :]

        return pattern.sub(repl, text)

    def replace_spans(self, text: str, spans: Iterable[tuple[int, int, str]]) -> str:
        """Replace non-overlapping ``(start, end, kind)`` spans, right to left so offsets stay valid."""
        out = text
        for start, end, kind in sorted(set(spans), reverse=True):
            out = out[:start] + self.put(kind) + out[end:]
        return out


# --------------------------------------------------------------------------- e-mail, URL, handle
#: Local part: the full RFC 5322 "atext" set, so "a/b@x.de" is not cut to "b@x.de" leaving "a/".
#: TLD: letters, or punycode ("xn--...").
_EMAIL_LOCAL: Final = r"[\w.!#$%&'*+/=?^`{|}~-]"
_EMAIL_RE: Final = re.compile(
    r"(?<!" + _EMAIL_LOCAL + r")" + _EMAIL_LOCAL + r"+@(?:[\w-]+\.)+(?:[^\W\d_]{2,63}|[Xx][Nn]--[\w-]{1,59})(?![\w-])",
)
#: "ayse.k(at)gmx.de", "ayse [at] gmail [dot] com": a common way to dodge spam filters.
_EMAIL_OBFUSCATED_RE: Final = re.compile(
    r"(?<![\w.+-])[\w.+-]+\s?[(\[{]\s?(?:at|ät|@)\s?[)\]}]\s?"
    r"(?:[\w-]+\s?(?:\.|[(\[{]\s?(?:dot|punkt)\s?[)\]}])\s?)+[^\W\d_]{2,24}(?![\w-])",
    re.IGNORECASE,
)

#: TLDs accepted for URLs typed without scheme or "www." ("linkedin.com/in/x", "wa.me/49...").
#: A closed list, because "z.B." or "Abs.2" must not become URLs.
_BARE_TLDS: Final = (
    "com|de|net|org|info|eu|io|me|co|app|dev|tv|gg|ly|gl|ee|be|to|link|page|site|online|shop|"
    "blog|tr|ua|ru|pl|at|ch|nl|fr|it|es|uk|us|sy|iq|lb|jo|eg|ma|ae|sa|af|ir|ba|rs|al|xk|ro|bg"
)
#: Bare domains need a lower-case TLD: "...einen Job.It was" (missing space) is not a URL; and
#: must not be the local part of an e-mail ("ayse.de@gmail.com").
_URL_RE: Final = re.compile(
    r"(?:\b(?i:https?|ftp)://|\b(?i:www)\.)[^\s<>\"]+"
    r"|(?<![\w@.-])(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+(?:" + _BARE_TLDS + r")\b"
    r"(?![\w.!#$%&'*+=?^`{|}~-]*@)(?:[/?#][^\s<>\"]*)?",  # local-part chars minus "/" (a path)
)
_URL_TRAILING: Final = ".,;:!?)]}'\"’”"

_HANDLE_RE: Final = re.compile(r"(?<![\w@./])@[A-Za-z0-9_](?:[A-Za-z0-9_.]{0,28}[A-Za-z0-9_])?(?![\w@])")
#: A handle typed without "@" after a platform name: "Insta: jonas.becker.photo". The candidate
#: must contain ".", "_" or a digit, so "Mein Instagram ist privat" stays.
_HANDLE_CUED_RE: Final = re.compile(
    r"\b(?:insta(?:gram)?|tik\s?tok|snap(?:chat)?|telegram|twitter|discord|threads)\b"
    r"(?:\s*(?:account|konto|profil|hesabım|hesabim|name|handle|username))?"
    r"\s*(?::|-|=|ist\b|is\b)\s*"
    r"(?P<pii>[A-Za-z0-9_][A-Za-z0-9_.]{1,28}[A-Za-z0-9_])(?![\w@\[])",
    re.IGNORECASE,
)


def _accept_cued_handle(m: re.Match[str]) -> bool:
    return any(c in "._" or c.isdigit() for c in m["pii"])


def _strip_url(m: re.Match[str], rep: _Replacer) -> str:
    """Replace a URL but keep trailing sentence punctuation outside the placeholder."""
    url = m.group(0)
    stripped = url.rstrip(_URL_TRAILING)
    return rep.put(URL) + url[len(stripped) :]


# --------------------------------------------------------------------------- IBAN
#: Loose IBAN candidate: country code, check digits, 11-30 upper-case alphanumerics with optional
#: single spaces. Lower-case letters end the body, so the following word is not swallowed.
_IBAN_CANDIDATE_RE: Final = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?: ?[A-Z0-9]){11,30}(?![A-Za-z0-9])")


def _valid_iban(compact: str) -> bool:
    try:
        schwifty.IBAN(compact)
    except ValueError:  # schwifty's exceptions all derive from ValueError
        return False
    return True


def _scrub_ibans(text: str, rep: _Replacer) -> str:
    """Validate each candidate with schwifty, trimming trailing groups that belong to the sentence.

    A candidate without a valid prefix is IBAN-shaped but has a wrong checksum (typo, or made
    up): it is still an account-like number, so it becomes ``[ID]`` - never ``[IBAN]``.
    """

    def repl(m: re.Match[str]) -> str:
        cand = m.group(0)
        # Try the longest prefix first, cutting only at spaces (group boundaries).
        cuts = [len(cand)] + [i for i in range(len(cand) - 1, 14, -1) if cand[i] == " "]
        for cut in cuts:
            if _valid_iban(cand[:cut].replace(" ", "").upper()):
                return rep.put(IBAN) + cand[cut:]
        return rep.put(ID)

    return _IBAN_CANDIDATE_RE.sub(repl, text)


# --------------------------------------------------------------------------- dates
_MONTHS: Final[tuple[str, ...]] = (
    # German
    "januar", "jänner", "februar", "märz", "maerz", "april", "mai", "juni", "juli", "august",
    "september", "oktober", "november", "dezember",
    "jan", "feb", "mär", "mrz", "apr", "jun", "jul", "aug", "sep", "sept", "okt", "nov", "dez",
    # English
    "january", "february", "march", "may", "june", "july", "october", "december",
    "mar", "oct", "dec",
    # Turkish
    "ocak", "şubat", "subat", "mart", "nisan", "mayıs", "mayis", "haziran", "temmuz", "ağustos",
    "agustos", "eylül", "eylul", "ekim", "kasım", "kasim", "aralık", "aralik",
    # Arabic (Egyptian/Gulf and Levantine names)
    "يناير", "فبراير", "مارس", "أبريل", "ابريل", "مايو", "يونيو", "يوليو", "أغسطس", "اغسطس",
    "سبتمبر", "أكتوبر", "اكتوبر", "نوفمبر", "ديسمبر",
    "كانون الثاني", "شباط", "آذار", "اذار", "نيسان", "أيار", "ايار", "حزيران", "تموز", "آب",
    "اب", "أيلول", "ايلول", "تشرين الأول", "تشرين الاول", "تشرين الثاني", "كانون الأول",
    "كانون الاول",
    # Ukrainian and Russian (genitive, as used in dates)
    "січня", "лютого", "березня", "квітня", "травня", "червня", "липня", "серпня", "вересня",
    "жовтня", "листопада", "грудня",
    "января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября",
    "октября", "ноября", "декабря",
)  # fmt: skip
_MONTH_ALT: Final = "|".join(re.escape(m).replace(r"\ ", r"\s+") for m in sorted(_MONTHS, key=len, reverse=True))

_DATE_NUMERIC_RE: Final = re.compile(
    r"(?<![\d.,/-])(?P<a>\d{1,2})(?P<sep>[./-])(?P<b>\d{1,2})(?P=sep)(?P<y>\d{4}|\d{2})(?!\d|[./-]\d)"
)
_DATE_ISO_RE: Final = re.compile(
    r"(?<![\d.,/-])(?P<y>\d{4})(?P<sep>[./-])(?P<a>\d{1,2})(?P=sep)(?P<b>\d{1,2})(?!\d|[./-]\d)"
)
_DATE_TEXT_DMY_RE: Final = re.compile(
    r"(?<!\d)(?P<d>\d{1,2})(?:\.|st|nd|rd|th)?\s*(?:of\s+)?(?:" + _MONTH_ALT + r")\.?(?![^\W\d_])"
    r",?\s+(?P<y>\d{4})(?!\d)",
    re.IGNORECASE,
)
_DATE_TEXT_MDY_RE: Final = re.compile(
    r"(?<![^\W\d_])(?:" + _MONTH_ALT + r")\.?\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<y>\d{4})(?!\d)",
    re.IGNORECASE,
)


def _plausible_year(y: str) -> bool:
    return len(y) == 2 or 1900 <= int(y) <= 2099


def _accept_numeric_date(m: re.Match[str]) -> bool:
    """Day/month must be a real day/month (either order, for US dates); "12.03.05" needs the dot."""
    a, b, y = int(m["a"]), int(m["b"]), m["y"]
    if len(y) == 2 and not (m["sep"] == "." and len(m["a"]) == 2 and len(m["b"]) == 2):
        return False
    if not _plausible_year(y):
        return False
    return (1 <= a <= 31 and 1 <= b <= 12) or (1 <= a <= 12 and 1 <= b <= 31)


def _accept_text_date(m: re.Match[str]) -> bool:
    return 1 <= int(m["d"]) <= 31 and _plausible_year(m["y"])


# --------------------------------------------------------------------------- addresses, postcodes
#: House number: "12", "7a", "12 a", "12-14", "Nr. 5". The letter may not start a word ("55 und").
_HOUSE_NO: Final = (
    r"(?:Nr\.?\s*)?(?P<no>\d{1,4})(?:\s?[a-zA-Z](?![^\W\d_]))?(?:\s?[-/]\s?\d{1,4}[a-zA-Z]?(?![^\W\d_]))?"
)
_STREET_WORDS: Final = (
    r"(?:Straße|Strasse|Str\.|Str\b|Weg|Platz|Allee|Gasse|Ring|Damm|Ufer|Wall|Hellweg|Markt|"
    r"Chaussee|Pfad|Kamp|Steig)"
)
#: Case-insensitive so that hyphenated compounds match: "Heinrich-Heine-Straße 5".
_STREET_SUFFIX: Final = (
    r"(?i:straße|strasse|str\.|str\b|weg|platz|allee|gasse|ring|damm|ufer|wall|markt|chaussee|pfad|kamp|steig)"
)
#: "Brackeler Straße 101", "Heiliger Weg 10", "Hamburger Str. 55": adjective + street word.
_ADDRESS_DE_TWO_WORD_RE: Final = re.compile(
    r"(?<![\w-])(?P<pii>[A-ZÄÖÜ][^\W\d_]*(?:er|e|es|en)\s+" + _STREET_WORDS + r"\s*" + _HOUSE_NO + r")"
    r"(?!\d|[.,]\d)"
)
#: "Am Markt 3", "Auf dem Berge 7", "Zur Linde 2". Capitalised preposition only: mid-sentence
#: "am Montag 15" is a time, not a street; sentence-initial cases are filtered by _NOT_STREET.
_ADDRESS_DE_PREP_RE: Final = re.compile(
    r"(?<![\w-])(?P<pii>(?:Am|Im|An der|An den|Auf dem|Auf der|Auf den|Zum|Zur|Unter den|Hinter dem|"
    r"Vor dem)\s+(?P<word>[A-ZÄÖÜ][^\W\d_]*(?:-[^\W\d_]+)*)\s+" + _HOUSE_NO + r")(?!\d|[.,:]\d)"
)
#: "Münsterstraße 45", "Mallinckrodtstr. 112", "Heinrich-Heine-Straße 5", also typed lower-case.
_ADDRESS_DE_ONE_WORD_RE: Final = re.compile(
    r"(?<![\w-])(?P<pii>[^\W\d_][\w-]+?" + _STREET_SUFFIX + r"\s*" + _HOUSE_NO + r")(?!\d|[.,]\d)"
)
_ADDRESS_EN_RE: Final = re.compile(
    r"(?<![\w.,])(?P<pii>\d{1,4}[A-Za-z]?,?\s+(?:[A-Z][a-z'’-]+\s+){1,3}"
    r"(?:Street|St\.?|Road|Rd\.?|Avenue|Ave\.?|Lane|Ln\.?|Drive|Close|Way|Court|Place|Square|"
    r"Terrace|Crescent|Grove|Gardens|Boulevard|Blvd\.?|Row|Mews|Parade))(?![\w])"
)
_ADDRESS_TR_RE: Final = re.compile(
    r"(?P<pii>(?:[A-ZÇĞİÖŞÜ][^\W\d_]*\.?\s+){1,3}(?:Caddesi|Cad\.|Cd\.|Sokak|Sokağı|Sok\.|Sk\.|"
    r"Bulvarı|Blv\.)\s*,?\s*(?:No\s*[:.]?\s*)?\d{1,4}[A-Za-z]?(?:/\d{1,4})?)(?![\w])"
)
_ADDRESS_AR_RE: Final = re.compile(
    r"(?P<pii>شارع\s+[^\W\d_]+(?:\s+[^\W\d_]+)?\s*[،,]?\s*(?:رقم|بناء|مبنى)?\s*\d{1,4})(?!\d)"
)

#: Words that follow a number but make it a quantity, not a house number or postcode
#: ("Heimweg 10 Minuten", "Supermarkt 3 Tage", "12000 Euro").
_UNIT_AFTER_RE: Final = re.compile(
    r"\s*(?:%|€|\$|min\b|min\.|minuten|minutes|mins|stunden|std\b|hours|km\b|m\b|meter|euro|eur\b|"
    r"dollar|lira|tl\b|uhr\b|jahre|jahren|years|tage|tagen|days|wochen|weeks|monate|monaten|months|"
    r"mal\b|prozent|leute|personen|people|kinder|schüler|follower|menschen|einwohner|punkte|"
    r"dakika|saat|yıl|gün|ay\b|kişi|دقيقة|دقائق|ساعة|يورو|سنة|سنوات)",
    re.IGNORECASE,
)
#: Nouns after "Am/Im ..." that make it a time or a place inside a building, not a street.
_NOT_STREET: Final = frozenset(
    _fold(w)
    for w in _words(
        "Montag Dienstag Mittwoch Donnerstag Freitag Samstag Sonnabend Sonntag Wochenende Anfang "
        "Ende Morgen Abend Mittag Nachmittag Vormittag Tag Jahr Monat Januar Februar März April Mai "
        "Juni Juli August September Oktober November Dezember Sommer Winter Herbst Frühling "
        "Frühjahr Klasse Raum Bus Zug Gleis Bahnhof Durchschnitt Schnitt Alter Semester Lehrjahr "
        "Ausbildungsjahr Moment Schuljahr Jahrgang Zimmer Kurs Level Niveau Termin Team Lager Büro "
        "Betrieb Praktikum Schnitt Stock Erdgeschoss Haus Block"
    )
)


def _house_number_ok(m: re.Match[str]) -> bool:
    """Reject years ("Im Jahr 2019") and quantities ("Heimweg 10 Minuten")."""
    no = m["no"]
    if len(no) == 4 and no.startswith(("19", "20")):
        return False
    return not _UNIT_AFTER_RE.match(m.string, m.end("pii"))


def _accept_prep_address(m: re.Match[str]) -> bool:
    return _fold(m["word"]) not in _NOT_STREET and _house_number_ok(m)


_POSTCODE_CUE_RE: Final = re.compile(
    r"(?:\bplz|\bpostleitzahl|\bpost\s?code|\bzip(?:\s?code)?|\bposta\s+kod(?:u|um)|الرمز\s+البريدي|"
    r"поштовий\s+індекс|индекс)\W{0,3}(?:(?:ist|is|lautet)\s+)?(?P<pii>\d{5})(?!\d)",
    re.IGNORECASE,
)
#: "44137 Dortmund", "44137, Dortmund-Innenstadt", "[ADDRESS], 44135", "wohne in 44147".
_POSTCODE_CONTEXT_RE: Final = re.compile(
    r"(?P<before>\[ADDRESS\],?\s*|\b(?:in|aus|from|nach)\s+)?(?<![\w.,/-])(?P<pii>\d{5})(?!\d|[.,]\d|[/-]\w)"
    r"(?P<after>,?\s+[A-ZÄÖÜİ][^\W\d_]+)?"
)


def _accept_postcode(m: re.Match[str]) -> bool:
    """A 5-digit number is a German postcode only with context (cue, address, city after it).

    Round thousands ("12000 Euro") and numbers followed by a unit are amounts, not postcodes.
    """
    code = m["pii"]
    if not ("01001" <= code <= "99998") or code.endswith("000"):
        return False
    if _UNIT_AFTER_RE.match(m.string, m.end("pii")):
        return False
    return bool(m["before"] or m["after"])


# --------------------------------------------------------------------------- phones
#: Cheap prefilter: PhoneNumberMatcher costs ~0.1 ms per text; most answers have no 7-digit run.
_PHONE_PREFILTER_RE: Final = re.compile(r"\d(?:[\s().\/-]{0,3}\d){6}")
_DATE_LIKE_RE: Final = re.compile(r"^\d{1,4}[./-]\d{1,2}[./-]\d{1,4}$")
#: Fallback for numbers phonenumbers rejects as invalid (typos, made-up numbers are still
#: personal): international prefix, German mobile prefix, or "0 area / subscriber" with separator.
_PHONE_FALLBACK_RE: Final = re.compile(
    r"(?<![\w+])(?:"
    r"(?:\+|00)[1-9]\d{0,2}[\s./-]*(?:\(0\)[\s./-]*)?\d(?:[\s./-]?\d){6,13}"
    r"|01[5-7]\d(?:[\s/-]?\d){6,9}"
    r"|\(?0\d{2,5}\)?[\s/-]+\d(?:[\s/-]?\d){3,10}"
    r")(?!\w|[.,]\d)"
)


def _digit_count(s: str) -> int:
    return sum(c.isdigit() for c in s)


#: Words shortly before a number that make it a document number even if it is a valid phone
#: number ("Duldung, Nummer 0987654321" - 09876 is a Bavarian area code) ...
_ID_CONTEXT_RE: Final = re.compile(
    r"(?:ausweis|\bpass\b|\bpassport|reisepass|duldung|aufenthalt|\bpermit|steuer|\btax\b|kimlik|kunden|bg-?nummer|"
    r"versicherung|matrikel|student\s*id|sozialversicherung|إقامة|الإقامة|جواز|هوية|паспорт|посвідк)",
    re.IGNORECASE,
)
#: ... unless a phone word is there too.
_PHONE_CONTEXT_RE: Final = re.compile(
    r"\b(?:tel|telefon\w*|handy\w*|phone|mobil\w*|whatsapp|anruf\w*|ruf|call|ara\w*|هاتف\w*|رقمي|واتساب|"
    r"телефон\w*)\b",
    re.IGNORECASE,
)


def _scrub_phones(text: str, rep: _Replacer) -> str:
    if not _PHONE_PREFILTER_RE.search(text):
        return text
    phone_spans: list[tuple[int, int]] = []
    id_spans: list[tuple[int, int]] = []
    for match in phonenumbers.PhoneNumberMatcher(text, PHONE_REGION, leniency=phonenumbers.Leniency.VALID):
        raw = match.raw_string
        # Guard: never let a date or a short number through as a phone.
        if _DATE_LIKE_RE.match(raw) or _digit_count(raw) < 7:
            continue
        before = text[max(0, match.start - 40) : match.start]
        if _ID_CONTEXT_RE.search(before) and not _PHONE_CONTEXT_RE.search(before):
            id_spans.append((match.start, match.end))
        else:
            phone_spans.append((match.start, match.end))
    text = rep.replace_spans(text, [(a, b, ID) for a, b in id_spans] + [(a, b, PHONE) for a, b in phone_spans])
    return rep.sub(_PHONE_FALLBACK_RE, PHONE, text, accept=lambda m: 8 <= _digit_count(m.group(0)) <= 15)


# --------------------------------------------------------------------------- IDs
#: Steuer-ID typed in groups ("12 345 678 903") and Sozialversicherungsnummer ("12 150805 M 123").
_ID_GROUPED_RE: Final = re.compile(r"(?<![\w.,])(?:\d{2}\s\d{3}\s\d{3}\s\d{3}|\d{2}\s?\d{6}\s?[A-Z]\s?\d{3})(?![\w])")
#: Letter+digit document numbers: Personalausweis "T22000129", eAT "Y7KT0B2R4", passport
#: "FX123456", Agentur-Kundennummer "123A456789", BG-Nummer "44101BG0012345".
_ID_ALNUM_RE: Final = re.compile(
    r"(?<![\w@/.-])(?=[A-Za-z0-9]*\d)(?=[A-Za-z0-9]*[A-Za-z])[A-Za-z0-9]{8,14}(?![\w@/-]|\.\w)"
)
#: Shorter numbers after a number cue: "Kundennummer 123456", "numaram 12345", "رقم 12345".
_ID_CUED_RE: Final = re.compile(
    r"(?:nummer|number|\bnr\.?|\bno\.?|numaram|numarası|numarasi|رقم|номер)\s*(?:ist\s+|is\s+|lautet\s+|[:#]\s*)?"
    r"(?P<pii>[A-Za-z0-9]{5,14})(?![\w])",
    re.IGNORECASE,
)
_ID_DIGITS_RE: Final = re.compile(r"(?<![\w.,/-])\d{7,}(?![\w/-]|[.,]\d)")


def _accept_alnum_id(m: re.Match[str]) -> bool:
    """Upper-case document numbers need 2 digits; lower/mixed case ("Note1") needs 4.

    The extra digits keep words with a typo'd digit out.
    """
    s = m.group(0)
    digits = _digit_count(s)
    return digits >= 2 if not any(c.islower() for c in s) else digits >= 4


def _accept_cued_id(m: re.Match[str]) -> bool:
    s = m["pii"]
    digits = _digit_count(s)
    return digits >= 5 and not (len(s) == 4 and s.isdigit())


# --------------------------------------------------------------------------- names
_WORD_RE: Final = re.compile(r"[^\W\d_]+(?:['’\-][^\W\d_]+)*")

#: Never a name, even after a cue: institutions, places, nationalities, languages, religions,
#: weekdays, months. Keeps research-relevant words in the text ("Frau Jobcenter" never happens,
#: but "ich heiße Dortmund willkommen" and "I'm Syrian" do).
_ALLOWLIST: Final = frozenset(
    _fold(w)
    for w in _words(
        # institutions and programmes
        "Jobcenter Agentur Arbeit Arbeitsagentur Bundesagentur IHK HWK Handwerkskammer "
        "Ausländeramt Ausländerbehörde Jugendamt Sozialamt Bürgeramt Bürgerbüro Integrationszentrum "
        "Integrationsrat Stadt Berufskolleg Gesamtschule Realschule Hauptschule Gymnasium Grundschule "
        "Sekundarschule Förderschule Volkshochschule VHS Universität Uni Fachhochschule TU BVB Caritas "
        "Diakonie AWO DRK Bürgergeld BAföG BAB Duldung Aufenthaltserlaubnis Jugendberufsagentur "
        "Klinikum Westfalenpark Phoenixsee Rewe Aldi Lidl Edeka Netto Penny Kaufland DHL Amazon "
        "McDonalds Thyssenkrupp Telekom Deutsch Deutschkurs "
        # Dortmund and region
        "Dortmund Nordstadt Innenstadt Eving Hörde Hombruch Aplerbeck Brackel Scharnhorst Huckarde "
        "Mengede Lütgendortmund Dorstfeld Kirchlinde Marten Wickede Asseln Körne Hacheney Borsigplatz "
        "Hafen Kirchhörde Lanstrop Derne Bochum Essen Gelsenkirchen Herne Unna Lünen Hagen Witten "
        "Castrop-Rauxel Schwerte Düsseldorf Köln Berlin Hamburg München NRW Ruhrgebiet Ruhrpott "
        # countries and big cities of origin
        "Deutschland Germany Almanya Türkei Türkiye Turkey Syrien Syria Suriye Irak Iraq Afghanistan "
        "Iran Ukraine Ukrayna Polen Poland Rumänien Romania Bulgarien Bulgaria Serbien Bosnien "
        "Kosovo Albanien Mazedonien Griechenland Italien Spanien Eritrea Somalia Nigeria Ghana "
        "Guinea Marokko Morocco Algerien Tunesien Libanon Lebanon Ägypten Egypt Jordanien Palästina "
        "Palestine Jemen Russland Russia Kurdistan Europa Europe Afrika Africa Asien Istanbul Ankara "
        "İzmir Izmir Aleppo Damaskus Damascus Kabul Charkiw Kharkiv Kiew Kyiv Odessa Mardin "
        "Gaziantep Bagdad Mossul Homs Beirut London England "
        # nationalities, languages, religions
        "Deutsche Deutscher German Germans Türke Türkin Türken Türkisch Turkish Türk Türkçe Almanca "
        "Syrer Syrerin Syrisch Syrian Kurde Kurdin Kurden Kurdisch Kurdish Kürt Kürtçe Araber "
        "Araberin Arabisch Arabic Arab Arabça Afghane Afghanin Afghan Ukrainer Ukrainerin Ukrainisch "
        "Ukrainian Polnisch Polish Pole Polin Russisch Russian Russe Russin Rumänisch Bulgarisch "
        "Englisch English İngilizce Ingilizce Französisch French Farsi Persisch Dari Paschtu "
        "Tigrinya Somali Albanisch Serbisch Bosnisch Kroatisch Italienisch Spanisch Iraqi Iraker "
        "Muslim Muslima Muslime Moslem Christ Christin Christian Christen Jewish Jüdisch Jude "
        "Jesidin Jeside Yazidi Alevi Alevit Sunni Shia Nigerian Eritreer Eritrean Somalier "
        # weekdays, months, time words
        "Montag Dienstag Mittwoch Donnerstag Freitag Samstag Sonntag Monday Tuesday Wednesday "
        "Thursday Friday Saturday Sunday Pazartesi Salı Çarşamba Perşembe Cuma Cumartesi Pazar "
        "Januar Februar März April Mai Juni Juli August September Oktober November Dezember "
        "January February March May June July October December Ocak Şubat Mart Nisan Mayıs Haziran "
        "Temmuz Ağustos Eylül Ekim Kasım Aralık Ramadan Ramazan Bayram Weihnachten Ostern"
    )
)

#: Capitalised function words and greetings: never a name even right after a cue or a name.
_STOPWORDS: Final = frozenset(
    _fold(w)
    for w in _words(
        "Ich Du Er Sie Es Wir Ihr Der Die Das Den Dem Des Ein Eine Einen Und Aber Oder Wenn Weil Dass "
        "Auch Nicht Hat Ist War Mit Von Bei Im Am In Zu Zum Zur Für Auf Aus Nach Vom Bin Bitte Danke "
        "Hallo Hi Hey Hello Liebe Lieber Grüße Gruß Mein Meine Dein Deine Sein Seine Unser Unsere "
        "I The A An And But Or He She We They It My Is Was Are Be Not Thanks Thank Please Dear "
        "Bu Şu O Ve Ama Çok Benim Senin Merhaba Selam Teşekkürler Evet Hayır "
        "Herr Frau Hr Fr Mr Mrs Ms Miss Dr Prof Hanım Bey Hoca Abla Abi Ailesi "
        "Я Ти Він Вона Ми Мене Мій Моя Привіт Дякую Пан Пані "
        "أنا هو هي في من على عن مع و إلى الى هذا هذه كان كانت لا نعم مرحبا شكرا"
    )
)

_NOUN_SUFFIXES: Final = (
    "ung", "heit", "keit", "schaft", "tion", "sion", "tät", "ismus", "nis", "tum", "chen", "lein",
    "erei", "ik", "ur", "anz", "enz", "ment", "ling", "amt", "zeug", "werk", "arbeit",
)  # fmt: skip


def _looks_like_german_noun(token: str) -> bool:
    """Heuristic for capitalised words after weak cues ("weil mein Chef Ausländer hasst")."""
    f = _fold(token)
    return f.endswith(_NOUN_SUFFIXES) or f.endswith(("länder", "ländern"))


# Cue tables. Keys are tuples of folded tokens; matching is token-based, so punctuation between
# cue and name ("Mr. Smith", "Я — Андрій", "Thanks, Olivia") is allowed.
_STRONG_CUES: Final[frozenset[tuple[str, ...]]] = frozenset(
    tuple(_fold(c).split())
    for c in (
        "ich heiße", "ich heisse", "ich heiß", "mein name ist", "mein name lautet", "mein vorname ist",
        "mein nachname ist", "nennen mich", "nennt mich", "heiße ich", "heisse ich",
        "my name is", "my name's", "my names", "i am called", "i'm called", "call me", "i'm", "i am",
        "adım", "benim adım", "ismim", "benim ismim", "adı", "ismi", "soyadım",
        "اسمي", "اسمه", "اسمها", "واسمي", "أنا اسمي",
        "мене звати", "меня зовут", "моє ім'я", "моё имя", "мое имя", "я", "звати",
    )
)  # fmt: skip
#: After these the next word is a name only if it does not look like a German noun.
_GUARDED_CUES: Final[frozenset[tuple[str, ...]]] = frozenset({("heißt",), ("heisst",)})
_TITLE_CUES: Final[frozenset[str]] = frozenset(
    _fold(c)
    for c in _words(
        "Herr Frau Hr Fr Herrn Mr Mrs Ms Miss Mx Dr Prof Pan Pani пан пані господин госпожа "
        "السيد السيدة الأستاذ الأستاذة الاستاذ الاستاذة الدكتور الدكتورة المعلم المعلمة"
    )
)
#: Titles that may sit between a title cue and the name: "Frau Dr. Petrović".
_ACADEMIC_TITLES: Final = frozenset({"dr", "prof", "med", "dipl", "ing"})
#: Words before "Frau"/"Herr" that make them the nouns "woman"/"man"/"Lord", not titles.
_TITLE_NEGATORS: Final = frozenset(
    _words(
        "als eine einer einen jede jeder keine kein die der den dem junge jungen alte alten ältere "
        "andere nette freundliche diese dieser welche"
    )
)
_SIGNOFF_CUES: Final[frozenset[tuple[str, ...]]] = frozenset(
    tuple(_fold(c).split())
    for c in (
        "lg", "vg", "mfg", "grüße", "gruß", "liebe grüße", "viele grüße", "herzliche grüße",
        "beste grüße", "danke", "thanks", "thank you", "cheers", "regards", "best regards",
        "signed", "sevgiler", "selamlar", "saygılarımla", "teşekkürler",
    )
)  # fmt: skip
_RELATION_CUES: Final[frozenset[str]] = frozenset(
    _fold(c)
    for c in _words(
        # German
        "Bruder Schwester Freund Freundin Kumpel Cousin Cousine Onkel Tante Chef Chefin Kollege "
        "Kollegin Sohn Tochter Vater Mutter Mama Papa Oma Opa Betreuer Betreuerin Lehrer Lehrerin "
        "Klassenlehrer Klassenlehrerin Deutschlehrer Deutschlehrerin Ausbilder Ausbilderin "
        "Sachbearbeiter Sachbearbeiterin Berater Beraterin Nachbar Nachbarin Mitbewohner "
        "Mitbewohnerin Ansprechpartner Ansprechpartnerin Fallmanager Fallmanagerin Vermieter "
        "Vermieterin Praktikumsbetreuer Praktikumsbetreuerin Kontoinhaber Kontoinhaberin Mentor "
        "Mentorin Trainer Trainerin Sozialarbeiter Sozialarbeiterin Freunde Freundinnen Neffe Nichte "
        # English
        "brother sister friend cousin boss manager teacher mentor caseworker colleague mum mom dad "
        "uncle aunt neighbour neighbor son daughter roommate flatmate landlord landlady supervisor "
        "coach counsellor counselor trainer girlfriend boyfriend "
        # Turkish
        "kardeşim abim ablam arkadaşım kuzenim annem babam ustam hocam öğretmenim öğretmenimiz "
        "hocamız müdür müdürüm müdürümüz amcam teyzem dayım halam eşim sevgilim komşum patronum "
        "şefim yengem eniştem "
        # Arabic
        "أخي أختي صديقي صديقتي زميلي زميلتي أبي أمي عمي خالي مديري مديرتي جاري جارتي ابني ابنتي "
        "ابن بنت أخ أخت "
        # Ukrainian / Russian
        "брат сестра друг подруга мама тато папа вчитель вчителька"
    )
)
#: Last words of multi-word cues: a cheap pre-check before comparing whole cue phrases.
_CUE_LAST_WORDS: Final = frozenset(c[-1] for c in _STRONG_CUES | _SIGNOFF_CUES | _GUARDED_CUES)
#: Words after a name that mark it as a name: Turkish honorifics "Fatma Hanım", "Ahmet Bey",
#: "Çelik ailesi" (the Çelik family).
_POST_CUES: Final = frozenset(_fold(c) for c in _words("Hanım Hanim Bey Hoca Hocam Abla Abi Ailesi Amca Teyze"))
#: Company legal forms: "Hoffmann GmbH" is a firm, not a person.
_COMPANY_FORMS: Final = frozenset(_fold(c) for c in _words("GmbH AG KG OHG UG eV e.V Co Inc Ltd"))
#: Arabic surname particles and Arabic-script prefixes.
_NAME_PARTICLE_RE: Final = re.compile(r"^(?:Al|El|Abu|Abou|Bin|Ben|Ibn|Abd|Abdel|Abdul)[-’'](?=[A-Z])")

_ARABIC_RE: Final = re.compile(r"[\u0600-\u06FF]")


@functools.cache
def _name_set() -> frozenset[str]:
    """Folded and diacritic-free forms of the shipped names, loaded once on first use."""
    names: set[str] = set()
    for line in NAMES_FILE.read_text(encoding="utf-8").splitlines():
        entry = line.strip()
        if not entry or entry.startswith("#"):
            continue
        names.add(_fold(entry))
        names.add(_ascii_fold(entry))
    return frozenset(names)


@functools.lru_cache(maxsize=1024)
def _known_name_forms(known: tuple[str, ...]) -> frozenset[str]:
    """Folded and diacritic-free forms of caller-supplied names, one entry per word."""
    forms: set[str] = set()
    for full in known:
        for part in _WORD_RE.findall(full):
            if len(part) >= 2:
                forms.add(_fold(part))
                forms.add(_ascii_fold(part))
    return frozenset(forms)


def _base(token: str) -> str:
    """Strip suffixes after an apostrophe: "Hüseyin'in", "Omar's"."""
    for apo in ("'", "’"):
        if apo in token:
            return token.split(apo, 1)[0]
    return token


def _in_set(word: str, names: frozenset[str]) -> bool:
    """Is ``word`` (or its German/English genitive without "s") in ``names``?"""
    f = _fold(word)
    if f in names or _ascii_fold(word) in names:
        return True
    if len(f) >= 4 and f.endswith("s"):
        return f[:-1] in names or _ascii_fold(word)[:-1] in names
    return False


def _is_possessive(token: str, names: frozenset[str], known: frozenset[str]) -> bool:
    """Possessive forms: "Ahmed's", "Hüseyin'in", or "Ahmeds" where only "Ahmed" is a name."""
    if _base(token) != token:
        return True
    f = _fold(token)
    return f.endswith("s") and f not in names and f not in known and len(f) >= 4


def _capitalised_or_caseless(token: str) -> bool:
    """First letter upper-case, or a script without case (Arabic)."""
    c = token[0]
    return c.isupper() or not (c.isupper() or c.islower())


def _is_listed_name(token: str) -> bool:
    if not _capitalised_or_caseless(token):
        return False
    word = _base(token)
    names = _name_set()
    if _in_set(word, names):
        return True
    if "-" in word:  # double names "Anna-Lena"; "Anne-Frank-Gesamtschule" has a non-name part
        return all(_in_set(p, names) for p in word.split("-"))
    if _ARABIC_RE.match(word) and word[0] in "وفبل" and len(word) > 3:  # "ومحمد" = "and Mohammed"
        return _fold(word[1:]) in names
    return False


def _blocked(token: str) -> bool:
    """Allowlisted or a function word: never scrub as a name via heuristics."""
    word = _base(token)
    f = _fold(word)
    if f in _ALLOWLIST or f in _STOPWORDS or f in _TITLE_CUES:
        return True
    if "-" in word and any(_fold(p) in _ALLOWLIST for p in word.split("-")):
        return True  # "Dortmund-Eving"
    return len(word) <= 4 and word.isupper() and len(word) > 1  # acronyms: "IHK", "DHL"


def _plausible_cued_name(token: str) -> bool:
    return _capitalised_or_caseless(token) and not _blocked(token)


class _Tok:
    __slots__ = ("end", "fold", "start", "text")

    def __init__(self, m: re.Match[str]) -> None:
        self.start, self.end = m.span()
        self.text = m.group(0)
        self.fold = _fold(self.text)


def _gap(text: str, a: _Tok, b: _Tok) -> str:
    return text[a.end : b.start]


_CUE_GAP_RE: Final = re.compile(r"^\s*[:,.\-–—]?\s*$")
_SPACE_GAP_RE: Final = re.compile(r"^[ \t]+$")


def _find_names(text: str, known: frozenset[str]) -> list[tuple[int, int]]:
    """Return spans of name tokens in ``text`` (placeholders already in place)."""
    toks = [_Tok(m) for m in _WORD_RE.finditer(text)]
    # Placeholders like "[PHONE]" are barriers, not candidates.
    is_placeholder = [
        text[t.start - 1 : t.start] == "[" and text[t.end : t.end + 1] == "]" and t.text.isupper() for t in toks
    ]
    found: set[int] = set()
    n = len(toks)

    # (1) known names, any case, possessive forms included; (2) the shipped list.
    for i, t in enumerate(toks):
        if is_placeholder[i]:
            continue
        if known:
            word = _base(t.text)
            parts = word.split("-") if "-" in word else [word]
            if any(_in_set(p, known) for p in parts):
                found.add(i)
                continue
        if _is_listed_name(t.text) and not _blocked(t.text):
            nxt = toks[i + 1].fold if i + 1 < n else ""
            if nxt not in _COMPANY_FORMS:
                found.add(i)

    # (3) cues.
    def candidate_after(i: int, gap_re: re.Pattern[str]) -> int | None:
        """Index of the token right after token ``i`` if only ``gap_re`` separates them."""
        j = i + 1
        while j < n and toks[j].fold in _ACADEMIC_TITLES and _CUE_GAP_RE.match(_gap(text, toks[j - 1], toks[j])):
            j += 1  # skip "Dr." in "Frau Dr. Petrović"
        if j >= n or is_placeholder[j] or not gap_re.match(_gap(text, toks[j - 1], toks[j])):
            return None
        return j

    def ends_cue(i: int, cues: frozenset[tuple[str, ...]]) -> bool:
        for length in (1, 2, 3):
            if i - length + 1 < 0:
                break
            seq = tuple(toks[k].fold for k in range(i - length + 1, i + 1))
            if seq in cues and all(
                _SPACE_GAP_RE.match(_gap(text, toks[k - 1], toks[k])) for k in range(i - length + 2, i + 1)
            ):
                return True
        return False

    for i, t in enumerate(toks):
        if is_placeholder[i]:
            continue
        j: int | None = None
        cue_end = t.fold in _CUE_LAST_WORDS
        if cue_end and (ends_cue(i, _STRONG_CUES) or ends_cue(i, _SIGNOFF_CUES)):
            if t.fold == "я" and t.text != "Я":  # only the capital, sentence-initial "Я"
                continue
            j = candidate_after(i, _CUE_GAP_RE)
            if j is None:
                continue
            cand = toks[j].text
            if t.fold in ("heiße", "heisse", "heiß") and any(tok.fold == "willkommen" for tok in toks[j + 1 : j + 4]):
                continue  # "ich heiße euch Alle willkommen": "I welcome", not "my name is"
            # "ich heiße jana": after an unambiguous cue a lower-case listed name counts too.
            if _plausible_cued_name(cand) or (cand.islower() and _in_set(_base(cand), _name_set())):
                found.add(j)
        elif cue_end and ends_cue(i, _GUARDED_CUES):
            j = candidate_after(i, _CUE_GAP_RE)
            if j is not None and _plausible_cued_name(toks[j].text) and not _looks_like_german_noun(toks[j].text):
                found.add(j)
        elif t.fold in _TITLE_CUES:
            prev = toks[i - 1].fold if i > 0 else ""
            if t.fold in ("frau", "herr") and prev in _TITLE_NEGATORS:
                continue  # "Als Frau Kopftuch zu tragen": the noun "woman"
            if t.fold in ("frau", "herr", "herrn") and not t.text[0].isupper():
                continue
            j = candidate_after(i, _CUE_GAP_RE)
            if j is None or not _plausible_cued_name(toks[j].text):
                continue
            cand = toks[j].text
            if _is_listed_name(cand) or not _looks_like_german_noun(cand) or _NAME_PARTICLE_RE.match(cand):
                found.add(j)
        elif t.fold in _RELATION_CUES:
            j = candidate_after(i, _SPACE_GAP_RE)
            if j is None or toks[j].fold in _TITLE_CUES or (toks[j].fold,) in _STRONG_CUES:
                continue  # "mein Betreuer Herr Öztürk", "أخت اسمها": the next cue handles it
            cand = toks[j].text
            # Without letter case (Arabic) "my father works" looks like "my father Yusuf": only
            # listed names count there, hence the isupper() test on the heuristic branch.
            if _is_listed_name(cand) or (
                cand[0].isupper() and _plausible_cued_name(cand) and not _looks_like_german_noun(cand)
            ):
                found.add(j)
        elif t.fold in _POST_CUES and i > 0:
            prev_tok = toks[i - 1]
            if (
                not is_placeholder[i - 1]
                and _SPACE_GAP_RE.match(_gap(text, prev_tok, t))
                and prev_tok.text[0].isupper()
                and not _blocked(prev_tok.text)
            ):
                found.add(i - 1)

    # (4) a capitalised word (or an Arabic "al-" word) right after a name is a surname:
    # "Ayşe Yılmaz", "Mohammed Al-Hassan", "محمد الحسن". Up to two, left to right.
    # Not after a possessive: "Ahmeds Schwester", "Hüseyin'in telefonu", "Omar's Chef".
    names = _name_set()
    for i in sorted(found):
        if _is_possessive(toks[i].text, names, known):
            continue
        k = i
        for _ in range(2):
            j = k + 1
            if j >= n or j in found or is_placeholder[j] or not _SPACE_GAP_RE.match(_gap(text, toks[k], toks[j])):
                break
            cand = toks[j].text
            if (
                toks[j].fold in _POST_CUES
                or toks[j].fold in _COMPANY_FORMS
                or toks[j].fold in _RELATION_CUES
                or _blocked(cand)
            ):
                break
            arabic = bool(_ARABIC_RE.match(cand))
            if arabic and not (cand.startswith("ال") and len(cand) >= 4):
                break
            if not arabic and not (cand[0].isupper() and not cand.isupper()):
                break
            if not arabic and _looks_like_german_noun(cand) and not _is_listed_name(cand):
                break
            found.add(j)
            k = j

    return [(toks[i].start, toks[i].end) for i in found]


# --------------------------------------------------------------------------- public API
def scrub_text(text: str, *, known_names: Iterable[str] = ()) -> ScrubResult:
    """Replace personal data in ``text`` with typed placeholders such as ``[PHONE]``.

    ``known_names`` are names the respondent typed elsewhere (e.g. a contact field); they are
    removed wherever they occur, in any case and with possessive endings ("Ahmeds", "Ahmed'in").

    The function never raises on arbitrary text and never calls the network.
    """
    rep = _Replacer()
    out = text

    out = rep.sub(_EMAIL_OBFUSCATED_RE, EMAIL, out)
    out = _URL_RE.sub(lambda m: _strip_url(m, rep), out)
    out = rep.sub(_EMAIL_RE, EMAIL, out)
    out = rep.sub(_HANDLE_RE, HANDLE, out)
    out = rep.sub(_HANDLE_CUED_RE, HANDLE, out, accept=_accept_cued_handle, group="pii")

    out = _scrub_ibans(out, rep)

    out = rep.sub(_DATE_TEXT_DMY_RE, DATE, out, accept=_accept_text_date)
    out = rep.sub(_DATE_TEXT_MDY_RE, DATE, out, accept=_accept_text_date)
    out = rep.sub(_DATE_ISO_RE, DATE, out, accept=_accept_numeric_date)
    out = rep.sub(_DATE_NUMERIC_RE, DATE, out, accept=_accept_numeric_date)

    out = rep.sub(_ADDRESS_DE_TWO_WORD_RE, ADDRESS, out, accept=_house_number_ok, group="pii")
    out = rep.sub(_ADDRESS_DE_PREP_RE, ADDRESS, out, accept=_accept_prep_address, group="pii")
    out = rep.sub(_ADDRESS_DE_ONE_WORD_RE, ADDRESS, out, accept=_house_number_ok, group="pii")
    out = rep.sub(_ADDRESS_EN_RE, ADDRESS, out, group="pii")
    out = rep.sub(_ADDRESS_TR_RE, ADDRESS, out, group="pii")
    out = rep.sub(_ADDRESS_AR_RE, ADDRESS, out, group="pii")

    out = rep.sub(_POSTCODE_CUE_RE, POSTCODE, out, group="pii")
    out = rep.sub(_POSTCODE_CONTEXT_RE, POSTCODE, out, accept=_accept_postcode, group="pii")

    out = _scrub_phones(out, rep)

    out = rep.sub(_ID_GROUPED_RE, ID, out)
    out = rep.sub(_ID_ALNUM_RE, ID, out, accept=_accept_alnum_id)
    out = rep.sub(_ID_CUED_RE, ID, out, accept=_accept_cued_id, group="pii")
    out = rep.sub(_ID_DIGITS_RE, ID, out)

    known_tuple = tuple(known_names)  # may be a generator
    known = _known_name_forms(known_tuple) if known_tuple else frozenset()
    out = rep.replace_spans(out, [(a, b, NAME) for a, b in _find_names(out, known)])

    return ScrubResult(text=out, hits=MappingProxyType(dict(rep.counts)))
