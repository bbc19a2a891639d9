"""Every page of the console under MiniCRM's and Redis's faults: MiniCRM down, slow, answering
500 or 429, and Redis down. Each page answers (never a 500, never "no such record") and, where
it could not show what it needed, says the real cause in words.

The pages are those of the bad-input walk (every console URL pattern that answers a GET), each
with the doc seed's ids, opened by an administrator with empty caches.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import redis
from django.contrib.auth.models import User
from django.test import Client
from pytest_django.fixtures import Settings

from apps.core.parallel import wait_idle
from tests.conftest import Sandbox, SandboxStarter, free_port
from tests.core.test_bad_input import ROUTES
from tests.urlwalk import concrete
from tests.viewsupport import console_at, dom, logged_in

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Fault:
    name: str
    # What the page must say (any one of these), in English.
    cause: tuple[str, ...]


FAULTS = [
    Fault("minicrm-down", ("MiniCRM cannot be reached",)),
    Fault(
        "minicrm-slow",
        ("MiniCRM is answering too slowly", "could not be loaded from MiniCRM in time"),
    ),
    Fault("minicrm-500", ("MiniCRM answered with an error",)),
    Fault("minicrm-429", ("request budget is spent",)),
    Fault("redis-down", ("Redis cannot be reached",)),
]
# Phrases of one cause that must never stand for another (the changelist once said "no such
# record" when MiniCRM was down).
WRONG = ("MiniCRM has no such record",)
# Every console URL with the doc seed's ids; those that are no page (POST-only, redirects, the
# console's own records the doc seed has none of) are found and left out by the test.
PAGES = [(name, concrete(route)) for name, route in ROUTES]


@pytest.fixture(scope="module")
def faulty(module_sandbox_factory: SandboxStarter) -> Sandbox:
    """A doc sandbox of this module's own: its faults change for each test."""
    return module_sandbox_factory("doc")


@pytest.fixture
def console(settings: Settings, faulty: Sandbox, redis_url: str) -> Iterator[Sandbox]:
    settings.MINICRM_READ_TIMEOUT = 1.0
    settings.MINICRM_CONNECT_TIMEOUT = 1.0
    settings.PAGE_MINICRM_BUDGET_SECONDS = 2.0
    # One retry, soon: the causes are the same, the walk through every page quicker.
    settings.MINICRM_MAX_RETRIES = 1
    settings.MINICRM_RETRY_BACKOFF = 0.1
    yield from console_at(settings, faulty, redis_url)
    faulty.post("/_sandbox/faults", json={"latency": 0, "error_rate": 0, "force_429": 0})


def apply(fault: Fault, settings: Settings, sandbox: Sandbox) -> None:
    if fault.name == "minicrm-down":
        settings.MINICRM_BASE_URL = f"http://127.0.0.1:{free_port()}"
    elif fault.name == "minicrm-slow":
        sandbox.post("/_sandbox/faults", json={"latency": 3.0})
    elif fault.name == "minicrm-500":
        sandbox.post("/_sandbox/faults", json={"error_rate": 1.0})
    elif fault.name == "minicrm-429":
        sandbox.post("/_sandbox/faults", json={"force_429": 100_000})
    elif fault.name == "redis-down":
        down = f"redis://127.0.0.1:{free_port()}/0"
        settings.REDIS_URL = down
        settings.CELERY_BROKER_URL = down


def minicrm_requests(sandbox: Sandbox) -> int:
    """How many requests the sandbox has logged, once its log has stopped growing (it may log
    a request a moment after answering it: that one is the page before's)."""
    counts: list[int] = []
    while len(counts) < 2 or counts[-1] != counts[-2]:
        answer = sandbox.get("/_sandbox/requests")
        assert answer.status_code == 200
        counts.append(len(answer.json()))
        time.sleep(0.05)
    return counts[-1]


def opened_reading(client: Client, url: str, sandbox: Sandbox, settings: Settings) -> bool | None:
    """Whether opening the page with empty caches asked MiniCRM; None if it is no page."""
    forget_reads(settings)
    wait_idle()  # reads a page left running after it answered
    before = minicrm_requests(sandbox)
    if client.get(url).status_code != 200:
        return None
    wait_idle()
    return minicrm_requests(sandbox) > before


def forget_reads(settings: Settings) -> None:
    """Empty the console's Redis (cached reads and schemas), if it is up."""
    with contextlib.suppress(redis.RedisError):
        redis.Redis.from_url(str(settings.REDIS_URL), socket_timeout=1).flushdb()


@pytest.mark.parametrize("fault", FAULTS, ids=[f.name for f in FAULTS])
def test_every_page_names_the_real_cause_when_minicrm_or_redis_fails(
    client: Client,
    admin_account: User,
    console: Sandbox,
    settings: Settings,
    fault: Fault,
) -> None:
    logged_in(client, admin_account)
    # The pages, and which of them read MiniCRM: those must say why when they cannot.
    # A page reads MiniCRM if it does each time it is opened with empty caches: a request
    # logged late by the page before, or by a read it left running, is counted once, not twice.
    reads = {}
    for name, url in PAGES:
        answered = [opened_reading(client, url, console, settings) for _ in range(2)]
        if None not in answered:
            reads[name] = all(answered)
    assert len(reads) > 20, f"only {sorted(reads)} answer a GET"

    apply(fault, settings, console)
    problems = []
    for name, url in PAGES:
        if name not in reads:
            continue
        forget_reads(settings)
        response = client.get(url)
        if response.streaming:  # an export: its rows, not a page
            text = b"".join(getattr(response, "streaming_content", [])).decode(errors="replace")
        else:
            text = dom(response).text
        status = response.status_code
        named = any(cause in text for cause in fault.cause)
        if status not in (200, 502, 503, 504):
            problems.append(f"{name} {url}: answered {status}: {text[:200]}")
        elif any(wrong in text for wrong in WRONG):
            problems.append(f"{name} {url}: says {WRONG} ({status})")
        elif (status != 200 or reads[name]) and not named:
            problems.append(f"{name} {url}: {status} without the cause: {text[:300]}")

    assert not problems, "\n".join(problems)
