"""Celery tasks of the write queue: thin wrappers that call the services with ids."""

from __future__ import annotations

from celery import shared_task

from apps.writes import services


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def send_write(write_id: int) -> int:
    """Send one write (if due) and then the others that are due."""
    return services.write_send(write_id)


@shared_task(ignore_result=True)
def sweep_writes() -> int:
    """Beat: start tasks for due writes that nobody is sending."""
    return services.writes_sweep()
