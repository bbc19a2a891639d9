"""Keep the mirror in step when a write the console sent lands in MiniCRM, or finds that
MiniCRM's copy changed (a conflict: the mirror's copy is out of date)."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from apps.mirror.services import conflict_apply, write_apply
from apps.writes.models import Write
from apps.writes.signals import write_done

log = logging.getLogger(__name__)


@receiver(write_done)
def mirror_write(sender: Any, write: Write, **kwargs: Any) -> None:
    if not settings.MIRROR_ENABLED:
        return
    try:
        with transaction.atomic():  # a savepoint: the write's done state commits regardless
            write_apply(write=write)
    except Exception:  # the write landed: a mirror that lags is read again by the sync
        log.exception("the mirror could not apply write %s", write.pk)


@receiver(post_save, sender=Write)
def mirror_conflict(sender: Any, instance: Write, **kwargs: Any) -> None:
    """A write in conflict saw MiniCRM's values differ from what the person saw: the mirror
    takes the values it found and reads the record again, so pages show MiniCRM's values."""
    if not settings.MIRROR_ENABLED or instance.state != Write.State.CONFLICT:
        return
    try:
        conflict_apply(write=instance)
    except Exception:  # the sync's rescan catches up anyway
        log.exception("the mirror could not take the values of %s", instance)
