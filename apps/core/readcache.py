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


def cached_json(kind: str, ident: object, fetch: Callable[[], Any], ttl: int | None = None) -> Any:
    """The JSON-able value stored for (kind, ident), fetched and stored when missing."""
    key = _key(kind, ident)
    try:
        raw = cast("bytes | None", redis_connection().get(key))
    except redis.RedisError:  # no cache is slower, not broken
        return fetch()
    if raw is not None:
        return json.loads(raw)
    value = fetch()
    redis_connection().set(key, json.dumps(value), ex=ttl or settings.MINICRM_READ_CACHE_TTL)
    return value


def forget(kind: str, ident: object) -> None:
    redis_connection().delete(_key(kind, ident))


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
    keys = list(connection.scan_iter(match=_key(kind, "*"), count=500))
    if keys:
        connection.delete(*keys)
