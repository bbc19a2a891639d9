"""Celery tasks of the webhooks: thin wrappers that call the services with ids."""

from __future__ import annotations

import requests
from celery import shared_task

from apps.webhooks import services


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def process_event(event_id: int) -> str:
    return services.event_process(event_id)


@shared_task(
    bind=True,
    acks_late=True,
    ignore_result=True,
    autoretry_for=(requests.RequestException,),
    retry_backoff=5,
    retry_backoff_max=600,
    max_retries=8,
)
def forward_event(self: object, event_id: int, url: str) -> int:
    """Forward a message to an external URL, retried with backoff (each try is logged)."""
    return services.event_forward(event_id=event_id, url=url)


@shared_task(ignore_result=True)
def sweep_events() -> int:
    return services.events_sweep()


@shared_task(ignore_result=True)
def purge_events() -> int:
    return services.events_purge()
