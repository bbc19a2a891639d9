"""`manage.py mirror_sync` and `manage.py mirror_subscribe` against real sandboxes over HTTP
and a real Redis."""

from __future__ import annotations

import io
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import redis
from django.core.management import CommandError, call_command
from pytest_django.fixtures import Settings

from apps.mirror.models import Card, Completeness, Contact, Module, SyncState
from apps.mirror.services import sync_lock_key
from apps.webhooks.models import Handler
from apps.webhooks.services import handler_authenticate
from tests.conftest import Sandbox, SandboxStarter, free_port
from tests.viewsupport import console_at, sandbox_count

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.fixture
def console(settings: Settings, sandbox_doc: Sandbox, redis_url: str) -> Iterator[Sandbox]:
    """The console at the session's doc sandbox (the sync only reads it) and a flushed Redis,
    with a budget that paces nothing (the budget's own test sets a small one)."""
    settings.MIRROR_POLL_SECONDS = 3600  # no poll comes due during a test
    settings.MINICRM_RATE_LIMIT = 100_000
    yield from console_at(settings, sandbox_doc, redis_url)


@pytest.fixture
def private(
    settings: Settings, sandbox_factory: SandboxStarter, redis_url: str
) -> Iterator[Sandbox]:
    """The console at a doc sandbox of the test's own (its requests and subscriptions)."""
    settings.MIRROR_POLL_SECONDS = 3600
    settings.MINICRM_RATE_LIMIT = 100_000
    yield from console_at(settings, sandbox_factory("doc"), redis_url)


def card_count(sandbox: Sandbox, category_id: int) -> int:
    return sandbox_count(sandbox, "Project", CategoryId=category_id)


# -- mirror_sync ------------------------------------------------------------------------------


def test_mirror_sync_fills_the_mirror_until_it_has_caught_up(console: Sandbox) -> None:
    output = run("mirror_sync")

    modules = list(Module.objects.filter(listed=True))
    assert modules
    for module in modules:
        expected = card_count(console, module.pk)
        cards = Card.objects.filter(category_id=module.pk, deleted=False)
        assert cards.count() == expected, module.name
        complete = cards.filter(
            completeness=Completeness.DETAIL,
            todos_synced_at__isnull=False,
            history_synced_at__isnull=False,
        )
        assert complete.count() == expected, module.name
        assert SyncState.objects.get(key=f"module:{module.pk}").listed_total == expected
    contacts = sandbox_count(console, "Contact")
    assert Contact.objects.filter(deleted=False).exclude(type="").count() == contacts
    assert not Contact.objects.filter(completeness=Completeness.ROW).exists()
    lines = output.splitlines()
    progress = [line for line in lines if line.startswith("[") and "steps (" in line]
    assert progress  # a line every few seconds; the last says where the fill ended
    assert f"contacts {contacts} mirrored, {contacts} in detail" in progress[-1]
    assert any(line.startswith("Caught up after") for line in lines)
    for module in modules:
        assert f"  {module.name}: " in output
    assert console.api_key not in output


def test_mirror_sync_full_reads_everything_again(console: Sandbox) -> None:
    name = f"Teszt {uuid.uuid4().hex[:8]}"
    created = console.put("/Api/R3/Project", json={"CategoryId": 10, "Name": name})
    assert created.status_code == 200, created.text
    card_id = int(created.json()["Id"])
    run("mirror_sync")
    assert Card.objects.get(pk=card_id).name == name
    changed = console.put(f"/Api/R3/Project/{card_id}", json={"Name": name + " (új)"})
    assert changed.status_code == 200, changed.text

    run("mirror_sync")  # caught up already: nothing is due, MiniCRM's change unseen
    assert Card.objects.get(pk=card_id).name == name

    output = run("mirror_sync", "--full")

    assert output.startswith("Everything will be read again")
    assert Card.objects.get(pk=card_id).name == name + " (új)"
    assert not Card.objects.filter(stale_since__isnull=False).exists()
    assert "Caught up after" in output


def test_mirror_sync_module_reads_that_module_only(console: Sandbox) -> None:
    run("mirror_sync")
    before = {c.pk: c.synced_at for c in Card.objects.all()}
    contacts = {c.pk: c.synced_at for c in Contact.objects.all()}

    output = run("mirror_sync", "--module", "10")

    assert output.startswith("Module 10 (")
    for card in Card.objects.all():
        if card.category_id == 10:
            assert card.synced_at > before[card.pk]
        else:
            assert card.synced_at == before[card.pk]
    assert {c.pk: c.synced_at for c in Contact.objects.all()} == contacts


@pytest.mark.parametrize("module", ["999", "0", "abc", str(2**64)])
def test_mirror_sync_module_must_be_a_listed_module(console: Sandbox, module: str) -> None:
    run("mirror_sync", "--seconds", "30")
    Module.objects.filter(pk=999).delete()
    Module.objects.create(id=999, name="Régi", listed=False)

    with pytest.raises(CommandError) as raised:
        run("mirror_sync", "--module", module)

    message = str(raised.value)
    if module.isdigit() and int(module) < 2**63 and module != "0":
        assert f"Module {module} is not one MiniCRM lists" in message
        assert "10 (" in message  # the modules it may be
    else:
        assert "--module takes a module's id" in message
    assert not SyncState.objects.filter(key=f"module:{module}").exists()


def test_mirror_sync_module_before_any_sync_says_to_sync_first(console: Sandbox) -> None:
    with pytest.raises(CommandError, match="knows no modules yet"):
        run("mirror_sync", "--module", "10")


def test_mirror_sync_for_some_seconds_keeps_to_the_sync_s_share(
    private: Sandbox, settings: Settings
) -> None:
    # floor(20 x 0.5) = 10 requests a minute for the sync: the doc seed needs far more.
    settings.MINICRM_RATE_LIMIT = 20
    settings.MIRROR_BUDGET_SHARE = 0.5
    settings.MIRROR_RUN_SECONDS = 1  # a step waits at most 5 s for a slot
    started = time.monotonic()

    output = run("mirror_sync", "--seconds", "4")

    assert time.monotonic() - started < 15
    requests = private.get("/_sandbox/requests").json()
    assert 0 < len([r for r in requests if r["path"].startswith("/Api/")]) <= 10
    assert "Stopped, not caught up yet, after" in output
    assert "of 10 requests in the last 60 s" in output
    assert "(modules 1" in output  # the modules and schemas took the whole share
    assert "no list pass finished yet" in output


def test_mirror_sync_waits_while_a_worker_s_sync_runs(console: Sandbox, redis_url: str) -> None:
    redis.Redis.from_url(redis_url).set(sync_lock_key(), "a worker", px=1200)

    output = run("mirror_sync")

    assert output.startswith("Another sync is running (a worker's): waiting for it to hand over.")
    assert "Caught up after" in output
    assert Card.objects.exists()


def test_mirror_sync_without_redis_says_so(console: Sandbox, settings: Settings) -> None:
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"

    with pytest.raises(CommandError, match=r"Redis \(REDIS_URL\) cannot be reached"):
        run("mirror_sync", "--seconds", "5")


def test_mirror_sync_gives_up_when_minicrm_keeps_failing_and_never_prints_the_key(
    console: Sandbox, settings: Settings
) -> None:
    settings.MINICRM_BASE_URL = f"http://127.0.0.1:{free_port()}"
    settings.MINICRM_MAX_RETRIES = 0
    settings.MINICRM_API_KEY = "a-secret-key-0123456789"
    out = io.StringIO()

    with pytest.raises(CommandError, match="keeps failing"):
        call_command("mirror_sync", stdout=out)

    output = out.getvalue()
    assert "Error (Modules and schemas):" in output
    assert "a-secret-key-0123456789" not in output


@pytest.mark.parametrize("seconds", ["0", "-1"])
def test_mirror_sync_seconds_must_be_positive(console: Sandbox, seconds: str) -> None:
    with pytest.raises(CommandError, match="--seconds must be more than 0"):
        run("mirror_sync", "--seconds", seconds)


# -- mirror_subscribe -------------------------------------------------------------------------


def hooks(sandbox: Sandbox) -> list[dict[str, object]]:
    answer = sandbox.get("/_sandbox/webhooks")
    assert answer.status_code == 200, answer.text
    return answer.json()


def credentials(url: str) -> tuple[str, str]:
    user, _sep, password = url.split("://", 1)[1].rpartition("@")[0].partition(":")
    return user, password


def test_mirror_subscribe_makes_two_handlers_subscribed_once_each(
    private: Sandbox, settings: Settings
) -> None:
    settings.CONSOLE_BASE_URL = "http://127.0.0.1:8123"

    first = run("mirror_subscribe")

    cards = Handler.objects.get(slug="mirror-cards")
    contacts = Handler.objects.get(slug="mirror-contacts")
    assert (cards.name, cards.type, cards.category_id, cards.fields) == (
        "Mirror: cards",
        "Project",
        None,
        [],
    )
    assert (contacts.name, contacts.type) == ("Mirror: contacts", "Contact")
    assert not cards.actions.exists() and not contacts.actions.exists()
    subscribed = hooks(private)
    assert sorted((h["Type"], h["CategoryId"], h["Fields"]) for h in subscribed) == [
        ("Contact", None, []),
        ("Project", None, []),
    ]
    for hook in subscribed:
        handler = cards if hook["Type"] == "Project" else contacts
        url = str(hook["ApiUrl"])
        assert url.startswith(f"http://{handler.username}:")
        assert url.endswith(f"@127.0.0.1:8123/hooks/{handler.slug}/")
        user, password = credentials(url)
        assert handler_authenticate(handler=handler, username=user, password=password)
        assert password not in first  # the password is never printed
    assert "Mirror: cards (/hooks/mirror-cards/, Project): created; subscribed" in first

    second = run("mirror_subscribe")

    assert hooks(private) == subscribed  # the same subscriptions, untouched
    assert Handler.objects.filter(slug__startswith="mirror-").count() == 2
    assert "Mirror: cards (/hooks/mirror-cards/, Project): exists; subscribed" in second
    assert second.count("unchanged") == 2


def test_mirror_subscribe_moves_subscriptions_to_a_new_address(
    private: Sandbox, settings: Settings
) -> None:
    settings.CONSOLE_BASE_URL = "http://127.0.0.1:8123"
    run("mirror_subscribe")
    settings.CONSOLE_BASE_URL = "http://127.0.0.1:8124"

    run("mirror_subscribe")

    urls = sorted(str(h["ApiUrl"]) for h in hooks(private))
    assert len(urls) == 2
    assert all("@127.0.0.1:8124/hooks/mirror-" in url for url in urls)
    for url in urls:
        handler = Handler.objects.get(slug=url.rstrip("/").rsplit("/", 1)[1])
        assert handler_authenticate(handler=handler, username=credentials(url)[0],
                                    password=credentials(url)[1])  # fmt: skip


def test_mirror_subscribe_after_a_new_database_replaces_the_old_subscriptions(
    private: Sandbox, settings: Settings
) -> None:
    settings.CONSOLE_BASE_URL = "http://127.0.0.1:8123"
    run("mirror_subscribe")
    old = {h["Id"] for h in hooks(private)}
    Handler.objects.all().delete()  # as if the console's database were new

    output = run("mirror_subscribe")

    now = hooks(private)
    assert len(now) == 2 and not old & {h["Id"] for h in now}
    assert output.count("created; subscribed in the sandbox now") == 2


def test_mirror_subscribe_puts_a_changed_handler_right(
    private: Sandbox, settings: Settings
) -> None:
    run("mirror_subscribe")
    Handler.objects.filter(slug="mirror-cards").update(category_id=10, fields=["Name"])

    run("mirror_subscribe")

    handler = Handler.objects.get(slug="mirror-cards")
    assert (handler.category_id, handler.fields) == (None, [])
    project = [h for h in hooks(private) if h["Type"] == "Project"]
    assert len(project) == 1
    assert (project[0]["CategoryId"], project[0]["Fields"]) == (None, [])


class _NotASandbox(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_mirror_subscribe_with_a_real_minicrm_makes_the_handlers_only(
    settings: Settings, redis_url: str
) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _NotASandbox)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.MINICRM_BASE_URL = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        output = run("mirror_subscribe")
    finally:
        server.shutdown()
        server.server_close()

    assert Handler.objects.filter(slug__in=("mirror-cards", "mirror-contacts")).count() == 2
    assert "MiniCRM subscribes webhooks through its helpdesk" in output
    assert "subscribed in the sandbox" not in output


def test_mirror_subscribe_when_minicrm_does_not_answer(settings: Settings) -> None:
    settings.MINICRM_BASE_URL = f"http://127.0.0.1:{free_port()}"

    with pytest.raises(CommandError, match="cannot be reached"):
        run("mirror_subscribe")
    assert not Handler.objects.exists()
