"""The Celery application: configured from Django settings (CELERY_*), tasks found in each app."""

import logging
import logging.config
import os
from typing import Any

from celery import Celery
from celery.signals import setup_logging

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crmconsole.settings")

app = Celery("crmconsole")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@setup_logging.connect
def use_django_logging(loglevel: int | str | None = None, **_kwargs: Any) -> None:
    """Workers and beat log through Django's LOGGING, whose handler drops secrets.

    Without a receiver for this signal Celery replaces the root logger's handlers with its
    own (unfiltered) ones and gives task loggers another; with one, it leaves logging alone,
    and so also leaves stdout and stderr as they are: they are sent to the log here, as Celery
    does, so that what a task prints passes the filter too (the handler keeps the real stream).
    The level is the command's `--loglevel`, as with Celery's own setup."""
    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)
    if loglevel:
        logging.getLogger().setLevel(loglevel)
    if app.conf.worker_redirect_stdouts:
        app.log.redirect_stdouts(app.conf.worker_redirect_stdouts_level)
