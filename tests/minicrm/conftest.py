"""Fixtures for the client tests: a private Redis server and clients bound to sandboxes."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from minicrm import MiniCRMClient
from minicrm.ratelimit import RedisBudget
from tests.conftest import Sandbox, free_port


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A private redis-server on a free port for this worker session."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is not installed (apt-get install redis-server)")
    workdir: Path = tmp_path_factory.mktemp("redis")
    port = free_port()
    proc = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(workdir),
            "--save",
            "",
            "--appendonly",
            "no",
            "--maxmemory-policy",
            "noeviction",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    connection = redis.Redis.from_url(url)
    deadline = time.monotonic() + 20
    while True:
        try:
            connection.ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                pytest.fail("redis-server did not start")
            time.sleep(0.05)
    try:
        yield url
    finally:
        connection.close()
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    connection = redis.Redis.from_url(redis_url)
    connection.flushdb()
    yield connection
    connection.close()


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
