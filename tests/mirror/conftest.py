"""Fixtures of the mirror tests: the write queue's rig (a private sandbox and Redis, and real
Celery workers sharing the test database) for the sync run in workers."""

from tests.writes.conftest import queue_rig, rig_sandbox_options, sandbox_records

__all__ = ["queue_rig", "rig_sandbox_options", "sandbox_records"]
