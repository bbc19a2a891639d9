"""A short-lived cache of what the console read from MiniCRM, shared by every process in Redis.

Every read costs a slot of the request budget, so a card or contact read a moment ago is
served from here. Writes the console sends, and webhooks from MiniCRM, forget the objects
they changed, so the next read goes to MiniCRM again.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar, cast

import redis
from django.conf import settings

from apps.core.minicrm import redis_connection

T = TypeVar("T")
PREFIX = "minicrm:read"


def _key(kind: str, ident: object) -> str:
    return f"{PREFIX}:{settings.MINICRM_SYSTEM_ID}:{kind}:{ident}"


def _generation(kind: str, ident: object | None = None) -> str:
    """The counter a forget of one value (or, without `ident`, of its whole kind) moves on;
    outside the values' key space, so that forgetting a kind never deletes it."""
    base = f"{PREFIX}-generation:{settings.MINICRM_SYSTEM_ID}:{kind}"
    return base if ident is None else f"{base}:{ident}"


def cached_json(kind: str, ident: object, fetch: Callable[[], Any], ttl: int | None = None) -> Any:
    """The JSON-able value stored for (kind, ident), fetched and stored when missing."""
    key = _key(kind, ident)
    generations = [_generation(kind, ident), _generation(kind)]
    connection = redis_connection()
    try:
        raw = cast("bytes | None", connection.get(key))
        before = connection.mget(generations)
    except redis.RedisError:  # no cache is slower, not broken
        return fetch()
    if raw is not None:
        return json.loads(raw)
    value = fetch()
    _store_unless_forgotten(connection, key, json.dumps(value), ttl, generations, before)
    return value


def _store_unless_forgotten(
    connection: redis.Redis,
    key: str,
    raw: str,
    ttl: int | None,
    generations: list[str],
    before: list[Any],
) -> None:
    """Store a value read from MiniCRM, unless it was forgotten while it was being read: a
    write that landed meanwhile forgot it, and storing the read would keep what MiniCRM held
    before the write (the page would show the old value until the cache expired)."""
    try:
        with connection.pipeline() as pipe:
            pipe.watch(*generations)
            if pipe.mget(generations) != before:
                return
            pipe.multi()
            pipe.set(key, raw, ex=ttl or settings.MINICRM_READ_CACHE_TTL)
            pipe.execute()
    except redis.RedisError:  # a WatchError: forgotten between the check and the store;
        return  # any other: no cache is slower, not broken


def _forgotten(connection: redis.Redis, generation: str) -> None:
    """Move a generation on; it outlives any read that began before it."""
    with connection.pipeline() as pipe:
        pipe.incr(generation)
        pipe.expire(generation, max(3600, 2 * settings.MINICRM_READ_CACHE_TTL))
        pipe.execute()


def forget(kind: str, ident: object) -> None:
    connection = redis_connection()
    _forgotten(connection, _generation(kind, ident))
    connection.delete(_key(kind, ident))


# What a change to an object makes stale: the object, and the lists it appears in.
RELATED = {
    "project": ("project", "project-history", "project-todos"),
    "contact": ("contact",),
    "todo": ("todo",),
    "order": ("order",),
}
LISTS = ("contact-people", "contact-cards", "project-todos")


def forget_object(target_type: str, target_id: int | None) -> None:
    """Forget an object the console (or MiniCRM, by webhook) just changed."""
    if target_id is not None:
        for kind in RELATED.get(target_type, (target_type,)):
            forget(kind, target_id)
    for kind in LISTS:
        forget_kind(kind)


def forget_kind(kind: str) -> None:
    """Forget every cached value of a kind (e.g. all changelist pages of a module)."""
    connection = redis_connection()
    _forgotten(connection, _generation(kind))
    keys = list(connection.scan_iter(match=_key(kind, "*"), count=500))
    if keys:
        connection.delete(*keys)
