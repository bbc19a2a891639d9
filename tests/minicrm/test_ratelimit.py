"""The shared budget against a real Redis, and real processes against a real sandbox."""

from __future__ import annotations

import multiprocessing
import time
from typing import Any

import pytest
import redis

from minicrm import MiniCRMClient, Priority
from minicrm.ratelimit import BudgetExhausted, LocalBudget, RedisBudget, acquire, reserved_limit
from tests.conftest import Sandbox, SandboxStarter


def budget(connection: redis.Redis, limit: int, window: float, **kw: Any) -> RedisBudget:
    return RedisBudget(connection, system_id="test", limit=limit, window=window, margin=0, **kw)


def test_grants_the_limit_then_says_how_long_to_wait(redis_client: redis.Redis) -> None:
    shared = budget(redis_client, 5, 1.0)
    granted = [shared.try_acquire(Priority.INTERACTIVE).granted for _ in range(5)]
    refused = shared.try_acquire(Priority.INTERACTIVE)
    assert granted == [True] * 5
    assert not refused.granted
    assert 0 < refused.wait <= 1.0
    time.sleep(refused.wait + 0.02)
    assert shared.try_acquire(Priority.INTERACTIVE).granted


def test_two_clients_share_one_budget_through_redis(
    redis_client: redis.Redis, redis_url: str
) -> None:
    first = budget(redis_client, 4, 5.0)
    second = budget(redis.Redis.from_url(redis_url), 4, 5.0)
    results = [b.try_acquire(Priority.BULK).granted for b in (first, second, first, second, first)]
    assert results == [True, True, True, True, False]


def test_budgets_are_kept_per_system(redis_client: redis.Redis) -> None:
    one = RedisBudget(redis_client, system_id="1", limit=1, window=5, margin=0)
    two = RedisBudget(redis_client, system_id="2", limit=1, window=5, margin=0)
    assert one.try_acquire(Priority.BULK).granted
    assert two.try_acquire(Priority.BULK).granted
    assert not one.try_acquire(Priority.BULK).granted


def test_bulk_uses_everything_while_nobody_browses(redis_client: redis.Redis) -> None:
    shared = budget(redis_client, 10, 5.0)
    assert sum(shared.try_acquire(Priority.BULK).granted for _ in range(12)) == 10


def test_interactive_demand_reserves_a_share_from_bulk(redis_client: redis.Redis) -> None:
    shared = budget(redis_client, 10, 5.0, reserve=0.2)
    assert shared.try_acquire(Priority.INTERACTIVE).granted
    bulk = sum(shared.try_acquire(Priority.BULK).granted for _ in range(12))
    interactive = sum(shared.try_acquire(Priority.INTERACTIVE).granted for _ in range(12))
    assert bulk == reserved_limit(10, 0.2) - 1 == 7
    assert interactive == 10 - 8  # the reserve is still there for the web


def test_cool_down_pauses_everyone_and_is_never_shortened(redis_client: redis.Redis) -> None:
    shared = budget(redis_client, 100, 5.0)
    shared.cool_down(0.6)
    shared.cool_down(0.1)
    for priority in Priority:
        slot = shared.try_acquire(priority)
        assert not slot.granted
        assert 0.4 < slot.wait <= 0.6
    assert shared.usage().cooling_down > 0.3
    time.sleep(0.65)
    assert shared.try_acquire(Priority.BULK).granted


def test_acquire_waits_up_to_the_deadline(redis_client: redis.Redis) -> None:
    shared = budget(redis_client, 1, 0.5)
    assert acquire(shared, Priority.BULK, deadline=1) == pytest.approx(0, abs=0.05)
    waited = acquire(shared, Priority.BULK, deadline=1)
    assert 0.3 < waited < 0.8
    with pytest.raises(BudgetExhausted) as refused:
        acquire(shared, Priority.BULK, deadline=0.05)
    assert refused.value.expected_wait > 0.05


def test_the_local_budget_behaves_the_same() -> None:
    local = LocalBudget(limit=3, window=0.5)
    assert [local.try_acquire(Priority.BULK).granted for _ in range(4)] == [True] * 3 + [False]
    local.cool_down(0.2)
    time.sleep(0.5)
    assert local.try_acquire(Priority.BULK).granted


# -- real processes against a real sandbox ----------------------------------------------------

LIMIT, WINDOW, WINDOWS = 30, 3.0, 3


def _hammer(base_url: str, redis_url: str, stop_at: float, results: Any) -> None:
    """One process sending as fast as the shared budget lets it until stop_at; puts its count."""
    client = MiniCRMClient(
        system_id="12345",
        api_key="sandbox-api-key",
        base_url=base_url,
        budget=RedisBudget(
            redis.Redis.from_url(redis_url), system_id="12345", limit=LIMIT, window=WINDOW
        ),
        priority=Priority.BULK,
        deadline=60,
    )
    sent = 0
    while time.time() < stop_at:
        client.categories.list()
        sent += 1
    results.put(sent)


def _run_processes(sandbox: Sandbox, redis_url: str, count: int, seconds: float) -> list[int]:
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    stop_at = time.time() + seconds
    processes = [
        context.Process(target=_hammer, args=(sandbox.base_url, redis_url, stop_at, results))
        for _ in range(count)
    ]
    for process in processes:
        process.start()
    sent = [results.get(timeout=seconds + 120) for _ in processes]
    for process in processes:
        process.join(timeout=30)
    return sent


@pytest.fixture
def tight_sandbox(sandbox_factory: SandboxStarter) -> Sandbox:
    return sandbox_factory("doc", rate_limit=LIMIT, rate_window=WINDOW)


@pytest.mark.usefixtures("redis_client")
def test_four_processes_use_the_budget_without_a_single_429(
    tight_sandbox: Sandbox, redis_url: str
) -> None:
    sent = _run_processes(tight_sandbox, redis_url, 4, WINDOW * WINDOWS + 1.0)
    log = tight_sandbox.get("/_sandbox/requests").json()
    statuses = [entry["status"] for entry in log]
    assert statuses.count(429) == 0
    assert sum(sent) == statuses.count(200) == len(log)
    times = sorted(entry["t"] for entry in log)
    busiest = max(sum(1 for t in times if start <= t < start + WINDOW) for start in times)
    assert busiest <= LIMIT
    first = times[0]
    per_window = [
        sum(1 for t in times if first + k * WINDOW <= t < first + (k + 1) * WINDOW)
        for k in range(WINDOWS)
    ]
    assert all(count >= 0.95 * LIMIT for count in per_window), per_window


@pytest.mark.usefixtures("redis_client")
def test_a_burst_of_429s_is_recovered_from_without_losing_a_request(
    tight_sandbox: Sandbox, redis_url: str
) -> None:
    tight_sandbox.post("/_sandbox/faults", json={"force_429": 3})
    sent = _run_processes(tight_sandbox, redis_url, 4, 4.0)
    statuses = [entry["status"] for entry in tight_sandbox.get("/_sandbox/requests").json()]
    assert statuses.count(429) == 3
    assert statuses.count(200) == sum(sent)  # every call the processes made succeeded


@pytest.mark.usefixtures("redis_client")
def test_a_smaller_real_budget_pauses_every_process(
    sandbox_factory: SandboxStarter, redis_url: str
) -> None:
    """MiniCRM allows fewer requests than configured (another integration shares the system):
    its 429s set the shared cool-down, so all four processes pause instead of hammering."""
    smaller = sandbox_factory("doc", rate_limit=LIMIT * 2 // 3, rate_window=WINDOW)
    seconds = WINDOW * 3
    sent = _run_processes(smaller, redis_url, 4, seconds)
    statuses = [entry["status"] for entry in smaller.get("/_sandbox/requests").json()]
    assert statuses.count(200) == sum(sent)
    cycles = seconds / WINDOW + 1
    assert 0 < statuses.count(429) <= 4 * cycles  # at most one per process per pause


def test_usage_says_when_a_full_budget_frees_a_slot(redis_client: redis.Redis) -> None:
    shared = budget(redis_client, 3, 2.0)
    assert shared.usage().next_free == 0
    for _ in range(3):
        shared.try_acquire(Priority.BULK)
    usage = shared.usage()
    assert usage.used == 3
    assert 1.5 < usage.next_free <= 2.0
    assert usage.next_free == pytest.approx(shared.try_acquire(Priority.BULK).wait, abs=0.1)
