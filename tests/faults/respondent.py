"""One respondent walking the demo survey over real HTTP, a step at a time, so a test can break things between steps.

Like a phone without JavaScript (and like ``bench/http_load.py``, whose form reading it shares): GET a step,
read the CSRF token, the wizard's current step and the ``shown`` field, POST the answers, post again when more
questions appeared. A step counts as *confirmed* once the server answered its POST with a redirect: that is the
moment the respondent sees the next page, and those answers must never be lost.
"""

from __future__ import annotations

import http.client
import random
import urllib.parse
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any

from bench.http_load import _CSRF, _step_form
from survey.definition import SurveyDefinition

REQUEST_TIMEOUT = 60


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode(errors="replace")

    @property
    def location(self) -> str:
        return urllib.parse.urlsplit(self.headers.get("location", "")).path


class UnexpectedReply(AssertionError):
    def __init__(self, what: str, reply: Reply) -> None:
        super().__init__(f"{what}: HTTP {reply.status}\n{reply.text[:2000]}")
        self.reply = reply


@dataclass
class Respondent:
    port: int
    campaign: str
    definition: SurveyDefinition
    answers: dict[str, Any]
    language: str = "en"
    cookies: dict[str, str] = field(default_factory=dict)
    confirmed: dict[str, Any] = field(default_factory=dict)
    path: str = ""
    finished: bool = False

    def __post_init__(self) -> None:
        self.address = f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"

    def request(self, method: str, path: str, form: list[tuple[str, str]] | None = None) -> Reply:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=REQUEST_TIMEOUT)
        headers = {"Accept-Language": self.language, "X-Forwarded-For": self.address, "Connection": "close"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Origin"] = f"http://127.0.0.1:{self.port}"
            headers["Referer"] = f"http://127.0.0.1:{self.port}{path}"
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            for header in response.msg.get_all("Set-Cookie") or []:
                for name, morsel in SimpleCookie(header).items():
                    self.cookies[name] = morsel.value
            return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
        finally:
            connection.close()

    def start(self) -> None:
        """The start page, consent and the age check: afterwards the respondent is on the first step."""
        page = self.request("GET", f"/s/{self.campaign}/")
        if page.status != 200:
            raise UnexpectedReply("start page", page)
        csrf = _CSRF.search(page.body)
        assert csrf, "no CSRF token on the start page"
        form = [("csrfmiddlewaretoken", csrf.group(1).decode()), ("age", "19"), ("consent", "on")]
        reply = self.request("POST", f"/s/{self.campaign}/", form)
        if reply.status != 302:
            raise UnexpectedReply("consent", reply)
        self.path = reply.location

    def open_step(self) -> Reply:
        """GET the current step, following redirects between steps; the 200 page (or the thank-you page)."""
        for _hop in range(5):
            reply = self.request("GET", self.path)
            if reply.status != 302:
                break
            self.path = reply.location
            if self.path.endswith("/thanks/"):
                reply = self.request("GET", self.path)
                if reply.status != 200:
                    raise UnexpectedReply("thank-you page", reply)
                self.finished = True
                return reply
        if reply.status != 200:
            raise UnexpectedReply(f"GET {self.path}", reply)
        return reply

    def send_step(self, page: Reply) -> Reply:
        """POST the answers of the page; a redirect confirms them (re-posting while more questions appear)."""
        step = self.path.rstrip("/").rsplit("/", 1)[1]
        for _repost in range(4):
            reply = self.request("POST", self.path, _step_form(step, page.body, self.answers, self.definition))
            if reply.status == 302:
                keys = {key for question in self.definition.step(step).questions
                        for key in (question.key, question.other_key)}  # fmt: skip
                self.confirmed.update({key: value for key, value in self.answers.items() if key in keys})
                self.path = reply.location
                return reply
            if reply.status != 200:
                raise UnexpectedReply(f"POST {self.path}", reply)
            page = reply
        raise AssertionError(f"step {step} not accepted")

    def step(self) -> None:
        """One step forward: open it and send it (or arrive at the thank-you page)."""
        page = self.open_step()
        if not self.finished:
            self.send_step(page)

    def finish(self, *, max_steps: int = 40) -> None:
        for _step in range(max_steps):
            self.step()
            if self.finished:
                return
        raise AssertionError("the survey did not end")


def normalised(answers: dict[str, Any]) -> dict[str, Any]:
    """Answers compared regardless of the order of a multi-choice list."""
    return {key: sorted(value) if isinstance(value, list) else value for key, value in answers.items()}
