"""Real parts for the browser tests: the console on pytest-django's live server, a private demo
sandbox, a private Redis, a real Celery worker (with beat) sharing the test database file, and
one headless Debian Chromium per module, driven by Playwright."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import override_settings
from playwright.sync_api import Browser, Page, expect, sync_playwright
from pytest_django.live_server_helper import LiveServer

from crmconsole.celery import app as celery_app
from tests.conftest import BIG_RATE_LIMIT, SandboxStarter, free_port
from tests.databases import worker_database_url
from tests.writes.conftest import QueueRig, RedisServer, _use_broker

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "browse-and-edit-1"
# How long a page may take to show what a test waits for (a write lands in well under a second
# with the worker idle; the bulk job and a cold demo sandbox take a few).
TIMEOUT_MS = 30_000
expect.set_options(timeout=TIMEOUT_MS)


@pytest.fixture(scope="module")
def console_rig(
    django_db_setup: None,
    django_db_blocker: Any,
    module_sandbox_factory: SandboxStarter,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[QueueRig]:
    """A demo sandbox, a Redis and one running worker, shared by a module's tests; the console
    (live server and worker alike) points at them. The budget is large enough never to pace:
    these tests are about what people see, the budget has its own tests."""
    workdir = tmp_path_factory.mktemp("console-rig")
    sandbox = module_sandbox_factory("demo")
    server = RedisServer(free_port(), workdir, persistent=False)
    server.start()
    overrides = override_settings(
        MINICRM_BASE_URL=sandbox.base_url,
        MINICRM_SYSTEM_ID=sandbox.system_id,
        MINICRM_API_KEY=sandbox.api_key,
        MINICRM_RATE_LIMIT=BIG_RATE_LIMIT,
        REDIS_URL=server.url,
        UNDO_SECONDS=0,  # a test of Undo sets its own
    )
    overrides.enable()
    previous_broker = celery_app.conf.broker_write_url
    _use_broker(server.url)
    env = {
        **os.environ,
        "DATABASE_URL": worker_database_url(),
        "REDIS_URL": server.url,
        "MINICRM_BASE_URL": sandbox.base_url,
        "MINICRM_SYSTEM_ID": sandbox.system_id,
        "MINICRM_API_KEY": sandbox.api_key,
        "MINICRM_RATE_LIMIT": str(BIG_RATE_LIMIT),
        "WRITE_QUEUE_SWEEP_SECONDS": "1",
        "WRITE_QUEUE_MAX_BACKOFF": "2",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # the worker has no event loop to excuse
    rig = QueueRig(sandbox, server, workdir, env)
    try:
        rig.start_worker(concurrency=2)
        yield rig
    finally:
        rig.stop()
        server.stop()
        # The worker (its beat syncs the mirror) kept writing after each test's flush: the
        # tests of the next modules start from an empty database, as they expect.
        with django_db_blocker.unblock():
            call_command("flush", interactive=False, verbosity=0)
        _use_broker(previous_broker)
        overrides.disable()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the module. Playwright's sync API runs an event loop in this
    thread, which Django's ORM would take for an async context: the test code's own queries
    (users, the write queue) are plain synchronous ones, so they are allowed explicitly."""
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        pytest.fail("Debian's chromium is not installed (apt-get install chromium)")
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()
    finally:
        playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def staff_user(transactional_db: None) -> User:
    """A console user who browses and edits (not an administrator)."""
    return User.objects.create_user("katalin", "katalin@example.com", PASSWORD)


@pytest.fixture
def page(
    browser: Browser, live_server: LiveServer, console_rig: QueueRig, staff_user: User
) -> Iterator[Page]:
    """A fresh browser context on the live console: English, Budapest time, not logged in."""
    context = browser.new_context(
        base_url=live_server.url,
        locale="en-GB",
        timezone_id="Europe/Budapest",
        viewport={"width": 1280, "height": 900},
    )
    context.set_default_timeout(TIMEOUT_MS)
    tab = context.new_page()
    try:
        yield tab
    finally:
        context.close()
        # Nothing may still be on its way to MiniCRM when the database is flushed.
        console_rig.wait_until_settled(timeout=60)


def log_in(page: Page, *, go: bool = True) -> None:
    """Log in through the login form (first opening it, unless the browser is on it)."""
    if go:
        page.goto("/accounts/login/")
    page.fill("#id_username", "katalin")
    page.fill("#id_password", PASSWORD)
    page.click("#login-form [type=submit]")
    page.wait_for_selector("#logout-form")


@pytest.fixture
def logged_in(page: Page) -> Page:
    log_in(page)
    return page


@pytest.fixture
def sandbox_card(console_rig: QueueRig) -> Callable[[int], dict[str, Any]]:
    """A card as the sandbox has it now, read over HTTP past the console."""

    def read(card_id: int) -> dict[str, Any]:
        answer = console_rig.sandbox.get(f"/Api/R3/Project/{card_id}")
        answer.raise_for_status()
        return dict(answer.json())

    return read


def eventually(check: Callable[[], Any], timeout: float = 30.0, interval: float = 0.2) -> Any:
    """Call `check` until it returns something truthy; fail with its last answer."""
    deadline = time.monotonic() + timeout
    while True:
        answer = check()
        if answer or time.monotonic() > deadline:
            assert answer, f"still {answer!r} after {timeout} s"
            return answer
        time.sleep(interval)
