"""Hostile input to every form of the platform: respondents', staff's, researchers' and the sign-in forms.

Hypothesis sends random and hostile POSTs (HTML and JavaScript in text fields, SQL-looking strings, huge and
malformed numbers, unknown option values, repeated and unexpected fields, files that are not what they claim,
bytes that are not UTF-8, odd charsets) to every URL that accepts a POST, and each answer must:

- never be a server error (the test client re-raises any exception a view lets through);
- when the input is refused, say so on a page of its own (an error summary or an error page, never a blank 400);
- leave every stored record as it was unless the input was accepted (a redirect or a download): row counts
  and content hashes of every table are compared before and after (sessions and sign-in attempt counters aside);
- show whatever was typed escaped, never as markup.

Targeted tests add what random data rarely hits: missing CSRF tokens, bodies over the upload limit, too many
fields, steps posted out of order, and a `<script>` typed into each echoed text field.

The list of fuzzed URLs is checked against the URLconf: a new POST view without a fuzz target fails
``test_every_post_url_is_fuzzed``. The number of requests sent is printed at the end of the module
(``fuzz: N hostile requests``) and recorded in docs/security.md.
"""

from __future__ import annotations

import copy
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote, urlencode, urljoin, urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django_otp.plugins.otp_totp.models import TOTPDevice
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from survey import services
from survey.models import Campaign, Membership, Organisation, SurveyVersion
from tests.support.definitions import mini_definition
from tests.support.journey import start
from tests.support.people import PASSWORD, member

# Examples per fuzz target (half as many for the GET filter forms): the module takes about a minute on the
# 2-core machine while others use it too.
EXAMPLES_PER_TARGET = 50

# Tables whose changes are the point of a refused request, not a stored record: the session (the wizard's working
# copy, the CSRF token, the language) and django-axes' failed sign-in counters.
UNWATCHED_TABLES = {"django_session", "django_migrations"}
UNWATCHED_PREFIXES = ("axes_",)
# Likewise django-otp's count of wrong codes on a device (its own brute-force throttle).
UNWATCHED_COLUMNS = {"otp_totp_totpdevice": ("throttling_failure_count", "throttling_failure_timestamp")}

# Typed into text fields: must come back escaped or not at all.
SCRIPT_PAYLOADS = (
    '<script>alert("stimmen-xss")</script>',
    '"><script>alert(1)</script><input value="',
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)>",
)
HOSTILE_TEXT = (
    *SCRIPT_PAYLOADS,
    "'; DROP TABLE survey_response; --",
    "' OR '1'='1' --",
    "1; SELECT pg_sleep(10)--",
    "\\'; SELECT * FROM auth_user WHERE ''='",
    "{{ settings.SECRET_KEY }}",
    "{% debug %}",
    "%s%s%s%n",
    "${7*7}",
    "../../../../etc/passwd",
    "nul\x00byte",
    "\x00",
    "\u202egnp.exe",
    "😀" * 50,
    "ä" * 300,
    "A" * 20_000,
    "",
    " ",
    "-1",
    "0",
    "99999999999999999999999999999999999999",
    "-99999999999999999999",
    "1e309",
    "NaN",
    "Infinity",
    "0x10",
    "١٢",
    "12.5",
    "2026-02-30T25:61",
    "0000-00-00",
    "true",
    "null",
    "[]",
    "{}",
    "on",
)
HOSTILE_FILES = (
    b"",
    b"\xff\xfe\x00not utf-8\x80\x81",
    b"slug: x\ntitle: !!python/object/apply:os.system ['echo pwned']\n",
    # "Billion laughs" in YAML and XML: aliases and entities that expand to a huge document.
    b"a: &a ['lol','lol','lol','lol','lol','lol','lol','lol','lol']\n"
    + b"".join(f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 9)}]\n".encode() for i in range(8)),
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">'
    b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;">]><document><survey>&lol3;</survey></document>',
    b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><document>&xxe;</document>',
    b"[" * 50_000 + b"]" * 50_000,
    b'{"slug": 1e999999, "steps": [' + b"{}," * 1000 + b"{}]}",
    b"<script>alert(1)</script>",
)
FILE_NAMES = ("survey.yaml", "survey.json", "survey.lss", "../../etc/passwd.yaml", "<script>.yml", "survey.exe", "x")
CHARSETS = ("", "; charset=utf-8", "; charset=utf-16", "; charset=latin-1", "; charset=no-such-charset")

CASES: Counter[str] = Counter()


# --------------------------------------------------------------------------------------------------
# The world the forms act on
# --------------------------------------------------------------------------------------------------


@dataclass
class World:
    organisation: Organisation
    version: SurveyVersion
    campaign: Campaign
    admin: Any
    colleague: Membership
    two_factor_user: Any

    @property
    def url_values(self) -> dict[str, Any]:
        """A value for every URL parameter name the URLconf uses."""
        return {
            "org": self.organisation.slug,
            "campaign": self.campaign.slug,
            "campaign_id": self.campaign.pk,
            "version_id": self.version.pk,
            "membership_id": self.colleague.pk,
            "step": "status_step",
            "question": "status",
            "theme": "bildung",
            "job": 1,
        }


@pytest.fixture
def world(db, settings, organisation) -> World:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.LANGUAGE_CODE = "en"
    # Jobs started from the forms run in-process, never queued to a broker that no worker here reads.
    from worker.celery import app

    eager = app.conf.task_always_eager
    app.conf.task_always_eager = True
    data = mini_definition()
    data["steps"][0]["questions"][0]["theme"] = "bildung"
    version, _created = services.survey_version_load(data=data, organisation=organisation)
    campaign = services.campaign_open(survey_version=version, slug="mini", k=5)
    admin = member(organisation, "anna-admin", Membership.Role.ADMIN)
    colleague_user = member(organisation, "rita-research", Membership.Role.RESEARCHER)
    two_factor_user = member(organisation, "tom-two-factor", Membership.Role.STAFF)
    TOTPDevice.objects.create(user=two_factor_user, name="authenticator", confirmed=True)
    yield World(
        organisation=organisation,
        version=version,
        campaign=campaign,
        admin=admin,
        colleague=Membership.objects.get(user=colleague_user),
        two_factor_user=two_factor_user,
    )
    app.conf.task_always_eager = eager


@pytest.fixture(scope="module", autouse=True)
def report_cases(pytestconfig) -> Iterator[None]:
    yield
    reporter = pytestconfig.pluginmanager.get_plugin("terminalreporter")
    capture = pytestconfig.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None and CASES:
        parts = ", ".join(f"{name} {count}" for name, count in sorted(CASES.items()))
        with capture.global_and_fixture_disabled():
            reporter.write_line(f"\nfuzz: {sum(CASES.values())} hostile requests ({parts})")


# --------------------------------------------------------------------------------------------------
# Fuzz targets: every URL that accepts a POST
# --------------------------------------------------------------------------------------------------


def respondent(world: World) -> Client:
    """A respondent who has started the survey (a draft in the session)."""
    client = Client()
    assert start(client, world.campaign).status_code == 302
    return client


def visitor(world: World) -> Client:
    return Client()


def signed_in(world: World) -> Client:
    client = Client()
    client.force_login(world.admin)
    return client


def awaiting_code(world: World) -> Client:
    """Past the password step of a user with two-factor authentication, asked for the code."""
    client = Client()
    response = client.post(reverse("login"), {"username": world.two_factor_user.username, "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("login_code"), response
    return client


@dataclass(frozen=True)
class Target:
    """A POST URL, who sends to it, and where its form is shown (fields and option values are read from there)."""

    name: str
    client: Callable[[World], Client]
    form_page: str | None = None  # URL name of the page with the form; None: the target itself
    form_action: str | None = None  # URL name the form posts to, when not the target (the wizard's entry URL)
    has_form: bool = True  # False: the view takes POST but shows no form (it must ignore what is sent)
    page_kwargs: dict[str, str] = field(default_factory=dict)
    # Log in again before every request: the request may end the session (sign out, sign in).
    fresh_client: bool = False


TARGETS = (
    Target("survey:start", visitor),
    Target("survey:resume", visitor),
    Target("survey:step", respondent),
    Target("survey:wizard", respondent, form_page="survey:step", form_action="survey:step"),
    Target("survey:later", respondent, has_form=False),
    Target("survey:thanks", respondent, has_form=False),
    Target("survey:stopped", visitor, has_form=False),
    Target("staff:survey_upload", signed_in),
    Target("staff:limesurvey_import", signed_in),
    Target("staff:preview", signed_in),
    Target("staff:campaign_create", signed_in),
    Target("staff:campaign_edit", signed_in),
    Target("staff:campaign_status", signed_in, form_page="staff:campaign"),
    Target("staff:invites", signed_in),
    Target("staff:jobs", signed_in),
    Target("staff:member_add", signed_in),
    Target("staff:member_role", signed_in, form_page="staff:members"),
    Target("staff:member_remove", signed_in),
    Target("analysis:aggregate", signed_in, form_page="analysis:overview"),
    Target("analysis:export_create", signed_in, form_page="analysis:exports"),
    Target("account_home", signed_in, has_form=False),
    Target("login", visitor, fresh_client=True),
    Target("login_code", awaiting_code, fresh_client=True),
    Target("logout", signed_in, form_page="account_home", fresh_client=True),
    Target("password_change", signed_in, fresh_client=True),
    Target("two_factor", signed_in, fresh_client=True),
)
# Django's own admin site is not fuzzed: no model is registered on it, and its sign-in form is Django's own.
NOT_FUZZED_NAMESPACES = ("admin",)


def url_for(world: World, name: str) -> str:
    """The path of a URL name, its parameters filled from the world."""
    route = _routes()[name]
    missing = [parameter for parameter in route if parameter not in world.url_values]
    assert not missing, f"{name} takes {missing}: give World.url_values a value for it"
    return reverse(name, kwargs={parameter: world.url_values[parameter] for parameter in route})


def _routes() -> dict[str, list[str]]:
    """Every named URL of the project and the names of its parameters."""
    routes: dict[str, list[str]] = {}

    def walk(patterns: list, namespace: str, parameters: list[str]) -> None:
        for pattern in patterns:
            own = list(pattern.pattern.converters) if hasattr(pattern.pattern, "converters") else []
            if isinstance(pattern, URLResolver):
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                walk(pattern.url_patterns, inner, parameters + own)
            elif isinstance(pattern, URLPattern) and pattern.name:
                routes[f"{namespace}{pattern.name}"] = parameters + own

    walk(get_resolver().url_patterns, "", [])
    return routes


# --------------------------------------------------------------------------------------------------
# Reading a form's fields from its page
# --------------------------------------------------------------------------------------------------


@dataclass
class FormField:
    kind: str  # "file", "hidden", "text", "choice", ...
    values: set[str] = field(default_factory=set)  # option values, a hidden input's value, a button's value


class FormParser(HTMLParser):
    """The POST forms of a page: their action and, per field name, its kind and the values the page offers."""

    def __init__(self, page_path: str) -> None:
        super().__init__()
        self.page_path = page_path
        self.forms: list[tuple[str, str, dict[str, FormField]]] = []  # (id, action, fields)
        self.open_form: int | None = None
        self.select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {key: value or "" for key, value in attrs}
        if tag == "form":
            if attributes.get("method", "get").lower() == "post":
                action = urlsplit(urljoin(self.page_path, attributes.get("action") or self.page_path)).path
                self.forms.append((attributes.get("id", ""), action, {}))
                self.open_form = len(self.forms) - 1
            return
        fields = self._fields_for(attributes.get("form"))
        name = attributes.get("name")
        if fields is None:
            return
        if tag == "option" and self.select:
            fields[self.select].values.add(attributes.get("value", ""))
        if not name or tag not in {"input", "select", "textarea", "button"}:
            return
        kind = {"select": "choice", "textarea": "text"}.get(tag) or attributes.get("type", "text")
        if kind in {"radio", "checkbox"}:
            kind = "choice"
        entry = fields.setdefault(name, FormField(kind=kind))
        if "value" in attributes:
            entry.values.add(attributes["value"])
        if tag == "select":
            self.select = name

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.open_form = None
        elif tag == "select":
            self.select = None

    def _fields_for(self, form_id: str | None) -> dict[str, FormField] | None:
        if form_id:
            return next((fields for id_, _action, fields in self.forms if id_ == form_id), None)
        return self.forms[self.open_form][2] if self.open_form is not None else None


def form_fields(world: World, target: Target, client: Client) -> dict[str, FormField]:
    """The fields of the target's form as its page renders them (so a new field is fuzzed without a test change)."""
    if not target.has_form:
        return {}
    page_path = url_for(world, target.form_page or target.name)
    action = url_for(world, target.form_action or target.name)
    page = client.get(page_path)
    assert page.status_code == 200, f"{target.name}: its form page {page_path} answers {page.status_code}"
    parser = FormParser(page_path)
    parser.feed(page.content.decode())
    fields: dict[str, FormField] = {}
    for _id, form_action, form in parser.forms:
        if form_action == action:
            fields.update(form)
    assert fields, f"{target.name}: no form posting to {action} on {page_path}"
    fields.pop("csrfmiddlewaretoken", None)
    return fields


# --------------------------------------------------------------------------------------------------
# Snapshots and checks
# --------------------------------------------------------------------------------------------------


def watched_tables() -> list[str]:
    return sorted(
        table
        for table in connection.introspection.table_names()
        if table not in UNWATCHED_TABLES and not table.startswith(UNWATCHED_PREFIXES)
    )


def fingerprint(tables: list[str]) -> dict[str, tuple[int, str]]:
    """Row count and a hash of every row's content, per table."""
    quote_name = connection.ops.quote_name

    def row(table: str) -> str:
        """A row as JSON text, without the columns that are counters rather than content."""
        dropped = "".join(f" - '{column}'" for column in UNWATCHED_COLUMNS.get(table, ()))
        return f"md5((to_jsonb(t){dropped})::text)"

    query = " UNION ALL ".join(
        f"SELECT %s, count(*), coalesce(md5(string_agg({row(table)}, '' ORDER BY {row(table)})), '') "
        f"FROM {quote_name(table)} t"
        for table in tables
    )
    with connection.cursor() as cursor:
        cursor.execute(query, tables)
        return {table: (count, digest) for table, count, digest in cursor.fetchall()}


def changed_tables(before: dict, after: dict) -> list[str]:
    return [table for table in before if before[table] != after[table]]


def accepted(response: Any) -> bool:
    """Whether the request was taken as valid: it moved on (a redirect), produced a file, or showed a result page
    without an error summary (a new member's one-time password). Refused forms answer 4xx or show the summary."""
    if response.status_code in (301, 302, 303) or "attachment" in response.get("Content-Disposition", ""):
        return True
    return response.status_code == 200 and 'role="alert"' not in response.content.decode(errors="replace")


def says_what_went_wrong(response: Any) -> bool:
    """A page of the site (not a bare status) whose heading and text tell the person what happened."""
    if not response.get("Content-Type", "").startswith("text/html"):
        return False
    html = response.content.decode(errors="replace")
    return "<html" in html and bool(re.search(r"<h1[^>]*>\s*\S", html)) and bool(re.search(r"<p[^>]*>\s*\S", html))


def assert_nothing_executable(response: Any, sent: list[str]) -> None:
    if not response.get("Content-Type", "").startswith("text/html"):
        return
    html = response.content.decode(errors="replace")
    for payload in SCRIPT_PAYLOADS:
        if any(payload in value for value in sent):
            assert payload not in html, f"typed markup came back unescaped: {payload!r}"


def check_answer(target: Target, response: Any, before: dict, after: dict, sent: list[str]) -> None:
    status = response.status_code
    assert status < 500, f"{target.name}: {status}"
    assert status != 405, f"{target.name} no longer takes POST: remove it from TARGETS"
    assert_nothing_executable(response, sent)
    if accepted(response):
        return
    assert status in (200, 400, 403, 404, 409, 429), f"{target.name}: unexpected {status}"
    if status >= 400:
        assert says_what_went_wrong(response), f"{target.name}: a {status} without a message: {response.content[:300]}"
    assert not changed_tables(before, after), (
        f"{target.name}: refused ({status}) but changed {changed_tables(before, after)}"
    )


def send(client: Client, path: str, request: dict[str, Any]) -> Any:
    extra = {"REMOTE_ADDR": request["address"]}
    if request["mode"] == "multipart":
        data: dict[str, Any] = {}
        for name, value in request["fields"].items():
            if isinstance(value, tuple):
                data[name] = SimpleUploadedFile(value[0], value[1])
            else:
                data[name] = value
        return client.post(path, data, **extra)
    if request["mode"] == "urlencoded":
        pairs: list[tuple[str, str]] = []
        for name, value in request["fields"].items():
            if isinstance(value, tuple):  # a file's content, sent as text
                pairs.append((name, value[1].decode(errors="replace")))
            else:
                pairs.extend((name, item) for item in value)
        body = urlencode(pairs).encode()
    else:
        # Raw bytes: field names as the form has them, values that may not be UTF-8 at all.
        body = b"&".join(quote(name).encode() + b"=" + value for name, value in request["raw"])
    # ``generic`` sends the bytes as they are, whatever charset the header claims (``post`` would re-encode them).
    content_type = "application/x-www-form-urlencoded" + request["charset"]
    return client.generic("POST", path, body, content_type=content_type, **extra)


def sent_texts(request: dict[str, Any]) -> list[str]:
    return [item for value in request["fields"].values() if isinstance(value, list) for item in value]


# --------------------------------------------------------------------------------------------------
# Strategies
# --------------------------------------------------------------------------------------------------


def hostile_value(offered: set[str]) -> st.SearchStrategy[str]:
    choices = [
        st.sampled_from(HOSTILE_TEXT),
        st.integers(min_value=-(10**40), max_value=10**40).map(str),
        st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=30),
    ]
    if offered:
        # What the page offers, so that valid answers (and valid steps) are among the requests too.
        choices.append(st.sampled_from(sorted(offered)))
    return st.one_of(*choices)


def field_value(form_field: FormField) -> st.SearchStrategy[Any]:
    if form_field.kind == "file":
        return st.tuples(
            st.sampled_from(FILE_NAMES), st.one_of(st.sampled_from(HOSTILE_FILES), st.binary(max_size=200))
        )
    single = hostile_value(form_field.values)
    return st.one_of(single.map(lambda value: [value]), st.lists(single, min_size=2, max_size=3))


def hostile_requests(fields: dict[str, FormField]) -> st.SearchStrategy[dict[str, Any]]:
    every = {**fields, "unexpected_field": FormField(kind="text"), "csrfmiddlewaretoken": FormField(kind="hidden")}
    names = sorted(every)
    return st.fixed_dictionaries(
        {
            "mode": st.sampled_from(("multipart", "multipart", "urlencoded", "raw")),
            "fields": st.fixed_dictionaries({}, optional={name: field_value(every[name]) for name in names}),
            "raw": st.lists(st.tuples(st.sampled_from(names), st.binary(max_size=40)), max_size=6),
            "charset": st.sampled_from(CHARSETS),
            "address": st.tuples(*[st.integers(0, 255)] * 3).map(lambda parts: "10.{}.{}.{}".format(*parts)),
        }
    )


# --------------------------------------------------------------------------------------------------
# The tests
# --------------------------------------------------------------------------------------------------


def post_accepting_urls(world: World) -> set[str]:
    """Every named URL (outside Django's admin) that answers a POST with something else than 405."""
    clients = {"respondent": respondent(world), "staff": signed_in(world)}
    names = set()
    for name in _routes():
        if ":" in name and name.split(":")[0] in NOT_FUZZED_NAMESPACES:
            continue
        client = clients["respondent" if name.startswith("survey:") else "staff"]
        client.raise_request_exception = False
        cookies = copy.deepcopy(client.cookies)
        with transaction.atomic():
            response = client.post(url_for(world, name), {})
            transaction.set_rollback(True)
        # The request is undone, sessions included: so is anything it did to the cookies (signing out).
        client.cookies = cookies
        if response.status_code != 405:
            names.add(name)
    return names


def test_every_post_url_is_fuzzed(world):
    """The fuzz targets are exactly the URLs that accept a POST: a new form cannot be forgotten."""
    assert post_accepting_urls(world) == {target.name for target in TARGETS}


@pytest.mark.parametrize("target", TARGETS, ids=lambda target: target.name)
def test_hostile_posts(world, target):
    """Random and hostile POSTs: no server error, a message when refused, no stored change unless accepted, and
    typed markup never comes back unescaped."""
    client = target.client(world)
    fields = form_fields(world, target, client)
    path = url_for(world, target.name)
    tables = watched_tables()

    @settings(
        max_examples=EXAMPLES_PER_TARGET,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
    )
    @given(request=hostile_requests(fields))
    def send_hostile(request: dict[str, Any]) -> None:
        CASES[target.name] += 1
        with transaction.atomic():
            sender = target.client(world) if target.fresh_client else client
            before = fingerprint(tables)
            response = send(sender, path, request)
            after = fingerprint(tables)
            transaction.set_rollback(True)
        check_answer(target, response, before, after, sent_texts(request))

    send_hostile()


def rendered_form_data(world: World, target: Target, client: Client) -> dict[str, str]:
    """The form as the page renders it, with the first offered value of every field (files left out)."""
    fields = form_fields(world, target, client)
    return {
        name: sorted(f.values)[0] if f.values else "x"
        for name, f in fields.items()
        # Of the buttons, only a form's own action: "Back", "Continue later" and the language buttons are not it.
        if f.kind != "file" and (f.kind != "submit" or name == "action")
    }


@pytest.mark.parametrize("target", TARGETS, ids=lambda target: target.name)
def test_a_post_without_its_csrf_token_is_refused_and_changes_nothing(world, target):
    """Sent without the form's token (as from another site): the 'please reload' page, and nothing stored."""
    client = target.client(world)
    data = rendered_form_data(world, target, client)
    client.handler.enforce_csrf_checks = True
    CASES["missing CSRF token"] += 1
    tables = watched_tables()
    before = fingerprint(tables)
    response = client.post(url_for(world, target.name), data)
    assert response.status_code == 403
    assert "Please reload the page" in response.content.decode()
    assert says_what_went_wrong(response)
    assert not changed_tables(before, fingerprint(tables))


@pytest.mark.parametrize("target", TARGETS, ids=lambda target: target.name)
def test_oversized_bodies_and_too_many_fields_are_refused(world, target):
    """A body over the upload limit (2.5 MB) and a request with thousands of fields get the 400 page and store
    nothing, wherever the view reads its form. (A button without fields, like "Remove", never reads the body.)"""
    client = target.client(world)
    path = url_for(world, target.name)
    tables = watched_tables()
    form = "application/x-www-form-urlencoded"
    for case, body in (
        ("oversized body", "answer=" + "A" * 3_000_000),
        ("too many fields", "&".join(f"f{n}=1" for n in range(1_500))),
    ):
        CASES[case] += 1
        with transaction.atomic():
            before = fingerprint(tables)
            response = client.post(path, body, content_type=form)
            after = fingerprint(tables)
            transaction.set_rollback(True)
        if response.status_code == 400:
            assert says_what_went_wrong(response), f"{target.name}: {case} without a message"
            assert not changed_tables(before, after), f"{target.name}: {case} changed {changed_tables(before, after)}"
        else:
            reads_fields = any(f.kind != "submit" for f in form_fields(world, target, client).values())
            assert not reads_fields, f"{target.name}: {case} answered {response.status_code}, not 400"
            assert accepted(response) or response.status_code == 200, f"{target.name}: {response.status_code}"


ECHOED_TEXT_FIELDS = {
    # URL name -> (the field typed into, other fields making the form invalid so that it comes back)
    "login": ("username", {"password": "wrong"}),
    "staff:member_add": ("username", {}),
    "staff:campaign_create": ("title", {"slug": "not a slug!"}),
    "staff:campaign_edit": ("title", {"min_age": "many"}),
    "survey:step": ("status_step-status_other", {"status_step-status": "other"}),
}


@pytest.mark.parametrize("payload", SCRIPT_PAYLOADS)
@pytest.mark.parametrize("name", sorted(ECHOED_TEXT_FIELDS))
def test_script_typed_into_a_text_field_comes_back_escaped(world, name, payload):
    """Markup typed into a text field of a refused form is shown back as text, never as markup."""
    target = next(target for target in TARGETS if target.name == name)
    client = target.client(world)
    typed_into, invalid = ECHOED_TEXT_FIELDS[name]
    data = rendered_form_data(world, target, client) | invalid | {typed_into: payload}
    if name == "survey:step":
        # Valid "other" text, but the questions that only now appear make the page come back once more.
        data["status_step-shown"] = ""
    CASES["script in a text field"] += 1
    response = client.post(url_for(world, name), data)
    html = response.content.decode()
    assert response.status_code in (200, 400), response.status_code
    assert payload not in html
    escaped = payload.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    assert escaped in html, f"{name}: the typed text is not shown back"


def test_steps_posted_out_of_order_are_refused_and_change_nothing(world):
    """A later step before the first one, a jump to an unreachable step, an unknown step: 400, draft unchanged."""
    client = respondent(world)
    campaign = world.campaign
    prefix = f"survey_wizard_{campaign.slug}"
    step_url = f"/s/{campaign.slug}/q/status_step/"
    tables = watched_tables()
    before = fingerprint(tables)
    attempts = [
        (f"/s/{campaign.slug}/q/about_step/", {f"{prefix}-current_step": "about_step", "about_step-age_group": "x"}),
        (step_url, {f"{prefix}-current_step": "status_step", "wizard_goto_step": "about_step"}),
        (step_url, {f"{prefix}-current_step": "no-such-step"}),
        (step_url, {f"{prefix}-current_step": "<script>alert(1)</script>"}),
        (step_url, {}),
    ]
    for path, data in attempts:
        CASES["wrong step order"] += 1
        response = client.post(path, data)
        assert response.status_code == 400, (path, data, response.status_code)
        assert "Something did not fit" in response.content.decode()
        assert "<script>alert(1)" not in response.content.decode()
    assert not changed_tables(before, fingerprint(tables))


@pytest.mark.parametrize(
    "name, data",
    [
        ("staff:campaign_status", {"action": "explode"}),
        ("staff:jobs", {"action": "<script>alert(1)</script>"}),
        ("analysis:export_create", {"what": "everything", "format": "exe"}),
    ],
)
def test_an_unknown_button_value_gets_the_error_page(world, name, data):
    """Regression (found by the fuzz): an action no button offers was answered with an empty 400."""
    client = signed_in(world)
    tables = watched_tables()
    before = fingerprint(tables)
    response = client.post(url_for(world, name), data)
    assert response.status_code == 400
    assert says_what_went_wrong(response), response.content[:300]
    assert "<script>alert(1)" not in response.content.decode()
    assert not changed_tables(before, fingerprint(tables))


def test_the_table_snapshot_sees_a_changed_record(world):
    """The before/after comparison is real: one changed title, one new row are both noticed."""
    tables = watched_tables()
    before = fingerprint(tables)
    Campaign.objects.filter(pk=world.campaign.pk).update(title="Changed")
    assert changed_tables(before, fingerprint(tables)) == ["survey_campaign"]
    Organisation.objects.create(slug="essen", name="Essen")
    assert "survey_organisation" in changed_tables(before, fingerprint(tables))


# The filter forms use GET: every field of their Form class, and the page's own switches, get hostile values too.
GET_FORMS = {
    "analysis:question": ("breakdown",),
    "analysis:crosstab": ("question", "breakdown"),
    "analysis:compare": ("other",),
    "staff:audit": ("action", "page"),
    "staff:preview": ("language", "step"),
    "survey:start": ("invite", "lang"),
    "survey:resume": ("code", "lang"),
}


@pytest.mark.parametrize("name", sorted(GET_FORMS))
def test_hostile_filter_queries(world, name):
    """Hostile values in the query of every GET form: no server error, nothing stored, nothing executable."""
    client = respondent(world) if name.startswith("survey:") else signed_in(world)
    path = url_for(world, name)
    tables = watched_tables()
    target = Target(name, signed_in)

    @settings(max_examples=EXAMPLES_PER_TARGET // 2, deadline=None, database=None)
    @given(query=st.fixed_dictionaries({}, optional={key: hostile_value(set()) for key in GET_FORMS[name]}))
    def send_query(query: dict[str, str]) -> None:
        CASES[f"{name} (query)"] += 1
        with transaction.atomic():
            before = fingerprint(tables)
            response = client.get(path, query)
            after = fingerprint(tables)
            transaction.set_rollback(True)
        assert response.status_code < 500
        assert_nothing_executable(response, list(query.values()))
        if not accepted(response):
            check_answer(target, response, before, after, list(query.values()))

    send_query()
