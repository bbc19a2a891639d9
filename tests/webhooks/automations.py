"""Python actions the webhook tests register by dotted path (`tests.webhooks.automations.*`).

They run in the test process or in a real Celery worker, so what they record goes to the
console's Redis (shared by both): how many times each event ran them.
"""

from __future__ import annotations

import time
from typing import Any

from apps.cards.services import card_update
from apps.core.minicrm import redis_connection

RUNS_KEY = "webhook-tests:runs"
BROKEN_KEY = "webhook-tests:broken"


def runs() -> dict[int, int]:
    """Event id -> how many times a recording action ran for it."""
    raw = redis_connection().hgetall(RUNS_KEY)
    return {int(key): int(value) for key, value in raw.items()}


def remember(*, event: Any, message: dict[str, Any]) -> dict[str, Any]:
    """Record the run and answer what it saw (kept in the event's results)."""
    redis_connection().hincrby(RUNS_KEY, str(event.pk), 1)
    return {"card": message["Id"], "changed": message["Changed"]}


def break_sync(broken: bool) -> None:
    if broken:
        redis_connection().set(BROKEN_KEY, "1")
    else:
        redis_connection().delete(BROKEN_KEY)


def sync_to_erp(*, event: Any, message: dict[str, Any]) -> str:
    """A custom automation that fails while its external system is down."""
    redis_connection().hincrby(RUNS_KEY, str(event.pk), 1)
    if redis_connection().exists(BROKEN_KEY):
        raise ConnectionError("the ERP answered 503 for card " + str(message["Id"]))
    return "synced"


def sync_binary(*, event: Any, message: dict[str, Any]) -> str:
    """A custom automation whose external system answers with bytes that are not text."""
    raise ValueError("the ERP answered b'\x00\x01' for card " + str(message["Id"]))


def stamp_reference(*, event: Any, message: dict[str, Any]) -> str:
    """A loop-prone automation: writes a fresh ReferenceId on every change it sees."""
    redis_connection().hincrby(RUNS_KEY, str(event.pk), 1)
    value = f"stamp {time.time_ns()}"
    card_update(
        card_id=int(message["Id"]),
        category_id=int(message["Data"]["CategoryId"]),
        changes={"ReferenceId": value},
    )
    return value
