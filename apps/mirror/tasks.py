"""Celery tasks of the mirror: thin wrappers that call the sync services."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from apps.mirror import services


@shared_task(ignore_result=True)
def sync_mirror() -> bool:
    """Beat (and webhooks, writes, pages): run the sync for a while, unless one is running."""
    if not settings.MIRROR_ENABLED:
        return False
    return services.sync_run().ran
