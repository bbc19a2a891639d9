"""Helpers for the dashboard's view tests: point the console at a sandbox, read pages as a
browser would (elements by id, what a form would submit), and send queued writes.

View tests run the console's views in this process against a real sandbox over HTTP. No
Celery worker runs: a form that saves finds its write still queued after WRITE_WAIT_SECONDS
(0 here), and a test that wants the change to land calls `write_send` itself.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any, Protocol

import pytest
import redis
from django.conf import settings as django_settings
from django.contrib.auth.models import User
from django.db import connections
from django.test import Client
from pytest_django.fixtures import Settings

from apps.writes.models import Write
from apps.writes.services import write_send
from crmconsole.celery import app as celery_app
from tests.conftest import Sandbox


class Answer(Protocol):
    """What the test client answers (a page or a partial)."""

    @property
    def content(self) -> bytes: ...


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}
SPACES = re.compile(r"\s+")


# -- pointing the console at a sandbox ---------------------------------------------------------


def use_broker(url: str | None) -> None:
    """Point this process's Celery app at a broker (None: back to the configured one), so a
    task published after commit or by a retry goes to the test's private Redis."""
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    celery_app.conf.update(broker_write_url=url, broker_read_url=url)


def console_at(settings: Settings, sandbox: Sandbox, redis_url: str) -> Iterator[Sandbox]:
    """The console's MiniCRM, Redis (flushed: no cached reads, a fresh budget) and Celery broker
    for one test; forms do not wait for the (absent) queue worker, nor one-click changes for
    Undo."""
    settings.MINICRM_BASE_URL = sandbox.base_url
    settings.MINICRM_SYSTEM_ID = sandbox.system_id
    settings.MINICRM_API_KEY = sandbox.api_key
    settings.REDIS_URL = redis_url
    settings.WRITE_WAIT_SECONDS = 0
    settings.UNDO_SECONDS = 0  # one-click changes are queued at once (undo has its own tests)
    connection = redis.Redis.from_url(redis_url)
    connection.flushdb()
    connection.close()
    previous = celery_app.conf.broker_write_url
    use_broker(redis_url)
    try:
        yield sandbox
    finally:
        use_broker(previous)


def set_faults(sandbox: Sandbox, **faults: float) -> None:
    """Inject faults into a sandbox (`latency` s, `error_rate` 0..1, `force_429` N)."""
    answer = sandbox.post("/_sandbox/faults", json=faults)
    assert answer.status_code == 200, answer.text


def faulty_console(settings: Settings, sandbox: Sandbox, redis_url: str) -> Iterator[Sandbox]:
    """The console at a sandbox of the test module's own, whose faults the test may set;
    they are reset afterwards, whatever happened."""
    try:
        yield from console_at(settings, sandbox, redis_url)
    finally:
        set_faults(sandbox, latency=0, error_rate=0, force_429=0)


def logged_in(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


def sandbox_ids(sandbox: Sandbox, entity: str, **params: Any) -> list[int]:
    """The ids the sandbox's own search answers (one page), in its order."""
    answer = sandbox.get(f"/Api/R3/{entity}", params=params)
    assert answer.status_code == 200, answer.text
    results = answer.json()["Results"]
    rows = results.values() if isinstance(results, dict) else results
    return [int(row["Id"]) for row in rows]


def sandbox_count(sandbox: Sandbox, entity: str, **params: Any) -> int:
    answer = sandbox.get(f"/Api/R3/{entity}", params=params)
    assert answer.status_code == 200, answer.text
    return int(answer.json()["Count"])


def send(write: Write | int) -> Write:
    """Send a queued write now, as a worker would, and return it as it ended."""
    pk = write if isinstance(write, int) else write.pk
    write_send(pk)
    return Write.objects.get(pk=pk)


@dataclass
class BackgroundSender:
    """Sends the first queued write it sees from another thread, as a quick worker would,
    while the view in the test's thread waits for it (needs `transactional_db`)."""

    thread: threading.Thread | None = None
    errors: list[BaseException] = field(default_factory=list)

    def start(self, timeout: float = 15.0) -> None:
        def run() -> None:
            try:
                deadline = time.monotonic() + timeout
                while time.monotonic() < deadline:
                    pk = (
                        Write.objects.filter(state=Write.State.QUEUED)
                        .values_list("pk", flat=True)
                        .first()
                    )
                    if pk is not None:
                        write_send(pk)
                        return
                    time.sleep(0.02)
            except BaseException as error:  # reported by join()
                self.errors.append(error)
            finally:
                connections.close_all()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()

    def join(self) -> None:
        assert self.thread is not None
        self.thread.join(timeout=30)
        assert not self.thread.is_alive(), "the background sender did not finish"
        if self.errors:
            raise self.errors[0]


# -- reading pages -----------------------------------------------------------------------------


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    children: list[Node | str] = field(default_factory=list)
    parent: Node | None = field(default=None, repr=False)

    @property
    def id(self) -> str:
        return self.attrs.get("id", "")

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    @property
    def text(self) -> str:
        """The visible text, whitespace collapsed."""
        parts: list[str] = []

        def walk(node: Node) -> None:
            for child in node.children:
                if isinstance(child, str):
                    parts.append(child)
                elif child.tag not in ("script", "style"):
                    walk(child)

        walk(self)
        return SPACES.sub(" ", "".join(parts)).strip()

    def iter(self) -> Iterator[Node]:
        for child in self.children:
            if isinstance(child, Node):
                yield child
                yield from child.iter()

    def find_all(self, tag: str | None = None, **attrs: str | bool) -> list[Node]:
        """Descendants by tag and attributes (`class_` is one of the classes; True: present).

        Attribute names use `_` for `-` (`aria_current`, `hx_get`)."""
        wanted = {name.rstrip("_").replace("_", "-"): value for name, value in attrs.items()}
        found = []
        for node in self.iter():
            if tag is not None and node.tag != tag:
                continue
            if all(_attr_matches(node, name, value) for name, value in wanted.items()):
                found.append(node)
        return found

    def find(self, tag: str | None = None, **attrs: str | bool) -> Node:
        found = self.find_all(tag, **attrs)
        assert found, f"no <{tag or '*'}> with {attrs} in:\n{self.text[:2000]}"
        return found[0]

    def by_id(self, ident: str) -> Node:
        return self.find(id=ident)

    def has(self, tag: str | None = None, **attrs: str | bool) -> bool:
        return bool(self.find_all(tag, **attrs))

    def links(self) -> dict[str, str]:
        """href -> text of every link inside."""
        return {a.attrs["href"]: a.text for a in self.find_all("a", href=True)}

    def options(self) -> list[tuple[str, str, bool]]:
        """A select's (value, label, selected) in order."""
        return [
            (o.attrs.get("value", o.text), o.text, "selected" in o.attrs)
            for o in self.find_all("option")
        ]


def _attr_matches(node: Node, name: str, value: str | bool) -> bool:
    if value is True:
        return name in node.attrs
    if value is False:
        return name not in node.attrs
    if name == "class":
        return value in node.classes
    return node.attrs.get(name) == value


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v if v is not None else "" for k, v in attrs}, parent=self.stack[-1])
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.stack.pop()

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def dom(response: Answer | str) -> Node:
    """The page (or partial) as a tree."""
    content = response if isinstance(response, str) else response.content.decode()
    builder = _Builder()
    builder.feed(content)
    builder.close()
    return builder.root


def is_full_page(response: Answer) -> bool:
    return "<html" in response.content.decode()


def messages_of(response: Answer) -> list[str]:
    """The messages a page shows (its `.messagelist`)."""
    page = dom(response)
    return [
        li.text for box in page.find_all("ul", class_="messagelist") for li in box.find_all("li")
    ]


def form_data(form: Node, **changes: Any) -> dict[str, Any]:
    """What a browser submits for `form` as it is rendered, with some fields changed
    (a list for multiple values; None removes a field)."""
    data: dict[str, list[str]] = {}
    for node in form.iter():
        name = node.attrs.get("name")
        if not name or "disabled" in node.attrs:
            continue
        if node.tag == "input":
            kind = node.attrs.get("type", "text")
            if kind in ("submit", "button", "reset", "file", "image"):
                continue
            if kind in ("checkbox", "radio"):
                if "checked" in node.attrs:
                    data.setdefault(name, []).append(node.attrs.get("value", "on"))
                continue
            data.setdefault(name, []).append(node.attrs.get("value", ""))
        elif node.tag == "textarea":
            data.setdefault(name, []).append(
                "".join(c for c in node.children if isinstance(c, str)).removeprefix("\n")
            )
        elif node.tag == "select":
            chosen = [value for value, _label, selected in node.options() if selected]
            if not chosen and "multiple" not in node.attrs and node.options():
                chosen = [node.options()[0][0]]
            data.setdefault(name, []).extend(chosen)
    result: dict[str, Any] = {k: v if len(v) != 1 else v[0] for k, v in data.items()}
    for name, value in changes.items():
        if value is None:
            result.pop(name, None)
        else:
            result[name] = value
    return result


def field_row(page: Node, name: str) -> Node:
    """A schema form's row of one field (its label, widget and errors)."""
    return page.by_id(f"row-{name}")


def errors_of(node: Node) -> list[str]:
    return [li.text for ul in node.find_all("ul", class_="errorlist") for li in ul.find_all("li")]


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


# -- users -------------------------------------------------------------------------------------


@pytest.fixture
def staff_user(django_user_model: type[User]) -> User:
    """A back-office user: browses and edits, no admin rights (Django's is_staff is off).

    Tests log in with `force_login`: no password, so no slow password hashing."""
    return django_user_model.objects.create_user(username="edit", password=None, first_name="Edit")


@pytest.fixture
def admin_account(django_user_model: type[User]) -> User:
    """A console administrator (Django's staff status)."""
    return django_user_model.objects.create_user(username="boss", password=None, is_staff=True)


# -- the console at a sandbox -----------------------------------------------------------------


@pytest.fixture
def doc(settings: Settings, sandbox_doc: Sandbox, redis_url: str) -> Iterator[Sandbox]:
    """The console at the session's doc sandbox (add records freely; seeded ones stay)."""
    yield from console_at(settings, sandbox_doc, redis_url)


@pytest.fixture
def demo(settings: Settings, sandbox_demo: Sandbox, redis_url: str) -> Iterator[Sandbox]:
    """The console at the session's demo sandbox (read-only)."""
    yield from console_at(settings, sandbox_demo, redis_url)


@pytest.fixture
def user_client(client: Client, staff_user: User) -> Client:
    """A browser logged in as a back-office user."""
    return logged_in(client, staff_user)


@pytest.fixture
def hungarian(user_client: Client) -> Client:
    """The back-office user's browser with the console in Hungarian."""
    user_client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "hu"
    return user_client


# -- the console on a mirror ---------------------------------------------------------------------


def mirror_console(settings: Settings, sandbox: Sandbox, redis_url: str) -> Iterator[Sandbox]:
    """The console at a sandbox for tests of pages that read the mirror: a budget the fill
    never waits on, and no retries (a request that should not be made fails at once)."""
    settings.MINICRM_RATE_LIMIT = 100_000
    settings.MINICRM_MAX_RETRIES = 0
    settings.MINICRM_CONNECT_TIMEOUT = 1.0
    yield from console_at(settings, sandbox, redis_url)


def mirror_fill() -> None:
    """What the sync does after `make run`: every list, then every record in detail."""
    from apps.mirror.services import sync_run

    report = sync_run(until_caught_up=True)
    assert report.caught_up and not report.errors, report


def minicrm_away(settings: Settings) -> None:
    """MiniCRM at a port nobody listens on: any request to it fails the page."""
    from tests.conftest import free_port

    settings.MINICRM_BASE_URL = f"http://127.0.0.1:{free_port()}"
