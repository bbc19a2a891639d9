"""The MiniCRM client as the console uses it, configured from settings.

Web requests use the interactive priority (they may use the whole budget); Celery tasks and
management commands use the bulk priority (they leave the reserved share to people). Every
process shares one budget and one schema cache through Redis.
"""

from __future__ import annotations

import threading
from functools import cache
from typing import Any

import redis
from django.conf import settings

from minicrm import MiniCRMClient, Priority
from minicrm.ratelimit import Budget, RedisBudget, TalliedBudget
from minicrm.resources.schema import RedisSchemaCache


@cache
def _redis(url: str) -> redis.Redis:
    return redis.Redis.from_url(url)


def redis_connection() -> redis.Redis:
    """The console's Redis (budget, schema cache, write-queue locks)."""
    return _redis(settings.REDIS_URL)


# What the requests of each kind of caller are counted under, per minute (the dashboard's chart
# of the budget): people's pages at interactive priority, the write queue at bulk priority, and
# the mirror's sync (apps/mirror/services.py).
SOURCES = {Priority.INTERACTIVE: "people", Priority.BULK: "writes"}
SYNC_SOURCE = "sync"


def tallied(budget: Budget, source: str) -> TalliedBudget:
    """`budget`, its granted requests also counted under `source`."""
    return TalliedBudget(
        budget, _redis(settings.REDIS_URL), system_id=settings.MINICRM_SYSTEM_ID, source=source
    )


def minicrm_budget() -> RedisBudget:
    return RedisBudget(
        _redis(settings.REDIS_URL),
        system_id=settings.MINICRM_SYSTEM_ID,
        limit=settings.MINICRM_RATE_LIMIT,
        window=settings.MINICRM_RATE_WINDOW,
        reserve=settings.MINICRM_INTERACTIVE_RESERVE,
    )


# One client (so one requests.Session, which is not thread-safe) per thread and configuration:
# pages read MiniCRM from several threads at once (apps/core/parallel.py).
_per_thread = threading.local()


def _client(
    base_url: str, system_id: str, api_key: str, redis_url: str, priority: Priority
) -> MiniCRMClient:
    clients: dict[tuple[Any, ...], MiniCRMClient] = _per_thread.__dict__.setdefault("clients", {})
    # The budget, timeouts and retries are part of the key: a changed setting, a new client.
    key = (
        base_url,
        system_id,
        api_key,
        redis_url,
        priority,
        settings.MINICRM_RATE_LIMIT,
        settings.MINICRM_RATE_WINDOW,
        settings.MINICRM_INTERACTIVE_RESERVE,
        settings.MINICRM_CONNECT_TIMEOUT,
        settings.MINICRM_READ_TIMEOUT,
        settings.MINICRM_MAX_RETRIES,
        settings.MINICRM_RETRY_BACKOFF,
    )
    if key not in clients:
        clients[key] = _new_client(base_url, system_id, api_key, redis_url, priority)
    return clients[key]


def _new_client(
    base_url: str, system_id: str, api_key: str, redis_url: str, priority: Priority
) -> MiniCRMClient:
    return MiniCRMClient(
        system_id=system_id,
        api_key=api_key,
        base_url=base_url,
        budget=tallied(minicrm_budget(), SOURCES[priority]),
        priority=priority,
        schema_cache=RedisSchemaCache(_redis(redis_url), ttl=settings.MINICRM_SCHEMA_TTL),
        timeout=(settings.MINICRM_CONNECT_TIMEOUT, settings.MINICRM_READ_TIMEOUT),
        max_retries=settings.MINICRM_MAX_RETRIES,
        backoff=settings.MINICRM_RETRY_BACKOFF,
    )


def minicrm_client(priority: Priority = Priority.INTERACTIVE) -> MiniCRMClient:
    """The client for this thread and priority (one HTTP session each, kept for reuse)."""
    return _client(
        settings.MINICRM_BASE_URL,
        settings.MINICRM_SYSTEM_ID,
        settings.MINICRM_API_KEY,
        settings.REDIS_URL,
        priority,
    )
