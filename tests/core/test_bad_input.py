"""The bad-input walk: every URL and every form of the console, fed a corpus of bad values by an
administrator (in Hungarian) and by a back-office user (in English).

For each URL pattern the walk opens its page, then sends bad values in its path parameters, in
every query parameter its page links to, and in every field of every form (found on the pages
that show them) that posts to it: all fields at once and one field at a time. It asserts what a
person would notice: never a 5xx, and nothing queued or stored unless the answer said so (a
success message or a redirect without an error). A new URL joins the walk by itself; one whose
form lives on another page is named in HOSTS, and the walk fails until it is.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import pytest
from django.apps import apps
from django.conf import settings as django_settings
from django.contrib.auth.models import User
from django.contrib.messages import constants, get_messages
from django.test import Client
from django.urls import Resolver404, resolve
from pytest_django.fixtures import Settings

from apps.webhooks.models import Action, Event, Handler
from apps.writes.models import BulkJob, Write
from tests.conftest import Sandbox
from tests.urlwalk import all_routes, concrete, parameters, sample
from tests.viewsupport import Node, dom, form_data

pytestmark = pytest.mark.django_db

# Values no form should take as they are; each stands for a family of mistakes and attacks.
CORPUS = [
    "",
    " ",
    "x" * 10_000,
    "\x00\x01\x08\x1b\x7f",
    "\N{SUPERSCRIPT TWO}",
    "\N{ARABIC-INDIC DIGIT SEVEN}",
    "-1",
    "0",
    str(2**63),
    str(2**64 + 1),
    "-" + str(2**64),
    "9" * 60,
    "NaN",
    "sNaN",
    "-Infinity",
    "1e7000000",
    "[" * 3000 + "]" * 3000,
    '{"a":' * 3000 + "1" + "}" * 3000,
    '{"Name": ["x"]}',
    "2026-02-30",
    "31/12/2999",
    "2026.10.15.",
    "0000-00-00 00:00",
    "' OR 1=1 --",
    '<script>alert("x")</script>',
    "javascript:alert(1)",
    "https://evil.example/",
    "//evil.example/",
    "%_*\\-\"'<",
]
# A shorter corpus for one field at a time.
FIELD_CORPUS = [
    "",
    "x" * 10_000,
    "\N{SUPERSCRIPT TWO}",
    str(2**64 + 1),
    "NaN",
    "1e7000000",
    "[" * 3000 + "]" * 3000,
    "2026-02-30",
    "https://evil.example/",
]
# Query parameters tried on every page, whether or not the page links to them.
COMMON_QUERY = ("p", "q", "o", "next", "status", "page", "watch")
# Bad values for path parameters, by converter.
BAD_PATH = {
    "int": ["0", "999999999", str(2**63), str(2**64 + 1)],
    "id": ["0", "999999999", str(2**63), str(2**64 + 1)],
    "str": ["\N{SUPERSCRIPT TWO}", "Deleted", "ReferenceId", "nope", "x" * 300],
    "slug": ["nope", "x" * 300],
}
# Pages (view names) whose forms post to a URL that has no page of its own.
HOSTS = {
    "core:schema_refresh": ["core:settings"],
    "contacts:delete": ["contacts:change", "contacts:contact"],
    "contacts:refresh": ["contacts:contact"],
    "contacts:export": ["contacts:search"],
    "cards:bulk": ["cards:changelist"],
    "cards:status": ["cards:card"],
    "cards:refresh": ["cards:card"],
    "cards:export": ["cards:changelist"],
    "cards:board": ["cards:changelist"],
    "cards:board_move": ["cards:changelist"],
    "cards:columns": ["cards:changelist"],
    "cards:filter_add": ["cards:changelist"],
    "cards:filter_delete": ["cards:changelist"],
    "todos:close": ["todos:card_todos", "cards:card"],
    "todos:change": ["todos:card_todos"],
    "orders:items": ["orders:order"],
    "orders:item_delete": ["orders:order"],
    "orders:fields": ["orders:order"],
    "orders:workflow": ["orders:order"],
    "orders:export": ["orders:list"],
    "writes:retry": ["writes:queue"],
    "writes:discard": ["writes:queue"],
    "writes:undo": ["writes:queue"],
    "webhooks:test": ["webhooks:handler"],
    "webhooks:rotate": ["webhooks:handler"],
    "webhooks:replay": ["webhooks:event"],
    "mirror:resync_all": ["mirror:sync"],
    "mirror:contacts_resync": ["mirror:sync"],
    "mirror:module_resync": ["mirror:sync"],
    "mirror:record_resync": ["mirror:sync"],
}
# Not part of the console: Django's admin, the login and the language switch (Django's own),
# the webhook receiver (it answers MiniCRM, not people: tests/webhooks feed it bad input) and
# the favicon's redirect.
OUTSIDE = ("admin:", "login", "logout", "set_language", "webhooks:receive", "favicon")
# What opening a page may record: the cards a user opened, the orders the console has seen.
GET_MAY_RECORD = {"todos.cardvisit", "orders.orderrecord"}
WATCHED_APPS = ("core", "writes", "todos", "orders", "webhooks")

ROUTES = [(name, route) for name, route in all_routes() if not name.startswith(OUTSIDE)]


@dataclass
class World:
    """Records of another user's that the walk's ids point to."""

    owner: User
    write: Write
    conflict: Write
    job: BulkJob
    handler: Handler
    event: Event

    def value(self, parameter: str) -> str:
        ids = {
            "write_id": self.write.pk,
            "job_id": self.job.pk,
            "handler_id": self.handler.pk,
            "event_id": self.event.pk,
        }
        return str(ids[parameter]) if parameter in ids else sample(parameter)


@pytest.fixture
def world(django_user_model: type[User], doc: Sandbox, settings: Settings) -> World:
    # The walk sends far more than people do: MiniCRM's budget is not what it tests.
    settings.MINICRM_RATE_LIMIT = 100_000
    owner = django_user_model.objects.create_user(username="masik", password=None)
    job = BulkJob.objects.create(description="Status of 1 card", created_by=owner, total=1)
    common = {"target_type": "project", "target_id": 2056, "requested_by": owner}
    write = Write.objects.create(
        kind=Write.Kind.PROJECT_UPDATE,
        payload={"Name": "Elutasított"},
        state=Write.State.FAILED,
        last_error="Hibás érték",
        job=job,
        **common,
    )
    conflict = Write.objects.create(
        kind=Write.Kind.PROJECT_UPDATE,
        payload={"Name": "Ütközés"},
        seen={"Name": "Régi"},
        state=Write.State.CONFLICT,
        **common,
    )
    handler = Handler.objects.create(name="Értesítés", slug="ertesites", category_id=10)
    Action.objects.create(
        handler=handler, kind=Action.Kind.CREATE_TODO, config={"comment": "Hívd", "days": 1}
    )
    event = Event.objects.create(
        handler=handler,
        body='{"Id": 2056, "Type": "Project"}',
        message={"Id": 2056, "Type": "Project"},
        object_type="Project",
        object_id=2056,
        status=Event.Status.FAILED,
    )
    return World(owner, write, conflict, job, handler, event)


def state() -> dict[str, str]:
    """A fingerprint of every row the console keeps, per model."""
    prints = {}
    for label in WATCHED_APPS:
        for model in apps.get_app_config(label).get_models():
            rows = list(model._default_manager.order_by("pk").values_list())
            prints[model._meta.label_lower] = hashlib.sha256(repr(rows).encode()).hexdigest()
    return prints


@dataclass
class Walker:
    client: Client
    world: World
    problems: list[str] = field(default_factory=list)
    requests: int = 0

    def send(self, method: str, url: str, data: Any = None, *, htmx: bool = False) -> None:
        before = state()
        headers = {"HX-Request": "true"} if htmx else {}
        try:
            if method == "GET":
                response = self.client.get(url, headers=headers)
            else:
                response = self.client.post(url, data or {}, headers=headers)
        except Exception as error:  # the client re-raises what a view raised
            self.problem(method, url, data, f"raised {type(error).__name__}: {error}"[:300])
            return
        finally:
            self.requests += 1
        if response.status_code >= 500:
            self.problem(method, url, data, f"answered {response.status_code}")
            return
        changed = {label for label, value in state().items() if before[label] != value}
        changed -= GET_MAY_RECORD
        if method == "GET":
            if changed:
                self.problem(method, url, data, f"a GET stored {sorted(changed)}")
        elif changed and not said_saved(response):
            self.problem(method, url, data, f"stored {sorted(changed)} but did not say so")

    def submit(self, method: str, url: str, data: dict[str, Any], *, htmx: bool = False) -> None:
        """Send a form as a browser would: a GET form's fields in the query string."""
        if method == "GET":
            self.send("GET", f"{url}?{urlencode(data, doseq=True)}", htmx=htmx)
        else:
            self.send("POST", url, data, htmx=htmx)

    def problem(self, method: str, url: str, data: Any, what: str) -> None:
        sent = (
            {
                k: (v[:40] + "…" if isinstance(v, str) and len(v) > 40 else v)
                for k, v in data.items()
            }
            if data
            else ""
        )
        self.problems.append(f"{method} {url[:160]} {sent} → {what}"[:600])

    def page(self, url: str) -> Node | None:
        response = self.client.get(url)
        self.requests += 1
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            return None
        return dom(response)


def said_saved(response: Any) -> bool:
    """A success message, or a redirect (full page or HTMX) with no error message."""
    shown = list(get_messages(response.wsgi_request))
    if any(m.level in (constants.SUCCESS, constants.INFO, constants.WARNING) for m in shown):
        return True
    redirected = response.status_code in (301, 302, 303) or "HX-Redirect" in response
    return redirected and not any(m.level == constants.ERROR for m in shown)


def route_of(url: str) -> str | None:
    try:
        match = resolve(urlsplit(url).path)
    except Resolver404:
        return None
    return match.view_name


def forms_posting_to(page: Node, view_name: str, page_url: str) -> list[Node]:
    """The page's forms (and HTMX-posting elements) whose target is the view."""
    found = []
    for node in page.iter():
        if node.tag == "form":
            target = node.attrs.get("action") or node.attrs.get("hx-post") or page_url
        elif "hx-post" in node.attrs:
            target = node.attrs["hx-post"]
        else:
            continue
        if route_of(target) == view_name:
            node.attrs["data-walk-target"] = target
            found.append(node)
    return found


def query_names(page: Node, path: str) -> set[str]:
    """Query parameters the page's links and GET forms send to its own path."""
    names: set[str] = set()
    for node in page.iter():
        target = node.attrs.get("href") or node.attrs.get("hx-get")
        if target and urlsplit(target).path in ("", path):
            names |= {name for name, _ in parse_qsl(urlsplit(target).query)}
        is_get_form = node.tag == "form" and node.attrs.get("method", "get").lower() == "get"
        if is_get_form and urlsplit(node.attrs.get("action") or path).path == path:
            names |= {n.attrs["name"] for n in node.iter() if n.attrs.get("name")}
    return names


def fields_of(form: Node) -> dict[str, Any]:
    data = form_data(form)
    for node in form.iter():
        if node.tag == "button" and node.attrs.get("name"):
            data.setdefault(node.attrs["name"], node.attrs.get("value", ""))
    data.pop("csrfmiddlewaretoken", None)
    return data


def walk(walker: Walker, name: str, route: str, *, thorough: bool) -> None:
    """Walk one URL pattern; `thorough` also tries each field and query parameter alone."""
    url = concrete(route, walker.world.value)
    page = walker.page(url)
    path = urlsplit(url).path

    # Bad path parameters.
    for parameter, converter in parameters(route).items():
        for bad in BAD_PATH.get(converter, BAD_PATH["str"]):

            def value(name: str, bad: str = bad, parameter: str = parameter) -> str:
                return quote(bad) if name == parameter else walker.world.value(name)

            broken = concrete(route, value)
            walker.send("GET", broken)
            walker.send("POST", broken, {})

    # Bad query parameters: all at once, then one at a time.
    names = set(COMMON_QUERY) | (query_names(page, path) if page else set())
    for bad in CORPUS:
        walker.send("GET", f"{url}?{urlencode(dict.fromkeys(sorted(names), bad))}")
    for query in sorted(names) if thorough else ():
        for bad in FIELD_CORPUS:
            walker.send("GET", f"{url}?{urlencode({query: bad})}", htmx=query == "q")

    # Bad form fields, on every form that posts here.
    hosts = [url] + [
        concrete(r, walker.world.value) for n, r in all_routes() if n in HOSTS.get(name, [])
    ]
    forms = []
    for host in hosts:
        host_page = page if host == url else walker.page(host)
        if host_page is not None:
            forms += forms_posting_to(host_page, name, host)
    if thorough and not forms and page is None and name not in HOSTS:
        walker.problems.append(f"{name} has no page of its own: name the page of its form in HOSTS")
    if not forms:
        forms_blind = {q: "" for q in ("next", "seen", "selected", "status", "value")}
        for bad in CORPUS:
            walker.send("POST", url, dict.fromkeys(forms_blind, bad))
        return
    for form in forms:
        target = form.attrs["data-walk-target"]
        method = "POST" if form.tag != "form" or form.attrs.get("method") == "post" else "GET"
        base = fields_of(form)
        for bad in CORPUS:
            walker.submit(method, target, dict.fromkeys(base, bad) | {"next": bad})
        walker.submit(method, target, dict.fromkeys(base, CORPUS[4]), htmx=True)
        for field_name in base if thorough else ():
            for bad in FIELD_CORPUS:
                walker.submit(method, target, base | {field_name: bad})


def test_the_walk_covers_every_console_url_and_knows_where_each_form_lives() -> None:
    names = {name for name, _ in ROUTES}

    assert len(ROUTES) > 35
    assert set(HOSTS) <= names, f"HOSTS names views that do not exist: {set(HOSTS) - names}"
    assert {host for hosts in HOSTS.values() for host in hosts} <= names


@pytest.mark.parametrize(("name", "route"), ROUTES, ids=[name for name, _ in ROUTES])
def test_bad_input_never_breaks_a_page_or_stores_what_it_did_not_say(
    world: World,
    django_user_model: type[User],
    name: str,
    route: str,
) -> None:
    walkers = []
    administrator = django_user_model.objects.create_user(
        username="boss", password=None, is_staff=True
    )
    member = django_user_model.objects.create_user(username="tag", password=None)
    # The administrator reaches every page, in Hungarian (dates and numbers as Hungarians write
    # them), and tries each field alone; the back-office user, in English, sends every bad
    # value to every field at once (and meets the 403s).
    for user, language in ((administrator, "hu"), (member, "en")):
        browser = Client(raise_request_exception=True)
        browser.force_login(user)
        browser.cookies[django_settings.LANGUAGE_COOKIE_NAME] = language
        walker = Walker(browser, world)
        walk(walker, name, route, thorough=user.is_staff)
        walkers.append(walker)

    problems = [p for w in walkers for p in w.problems]
    print(f"walked {name}: {sum(w.requests for w in walkers)} requests")  # shown with -s
    assert not problems, (
        f"{len(problems)} of {sum(w.requests for w in walkers)} requests:\n"
        + "\n".join(problems[:40])
    )
