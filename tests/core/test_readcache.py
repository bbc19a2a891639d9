"""The read cache in a real Redis: a value read once is served again, and a value forgotten
while it was being read (a write landed meanwhile) is not stored, so the next page reads
MiniCRM again instead of showing what it held before the write until the cache expires."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import redis
from pytest_django.fixtures import Settings

from apps.core import readcache


@pytest.fixture(autouse=True)
def private_redis(settings: Settings, redis_url: str) -> Iterator[None]:
    settings.REDIS_URL = redis_url
    redis.Redis.from_url(redis_url).flushdb()
    yield
    redis.Redis.from_url(redis_url).flushdb()


def reader(values: list[str], during: Callable[[], None] = lambda: None) -> Callable[[], str]:
    """A read of MiniCRM answering `values` in turn, doing `during` while it reads."""
    answers = iter(values)

    def fetch() -> str:
        during()
        return next(answers)

    return fetch


def test_a_value_read_once_is_served_from_the_cache() -> None:
    first = readcache.cached_json("order", 7, reader(["Draft"]))
    again = readcache.cached_json("order", 7, reader(["not asked"]))

    assert (first, again) == ("Draft", "Draft")


def test_a_value_forgotten_while_it_was_read_is_not_kept() -> None:
    # The page reads the order; meanwhile the worker's write lands and forgets it.
    landed = reader(["Draft"], during=lambda: readcache.forget_object("order", 7))
    assert readcache.cached_json("order", 7, landed) == "Draft"

    assert readcache.cached_json("order", 7, reader(["In progress"])) == "In progress"
    assert readcache.cached_json("order", 7, reader(["not asked"])) == "In progress"


def test_a_kind_forgotten_while_one_of_it_was_read_is_not_kept() -> None:
    landed = reader(["old people"], during=lambda: readcache.forget_kind("contact-people"))
    assert readcache.cached_json("contact-people", 5, landed) == "old people"

    assert readcache.cached_json("contact-people", 5, reader(["new people"])) == "new people"


def test_forgetting_another_value_keeps_the_read() -> None:
    other = reader(["Draft"], during=lambda: readcache.forget("order", 8))
    assert readcache.cached_json("order", 7, other) == "Draft"

    assert readcache.cached_json("order", 7, reader(["not asked"])) == "Draft"
