"""Keep the mirror in step when a write the console sent lands in MiniCRM."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.dispatch import receiver

from apps.mirror.services import write_apply
from apps.writes.models import Write
from apps.writes.signals import write_done

log = logging.getLogger(__name__)


@receiver(write_done)
def mirror_write(sender: Any, write: Write, **kwargs: Any) -> None:
    if not settings.MIRROR_ENABLED:
        return
    try:
        write_apply(write=write)
    except Exception:  # the write landed: a mirror that lags is read again by the sync
        log.exception("the mirror could not apply write %s", write.pk)
