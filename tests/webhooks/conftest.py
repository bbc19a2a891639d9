"""Fixtures of the webhook tests.

- `console_redis`: the console's Redis (read cache, Celery broker) is the session's private
  Redis, flushed; enough for the receiver and for processing with Python actions.
- `crm`: a private doc sandbox as well, for actions that write to MiniCRM (the test may change
  seeded records, and sends queued writes itself with `write_send`).
- `hooks_rig`: the real thing: the console on pytest-django's live server (so the sandbox can
  POST webhooks to it), a private sandbox and Redis, and `start_worker()` for a real
  `celery worker -B` sharing the test database (from `tests/writes/conftest.py`).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis
from pytest_django.fixtures import Settings
from pytest_django.live_server_helper import LiveServer

from tests.conftest import SandboxStarter
from tests.viewsupport import admin_account, doc, staff_user, use_broker
from tests.webhooks.support import PYTHON_FUNCTIONS, ExternalServer
from tests.writes.conftest import QueueRig, queue_rig, rig_sandbox_options
from tests.writes.support import Crm, private_crm

__all__ = ["admin_account", "doc", "queue_rig", "rig_sandbox_options", "staff_user"]


@pytest.fixture(autouse=True)
def python_functions(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """The test automations may run, here and in the workers and servers tests start."""
    settings.WEBHOOK_PYTHON_FUNCTIONS = PYTHON_FUNCTIONS
    monkeypatch.setenv("WEBHOOK_PYTHON_FUNCTIONS", ",".join(PYTHON_FUNCTIONS))


@pytest.fixture
def console_redis(settings: Settings, redis_url: str) -> Iterator[redis.Redis]:
    settings.REDIS_URL = redis_url
    connection = redis.Redis.from_url(redis_url)
    connection.flushdb()
    use_broker(redis_url)
    try:
        yield connection
    finally:
        use_broker(None)
        connection.close()


@pytest.fixture
def crm(settings: Settings, sandbox_factory: SandboxStarter, redis_url: str) -> Iterator[Crm]:
    yield from private_crm(settings, sandbox_factory, redis_url)


@pytest.fixture
def external(settings: Settings) -> Iterator[ExternalServer]:
    """An external system on 127.0.0.1: forwards to loopback addresses are allowed here."""
    settings.WEBHOOK_FORWARD_ALLOW_PRIVATE = True
    server = ExternalServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def hooks_rig(queue_rig: QueueRig, live_server: LiveServer, settings: Settings) -> QueueRig:
    """The console served over HTTP for the sandbox's webhooks; workers sweep every second."""
    settings.CONSOLE_BASE_URL = live_server.url
    queue_rig.env.update(
        CONSOLE_BASE_URL=live_server.url,
        WEBHOOK_SWEEP_SECONDS="1",
        WEBHOOK_STALE_SECONDS="3",
        WRITE_QUEUE_SWEEP_SECONDS="1",
    )
    queue_rig.env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return queue_rig
