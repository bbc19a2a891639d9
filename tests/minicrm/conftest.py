"""Fixtures for the client tests: clients bound to sandboxes, sharing a budget in Redis."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from minicrm import MiniCRMClient
from minicrm.ratelimit import RedisBudget
from tests.conftest import Sandbox, SandboxStarter


def make_client(sandbox: Sandbox, connection: redis.Redis, **options: object) -> MiniCRMClient:
    limit = int(options.pop("limit", 100000))  # type: ignore[call-overload]
    window = float(options.pop("window", 60))  # type: ignore[arg-type]
    budget = RedisBudget(connection, system_id=sandbox.system_id, limit=limit, window=window)
    return MiniCRMClient(
        system_id=sandbox.system_id,
        api_key=sandbox.api_key,
        base_url=sandbox.base_url,
        budget=budget,
        **options,  # type: ignore[arg-type]
    )


@pytest.fixture
def doc_client(sandbox_doc: Sandbox, redis_client: redis.Redis) -> Iterator[MiniCRMClient]:
    """A client on the shared doc-seed sandbox with a budget far above what tests use."""
    client = make_client(sandbox_doc, redis_client)
    yield client
    client.close()


@pytest.fixture
def demo_client(sandbox_demo: Sandbox, redis_client: redis.Redis) -> Iterator[MiniCRMClient]:
    client = make_client(sandbox_demo, redis_client)
    yield client
    client.close()


@pytest.fixture(scope="module")
def private_demo(module_sandbox_factory: SandboxStarter) -> Sandbox:
    """A demo sandbox of one test module: its request log is the module's, its cards too."""
    return module_sandbox_factory("demo")


@pytest.fixture
def logged_client(private_demo: Sandbox, redis_client: redis.Redis) -> Iterator[MiniCRMClient]:
    """A client on the module's own demo sandbox, whose request log starts empty."""
    assert private_demo.delete("/_sandbox/requests").status_code == 200
    client = make_client(private_demo, redis_client)
    yield client
    client.close()
