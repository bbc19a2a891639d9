"""System checks of the console's configuration (run by `manage.py check` and at start-up)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Tags, Warning, register

from minicrm.client import DEFAULT_DEADLINES, Priority


def web_request_worst_wait() -> float:
    """The longest one web request can wait on others, in seconds: a slot of the shared
    budget (the client's interactive deadline), MiniCRM's connect and read timeouts for the
    call, and a form's wait for its change to reach MiniCRM (WRITE_WAIT_SECONDS)."""
    return (
        DEFAULT_DEADLINES[Priority.INTERACTIVE]
        + settings.MINICRM_CONNECT_TIMEOUT
        + settings.MINICRM_READ_TIMEOUT
        + settings.WRITE_WAIT_SECONDS
    )


@register(Tags.compatibility)
def web_request_fits_its_timeout(app_configs: Any = None, **_kwargs: Any) -> list[CheckMessage]:
    """gunicorn kills a worker busy past its timeout (WEB_REQUEST_TIMEOUT plus a margin, see
    gunicorn.conf.py): MiniCRM's timeouts must let every request answer before that."""
    worst = web_request_worst_wait()
    if worst <= settings.WEB_REQUEST_TIMEOUT:
        return []
    return [
        Warning(
            f"A web request can wait {worst:g} s on MiniCRM and the write queue, longer than "
            f"WEB_REQUEST_TIMEOUT ({settings.WEB_REQUEST_TIMEOUT:g} s).",
            hint=(
                "Raise WEB_REQUEST_TIMEOUT, or lower MINICRM_CONNECT_TIMEOUT, "
                "MINICRM_READ_TIMEOUT or WRITE_WAIT_SECONDS."
            ),
            id="core.W001",
        )
    ]
