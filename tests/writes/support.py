"""Helpers for the in-process tests of the write queue.

These tests call `apps.writes.services.write_send` themselves instead of running a Celery
worker. `Crm` joins what such a test needs: a private doc sandbox that the console's
settings point at, the private Redis as the console's cache, budget and Celery broker (a
retry schedules its task with `apply_async` right away), and what the sandbox saw.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, cast

import redis
from pytest_django.fixtures import Settings

from crmconsole.celery import app as celery_app
from tests.conftest import Sandbox, SandboxStarter


@dataclass
class Crm:
    sandbox: Sandbox
    redis: redis.Redis

    def get(self, path: str, **params: Any) -> Any:
        answer = self.sandbox.get(path, params=params or None)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def put(self, path: str, body: dict[str, Any]) -> Any:
        """Change MiniCRM behind the console's back (another user, or an earlier attempt)."""
        answer = self.sandbox.put(path, json=body)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def card(self, card_id: int) -> dict[str, Any]:
        return dict(self.get(f"/Api/R3/Project/{card_id}"))

    def cards_with_reference(self, reference: str) -> list[dict[str, Any]]:
        return list(self.get("/Api/R3/Project", ReferenceId=reference)["Results"].values())

    def faults(self, **values: float) -> None:
        answer = self.sandbox.post("/_sandbox/faults", json=values)
        assert answer.status_code == 200, answer.text

    def clear_log(self) -> None:
        assert self.sandbox.delete("/_sandbox/requests").status_code == 200

    def requests(self, method: str | None = None) -> list[tuple[str, str, int]]:
        """(method, path, status) of each API request the sandbox answered since the last clear."""
        rows = self.get("/_sandbox/requests")
        return [
            (row["method"], row["path"], row["status"])
            for row in rows
            if method is None or row["method"] == method
        ]

    def queued_tasks(self) -> list[tuple[str, list[Any]]]:
        """The Celery messages waiting in the broker: (task name, args)."""
        found = []
        for raw in cast(list[bytes], self.redis.lrange("celery", 0, -1)):
            message = json.loads(raw)
            args = json.loads(base64.b64decode(message["body"]))[0]
            found.append((message["headers"]["task"], args))
        return found


def use_broker(url: str | None) -> None:
    """Point this process's Celery app at a broker (None: back to the configured one).

    Unlike `tests.writes.conftest._use_broker` this does not close the old pool: kombu keeps
    pools in a registry by URL, so a closed pool would come back for the next test using
    the same (session-wide) Redis, as "Acquire on closed pool".
    """
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    celery_app.conf.update(broker_write_url=url, broker_read_url=url)


def crm_for(settings: Settings, sandbox: Sandbox, redis_url: str) -> Iterator[Crm]:
    """Point the console (MiniCRM, Redis, Celery's broker) at `sandbox` and a flushed Redis."""
    settings.MINICRM_BASE_URL = sandbox.base_url
    settings.MINICRM_SYSTEM_ID = sandbox.system_id
    settings.MINICRM_API_KEY = sandbox.api_key
    settings.REDIS_URL = redis_url
    connection = redis.Redis.from_url(redis_url)
    connection.flushdb()
    previous_broker = celery_app.conf.broker_write_url
    use_broker(redis_url)
    try:
        yield Crm(sandbox, connection)
    finally:
        use_broker(previous_broker)
        connection.close()


def private_crm(
    settings: Settings, sandbox_factory: SandboxStarter, redis_url: str
) -> Iterator[Crm]:
    """A doc sandbox of the test's own: seeded records may change, the request log is clean."""
    yield from crm_for(settings, sandbox_factory("doc"), redis_url)
