"""Celery tasks of the mirror: thin wrappers that call the sync services."""

from __future__ import annotations

from celery import shared_task

from apps.mirror import services


@shared_task(ignore_result=True)
def sync_mirror() -> bool:
    """Beat (and webhooks, writes, pages): run the sync for a while, unless one is running."""
    return services.sync_run().ran
