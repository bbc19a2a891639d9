"""The console's Celery app with one more task, for tests that run a real worker on it
(`celery -A tests.core.worker_app worker`): the task logs a secret every way a task can."""

import logging

from celery.utils.log import get_task_logger
from django.conf import settings

from crmconsole.celery import app

__all__ = ["app", "log_the_api_key"]

log = logging.getLogger(__name__)
task_log = get_task_logger(__name__)


@app.task(name="tests.log_the_api_key")
def log_the_api_key() -> None:
    key = settings.MINICRM_API_KEY
    log.warning("module logger: %s", key)
    task_log.warning("task logger: %s", key)
    print(f"printed: {key}")
    raise RuntimeError(f"raised: {key}")
